// Two real server processes on one PostgreSQL behave as one platform.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { BOTS, startSandbox, type Sandbox } from '@agentport/sandbox';
import { assertFreshBuild } from '../../scripts/lib/built.mjs';
import { LISTENING, listeningUrl, serverMain, startProcess, type RunningProcess } from '../../scripts/lib/processes.js';
import { readConfig } from '../src/config.js';
import { LISTENER_NAME } from '../src/db/index.js';
import { ADMIN, describeOnPostgres, eventually, freshPostgresDatabase, readChatStream, readUntil } from './support.js';

const LEASE_SECONDS = 2;

interface Instance {
  url: string;
  process: RunningProcess;
}

async function startInstance(name: string, env: NodeJS.ProcessEnv): Promise<Instance> {
  const instance = await startProcess({ name, args: [serverMain], env, ready: (line) => LISTENING.test(line), stderr: 'inherit' });
  return { url: listeningUrl(instance.readyLine), process: instance };
}

test('WORKERS above 1 without DATABASE_URL is refused: the embedded database is one process only', () => {
  assert.throws(() => readConfig({ WORKERS: '2' }), /WORKERS above 1 needs DATABASE_URL/);
  assert.equal(readConfig({ WORKERS: 'auto', DATABASE_URL: 'postgres://x@127.0.0.1/db' }).workers, availableParallelism());
});

describeOnPostgres('several instances on one PostgreSQL', (baseUrl) => {
  let sandbox: Sandbox;
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let a: Instance;
  let b: Instance;
  let token: string;
  let agentId: string;

  const call = (instance: Instance, method: string, route: string, body?: unknown, auth = token) =>
    fetch(instance.url + route, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const chat = (instance: Instance, content: string, conversationId?: string) =>
    call(instance, 'POST', '/api/ai-agent/chat/completions', {
      agentId,
      conversationId,
      messages: [{ role: 'user', content }],
      stream: true,
    });

  before(async () => {
    assertFreshBuild('server');
    sandbox = await startSandbox({ quiet: true });
    database = await freshPostgresDatabase(baseUrl);
    const env = {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.databaseUrl,
      STORAGE_DRIVER: 'database',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      CHAT_LEASE_SECONDS: String(LEASE_SECONDS),
      LOGIN_MAX_FAILURES: '3',
      COZE_API_BASE: sandbox.cozeBaseUrl,
      COZE_API_TOKEN: sandbox.token,
      COZE_SPACE_ID: sandbox.spaceId,
      LOG_LEVEL: 'warn',
    };
    // Both at the same moment, on an empty database.
    [a, b] = await Promise.all([
      startInstance('instance A', { ...env, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'agentport-a-')) }),
      startInstance('instance B', { ...env, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'agentport-b-')) }),
    ]);
  });
  after(async () => {
    await Promise.all([a, b].map((instance) => instance?.process.stop()));
    await database?.drop();
    await sandbox?.close();
  });

  test('start together: migrations once, one admin, both healthy', async () => {
    assert.equal((await call(a, 'GET', '/api/health', undefined, '')).status, 200);
    assert.equal((await call(b, 'GET', '/api/health', undefined, '')).status, 200);
    const client = new pg.Client({ connectionString: database.databaseUrl });
    await client.connect();
    const { rows } = await client.query("select count(*)::int as n from users where role = 'admin'");
    await client.end();
    assert.equal(rows[0].n, 1);
  });

  test('a token issued by one instance works on the other', async () => {
    token = (await (await call(a, 'POST', '/api/auth/login', ADMIN, '')).json()).token;
    const me = await call(b, 'GET', '/api/auth/me');
    assert.equal(me.status, 200);
    assert.equal((await me.json()).user.email, ADMIN.email);
  });

  test('a user disabled on A is refused on B at once, and told why; enabled on B, they sign in on A', async () => {
    const email = 'disabled.across@example.com';
    const registered = await (await call(a, 'POST', '/api/auth/register', { email, password: 'user-password-1' }, '')).json();
    assert.equal((await call(b, 'GET', '/api/auth/me', undefined, registered.token)).status, 200);
    assert.equal((await call(a, 'PATCH', `/console/api/users/${registered.user.id}`, { status: 'disabled' })).status, 200);
    const refused = await call(b, 'GET', '/api/auth/me', undefined, registered.token);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).code, 'account_disabled');
    assert.equal((await call(b, 'POST', '/api/auth/login', { email, password: 'user-password-1' }, '')).status, 403);
    assert.equal((await call(b, 'PATCH', `/console/api/users/${registered.user.id}`, { status: 'active' })).status, 200);
    assert.equal((await call(a, 'POST', '/api/auth/login', { email, password: 'user-password-1' }, '')).status, 200);
  });

  test('failed logins count across instances', async () => {
    const wrong = { email: ADMIN.email.replace('admin', 'someone'), password: 'wrong-password' };
    assert.equal((await call(a, 'POST', '/api/auth/login', wrong, '')).status, 401);
    assert.equal((await call(b, 'POST', '/api/auth/login', wrong, '')).status, 401);
    assert.equal((await call(a, 'POST', '/api/auth/login', wrong, '')).status, 401);
    assert.equal((await call(b, 'POST', '/api/auth/login', wrong, '')).status, 429);
  });

  test('a bot imported through A is an agent on B, its avatar served by B', async () => {
    const imported = await (await call(a, 'POST', '/console/api/ai-agent/import/coze', { cozeBotId: BOTS.slow.id })).json();
    agentId = imported.agent.id;
    const onB = await (await call(b, 'GET', `/console/api/ai-agent/${agentId}`)).json();
    assert.equal(onB.name, BOTS.slow.name);
    const avatar = await fetch(b.url + onB.avatar);
    assert.equal(avatar.status, 200);
    assert.equal(avatar.headers.get('content-type'), 'image/png');
    assert.ok(avatar.headers.get('etag'));
    const listOnB = await (await call(b, 'GET', '/console/api/ai-agent/coze/list?pageSize=100')).json();
    assert.equal(listOnB.items.find((bot: any) => bot.botId === BOTS.slow.id).imported, true);
  });

  /** Streams on A, checks B's 409, stops through B; returns what the client and the database saw. */
  async function streamOnAStopThroughB() {
    const res = await chat(a, 'Stream on A');
    const conversationId = res.headers.get('x-conversation-id')!;
    const answering = await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
    const busy = await chat(b, 'Through B', conversationId);
    assert.equal(busy.status, 409);

    sandbox.clearRequests();
    const stop = await call(b, 'POST', `/api/ai-agent/conversations/${conversationId}/stop`);
    assert.deepEqual(await stop.json(), { stopped: true });
    const { raw: rest } = await answering.rest();
    const messages = await eventually(async () => {
      const { items } = await (await call(b, 'GET', `/api/ai-agent/conversations/${conversationId}/messages`)).json();
      return items[1].status !== 'streaming' && items;
    });
    return { rest, answer: messages[1], cancels: sandbox.requests.filter((r) => r.path === '/v3/chat/cancel').length };
  }

  test("while A streams, a second message through B is 409; Stop through B ends A's stream", async () => {
    const { rest, answer, cancels } = await streamOnAStopThroughB();
    assert.match(rest, /"finish_reason":"stop".*"status":"canceled"/);
    assert.ok(rest.endsWith('data: [DONE]\n\n'));
    assert.equal(answer.status, 'canceled');
    assert.ok(answer.content.length > 0, 'partial text kept');
    assert.equal(cancels, 1, 'Coze cancel called once');
  });

  test("when PostgreSQL drops the instances' LISTEN connections, they subscribe again and Stop still works", async () => {
    const client = new pg.Client({ connectionString: database.databaseUrl });
    await client.connect();
    const listeners = `select pid from pg_stat_activity where application_name = '${LISTENER_NAME}' and datname = current_database()`;
    try {
      const before = (await client.query(listeners)).rows.map((r) => r.pid);
      assert.equal(before.length, 2, 'one listener per instance');
      await client.query(`select pg_terminate_backend(pid) from (${listeners}) l`);
      await eventually(async () => {
        const now = (await client.query(listeners)).rows.map((r) => r.pid);
        return now.length === 2 && now.every((pid) => !before.includes(pid));
      });
    } finally {
      await client.end();
    }
    const { rest, answer } = await streamOnAStopThroughB();
    assert.match(rest, /"status":"canceled"/);
    assert.equal(answer.status, 'canceled');
  });

  test('while A streams, B shows the answer so far: A saves it every third of the lease, not per delta', async () => {
    const res = await chat(a, 'Show progress');
    const conversationId = res.headers.get('x-conversation-id')!;
    const answering = await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
    const inProgress = await eventually(async () => {
      const { items } = await (await call(b, 'GET', `/api/ai-agent/conversations/${conversationId}/messages`)).json();
      return items[1].status === 'streaming' && items[1].content.length > 0 && items[1];
    }, LEASE_SECONDS * 3000);
    assert.match(inProgress.content, /^\S/, "the answer's beginning");
    assert.deepEqual(await (await call(b, 'POST', `/api/ai-agent/conversations/${conversationId}/stop`)).json(), { stopped: true });
    await answering.cancel();
  });

  test('an instance keeps its database connections through a quiet spell (no new connection per chat)', async () => {
    await readChatStream(await chat(b, 'Before the quiet spell'));
    const client = new pg.Client({ connectionString: database.databaseUrl });
    await client.connect();
    const poolConnections = async () =>
      (
        await client.query(
          'select pid from pg_stat_activity where datname = current_database() and application_name <> $1 and pid <> pg_backend_pid()',
          [LISTENER_NAME],
        )
      ).rows.map((row) => row.pid as number);
    try {
      const before = await poolConnections();
      assert.ok(before.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 11_000)); // longer than pg's default idle time-out (10 s)
      const after = await poolConnections();
      assert.ok(
        before.some((pid) => after.includes(pid)),
        'the connections the chat used are still open',
      );
    } finally {
      await client.end();
    }
  });

  test('an instance killed mid-answer: after the lease the conversation works on B, in the same Coze conversation; the old answer reads failed, also to whoever followed it on B', async () => {
    const res = await chat(a, 'Doomed');
    const conversationId = res.headers.get('x-conversation-id')!;
    await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
    const following = await readUntil(await call(b, 'GET', `/api/ai-agent/conversations/${conversationId}/stream`), (c) =>
      Boolean(c.choices?.[0]?.delta?.content),
    );
    a.process.proc.kill('SIGKILL');
    assert.equal((await chat(b, 'Too early', conversationId)).status, 409, 'the lease still holds');
    const next = await eventually(
      async () => {
        const attempt = await chat(b, 'After the crash', conversationId);
        if (attempt.status === 409) {
          await attempt.body?.cancel();
          return null;
        }
        return attempt;
      },
      (LEASE_SECONDS + 5) * 1000,
    );
    assert.equal(next.status, 200);
    await readChatStream(next);
    // A died long before its first checkpoint; the Coze conversation its chat began was kept anyway.
    const doomed = sandbox.requests.find((r) => r.path === '/v3/chat' && (r.body as any).additional_messages[0].content === 'Doomed')!;
    const afterCrash = sandbox.requests.find(
      (r) => r.path === '/v3/chat' && (r.body as any).additional_messages[0].content === 'After the crash',
    )!;
    assert.equal(doomed.query.conversation_id, undefined, 'a first turn');
    assert.match(afterCrash.query.conversation_id ?? '', /^\d+$/, 'the next turn continues the Coze conversation (and its memory)');
    const { items } = await (await call(b, 'GET', `/api/ai-agent/conversations/${conversationId}/messages`)).json();
    assert.equal(items[1].status, 'failed');
    assert.equal(items[1].error.code, 'interrupted');
    // The follower on B had no end to wait for from A: it ends with what A had saved, and why.
    const followed = await following.rest();
    assert.equal(followed.error.code, 'interrupted');
    assert.ok(followed.done);
    assert.ok(items[1].content.startsWith(followed.text) || followed.text.startsWith(items[1].content));
  });
});

describeOnPostgres('WORKERS=2: two instances of the platform behind one port', (baseUrl) => {
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let primary: RunningProcess;
  /** The workers serving, by pid, as they announce themselves. */
  const serving: number[] = [];
  let url = '';

  before(async () => {
    assertFreshBuild('server');
    database = await freshPostgresDatabase(baseUrl);
    primary = await startProcess({
      name: 'the primary',
      args: [serverMain],
      env: {
        ...process.env,
        WORKERS: '2',
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: database.databaseUrl,
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'agentport-workers-')),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        LOG_LEVEL: 'warn',
      },
      stderr: 'inherit',
      onLine: (line) => {
        const match = line.match(/listening on (http:\/\/\S+) \(worker pid (\d+)\)/);
        if (match) {
          url = match[1]!;
          serving.push(Number(match[2]));
        }
      },
      ready: () => serving.length === 2,
    });
  });
  after(async () => {
    await primary?.stop();
    await database?.drop();
  });

  test('a worker that dies is replaced while the other keeps answering; SIGTERM stops them all', async () => {
    const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
    const [first, second] = serving as [number, number];
    assert.notEqual(first, second);
    assert.equal((await fetch(`${url}/api/health`)).status, 200);

    process.kill(first, 'SIGKILL');
    // Reaped, not just dead: the primary has then seen the exit and hands it no more connections (one
    // handed to a worker already dead but not yet reaped would hang, a race of node:cluster itself).
    await eventually(async () => !existsSync(`/proc/${first}`));
    // The port still answers (the other worker), and a new worker takes the dead one's place.
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    assert.equal(login.status, 200);
    await eventually(async () => serving.length === 3, 30_000);
    const replacement = serving[2]!;
    assert.ok(alive(second) && alive(replacement));

    primary.proc.kill('SIGTERM');
    assert.equal((await primary.exited).code, 0);
    assert.ok(!alive(second) && !alive(replacement), 'no worker outlives the primary');
  });
});
