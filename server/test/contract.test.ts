// The API's one contract: every route sends exactly what its response schema declares (the web app's
// types are those schemas), and every error, whichever path answers it, has the one ErrorResponse shape.
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ConsoleAgent, PublicAgentList } from '../src/agents/schemas.js';
import { AuthResponse } from '../src/auth/schemas.js';
import type { ChatProvider } from '../src/chat/providers/types.js';
import { ChatCompletion, CompletionChunk, CompletionStreamError, ConversationList, MessageList } from '../src/chat/schemas.js';
import { errorBody, installErrorHandler } from '../src/http/errors.js';
import { installResponseCheck } from '../src/http/response-check.js';
import { ErrorResponse, errorResponses } from '../src/http/schemas.js';
import { assertMatches, databaseTargets, describeOn, readChatStream, startTestPlatform, type TestPlatform } from './support.js';

/** An agent that reasons, works unseen, answers, suggests and counts; or fails when asked to. */
const scripted: ChatProvider = {
  async answer({ message }, emit) {
    if (message.includes('[fail]')) {
      await emit({ type: 'text-delta', text: 'Half an ans' });
      await emit({ type: 'error', error: { message: 'The model endpoint answered 500: it failed.', code: 'upstream_error' } });
      return;
    }
    await emit({ type: 'reasoning-delta', text: 'Thinking it over.' });
    await emit({ type: 'working' });
    await emit({ type: 'text-delta', text: 'Hello, ' });
    await emit({ type: 'text-delta', text: 'you.' });
    await emit({ type: 'suggestion', text: 'And then?' });
    await emit({ type: 'usage', usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });
  },
};

describe('a response schema and its check', () => {
  const Pair = Type.Object({ kept: Type.String() });
  async function appSending(body: unknown, check: boolean): Promise<FastifyInstance> {
    const app = Fastify();
    installErrorHandler(app);
    if (check) installResponseCheck(app);
    app.get('/api/pair', { schema: { response: { 200: Pair, ...errorResponses } } }, async () => body);
    await app.ready();
    return app;
  }

  test('the serialiser drops a field the schema does not declare, without a word', async () => {
    const app = await appSending({ kept: 'yes', forgotten: 'the web reads this' }, false);
    const res = await app.inject({ method: 'GET', url: '/api/pair' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { kept: 'yes' });
    await app.close();
  });

  test('the check turns that body into a failure naming the field', async () => {
    const app = await appSending({ kept: 'yes', forgotten: 'the web reads this' }, true);
    const res = await app.inject({ method: 'GET', url: '/api/pair' });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().code, 'response_not_declared');
    assert.match(
      res.json().message,
      /GET \/api\/pair sent a 200 that is not what its schema declares: body must NOT have additional properties/,
    );
    const fine = await appSending({ kept: 'yes' }, true);
    assert.equal((await fine.inject({ method: 'GET', url: '/api/pair' })).statusCode, 200);
    await Promise.all([app.close(), fine.close()]);
  });

  test('the check refuses an API route that declares no responses, or no errors', async () => {
    for (const response of [undefined, { 200: Pair }]) {
      const app = Fastify();
      installResponseCheck(app);
      assert.throws(
        () => app.get('/api/undeclared', { schema: response && { response } }, async () => ({ kept: 'yes' })),
        /GET \/api\/undeclared must declare its response schemas, 4xx and 5xx included/,
      );
      await app.close();
    }
  });
});

for (const target of databaseTargets()) {
  describeOn(target, 'the API contract', () => {
    let p: TestPlatform;
    let agentId: string;
    let user: { token: string; id: string };

    before(async () => {
      p = await startTestPlatform(target, {}, { providers: { native: scripted } });
      const created = await p.api('POST', '/console/api/ai-agent', {
        token: p.adminToken,
        body: { name: 'Scripted', model: 'scripted', openingStatement: 'Hi.', openingQuestions: ['What now?'] },
      });
      assert.equal(created.status, 201);
      agentId = (await created.json()).id;
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
    });

    const chat = (content: string, extra: Record<string, unknown> = {}) =>
      p.api('POST', '/api/ai-agent/chat/completions', {
        token: user.token,
        body: { agentId, messages: [{ role: 'user', content }], ...extra },
      });
    const json = async (res: Response, status: number) => {
      assert.equal(res.status, status, await res.clone().text());
      return res.json();
    };

    test('what the web reads arrives whole: every field its schema declares, through nested unions and maps', async () => {
      const login = await json(
        await p.api('POST', '/api/auth/login', { body: { email: 'admin@example.com', password: 'admin-password-1' } }),
        200,
      );
      assertMatches(AuthResponse, login);
      assert.equal(login.user.role, 'admin');

      const list = await json(await p.api('GET', '/api/ai-agent', { token: user.token }), 200);
      assertMatches(PublicAgentList, list);
      assert.deepEqual(
        list.items.find((a: { id: string }) => a.id === agentId),
        {
          id: agentId,
          name: 'Scripted',
          description: '',
          avatar: null,
          openingStatement: 'Hi.',
          openingQuestions: ['What now?'],
        },
      );

      const streamed = await readChatStream(await chat('Hello [stream]', { stream: true }));
      assert.equal(streamed.text, 'Hello, you.');
      assert.equal(streamed.reasoning, 'Thinking it over.');
      assert.ok(streamed.chunks.some((c) => c.activity === 'working'));
      assert.deepEqual(
        { usage: streamed.final.usage, suggestions: streamed.final.suggestions, status: streamed.final.status },
        { usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 }, suggestions: ['And then?'], status: 'completed' },
      );
      for (const chunk of streamed.chunks) assertMatches(CompletionChunk, chunk, 'chunk');

      const completion = await json(await chat('Hello [plain]', { stream: false }), 200);
      assertMatches(ChatCompletion, completion);
      assert.deepEqual(completion.choices[0].message, {
        role: 'assistant',
        content: 'Hello, you.',
        reasoning_content: 'Thinking it over.',
      });
      assert.deepEqual(completion.suggestions, ['And then?']);

      const conversations = await json(await p.api('GET', `/api/ai-agent/conversations?agentId=${agentId}`, { token: user.token }), 200);
      assertMatches(ConversationList, conversations);
      const conversation = conversations.items.find((c: { id: string }) => c.id === completion.conversation_id);
      assert.deepEqual({ title: conversation.title, answering: conversation.answering }, { title: 'Hello [plain]', answering: false });

      const stored = await json(
        await p.api('GET', `/api/ai-agent/conversations/${completion.conversation_id}/messages`, { token: user.token }),
        200,
      );
      assertMatches(MessageList, stored);
      const [question, answer] = stored.items;
      assert.deepEqual([question.role, question.content], ['user', 'Hello [plain]']);
      assert.deepEqual(
        {
          id: answer.id,
          content: answer.content,
          reasoningContent: answer.reasoningContent,
          usage: answer.usage,
          suggestions: answer.suggestions,
          error: answer.error,
        },
        {
          id: completion.message_id,
          content: 'Hello, you.',
          reasoningContent: 'Thinking it over.',
          usage: completion.usage,
          suggestions: ['And then?'],
          error: null,
        },
      );

      const edited = await json(
        await p.api('PATCH', `/console/api/ai-agent/${agentId}`, { token: p.adminToken, body: { description: 'Says hello.' } }),
        200,
      );
      assertMatches(ConsoleAgent, edited);
      assert.deepEqual(
        {
          provider: edited.provider,
          model: edited.model,
          published: edited.published,
          thirdPartyIntegration: edited.thirdPartyIntegration,
        },
        { provider: 'native', model: 'scripted', published: true, thirdPartyIntegration: null },
      );
    });

    test('a failed non-streamed answer is a 502 in the one error shape, naming where the failed answer is stored', async () => {
      const res = await chat('Try this [fail]', { stream: false });
      const body = await json(res, 502);
      assertMatches(ErrorResponse, body);
      const conversationId = res.headers.get('x-conversation-id');
      assert.ok(conversationId);
      assert.deepEqual(body, {
        statusCode: 502,
        error: 'Bad Gateway',
        message: 'The model endpoint answered 500: it failed.',
        code: 'upstream_error',
        conversationId,
        messageId: body.messageId,
      });
      const stored = await json(await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: user.token }), 200);
      const answer = stored.items.at(-1);
      assert.deepEqual(
        { id: answer.id, status: answer.status, content: answer.content, error: answer.error },
        {
          id: body.messageId,
          status: 'failed',
          content: 'Half an ans',
          error: { message: body.message, type: 'upstream_error', code: 'upstream_error' },
        },
      );

      const streamed = await readChatStream(await chat('Try again [fail]', { stream: true }));
      assertMatches(CompletionStreamError, streamed.chunks.at(-1), 'event');
      assert.equal(streamed.error.message, body.message);
    });

    test('a missing upload is a 404 in the one error shape', async () => {
      for (const path of [`/uploads/avatars/${randomUUID()}.png`, '/uploads/not-a-key', '/uploads/avatars/..%2F..%2Fetc%2Fpasswd']) {
        const body = await json(await fetch(p.url + path), 404);
        assert.deepEqual(body, { statusCode: 404, error: 'Not Found', message: 'No such file', code: 'not_found' }, path);
      }
    });

    test('every other error path answers the same shape, with its status repeated and named', async () => {
      const responses: Array<[string, Response]> = [
        ['validation', await p.api('POST', '/api/auth/login', { body: { email: 'admin@example.com' } })],
        [
          'unknown field',
          await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'X', model: 'm', provider: 'coze' } }),
        ],
        [
          'malformed JSON',
          await fetch(`${p.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' }),
        ],
        [
          'wrong media type',
          await fetch(`${p.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<hi/>' }),
        ],
        ['too large', await p.api('POST', '/api/auth/login', { body: { email: 'a@example.com', password: 'x'.repeat(2 * 1024 * 1024) } })],
        ['wrong password', await p.api('POST', '/api/auth/login', { body: { email: 'admin@example.com', password: 'wrong-password' } })],
        ['no token', await p.api('GET', '/api/ai-agent')],
        ['not an admin', await p.api('GET', '/console/api/ai-agent', { token: user.token })],
        ['unknown agent', await p.api('GET', `/api/ai-agent/${randomUUID()}`, { token: user.token })],
        ['unknown route', await p.api('GET', '/api/nothing-here', { token: user.token })],
        ['taken email', await p.api('POST', '/api/auth/register', { body: { email: 'admin@example.com', password: 'long-enough-1' } })],
        ['coze not configured', await p.api('GET', '/console/api/ai-agent/coze/list', { token: p.adminToken })],
        [
          'chat: no agent',
          await p.api('POST', '/api/ai-agent/chat/completions', {
            token: user.token,
            body: { messages: [{ role: 'user', content: 'Hi' }] },
          }),
        ],
      ];
      const statuses = [];
      for (const [what, res] of responses) {
        const body = await res.json();
        assertMatches(ErrorResponse, body, what);
        assert.equal(body.statusCode, res.status, what);
        assert.equal(body.error, STATUS_CODES[res.status], what);
        assert.ok(body.message, what);
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [400, 400, 400, 415, 413, 401, 401, 403, 404, 404, 409, 503, 400]);
      // The one shape, built in one place.
      assert.deepEqual(errorBody(409, 'Taken', 'conflict', { agentId: 'a' }), {
        statusCode: 409,
        error: 'Conflict',
        message: 'Taken',
        code: 'conflict',
        agentId: 'a',
      });
    });
  });
}
