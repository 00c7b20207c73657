// `npm test` runs the PostgreSQL half or fails saying why; a single file run without PostgreSQL reports
// those suites as skipped, with the reason, instead of leaving them out.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { repoRoot } from '../lib/processes.js';

/**
 * This environment without TEST_DATABASE_URL, plus `extra`; without NODE_TEST_CONTEXT too, which would
 * make the inner run report to this one instead of printing its own summary.
 */
function envWithout(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { TEST_DATABASE_URL: _database, NODE_TEST_CONTEXT: _context, ...env } = process.env;
  return { ...env, ...extra };
}

test("npm test's runner stops with one line when no PostgreSQL answers at TEST_DATABASE_URL", () => {
  const run = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'server/test/config.test.ts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
    env: envWithout({ TEST_DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/test' }),
  });
  assert.equal(run.status, 1);
  assert.equal(run.stdout, '', 'no test ran');
  assert.match(
    run.stderr,
    /^\[agentport\] the tests need PostgreSQL, and none answers at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test \(TEST_DATABASE_URL\): .*ECONNREFUSED.*\n$/,
  );
});

test('without TEST_DATABASE_URL, a PostgreSQL suite is reported as skipped with the reason', () => {
  // instances.test.ts has one test that needs no database and two suites that need PostgreSQL.
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'server/test/instances.test.ts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    env: envWithout(),
  });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^ok \d+ - several instances on one PostgreSQL # SKIP TEST_DATABASE_URL is not set: /m);
  assert.match(run.stdout, /^# pass 1$/m);
  assert.match(run.stdout, /^# skipped 2$/m);
});
