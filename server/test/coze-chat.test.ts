import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { BOTS, startSandbox, type Sandbox } from '@agentport/sandbox';
import { CARD_NOTE } from '../src/chat/providers/coze.js';
import { hasIdleConnection, sse, startLocalServer } from './coze-client-support.js';
import { agents, conversations } from '../src/db/schema.js';
import { databaseTargets, describeOn, eventually, readChatStream, readUntil, startTestPlatform, type TestPlatform } from './support.js';

for (const target of databaseTargets()) {
  describeOn(target, 'chat with a Coze agent', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let user: { token: string; id: string };
    const agentOf: Record<string, string> = {};

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, {
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
      });
      for (const key of [
        'echo',
        'multiAnswer',
        'internals',
        'reasoning',
        'slow',
        'failMidStream',
        'errorEvent',
        'dropConnection',
        'unpublished',
        'splitBytes',
        'card',
      ] as const) {
        const bot = BOTS[key];
        // An unpublished bot can't be imported through the API; it is made an agent directly.
        const res = await p.api('POST', '/console/api/ai-agent/import/coze', { token: p.adminToken, body: { cozeBotId: bot.id } });
        if (res.status === 201) agentOf[key] = (await res.json()).agent.id;
      }
      if (!agentOf.unpublished) {
        const created = await (
          await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Unpublished', model: 'coze-proxy' } })
        ).json();
        await p.database.db
          .update(agents)
          .set({
            provider: 'coze',
            thirdPartyIntegration: { coze: { botId: BOTS.unpublished.id, spaceId: sandbox.spaceId, syncedAt: new Date().toISOString() } },
          })
          .where(eq(agents.id, created.id));
        agentOf.unpublished = created.id;
      }
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    const chat = (bot: string, content: string, { signal, ...extra }: Record<string, unknown> = {}, token = user.token) =>
      fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ agentId: agentOf[bot], messages: [{ role: 'user', content }], stream: true, ...extra }),
        signal: signal as AbortSignal | undefined,
      });
    const chatRequests = () => sandbox.requests.filter((r) => r.path === '/v3/chat');
    const cozeConversationOf = async (conversationId: string) => {
      const [row] = await p.database.db.select().from(conversations).where(eq(conversations.id, conversationId));
      return row!.providerConversationId!;
    };
    const messagesOf = async (conversationId: string) =>
      (await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: user.token })).json()).items;

    test('a Coze answer streams in the standard format, with follow-ups and usage, and is stored with Coze ids', async () => {
      const res = await chat('echo', 'Hello Coze');
      const conversationId = res.headers.get('x-conversation-id')!;
      const s = await readChatStream(res);
      assert.match(s.text, /^Turn 1: you said "Hello Coze"/);
      assert.ok(s.final.suggestions.length >= 1, 'follow-ups become suggestions');
      assert.ok(s.final.usage.total_tokens > 0);
      assert.ok(s.done);

      const sent = chatRequests().at(-1)!;
      const body = sent.body as any;
      assert.equal(body.bot_id, BOTS.echo.id);
      assert.equal(body.user_id, user.id, 'Coze user_id is the platform user id');
      assert.equal(body.stream, true);
      assert.deepEqual(
        body.additional_messages.map((m: any) => [m.role, m.content]),
        [['user', 'Hello Coze']],
      );
      assert.equal(sent.query.conversation_id, undefined, 'the first turn lets Coze issue the conversation');

      const [, answer] = await messagesOf(conversationId);
      assert.equal(answer.content, s.text);
      assert.deepEqual(answer.suggestions, s.final.suggestions);
      assert.deepEqual(answer.usage, s.final.usage);
      assert.match(await cozeConversationOf(conversationId), /^\d+$/, 'the Coze-issued conversation id is kept');
    });

    test('multi-turn: turn 2 reuses the Coze conversation, so Coze keeps the context', async () => {
      const first = await chat('echo', 'My name is Ada');
      const conversationId = first.headers.get('x-conversation-id')!;
      await readChatStream(first);
      const cozeConversation = await cozeConversationOf(conversationId);
      const second = await readChatStream(await chat('echo', 'What is my name?', { conversationId }));
      assert.match(second.text, /Turn 2: you said "What is my name\?" \(previous: "My name is Ada"\)/);
      assert.equal(chatRequests().at(-1)!.query.conversation_id, cozeConversation);
      assert.equal((chatRequests().at(-1)!.body as any).additional_messages.length, 1, 'only the new message is sent');
    });

    test('consecutive chats reach Coze over one kept-alive connection (no new connection, or TLS handshake, per chat)', async () => {
      await readChatStream(await chat('echo', 'One'));
      // The platform reads the rest of a completed chat's body in the background, then pools its connection.
      await eventually(async () => hasIdleConnection(p.coze!.agent, sandbox.cozeBaseUrl));
      await readChatStream(await chat('echo', 'Two'));
      const [one, two] = chatRequests().slice(-2);
      assert.equal(two!.clientPort, one!.clientPort);
    });

    test('two users never share a Coze conversation', async () => {
      const other = await p.newUser();
      const mine = await chat('echo', 'Mine');
      await readChatStream(mine);
      const theirs = await chat('echo', 'Theirs', {}, other.token);
      await readChatStream(theirs);
      assert.equal((chatRequests().at(-1)!.body as any).user_id, other.id);
      assert.notEqual(
        await cozeConversationOf(theirs.headers.get('x-conversation-id')!),
        await cozeConversationOf(mine.headers.get('x-conversation-id')!),
      );
    });

    test('a conversation Coze no longer knows is replaced by a fresh one, and the chat goes on', async () => {
      const first = await chat('echo', 'Before');
      const conversationId = first.headers.get('x-conversation-id')!;
      await readChatStream(first);
      await p.database.db
        .update(conversations)
        .set({ providerConversationId: '7999999999999999999' })
        .where(eq(conversations.id, conversationId));
      const s = await readChatStream(await chat('echo', 'After', { conversationId }));
      assert.match(s.text, /you said "After"/);
      const [forgotten, fresh] = chatRequests().slice(-2);
      assert.equal(forgotten!.query.conversation_id, '7999999999999999999');
      assert.equal(fresh!.query.conversation_id, undefined);
      const renewed = await cozeConversationOf(conversationId);
      assert.match(renewed, /^\d+$/);
      assert.notEqual(renewed, '7999999999999999999');
    });

    test('several answer messages in one chat are joined as paragraphs', async () => {
      const s = await readChatStream(await chat('multiAnswer', 'Two answers please'));
      const parts = s.text.split('\n\n');
      assert.ok(parts.length >= 2 && parts.every((part) => part.trim().length > 0), s.text);
    });

    test('the bot\'s internals (verbose, function calls, tool output, knowledge) never reach the user, but its tool steps show as "working"', async () => {
      const res = await chat('internals', 'Use your tools');
      const s = await readChatStream(res);
      assert.ok(s.text.length > 0);
      assert.ok(!s.raw.includes('INTERNAL'), 'nothing internal in the stream');
      // The answer says "Let me check the weather tool. ", runs the tool, goes on, then recalls knowledge.
      const kinds = s.chunks
        .filter((c) => c.activity === 'working' || c.choices?.[0]?.delta?.content)
        .map((c) => (c.activity === 'working' ? 'working' : 'text'));
      assert.deepEqual(
        kinds.filter((k, i) => k !== kinds[i - 1]),
        ['text', 'working', 'text', 'working', 'text'],
      );
      assert.ok(s.chunks.filter((c) => c.activity === 'working').every((c) => JSON.stringify(c.choices[0].delta) === '{}'));
      const [, answer] = await messagesOf(res.headers.get('x-conversation-id')!);
      assert.ok(!answer.content.includes('INTERNAL'));
    });

    test("an answer Coze sends as a card reads as a short note, never as the card's JSON", async () => {
      const res = await chat('card', 'Weather card, please');
      const s = await readChatStream(res);
      assert.equal(s.text, `Here is the forecast:\n\n${CARD_NOTE}`);
      assert.ok(!s.raw.includes('CARD_PAYLOAD'), 'no card JSON in the stream');
      const [, answer] = await messagesOf(res.headers.get('x-conversation-id')!);
      assert.equal(answer.content, s.text);
    });

    test('reasoning arrives as reasoning_content', async () => {
      const s = await readChatStream(await chat('reasoning', 'Think'));
      assert.ok(s.reasoning.length > 0);
      assert.ok(s.text.length > 0);
    });

    for (const [bot, why] of [
      ['failMidStream', 'chat.failed'],
      ['errorEvent', 'an error event'],
      ['dropConnection', 'a dropped connection'],
    ] as const) {
      test(`${why} after some text: the text is kept and a clear error ends the stream`, async () => {
        const res = await chat(bot, 'Go');
        const s = await readChatStream(res);
        assert.ok(s.text.length > 0, 'partial text streamed');
        assert.ok(s.error?.message, 'error chunk');
        assert.ok(!/undefined|\[object/.test(s.error.message));
        assert.ok(s.done);
        const [, answer] = await messagesOf(res.headers.get('x-conversation-id')!);
        assert.equal(answer.status, 'failed');
        assert.equal(answer.content, s.text);
        assert.equal(answer.error.message, s.error.message);
      });
    }

    test('a bot not published to the API (JSON 4015 before the stream) gets the mapped message', async () => {
      const s = await readChatStream(await chat('unpublished', 'Hi'));
      assert.equal(s.error.code, 'coze_4015');
      assert.match(s.error.message, /not published to the API channel/);
    });

    test('CJK and emoji split across tiny TCP writes arrive intact', async () => {
      const s = await readChatStream(await chat('splitBytes', 'Unicode'));
      assert.ok(s.text.includes('你好，世界 🌍🚀'), s.text);
      assert.ok(!s.text.includes('\uFFFD'), 'no replacement characters');
    });

    test('a client that disconnects: upstream closed, Coze cancel called with the chat id, answer canceled with its text', async () => {
      const controller = new AbortController();
      const res = await chat('slow', 'Take long', { signal: controller.signal });
      const conversationId = res.headers.get('x-conversation-id')!;
      await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
      controller.abort();
      const cancel = await sandbox.waitForRequest((r) => r.path === '/v3/chat/cancel');
      const answer = await eventually(async () => {
        const [, a] = await messagesOf(conversationId);
        return a.status !== 'streaming' && a;
      });
      assert.equal(answer.status, 'canceled');
      assert.ok(answer.content.length > 0);
      assert.equal((cancel.body as any).conversation_id, await cozeConversationOf(conversationId));
      assert.match((cancel.body as any).chat_id, /^\d+$/);
    });

    test('a second message while Coze is answering gets 409 and never reaches Coze', async () => {
      const res = await chat('slow', 'First');
      const conversationId = res.headers.get('x-conversation-id')!;
      const answering = await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
      const before = chatRequests().length;
      const second = await chat('slow', 'Second', { conversationId });
      assert.equal(second.status, 409);
      assert.equal(chatRequests().length, before);
      await p.api('POST', `/api/ai-agent/conversations/${conversationId}/stop`, { token: user.token });
      await answering.rest();
    });

    test("the agent's custom variables are sent with each chat", async () => {
      await p.api('PATCH', `/console/api/ai-agent/${agentOf.echo}`, { token: p.adminToken, body: { customVariables: { city: 'Paris' } } });
      const s = await readChatStream(await chat('echo', 'Where?'));
      assert.deepEqual((chatRequests().at(-1)!.body as any).custom_variables, { city: 'Paris' });
      assert.match(s.text, /\[vars: city=Paris\]/);
    });

    test('the official openai package streams from a Coze agent', async () => {
      const client = new OpenAI({ baseURL: `${p.url}/api/ai-agent`, apiKey: user.token });
      const stream = await client.chat.completions.create({
        model: agentOf.echo!,
        messages: [{ role: 'user', content: 'via SDK' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      assert.match(text, /you said "via SDK"/);
    });
  });
}

// About the relay, not the storage: one database is enough.
describe('a client that reads slowly', () => {
  test('holds the Coze stream back instead of buffering the answer, and still gets every byte of it', async () => {
    const DELTA = 'x'.repeat(16 * 1024);
    const DELTAS = 2048; // 32 MB: far more than the sockets on the way can hold
    const ids = { conversation_id: 'c1', bot_id: 'b1', chat_id: 'chat1' };
    const coze = await startLocalServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse('conversation.chat.created', { id: 'chat1', ...ids, status: 'created' }));
      for (let i = 0; i < DELTAS; i++) {
        const delta = { id: 'm1', ...ids, role: 'assistant', type: 'answer', content: DELTA, content_type: 'text' };
        if (!res.write(sse('conversation.message.delta', delta))) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end(sse('conversation.chat.completed', { id: 'chat1', ...ids, status: 'completed' }) + 'event:done\ndata:"[DONE]"\n\n');
    });
    const p = await startTestPlatform(databaseTargets()[0]!, {
      COZE_API_BASE: coze.url,
      COZE_API_TOKEN: 'pat_test',
      COZE_SPACE_ID: 'space-1',
      MAX_ANSWER_BYTES: String(64 * 1024 * 1024),
    });
    let res: Response | undefined;
    try {
      const created = await (
        await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Flood', model: 'coze-proxy' } })
      ).json();
      await p.database.db
        .update(agents)
        .set({ provider: 'coze', thirdPartyIntegration: { coze: { botId: 'b1', spaceId: 'space-1', syncedAt: new Date().toISOString() } } })
        .where(eq(agents.id, created.id));
      const user = await p.newUser();
      res = await p.api('POST', '/api/ai-agent/chat/completions', {
        token: user.token,
        body: { agentId: created.id, messages: [{ role: 'user', content: 'Flood me' }], stream: true },
      });
      assert.equal(res.status, 200);
      // The client reads nothing: once the sockets on the way are full, the platform stops reading Coze.
      const upstream = () => Object.values(p.coze!.agent.sockets).flat()[0];
      await eventually(async () => upstream()?.isPaused());
      const s = await readChatStream(res);
      assert.equal(s.text.length, DELTAS * DELTA.length);
      assert.equal(s.final.status, 'completed');
    } finally {
      if (!res?.bodyUsed) await res?.body?.cancel(); // a failed check must not leave the platform waiting on this client
      await p.close();
      await coze.close();
    }
  });
});
