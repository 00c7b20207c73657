import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { startSandbox, type Sandbox } from '@agentport/sandbox';
import { openDatabase } from '../src/db/index.js';
import { messages } from '../src/db/schema.js';
import { databaseTargets, describeOn, eventually, readChatStream, readUntil, startTestPlatform, type TestPlatform } from './support.js';

for (const target of databaseTargets()) {
  describeOn(target, 'chat with a native agent', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let agentId: string;
    let user: { token: string; id: string };

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, { OPENAI_BASE_URL: sandbox.openaiBaseUrl, OPENAI_API_KEY: 'sk-sandbox' });
      const res = await p.api('POST', '/console/api/ai-agent', {
        token: p.adminToken,
        body: { name: 'Native', model: 'sandbox-chat', prompt: 'You are terse.' },
      });
      agentId = (await res.json()).id;
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    const chat = (content: string, { signal, ...extra }: Record<string, unknown> = {}, token = user.token) =>
      fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ agentId, messages: [{ role: 'user', content }], stream: true, ...extra }),
        signal: signal as AbortSignal | undefined,
      });
    const messagesOf = async (conversationId: string, token = user.token) =>
      (await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token })).json()).items;

    test('streams the answer delta by delta in the standard format and remembers it', async () => {
      const res = await chat('Hi there');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
      const conversationId = res.headers.get('x-conversation-id')!;
      const s = await readChatStream(res);
      assert.equal(s.text, 'Hello from the sandbox model. You said: "Hi there". This is turn 1. System prompt: "You are terse.".');
      assert.ok(s.chunks.filter((c) => c.choices?.[0]?.delta?.content).length > 5, 'many deltas, not one blob');
      assert.ok(s.chunks.every((c) => c.object === 'chat.completion.chunk' && c.conversation_id === conversationId && c.model === agentId));
      assert.equal(s.final.choices[0].finish_reason, 'stop');
      assert.equal(s.final.status, 'completed');
      assert.ok(s.final.usage.total_tokens > 0);
      assert.ok(s.done, 'ends with data: [DONE]');

      const stored = await messagesOf(conversationId);
      assert.deepEqual(
        stored.map((m: any) => [m.role, m.status]),
        [
          ['user', 'completed'],
          ['assistant', 'completed'],
        ],
      );
      assert.equal(stored[1].content, s.text);
      assert.deepEqual(stored[1].usage, s.final.usage);
    });

    test('the second turn carries the conversation: prompt, history and the new message reach the model', async () => {
      const first = await chat('First question');
      const conversationId = first.headers.get('x-conversation-id')!;
      await readChatStream(first);
      const second = await readChatStream(await chat('Second question', { conversationId }));
      assert.match(second.text, /You said: "Second question"\. This is turn 2\./);
      const sent = sandbox.requests.filter((r) => r.path === '/openai/v1/chat/completions').at(-1)!.body as any;
      assert.deepEqual(
        sent.messages.map((m: any) => m.role),
        ['system', 'user', 'assistant', 'user'],
      );
      assert.equal(sent.model, 'sandbox-chat');
    });

    test('reasoning streams as reasoning_content and is stored apart from the answer', async () => {
      const res = await chat('Think first [reason]');
      const s = await readChatStream(res);
      assert.ok(s.reasoning.length > 0);
      assert.ok(!s.text.includes(s.reasoning));
      const [, answer] = await messagesOf(res.headers.get('x-conversation-id')!);
      assert.equal(answer.reasoningContent, s.reasoning);
    });

    test('an upstream that drops mid-answer: the partial text is kept and the error closes the stream', async () => {
      const res = await chat('Break please [fail]');
      const s = await readChatStream(res);
      assert.ok(s.text.length > 0, 'partial text streamed');
      assert.equal(s.error.code, 'upstream_incomplete');
      assert.ok(s.done);
      const [, answer] = await messagesOf(res.headers.get('x-conversation-id')!);
      assert.equal(answer.status, 'failed');
      assert.equal(answer.content, s.text);
      assert.equal(answer.error.code, 'upstream_incomplete');
    });

    test('an upstream error before any text reaches the user as a clear error chunk', async () => {
      const s = await readChatStream(await chat('Fail at once [error]'));
      assert.equal(s.text, '');
      assert.match(s.error.message, /model endpoint answered 500/);
      assert.ok(s.done);
    });

    test('stream:false answers one chat.completion', async () => {
      const res = await chat('No stream', { stream: false });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.object, 'chat.completion');
      assert.match(body.choices[0].message.content, /You said: "No stream"/);
      assert.ok(body.conversation_id);
    });

    test('the official openai package lists agents as models and streams from one (model = agent id, token = API key)', async () => {
      const client = new OpenAI({ baseURL: `${p.url}/api/ai-agent`, apiKey: user.token });
      const stream = await client.chat.completions.create({
        model: agentId,
        messages: [{ role: 'user', content: 'From the SDK' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      assert.match(text, /You said: "From the SDK"/);
      const models = [];
      for await (const model of client.models.list()) models.push(model);
      assert.ok(
        models.some((m) => m.id === agentId && (m as unknown as { name: string }).name === 'Native'),
        'agents are listed as models',
      );
      const bad = new OpenAI({ baseURL: `${p.url}/api/ai-agent`, apiKey: 'ap_wrong', maxRetries: 0 });
      await assert.rejects(
        bad.chat.completions.create({ model: agentId, messages: [{ role: 'user', content: 'x' }] }),
        (e: any) => e.status === 401,
      );
    });

    test('one chat at a time per conversation: a second message while answering gets 409', async () => {
      const slow = await chat('Take your time [slow]');
      const conversationId = slow.headers.get('x-conversation-id')!;
      const answering = await readUntil(slow, (c) => Boolean(c.choices?.[0]?.delta?.content));
      const second = await chat('Me too', { conversationId });
      assert.equal(second.status, 409);
      assert.match((await second.json()).message, /still answering/);
      await p.api('POST', `/api/ai-agent/conversations/${conversationId}/stop`, { token: user.token });
      await answering.rest();
    });

    test('a client that disconnects stops the upstream; the partial answer is stored as canceled', async () => {
      const controller = new AbortController();
      const res = await chat('Long answer [slow]', { signal: controller.signal });
      const conversationId = res.headers.get('x-conversation-id')!;
      await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
      controller.abort();
      const answer = await eventually(async () => {
        const [, a] = await messagesOf(conversationId);
        return a.status !== 'streaming' && a;
      });
      assert.equal(answer.status, 'canceled');
      assert.ok(answer.content.length > 0, 'partial text kept');
      // The conversation is free again.
      const next = await readChatStream(await chat('Again', { conversationId }));
      assert.match(next.text, /You said: "Again"/);
    });

    test('a non-streaming client that hangs up also stops the answer', async () => {
      const controller = new AbortController();
      const pending = chat('Hang up [slow]', { stream: false, signal: controller.signal }).catch(() => null);
      await sandbox.waitForRequest((r) => r.path === '/openai/v1/chat/completions' && JSON.stringify(r.body).includes('Hang up'));
      const { items } = await eventually(async () => {
        const list = await (await p.api('GET', `/api/ai-agent/conversations?agentId=${agentId}`, { token: user.token })).json();
        return list.items.find((c: any) => c.title === 'Hang up [slow]') && list;
      });
      const conversationId = items.find((c: any) => c.title === 'Hang up [slow]').id;
      controller.abort();
      await pending;
      const answer = await eventually(async () => {
        const [, a] = await messagesOf(conversationId);
        return a.status !== 'streaming' && a;
      });
      assert.equal(answer.status, 'canceled');
    });

    test('Stop ends the stream with a final chunk and [DONE]; the answer is canceled with its partial text', async () => {
      const res = await chat('Stop me [slow]');
      const conversationId = res.headers.get('x-conversation-id')!;
      const answering = await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
      const stop = await p.api('POST', `/api/ai-agent/conversations/${conversationId}/stop`, { token: user.token });
      assert.equal(stop.status, 202);
      assert.deepEqual(await stop.json(), { stopped: true });
      const { raw } = await answering.rest();
      assert.match(raw, /"status":"canceled"/);
      assert.ok(raw.endsWith('data: [DONE]\n\n'));
      const [, answer] = await messagesOf(conversationId);
      assert.equal(answer.status, 'canceled');
      assert.ok(answer.content.length > 0);
    });

    test("a connection to the model endpoint idle for longer than fetch's default 4 s serves the next chat (no new TCP or TLS handshake)", async () => {
      const modelRequests = () => sandbox.requests.filter((r) => r.path === '/openai/v1/chat/completions');
      await readChatStream(await chat('Before the pause'));
      const portsBefore = new Set(modelRequests().map((r) => r.clientPort));
      await new Promise((resolve) => setTimeout(resolve, 5_500)); // the idle time this test is about
      await readChatStream(await chat('After the pause'));
      assert.ok(portsBefore.has(modelRequests().at(-1)!.clientPort), 'the chat after the pause went out on a connection opened before it');
    });

    test('conversations are private: another user gets 404 for them', async () => {
      const res = await chat('Private');
      const conversationId = res.headers.get('x-conversation-id')!;
      await readChatStream(res);
      const other = await p.newUser();
      assert.equal((await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: other.token })).status, 404);
      assert.equal((await p.api('DELETE', `/api/ai-agent/conversations/${conversationId}`, { token: other.token })).status, 404);
      assert.equal((await chat('Intrude', { conversationId }, other.token)).status, 404);
      const mine = (await (await p.api('GET', `/api/ai-agent/conversations?agentId=${agentId}`, { token: user.token })).json()).items;
      assert.ok(mine.some((c: any) => c.id === conversationId && c.title === 'Private'));
      assert.equal((await p.api('DELETE', `/api/ai-agent/conversations/${conversationId}`, { token: user.token })).status, 204);
      assert.equal((await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: user.token })).status, 404);
    });

    test('a chat needs a live token whatever else is wrong with it: 401 first, then what is wrong with the input', async () => {
      const mine = await chat('Mine');
      const conversationId = mine.headers.get('x-conversation-id')!;
      await readChatStream(mine);
      const revoked = (await p.newUser()).token;
      assert.equal((await p.api('POST', '/api/auth/logout', { token: revoked })).status, 204);
      const ask = (extra: Record<string, unknown>) => JSON.stringify({ agentId, messages: [{ role: 'user', content: 'Hi' }], ...extra });
      const bodies = {
        fine: ask({}),
        unreadable: '{"messages": [',
        invalid: ask({ messages: [] }),
        'unknown agent': ask({ agentId: randomUUID() }),
        "another user's conversation": ask({ conversationId }),
      };
      const statusesWith = async (token: string | null) => {
        const statuses: Record<string, number> = {};
        for (const [name, body] of Object.entries(bodies)) {
          const res = await fetch(`${p.url}/api/ai-agent/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            body,
          });
          const error = res.status === 200 ? null : await res.json();
          statuses[name] = res.status;
          if (res.status === 401) assert.equal(error.code, 'unauthorized');
        }
        return statuses;
      };
      const allUnauthorized = { fine: 401, unreadable: 401, invalid: 401, 'unknown agent': 401, "another user's conversation": 401 };
      assert.deepEqual(await statusesWith(null), allUnauthorized);
      assert.deepEqual(await statusesWith('ap_forged'), allUnauthorized);
      assert.deepEqual(await statusesWith(revoked), allUnauthorized, 'a revoked token chats no more');
      assert.deepEqual(await statusesWith((await p.newUser()).token), {
        fine: 200,
        unreadable: 400,
        invalid: 400,
        'unknown agent': 404,
        "another user's conversation": 404,
      });
    });

    test("a refused chat stores nothing: another agent's conversation is 400, an unpublished agent's 403 and a new one with it 404 for users (an admin may try it)", async () => {
      const first = await chat('Before unpublishing');
      const conversationId = first.headers.get('x-conversation-id')!;
      await readChatStream(first);
      const conversationCount = async () =>
        (await (await p.api('GET', '/api/ai-agent/conversations', { token: user.token })).json()).items.length;
      const conversationsBefore = await conversationCount();

      const other = await (
        await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Other', model: 'sandbox-chat' } })
      ).json();
      const mismatch = await chat('To the wrong agent', { conversationId, agentId: other.id });
      assert.equal(mismatch.status, 400);
      assert.equal((await mismatch.json()).code, 'agent_mismatch');

      const setPublished = (published: boolean) =>
        p.api('PATCH', `/console/api/ai-agent/${agentId}`, { token: p.adminToken, body: { published } });
      assert.equal((await setPublished(false)).status, 200);
      try {
        // The conversation stays readable but cannot go on (see conversations.test.ts); a new one is as with no such agent.
        const nextTurn = await chat('After unpublishing', { conversationId });
        assert.equal(nextTurn.status, 403);
        assert.equal((await nextTurn.json()).code, 'agent_unavailable');
        const newConversation = await chat('New, after unpublishing');
        assert.equal(newConversation.status, 404);
        assert.match((await newConversation.json()).message, /No agent/);
        assert.equal((await messagesOf(conversationId)).length, 2, 'the refused turns stored no message');
        assert.equal(await conversationCount(), conversationsBefore, 'the refused first turn stored no conversation');
        const tried = await chat('An admin tries it before publishing', {}, p.adminToken);
        assert.equal(tried.status, 200);
        assert.match((await readChatStream(tried)).text, /An admin tries it/);
      } finally {
        await setPublished(true);
      }
    });

    test('bad requests get clear 4xx answers, never a 500', async () => {
      const post = (body: unknown, raw?: string) =>
        fetch(`${p.url}/api/ai-agent/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
          body: raw ?? JSON.stringify(body),
        });
      const cases: Array<[string, Response, number, RegExp]> = [
        ['no agent', await post({ messages: [{ role: 'user', content: 'x' }] }), 400, /agentId/],
        [
          'unknown agent',
          await post({ agentId: '00000000-0000-4000-8000-000000000000', messages: [{ role: 'user', content: 'x' }] }),
          404,
          /No agent/,
        ],
        ['agent name not id', await post({ model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] }), 404, /No agent/],
        ['no messages', await post({ agentId, messages: [] }), 400, /messages/],
        ['assistant last', await post({ agentId, messages: [{ role: 'assistant', content: 'x' }] }), 400, /role "user"/],
        ['empty message', await post({ agentId, messages: [{ role: 'user', content: '   ' }] }), 400, /empty/],
        [
          'unknown conversation',
          await post({ agentId, conversationId: '00000000-0000-4000-8000-000000000000', messages: [{ role: 'user', content: 'x' }] }),
          404,
          /conversation/,
        ],
        ['malformed JSON', await post(null, '{"agentId":'), 400, /JSON/],
        ['oversized body', await post({ agentId, messages: [{ role: 'user', content: 'x'.repeat(1_100_000) }] }), 413, /too large/i],
      ];
      for (const [name, res, status, message] of cases) {
        assert.equal(res.status, status, name);
        assert.match((await res.json()).message, message, name);
      }
    });
  });
}

for (const target of databaseTargets()) {
  describeOn(target, 'server shutdown mid-answer', () => {
    test('the stream ends with a clear error and the partial answer is saved as failed', async () => {
      const sandbox = await startSandbox({ quiet: true });
      const p = await startTestPlatform(target, { OPENAI_BASE_URL: sandbox.openaiBaseUrl, OPENAI_API_KEY: 'sk-sandbox' });
      const agent = await (await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'N', model: 'm' } })).json();
      const res = await p.api('POST', '/api/ai-agent/chat/completions', {
        token: p.adminToken,
        body: { agentId: agent.id, messages: [{ role: 'user', content: 'Long [slow]' }], stream: true },
      });
      const conversationId = res.headers.get('x-conversation-id')!;
      const answering = await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
      const closing = p.app.close();
      const { raw } = await answering.rest();
      await closing;
      assert.match(raw, /"code":"shutdown"/);
      assert.ok(raw.endsWith('data: [DONE]\n\n'));
      // The platform closed its database on the way out; open the same data again to read what it saved.
      const reopened = await openDatabase(p.config);
      try {
        const [answer] = await reopened.db
          .select()
          .from(messages)
          .where(and(eq(messages.conversationId, conversationId), eq(messages.role, 'assistant')));
        assert.equal(answer!.status, 'failed');
        assert.equal(answer!.error?.code, 'shutdown');
        assert.ok(answer!.content.length > 0, 'partial text kept');
      } finally {
        await reopened.close();
        await sandbox.close();
        await p.close();
      }
    });
  });
}

for (const target of databaseTargets()) {
  describeOn(target, 'a model that goes silent mid-answer', () => {
    test('ends the answer with a clear error after the idle time, keeping what arrived', async () => {
      // An OpenAI-compatible upstream that sends one chunk and then nothing, without closing.
      const open = new Set<import('node:http').ServerResponse>();
      const upstream = createServer((_req, res) => {
        open.add(res);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(
          `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'Partial' }, finish_reason: null }] })}\n\n`,
        );
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const { port } = upstream.address() as import('node:net').AddressInfo;
      const p = await startTestPlatform(target, {
        OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
        OPENAI_API_KEY: 'k',
        OPENAI_IDLE_TIMEOUT_MS: '300',
      });
      try {
        const agent = await (
          await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Silent', model: 'm' } })
        ).json();
        const res = await p.api('POST', '/api/ai-agent/chat/completions', {
          token: p.adminToken,
          body: { agentId: agent.id, messages: [{ role: 'user', content: 'Hi' }], stream: true },
        });
        const s = await readChatStream(res);
        assert.equal(s.text, 'Partial');
        assert.equal(s.error.code, 'upstream_timeout');
        assert.match(s.error.message, /stopped sending/);
        assert.ok(s.done);
        const { items } = await (
          await p.api('GET', `/api/ai-agent/conversations/${res.headers.get('x-conversation-id')}/messages`, { token: p.adminToken })
        ).json();
        assert.equal(items[1].status, 'failed');
        assert.equal(items[1].content, 'Partial');
      } finally {
        await p.close();
        for (const res of open) res.destroy();
        await new Promise((resolve) => upstream.close(resolve));
      }
    });
  });
}
