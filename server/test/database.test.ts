// The embedded database runs on its own thread: a long statement must not hold up the server, and
// everything Drizzle and the platform rely on (errors, transactions, notifications, a data directory
// that outlives the process) must behave as it does on PostgreSQL.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { EmbeddedClient } from '../src/db/embedded.js';
import { writeEmbeddedTemplate } from '../src/db/embedded-template.js';
import { openEmbedded, type Database } from '../src/db/index.js';
import { users } from '../src/db/schema.js';
import { databaseTargets, describeOnPostgres, startTestPlatform, type TestPlatform } from './support.js';

const embedded = databaseTargets().find((target) => target.name === 'embedded')!;

describe('the embedded database', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform(embedded);
  });
  after(async () => {
    await platform.close();
  });

  test('the server answers while the database is busy with a long statement', async () => {
    // Seconds of work for the database; on the event loop it would hold every request until done.
    const busy = platform.database.db.execute(sql`select count(*) from generate_series(1, 40000000)`).then(() => 'database');
    const health = fetch(`${platform.url}/api/health`).then(async (res) => {
      assert.equal(res.status, 200);
      await res.json();
      return 'health';
    });
    assert.equal(await Promise.race([busy, health]), 'health', 'the health check waited for the database');
    await busy;
  });

  test("a statement's error keeps PostgreSQL's code and words", async () => {
    const [admin] = await platform.database.db.select().from(users).limit(1);
    const duplicate = platform.database.db.insert(users).values({ email: admin!.email, passwordHash: 'x' });
    await assert.rejects(duplicate, (error: Error & { cause?: { code?: string; message?: string } }) => {
      assert.equal(error.cause?.code, '23505');
      assert.match(error.cause?.message ?? '', /duplicate key/);
      return true;
    });
  });

  test('a failed transaction leaves nothing behind, and statements outside it wait for its end', async () => {
    const { db } = platform.database;
    const count = async () => (await db.select({ n: sql<number>`count(*)::int` }).from(users))[0]!.n;
    const before = await count();
    let outside: Promise<number> | undefined;
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.insert(users).values({ email: 'in-tx@example.com', passwordHash: 'x', name: '', role: 'user' });
        outside = count(); // issued while the transaction is open
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal(await outside, before, 'a statement outside the transaction saw its uncommitted row');
    assert.equal(await count(), before);
  });

  test('a notification reaches its listener', async () => {
    const received = new Promise<string>((resolve) => {
      void platform.database.listen('test_channel', resolve);
    });
    await platform.database.notify('test_channel', 'hello');
    assert.equal(await received, 'hello');
  });
});

describe('an embedded data directory', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentport-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('is created on first start and keeps its rows across restarts', async () => {
    const open = async (): Promise<Database> => {
      const database = await openEmbedded(dir);
      await database.migrate();
      return database;
    };
    const first = await open();
    await first.db.insert(users).values({ email: 'kept@example.com', passwordHash: 'x', name: 'Kept', role: 'user' });
    await first.close();
    const second = await open();
    const rows = await second.db.select({ name: users.name }).from(users);
    await second.close();
    assert.deepEqual(rows, [{ name: 'Kept' }]);
  });

  test("a new one is a copy of the build's template, or created when there is none", async () => {
    const template = path.join(dir, 'template');
    await writeEmbeddedTemplate(template);
    // initdb gives every cluster it creates an identifier of its own; a copy keeps the template's.
    const clusterId = async (name: string, from: string | null): Promise<string> => {
      const client = await EmbeddedClient.open(path.join(dir, name), () => from);
      try {
        const { rows } = await client.query('select system_identifier::text as id from pg_control_system()');
        return (rows[0] as { id: string }).id;
      } finally {
        await client.close();
      }
    };
    const copied = await clusterId('copied', template);
    assert.equal(await clusterId('copied-too', template), copied, 'two new databases from one template are the same cluster');
    assert.notEqual(await clusterId('created', null), copied, 'without a template the cluster is created');
    assert.equal(await clusterId('copied', null), copied, 'an existing directory is opened as it is');
    for (const made of ['copied', 'created']) {
      assert.equal(statSync(path.join(dir, made)).mode & 0o777, 0o700, `${made}: other local users cannot reach the database's files`);
    }
    const writableByOthers = readdirSync(template, { recursive: true, withFileTypes: true }).filter(
      (entry) => statSync(path.join(entry.parentPath, entry.name)).mode & 0o022,
    );
    assert.deepEqual(writableByOthers, [], 'no one but its owner can change the template');

    mkdirSync(path.join(dir, 'not-a-database'));
    writeFileSync(path.join(dir, 'not-a-database', 'notes.txt'), 'mine');
    await assert.rejects(
      EmbeddedClient.open(path.join(dir, 'not-a-database'), () => template),
      /holds files but no database/,
    );
    assert.deepEqual(readdirSync(path.join(dir, 'not-a-database')), ['notes.txt'], "the operator's files are left as they were");
  });
});

describeOnPostgres('notifications on PostgreSQL', (baseUrl) => {
  test('channels subscribed at once each get their notifications, without a warning in the log', async () => {
    // In a process of its own: Node prints a deprecation once per process, whichever test caused it.
    const channels = ['one', 'two', 'three'].map((name) => `agentport_test_${name}_${randomBytes(4).toString('hex')}`);
    const script = `
      import { openPostgres } from ${JSON.stringify(new URL('../src/db/index.ts', import.meta.url).href)};
      const channels = ${JSON.stringify(channels)};
      const database = await openPostgres(${JSON.stringify(baseUrl)});
      const heard = [];
      let allHeard;
      const done = new Promise((resolve) => (allHeard = resolve));
      const hear = (channel) => (payload) => heard.push(channel + ' ' + payload) === channels.length && allHeard();
      await Promise.all(channels.map((channel) => database.listen(channel, hear(channel))));
      for (const channel of channels) await database.notify(channel, 'hello');
      await done;
      console.log(JSON.stringify(heard.sort()));
      await database.close();`;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 }, (error, out, err) =>
        error ? reject(Object.assign(error, { stderr: err })) : resolve({ stdout: out, stderr: err }),
      ),
    );
    assert.deepEqual(JSON.parse(stdout), channels.map((channel) => `${channel} hello`).sort());
    assert.equal(stderr, '', 'nothing in the log (pg warns when a query is sent while another runs on its connection)');
  });
});
