// `npm test`'s runner: node:test on the given files (through tsx), PostgreSQL half included. Without
// TEST_DATABASE_URL it uses the local server's `test` database; when no PostgreSQL answers there, the run
// stops at once with one line, rather than passing with the PostgreSQL suites skipped.
// Plain JS, like the other steps `npm test` runs before the tests.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CONNECT_TIMEOUT_MS = 5_000;

const databaseUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;

/** The URL without its password, to print. */
function shown(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(TEST_DATABASE_URL, not a URL)';
  }
}

const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
try {
  await client.connect();
  await client.query('select 1');
} catch (err) {
  // A refused connection to "localhost" is an AggregateError (IPv6 and IPv4) with an empty message.
  const why = (err instanceof Error && (err.message || err.code || err.name)) || String(err);
  const source = process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'the default; set TEST_DATABASE_URL for another';
  console.error(`[agentport] the tests need PostgreSQL, and none answers at ${shown(databaseUrl)} (${source}): ${why}`);
  process.exit(1);
} finally {
  await client.end().catch(() => {});
}

const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL: databaseUrl },
});
if (run.error) throw run.error;
process.exit(run.status ?? 1);
