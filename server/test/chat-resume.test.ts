// Answers survive the page: with keepRunning an answer goes on when its client leaves, and
// GET /conversations/:id/stream shows it again (text so far, then the rest live), on any instance.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startSandbox, type Sandbox } from '@agentport/sandbox';
import {
  chatStream,
  databaseTargets,
  describeOn,
  describeOnPostgres,
  eventually,
  freshPostgresDatabase,
  readChatStream,
  readUntil,
  startTestPlatform,
  type DatabaseTarget,
  type TestPlatform,
} from './support.js';

/** A checkpoint each second (a third of the lease): a slow answer (about 6 s) has several. */
const ENV = { CHAT_LEASE_SECONDS: '3' };
const SLOW = 'Keep going [slow]';
const SLOW_ANSWER = /^Hello from the sandbox model\. You said: "Keep going \[slow\]"\. This is turn 1\.$/;

async function nativeAgent(p: TestPlatform): Promise<string> {
  const res = await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Native', model: 'sandbox-chat' } });
  return (await res.json()).id;
}

function client(p: TestPlatform, agentId: string, token: string) {
  return {
    chat: (content: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
      fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ agentId, messages: [{ role: 'user', content }], stream: true, ...extra }),
        signal,
      }),
    resume: (conversationId: string, as = token) =>
      fetch(`${p.url}/api/ai-agent/conversations/${conversationId}/stream`, { headers: { authorization: `Bearer ${as}` } }),
    answer: async (conversationId: string) =>
      (await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token })).json()).items[1],
    stop: (conversationId: string) => p.api('POST', `/api/ai-agent/conversations/${conversationId}/stop`, { token }),
  };
}

/** Starts a slow answer and leaves it once some text arrived; returns the conversation and the text seen. */
async function startAndLeave(c: ReturnType<typeof client>, extra: Record<string, unknown>) {
  const controller = new AbortController();
  const res = await c.chat(SLOW, extra, controller.signal);
  const conversationId = res.headers.get('x-conversation-id')!;
  await readUntil(res, (chunk) => Boolean(chunk.choices?.[0]?.delta?.content));
  controller.abort();
  return conversationId;
}

for (const target of databaseTargets()) {
  describeOn(target, 'answers that survive their client', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let c: ReturnType<typeof client>;
    let user: { token: string; id: string };

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, { ...ENV, OPENAI_BASE_URL: sandbox.openaiBaseUrl, OPENAI_API_KEY: 'sk-sandbox' });
      user = await p.newUser();
      c = client(p, await nativeAgent(p), user.token);
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    test('without keepRunning (OpenAI clients) a disconnect still stops the upstream', async () => {
      const conversationId = await startAndLeave(c, {});
      const answer = await eventually(async () => {
        const a = await c.answer(conversationId);
        return a.status !== 'streaming' && a;
      });
      assert.equal(answer.status, 'canceled');
      assert.equal((await c.resume(conversationId)).status, 204);
    });

    test('with keepRunning the answer runs on after its client left, to its end, and is saved whole', async () => {
      const conversationId = await startAndLeave(c, { keepRunning: true });
      assert.equal((await c.answer(conversationId)).status, 'streaming');
      const answer = await eventually(async () => {
        const a = await c.answer(conversationId);
        return a.status !== 'streaming' && a;
      }, 20_000);
      assert.equal(answer.status, 'completed');
      assert.match(answer.content, SLOW_ANSWER);
      assert.equal((await c.resume(conversationId)).status, 204, 'nothing runs any more');
    });

    test('a resume mid-answer gets the text so far at once, then the rest live: nothing lost or doubled', async () => {
      const conversationId = await startAndLeave(c, { keepRunning: true });
      // After a checkpoint, so that the text so far comes from the database and the rest from the stream.
      const saved = await eventually(async () => {
        const a = await c.answer(conversationId);
        return a.content.length > 0 && a;
      });
      const res = await c.resume(conversationId);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
      const stream = chatStream(res);
      const first = await stream.next();
      assert.equal(first.choices[0].delta.role, 'assistant');
      assert.ok(first.choices[0].delta.content.startsWith(saved.content), 'the text so far, first');
      assert.equal(first.conversation_id, conversationId);
      assert.equal(first.message_id, saved.id);
      const s = await stream.rest();
      assert.ok(s.chunks.filter((chunk) => chunk.choices?.[0]?.delta?.content).length > 2, 'then the rest, delta by delta');
      assert.match(s.text, SLOW_ANSWER);
      assert.equal(s.final.status, 'completed');
      assert.ok(s.done);
      assert.equal((await c.answer(conversationId)).content, s.text);
    });

    test('two readers resuming at different moments both get the whole answer once', async () => {
      const conversationId = await startAndLeave(c, { keepRunning: true });
      const early = chatStream(await c.resume(conversationId));
      const firstEarly = await early.next();
      // The second comes when the first has seen more text.
      for (let chunk = firstEarly; chunk && !chunk.choices?.[0]?.delta?.content; chunk = await early.next());
      const late = await readChatStream(await c.resume(conversationId));
      const earlyRead = await early.rest();
      assert.match(earlyRead.text, SLOW_ANSWER);
      assert.equal(late.text, earlyRead.text);
    });

    test('Stop while following ends the followed answer as canceled, keeping its text', async () => {
      const conversationId = await startAndLeave(c, { keepRunning: true });
      const following = await readUntil(await c.resume(conversationId), (chunk) => Boolean(chunk.choices?.[0]?.delta?.content));
      assert.deepEqual(await (await c.stop(conversationId)).json(), { stopped: true });
      const s = await following.rest();
      assert.equal(s.final.status, 'canceled');
      assert.ok(s.done);
      const answer = await c.answer(conversationId);
      assert.equal(answer.status, 'canceled');
      assert.equal(answer.content, s.text);
    });

    test('nothing running is 204; a conversation not the caller’s is 404, without a token 401', async () => {
      const res = await c.chat('Quick one');
      const conversationId = res.headers.get('x-conversation-id')!;
      await readChatStream(res);
      const idle = await c.resume(conversationId);
      assert.equal(idle.status, 204);
      assert.equal(await idle.text(), '');

      const running = await startAndLeave(c, { keepRunning: true });
      const other = await p.newUser();
      const foreign = await c.resume(running, other.token);
      assert.equal(foreign.status, 404);
      assert.match((await foreign.json()).message, /No conversation/);
      assert.equal((await c.resume(randomUUID())).status, 404);
      assert.equal((await c.resume('not-a-uuid')).status, 400);
      assert.equal((await fetch(`${p.url}/api/ai-agent/conversations/${running}/stream`)).status, 401);
      await c.stop(running);
    });

    test('a first answer in a new conversation names its conversation at once (header), and resumes', async () => {
      const controller = new AbortController();
      const res = await c.chat('A brand new one [slow]', { keepRunning: true }, controller.signal);
      const conversationId = res.headers.get('x-conversation-id')!;
      assert.match(conversationId, /^[0-9a-f-]{36}$/);
      controller.abort(); // before any text: the answer is still kept running
      const s = await readChatStream(await c.resume(conversationId));
      assert.match(s.text, /You said: "A brand new one \[slow\]"/);
      assert.equal(s.final.status, 'completed');
    });
  });
}

describeOn(databaseTargets()[0]!, 'an answer kept running ends at ANSWER_TIMEOUT_MS', () => {
  let sandbox: Sandbox;
  let p: TestPlatform;
  let c: ReturnType<typeof client>;

  before(async () => {
    sandbox = await startSandbox({ quiet: true });
    p = await startTestPlatform(databaseTargets()[0]!, {
      ANSWER_TIMEOUT_MS: '1500',
      OPENAI_BASE_URL: sandbox.openaiBaseUrl,
      OPENAI_API_KEY: 'sk-sandbox',
    });
    const user = await p.newUser();
    c = client(p, await nativeAgent(p), user.token);
  });
  after(async () => {
    await p.close();
    await sandbox.close();
  });

  test('its client gone, it still ends at the time limit: failed, with its text and a clear reason', async () => {
    const conversationId = await startAndLeave(c, { keepRunning: true });
    const answer = await eventually(async () => {
      const a = await c.answer(conversationId);
      return a.status !== 'streaming' && a;
    });
    assert.equal(answer.status, 'failed');
    assert.equal(answer.error.code, 'answer_timeout');
    assert.match(answer.error.message, /longer than the 1\.5 s this server allows/);
    assert.match(answer.content, /^Hello/);
    assert.doesNotMatch(answer.content, /This is turn 1\./, 'cut off');
  });
});

describeOnPostgres('an answer resumed on another instance than the one streaming it', (baseUrl) => {
  let sandbox: Sandbox;
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let a: TestPlatform;
  let b: TestPlatform;
  let onA: ReturnType<typeof client>;
  let onB: ReturnType<typeof client>;

  before(async () => {
    sandbox = await startSandbox({ quiet: true });
    database = await freshPostgresDatabase(baseUrl);
    // Two platforms, each with its own connections and LISTEN, on one database.
    const shared: DatabaseTarget = { name: 'postgres', url: async () => ({ databaseUrl: database.databaseUrl, drop: async () => {} }) };
    const env = { ...ENV, OPENAI_BASE_URL: sandbox.openaiBaseUrl, OPENAI_API_KEY: 'sk-sandbox' };
    a = await startTestPlatform(shared, env);
    b = await startTestPlatform(shared, env);
    const user = await a.newUser();
    const agentId = await nativeAgent(a);
    onA = client(a, agentId, user.token);
    onB = client(b, agentId, user.token);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await database?.drop();
    await sandbox?.close();
  });

  test('streamed on A, left, resumed on B: the text so far then the rest, nothing lost or doubled', async () => {
    const conversationId = await startAndLeave(onA, { keepRunning: true });
    assert.equal(a.stops.activeCount, 1, 'A streams it');
    assert.equal(b.stops.activeCount, 0);
    const s = await readChatStream(await onB.resume(conversationId));
    assert.match(s.text, SLOW_ANSWER);
    assert.equal(s.final.status, 'completed');
    assert.equal((await onB.answer(conversationId)).content, s.text);
  });

  test('Stop through A while B follows: B sees the answer end, canceled', async () => {
    const conversationId = await startAndLeave(onA, { keepRunning: true });
    const following = await readUntil(await onB.resume(conversationId), (chunk) => Boolean(chunk.choices?.[0]?.delta?.content));
    await onA.stop(conversationId);
    const s = await following.rest();
    assert.equal(s.final.status, 'canceled');
    assert.equal((await onB.answer(conversationId)).content, s.text);
  });
});
