import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { startSandbox, type Sandbox } from '@agentport/sandbox';
import { users } from '../src/db/schema.js';
import {
  databaseTargets,
  describeOn,
  describeOnPostgres,
  freshPostgresDatabase,
  readChatStream,
  readUntil,
  startTestPlatform,
  type TestPlatform,
} from './support.js';

const MODEL_PATH = '/openai/v1/chat/completions';

/** The next UTC midnight, and the first UTC midnight of next month. */
function resets(now = new Date()) {
  return {
    day: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString(),
    month: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
  };
}

/** What a platform with a native agent answered by the sandbox model needs for quota tests. */
function quotaHelpers(sandbox: () => Sandbox, platform: () => TestPlatform, agent: () => string) {
  const chat = (token: string, content: string, extra: Record<string, unknown> = {}, p = platform()) =>
    fetch(`${p.url}/api/ai-agent/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ agentId: agent(), messages: [{ role: 'user', content }], stream: true, ...extra }),
    });
  const setQuota = async (userId: string, quotas: { messagesPerDay: number | null; tokensPerMonth: number | null }) => {
    const p = platform();
    const res = await p.api('PUT', `/console/api/quotas/users/${userId}`, { token: p.adminToken, body: quotas });
    assert.equal(res.status, 200);
  };
  /** The requests the model got that hold `text`. */
  const modelAsked = (text: string) => sandbox().requests.filter((r) => r.path === MODEL_PATH && JSON.stringify(r.body).includes(text));
  return { chat, setQuota, modelAsked };
}

for (const target of databaseTargets()) {
  describeOn(target, 'quotas', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let agentId: string;
    const { chat, setQuota, modelAsked } = quotaHelpers(
      () => sandbox,
      () => p,
      () => agentId,
    );

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, { OPENAI_BASE_URL: sandbox.openaiBaseUrl, OPENAI_API_KEY: 'sk-sandbox' });
      const res = await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Native', model: 'sandbox-chat' } });
      agentId = (await res.json()).id;
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    test('past the messages of the day: 429 quota_exceeded with the next UTC midnight, before the model is asked', async () => {
      const user = await p.newUser();
      await setQuota(user.id, { messagesPerDay: 2, tokensPerMonth: null });
      await readChatStream(await chat(user.token, 'one'));
      const first = await chat(user.token, 'two');
      const conversationId = first.headers.get('x-conversation-id')!;
      await readChatStream(first);

      const expected = resets();
      const refused = await chat(user.token, 'three, refused');
      assert.equal(refused.status, 429);
      const body = await refused.json();
      assert.equal(body.code, 'quota_exceeded');
      assert.equal(body.resetsAt, expected.day);
      assert.match(body.message, /2 messages/);
      const retryAfter = Number(refused.headers.get('retry-after'));
      const untilReset = (Date.parse(expected.day) - Date.now()) / 1000;
      assert.ok(Math.abs(retryAfter - untilReset) < 5, `Retry-After ${retryAfter} s, reset in ${untilReset} s`);
      // In an existing conversation too; nothing reached the model, nothing was stored.
      const next = await chat(user.token, 'four, refused', { conversationId });
      assert.equal(next.status, 429);
      assert.deepEqual(modelAsked('refused'), []);
      const list = await (await p.api('GET', '/api/ai-agent/conversations', { token: user.token })).json();
      assert.deepEqual(list.items.map((c: any) => c.title).sort(), ['one', 'two']);
      const stored = await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: user.token })).json();
      assert.equal(stored.items.length, 2);

      const own = await (await p.api('GET', '/api/ai-agent/usage/me', { token: user.token })).json();
      assert.equal(own.quota.messagesToday, 2);
      assert.equal(own.quota.messagesPerDay, 2);
      assert.equal(own.quota.messagesResetAt, expected.day);

      // Without their own quota the user's role's apply again: unlimited.
      assert.equal((await p.api('DELETE', `/console/api/quotas/users/${user.id}`, { token: p.adminToken })).status, 204);
      assert.equal((await chat(user.token, 'five')).status, 200);
    });

    test("past the month's tokens: refused until next month; an answer running when the quota is reached finishes", async () => {
      const user = await p.newUser();
      await setQuota(user.id, { messagesPerDay: null, tokensPerMonth: 1 });
      const running = await chat(user.token, 'A long one [slow]');
      const answering = await readUntil(running, (c) => Boolean(c.choices?.[0]?.delta?.content));
      const spent = await readChatStream(await chat(user.token, 'Meanwhile'));
      assert.ok(spent.final.usage.total_tokens >= 1, 'the quota is reached');

      const refused = await chat(user.token, 'After the quota');
      assert.equal(refused.status, 429);
      const body = await refused.json();
      assert.equal(body.code, 'quota_exceeded');
      assert.equal(body.resetsAt, resets().month);
      assert.match(body.message, /1 tokens/);
      assert.deepEqual(modelAsked('After the quota'), []);

      const finished = await answering.rest();
      assert.equal(finished.final.status, 'completed');
      assert.match(finished.text, /You said: "A long one \[slow\]"/);
    });

    test('a chat refused for another reason gives its message back', async () => {
      const user = await p.newUser();
      await setQuota(user.id, { messagesPerDay: 2, tokensPerMonth: null });
      const slow = await chat(user.token, 'Busy [slow]');
      const conversationId = slow.headers.get('x-conversation-id')!;
      const answering = await readUntil(slow, (c) => Boolean(c.choices?.[0]?.delta?.content));
      const busy = await chat(user.token, 'While busy', { conversationId });
      assert.equal(busy.status, 409);
      assert.equal((await chat(user.token, 'not a real agent', { agentId: '00000000-0000-4000-8000-000000000000' })).status, 404);
      // The one message left is still there.
      const second = await chat(user.token, 'Second');
      assert.equal(second.status, 200);
      await readChatStream(second);
      await p.api('POST', `/api/ai-agent/conversations/${conversationId}/stop`, { token: user.token });
      await answering.rest();
      assert.equal((await chat(user.token, 'Third')).status, 429);
    });

    test('a user at their limit less one sending 10 chats at once gets exactly one through', async () => {
      const user = await p.newUser();
      await setQuota(user.id, { messagesPerDay: 3, tokensPerMonth: null });
      await readChatStream(await chat(user.token, 'warm-up 1'));
      await readChatStream(await chat(user.token, 'warm-up 2'));
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => chat(user.token, `at once ${i}`)));
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 429, 429, 429, 429, 429, 429, 429, 429, 429]);
      await Promise.all(results.map((r) => (r.status === 200 ? readChatStream(r) : r.json())));
      assert.equal(modelAsked('at once').length, 1);
    });

    test("a role's quotas hold its users, unless a user has their own (null: unlimited)", async () => {
      const role = await (
        await p.api('POST', '/console/api/roles', { token: p.adminToken, body: { name: `Limited ${Date.now()}`, permissions: [] } })
      ).json();
      const set = await p.api('PUT', `/console/api/quotas/roles/${role.key}`, {
        token: p.adminToken,
        body: { messagesPerDay: 1, tokensPerMonth: null },
      });
      assert.deepEqual(await set.json(), { key: role.key, messagesPerDay: 1, tokensPerMonth: null });
      const listed = await (await p.api('GET', '/console/api/roles', { token: p.adminToken })).json();
      assert.equal(listed.items.find((r: any) => r.key === role.key).messagesPerDay, 1);
      const held = await p.newUser();
      const own = await p.newUser();
      for (const user of [held, own]) await p.database.db.update(users).set({ role: role.key }).where(eq(users.id, user.id));
      await setQuota(own.id, { messagesPerDay: null, tokensPerMonth: null });

      await readChatStream(await chat(held.token, 'role one'));
      assert.equal((await chat(held.token, 'role two')).status, 429);
      await readChatStream(await chat(own.token, 'own one'));
      await readChatStream(await chat(own.token, 'own two'));
      // The built-in roles' quotas can be set too; an unknown role is a 404.
      const builtIn = await p.api('PUT', '/console/api/quotas/roles/user', {
        token: p.adminToken,
        body: { messagesPerDay: null, tokensPerMonth: null },
      });
      assert.equal(builtIn.status, 200);
      const unknown = await p.api('PUT', '/console/api/quotas/roles/nobody', {
        token: p.adminToken,
        body: { messagesPerDay: 1, tokensPerMonth: 1 },
      });
      assert.equal(unknown.status, 404);
    });

    test('quotas are set by administrators only, as whole numbers or null', async () => {
      const user = await p.newUser();
      const put = (body: unknown, token = p.adminToken, id = user.id) => p.api('PUT', `/console/api/quotas/users/${id}`, { token, body });
      assert.equal((await put({ messagesPerDay: 5, tokensPerMonth: null }, user.token)).status, 403);
      assert.equal((await put({ messagesPerDay: -1, tokensPerMonth: null })).status, 400);
      assert.equal((await put({ messagesPerDay: 1.5, tokensPerMonth: null })).status, 400);
      assert.equal((await put({ messagesPerDay: 5 })).status, 400);
      assert.equal(
        (await put({ messagesPerDay: 5, tokensPerMonth: null }, p.adminToken, '00000000-0000-4000-8000-000000000000')).status,
        404,
      );
      const set = await put({ messagesPerDay: 5, tokensPerMonth: 1000 });
      assert.equal(set.status, 200);
      const body = await set.json();
      assert.deepEqual(body.own, { messagesPerDay: 5, tokensPerMonth: 1000 });
      assert.equal(body.status.messagesPerDay, 5);
      assert.equal(body.user.id, user.id);
    });
  });
}

describeOnPostgres('quotas on two instances of one PostgreSQL', (baseUrl) => {
  let sandbox: Sandbox;
  let a: TestPlatform;
  let b: TestPlatform;
  let agentId: string;
  const { chat, setQuota, modelAsked } = quotaHelpers(
    () => sandbox,
    () => a,
    () => agentId,
  );

  before(async () => {
    sandbox = await startSandbox({ quiet: true });
    const database = await freshPostgresDatabase(baseUrl);
    const env = { OPENAI_BASE_URL: sandbox.openaiBaseUrl, OPENAI_API_KEY: 'sk-sandbox' };
    a = await startTestPlatform({ name: 'postgres', url: async () => database }, env);
    b = await startTestPlatform({ name: 'postgres', url: async () => ({ databaseUrl: database.databaseUrl, drop: async () => {} }) }, env);
    const res = await a.api('POST', '/console/api/ai-agent', { token: a.adminToken, body: { name: 'Native', model: 'sandbox-chat' } });
    agentId = (await res.json()).id;
  });
  after(async () => {
    await b.close();
    await a.close();
    await sandbox.close();
  });

  test('a user at their limit less one sending 10 chats at once, half to each instance, gets exactly one through', async () => {
    const user = await a.newUser();
    await setQuota(user.id, { messagesPerDay: 3, tokensPerMonth: null });
    await readChatStream(await chat(user.token, 'warm-up 1', {}, a));
    await readChatStream(await chat(user.token, 'warm-up 2', {}, b));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => chat(user.token, `both at once ${i}`, {}, i % 2 ? a : b)));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 429, 429, 429, 429, 429, 429, 429, 429, 429]);
    await Promise.all(results.map((r) => (r.status === 200 ? readChatStream(r) : r.json())));
    assert.equal(modelAsked('both at once').length, 1);
  });
});
