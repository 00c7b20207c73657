// Replacing a turn (replaceFrom): an edited user message, the same message answered again, a retry
// after an error. The later turns go, for the platform and for the upstream.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { BOTS, startSandbox, type Sandbox } from '@agentport/sandbox';
import { conversations, messages } from '../src/db/schema.js';
import { databaseTargets, describeOn, readChatStream, readUntil, startTestPlatform, type TestPlatform } from './support.js';

for (const target of databaseTargets()) {
  describeOn(target, 'replacing a turn (edit, regenerate, retry)', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let user: { token: string; id: string };
    let nativeAgent: string;
    let cozeAgent: string;

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, {
        OPENAI_BASE_URL: sandbox.openaiBaseUrl,
        OPENAI_API_KEY: 'sk-sandbox',
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
      });
      const native = await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Native', model: 'sandbox-chat' } });
      nativeAgent = (await native.json()).id;
      const coze = await p.api('POST', '/console/api/ai-agent/import/coze', { token: p.adminToken, body: { cozeBotId: BOTS.echo.id } });
      cozeAgent = (await coze.json()).agent.id;
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    const chat = (agentId: string, content: string, extra: Record<string, unknown> = {}, token = user.token) =>
      fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ agentId, messages: [{ role: 'user', content }], stream: true, ...extra }),
      });
    const messagesOf = async (conversationId: string) =>
      (await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: user.token })).json()).items as any[];
    /** A conversation of `turns` answered turns; returns its id. */
    const conversationWith = async (agentId: string, turns: string[]) => {
      let conversationId: string | undefined;
      for (const content of turns) {
        const res = await chat(agentId, content, conversationId ? { conversationId } : {});
        conversationId = res.headers.get('x-conversation-id')!;
        assert.equal((await readChatStream(res)).final?.status, 'completed');
      }
      return conversationId!;
    };
    const userMessage = async (conversationId: string, content: string) =>
      (await messagesOf(conversationId)).find((m) => m.role === 'user' && m.content === content)!.id as string;
    const modelRequests = () => sandbox.requests.filter((r) => r.path === '/openai/v1/chat/completions');
    const cozeChats = () => sandbox.requests.filter((r) => r.path === '/v3/chat');
    const cozeConversationOf = async (conversationId: string) =>
      (await p.database.db.select().from(conversations).where(eq(conversations.id, conversationId)))[0]!.providerConversationId;

    test('the stream and the JSON answer name the stored user message', async () => {
      const res = await chat(nativeAgent, 'Which id?');
      const s = await readChatStream(res);
      const stored = await messagesOf(res.headers.get('x-conversation-id')!);
      assert.equal(s.chunks[0].user_message_id, stored[0].id);
      assert.ok(
        s.chunks.slice(1).every((c) => c.user_message_id === undefined),
        'on the first chunk only',
      );

      const json = await (await chat(nativeAgent, 'And here?', { stream: false })).json();
      assert.equal(json.user_message_id, (await messagesOf(json.conversation_id))[0].id);
    });

    test('an edited message replaces itself and every later turn; the model sees only the kept turns', async () => {
      const conversationId = await conversationWith(nativeAgent, ['One', 'Two', 'Three']);
      const res = await chat(nativeAgent, 'Deux', { conversationId, replaceFrom: await userMessage(conversationId, 'Two') });
      assert.equal(res.status, 200);
      const s = await readChatStream(res);
      assert.equal(s.text, 'Hello from the sandbox model. You said: "Deux". This is turn 2.');
      const sent = (modelRequests().at(-1)!.body as any).messages.map((m: any) => [m.role, m.content]);
      assert.deepEqual(sent, [
        ['user', 'One'],
        ['assistant', 'Hello from the sandbox model. You said: "One". This is turn 1.'],
        ['user', 'Deux'],
      ]);
      const stored = await messagesOf(conversationId);
      assert.deepEqual(
        stored.map((m) => [m.role, m.content, m.status]),
        [
          ['user', 'One', 'completed'],
          ['assistant', 'Hello from the sandbox model. You said: "One". This is turn 1.', 'completed'],
          ['user', 'Deux', 'completed'],
          ['assistant', s.text, 'completed'],
        ],
      );
      assert.equal(s.chunks[0].user_message_id, stored[2].id);
      assert.equal(s.final.message_id, stored[3].id);
      // The conversation goes on from the edit.
      const next = await readChatStream(await chat(nativeAgent, 'Trois', { conversationId }));
      assert.equal(next.text, 'Hello from the sandbox model. You said: "Trois". This is turn 3.');
    });

    test('the last answer answered again (regenerate) keeps the question and replaces the answer', async () => {
      const conversationId = await conversationWith(nativeAgent, ['First', 'Second']);
      const before = await messagesOf(conversationId);
      const s = await readChatStream(await chat(nativeAgent, 'Second', { conversationId, replaceFrom: before[2].id }));
      assert.equal(s.text, 'Hello from the sandbox model. You said: "Second". This is turn 2.');
      const stored = await messagesOf(conversationId);
      assert.deepEqual(
        stored.map((m) => [m.role, m.content]),
        before.map((m) => [m.role, m.content]),
      );
      assert.notEqual(stored[3].id, before[3].id, 'a new answer');
    });

    test('a retry after an error replaces the failed answer', async () => {
      const first = await chat(nativeAgent, 'Shaky [flaky]');
      const conversationId = first.headers.get('x-conversation-id')!;
      const failed = await readChatStream(first);
      assert.equal(failed.error?.code, 'upstream_incomplete');
      const questionId = failed.chunks[0].user_message_id;
      const retried = await readChatStream(await chat(nativeAgent, 'Shaky [flaky]', { conversationId, replaceFrom: questionId }));
      assert.equal(retried.final.status, 'completed');
      assert.deepEqual(
        (await messagesOf(conversationId)).map((m) => [m.role, m.status]),
        [
          ['user', 'completed'],
          ['assistant', 'completed'],
        ],
      );
    });

    test('editing the first message renames the conversation, unless the user named it', async () => {
      const conversationId = await conversationWith(nativeAgent, ['Old title', 'More']);
      await readChatStream(
        await chat(nativeAgent, 'New title', { conversationId, replaceFrom: await userMessage(conversationId, 'Old title') }),
      );
      const list = await (await p.api('GET', `/api/ai-agent/conversations?agentId=${nativeAgent}`, { token: user.token })).json();
      assert.equal(list.items.find((c: any) => c.id === conversationId).title, 'New title');
      assert.equal((await messagesOf(conversationId)).length, 2);
      // An edit further down keeps the title.
      const other = await conversationWith(nativeAgent, ['Kept title', 'Later']);
      await readChatStream(
        await chat(nativeAgent, 'Later, edited', { conversationId: other, replaceFrom: await userMessage(other, 'Later') }),
      );
      const again = await (await p.api('GET', `/api/ai-agent/conversations?agentId=${nativeAgent}`, { token: user.token })).json();
      assert.equal(again.items.find((c: any) => c.id === other).title, 'Kept title');
      // So does an edit of the first message of a conversation the user named.
      const named = await conversationWith(nativeAgent, ['Untitled start']);
      await p.api('PATCH', `/api/ai-agent/conversations/${named}`, { token: user.token, body: { title: 'My name for it' } });
      await readChatStream(
        await chat(nativeAgent, 'Edited start', { conversationId: named, replaceFrom: await userMessage(named, 'Untitled start') }),
      );
      const renamed = await (await p.api('GET', `/api/ai-agent/conversations/${named}`, { token: user.token })).json();
      assert.equal(renamed.title, 'My name for it');
    });

    test('refusals: an unknown message, an answer, no conversation, a running answer, someone else’s conversation', async () => {
      const conversationId = await conversationWith(nativeAgent, ['Keep me']);
      const [question, answer] = await messagesOf(conversationId);
      const expectError = async (res: Response, status: number, code: string) => {
        assert.equal(res.status, status);
        assert.equal((await res.json()).code, code);
      };
      await expectError(await chat(nativeAgent, 'x', { conversationId, replaceFrom: randomUUID() }), 404, 'not_found');
      await expectError(await chat(nativeAgent, 'x', { conversationId, replaceFrom: answer.id }), 400, 'not_a_user_message');
      await expectError(await chat(nativeAgent, 'x', { replaceFrom: question.id }), 400, 'missing_conversation');
      const elsewhere = await conversationWith(nativeAgent, ['Elsewhere']);
      await expectError(await chat(nativeAgent, 'x', { conversationId: elsewhere, replaceFrom: question.id }), 404, 'not_found');
      const stranger = await p.newUser();
      await expectError(await chat(nativeAgent, 'x', { conversationId, replaceFrom: question.id }, stranger.token), 404, 'not_found');

      const slow = await chat(nativeAgent, 'Take your time [slow]', { conversationId });
      const streaming = await readUntil(slow, (c) => c.choices?.[0]?.delta?.content);
      await expectError(await chat(nativeAgent, 'x', { conversationId, replaceFrom: question.id }), 409, 'conversation_busy');
      await streaming.rest();
      // Nothing was deleted by the refusals.
      assert.deepEqual((await messagesOf(conversationId)).map((m) => m.content).slice(0, 2), [question.content, answer.content]);
      assert.equal((await messagesOf(conversationId)).length, 4);
    });

    test('Coze: an edit starts a fresh Coze conversation that carries the kept turns, and the chat goes on there', async () => {
      const conversationId = await conversationWith(cozeAgent, ['One', 'Two', 'Three']);
      const oldCoze = await cozeConversationOf(conversationId);
      const res = await chat(cozeAgent, 'Deux', { conversationId, replaceFrom: await userMessage(conversationId, 'Two') });
      const s = await readChatStream(res);
      // The echo bot counts the user messages it sees: the kept one and the edit.
      assert.equal(s.text, 'Turn 2: you said "Deux" (previous: "One")');
      const sent = cozeChats().at(-1)!;
      assert.equal(sent.query.conversation_id, undefined, 'a fresh Coze conversation');
      assert.deepEqual(
        (sent.body as any).additional_messages.map((m: any) => [m.role, m.type, m.content, m.content_type]),
        [
          ['user', 'question', 'One', 'text'],
          ['assistant', 'answer', 'Turn 1: you said "One"', 'text'],
          ['user', 'question', 'Deux', 'text'],
        ],
      );
      const newCoze = await cozeConversationOf(conversationId);
      assert.match(newCoze!, /^\d+$/);
      assert.notEqual(newCoze, oldCoze);

      // The next turn goes to the new Coze conversation, with only its own message.
      const next = await readChatStream(await chat(cozeAgent, 'Trois', { conversationId }));
      assert.equal(next.text, 'Turn 3: you said "Trois" (previous: "Deux")');
      const nextSent = cozeChats().at(-1)!;
      assert.equal(nextSent.query.conversation_id, newCoze);
      assert.equal((nextSent.body as any).additional_messages.length, 1);
    });

    test('Coze: a long thread hands over only the newest 99 messages beside the new one (Coze takes 100)', async () => {
      const conversationId = await conversationWith(cozeAgent, ['Start']);
      const rows = Array.from({ length: 120 }, (_, i) => ({
        conversationId,
        role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
        content: `Message ${i}`,
      }));
      await p.database.db.insert(messages).values(rows);
      const last = (await messagesOf(conversationId)).at(-2)!; // 'Message 118', the last user message
      assert.equal(last.content, 'Message 118');
      const s = await readChatStream(await chat(cozeAgent, 'Message 118, again', { conversationId, replaceFrom: last.id }));
      assert.equal(s.final.status, 'completed');
      const sent = (cozeChats().at(-1)!.body as any).additional_messages as any[];
      assert.equal(sent.length, 100);
      assert.equal(sent[0].content, 'Message 19');
      assert.equal(sent.at(-2).content, 'Message 117');
      assert.equal(sent.at(-1).content, 'Message 118, again');
    });
  });
}
