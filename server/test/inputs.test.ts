// Bad input is the client's 400 with a clear message, and the log keeps no secret and no chat text.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { users } from '../src/db/schema.js';
import { ADMIN, databaseTargets, describeOn, readChatStream, startTestPlatform, type TestPlatform } from './support.js';

/** An OpenAI-compatible model that fails the way the message asks, or answers it. */
function startModel(): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (body.includes('[leak]')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'invalid key sk-secret-123 at internal-host:8080', type: 'server_error' } }));
        return;
      }
      const text = body.includes('[nul]') ? 'before\u0000after' : 'Fine.';
      const chunk = (delta: object, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk({ role: 'assistant', content: text })}${chunk({}, 'stop')}data: [DONE]\n\n`);
    });
  });
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => server);
}

for (const target of databaseTargets()) {
  describeOn(target, 'bad input and the log', () => {
    let model: Server;
    let p: TestPlatform;
    let agentId: string;
    let user: { token: string; id: string };
    const logLines: string[] = [];
    const log = () => logLines.join('');

    before(async () => {
      model = await startModel();
      p = await startTestPlatform(
        target,
        {
          OPENAI_BASE_URL: `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`,
          OPENAI_API_KEY: 'sk-secret-123',
          LOG_LEVEL: 'info',
        },
        {
          logger: {
            write: (line: string) => {
              logLines.push(line);
            },
          },
        },
      );
      agentId = (await (await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Native', model: 'm' } })).json())
        .id;
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
      model.close();
    });

    const chat = (body: Record<string, unknown>) =>
      p.api('POST', '/api/ai-agent/chat/completions', { token: user.token, body: { agentId, ...body } });
    const say = (content: unknown, extra: Record<string, unknown> = {}) =>
      chat({ messages: [{ role: 'user', content }], stream: true, ...extra });
    const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { message: string; code: string }) });

    test('text the database cannot store (NUL, lone surrogates) is a 400 naming the field, and the text stays out of the log', async () => {
      const marker = 'private words 7f3a';
      const nulChat = await errorOf(await say(`${marker}\u0000`));
      assert.equal(nulChat.status, 400);
      assert.equal(nulChat.code, 'validation_error');
      assert.match(nulChat.message, /body\/messages\/0\/content contains a NUL character/);

      const nulName = await errorOf(
        await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: `${marker}\u0000`, model: 'm' } }),
      );
      assert.equal(nulName.status, 400);
      assert.match(nulName.message, /body\/name contains a NUL character/);

      const surrogate = await errorOf(
        await p.api('PATCH', `/console/api/ai-agent/${agentId}`, { token: p.adminToken, body: { description: `${marker}\ud800` } }),
      );
      assert.equal(surrogate.status, 400);
      assert.match(surrogate.message, /body\/description contains a lone UTF-16 surrogate/);
      const agent = await (await p.api('GET', `/console/api/ai-agent/${agentId}`, { token: p.adminToken })).json();
      assert.equal(agent.description, '', 'nothing was stored');
      const pair = await p.api('PATCH', `/console/api/ai-agent/${agentId}`, { token: p.adminToken, body: { openingStatement: 'Hi 😀' } });
      assert.equal((await pair.json()).openingStatement, 'Hi 😀', 'a surrogate pair is a character like any other');
      const conversations = await (await p.api('GET', '/api/ai-agent/conversations', { token: user.token })).json();
      assert.equal(conversations.items.length, 0, 'no conversation was started');

      assert.match(log(), /"statusCode":400/, 'the log was captured');
      assert.ok(!log().includes(marker));
    });

    test('a body nested deeper than any request is a 400, however deep', async () => {
      for (const depth of [100, 200_000]) {
        const body = `{"agentId":"${agentId}","messages":[{"role":"user","content":"Hi"}],"tools":${'['.repeat(depth)}${']'.repeat(depth)}}`;
        const res = await errorOf(
          await fetch(`${p.url}/api/ai-agent/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
            body,
          }),
        );
        assert.equal(res.status, 400, `depth ${depth}`);
        assert.match(res.message, /is nested more than 64 levels deep/);
      }
    });

    test('a body field the route does not know is refused, and changes nothing', async () => {
      for (const body of [
        { id: '00000000-0000-0000-0000-000000000000' },
        { provider: 'coze' },
        { thirdPartyIntegration: { coze: { botId: '1' } } },
        { createdAt: 'yesterday' },
      ]) {
        const res = await errorOf(await p.api('PATCH', `/console/api/ai-agent/${agentId}`, { token: p.adminToken, body }));
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.message, `Invalid request: body has an unknown property "${Object.keys(body)[0]}"`);
      }
      const agent = await (await p.api('GET', `/console/api/ai-agent/${agentId}`, { token: p.adminToken })).json();
      assert.equal(agent.id, agentId);
      assert.equal(agent.provider, 'native');

      const created = await p.api('POST', '/console/api/ai-agent', {
        token: p.adminToken,
        body: { name: 'X', model: 'm', provider: 'coze' },
      });
      assert.equal(created.status, 400);
      const registered = await p.api('POST', '/api/auth/register', {
        body: { email: 'mallory@example.com', password: 'long-enough-1', role: 'admin' },
      });
      assert.equal(registered.status, 400);
      assert.match((await registered.json()).message, /unknown property "role"/);
      const nested = await errorOf(await say('Hi', { messages: [{ role: 'user', content: 'Hi', mood: 'curious' }] }));
      assert.equal(nested.status, 400);
      assert.match(nested.message, /body\/messages\/0 has an unknown property "mood"/);
    });

    test('a body is taken as typed, not coerced; a querystring is coerced from text', async () => {
      const numberAsText = await errorOf(await say(12345));
      assert.equal(numberAsText.status, 400);
      assert.match(numberAsText.message, /body\/messages\/0\/content must be string/);
      for (const body of [{ published: 'true' }, { name: 12345 }, { openingQuestions: 'one' }]) {
        const res = await p.api('PATCH', `/console/api/ai-agent/${agentId}`, { token: p.adminToken, body });
        assert.equal(res.status, 400, JSON.stringify(body));
      }
      // Coze is not configured here: 503 means the query passed validation, page=2 read as a number.
      assert.equal((await p.api('GET', '/console/api/ai-agent/coze/list?page=2&pageSize=5', { token: p.adminToken })).status, 503);
      assert.equal((await p.api('GET', '/console/api/ai-agent/coze/list?page=two', { token: p.adminToken })).status, 400);
    });

    test("OpenAI's own chat-completion fields are accepted and ignored; any other is refused", async () => {
      const res = await chat({
        model: agentId,
        messages: [
          { role: 'system', content: 'ignored', name: 'setup' },
          // An earlier message's parts are not read (only the last message is new).
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Earlier' },
              { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
            ],
          },
          { role: 'user', content: [{ type: 'text', text: 'Look' }] },
        ],
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0.2,
        top_p: 1,
        n: 1,
        max_tokens: 100,
        user: 'end-user-1',
        seed: 7,
      });
      assert.equal(res.status, 200);
      assert.equal((await readChatStream(res)).text, 'Fine.');
      const unknown = await errorOf(await say('Hi', { temperture: 0.2 }));
      assert.equal(unknown.status, 400);
      assert.equal(unknown.message, 'Invalid request: body has an unknown property "temperture"');
    });

    test("an upstream's error text reaches neither the user nor the log as it is: the user gets a mapped message, the log a redacted one", async () => {
      const streamed = await readChatStream(await say('Fail [leak]'));
      assert.match(streamed.error.message, /model endpoint answered 500/);
      const plain = await say('Fail again [leak]', { stream: false });
      assert.equal(plain.status, 502);
      const plainBody = await plain.text();
      for (const shown of [streamed.raw, plainBody]) {
        assert.ok(!shown.includes('sk-secret-123') && !shown.includes('internal-host'), shown);
      }
      assert.ok(!log().includes('sk-secret-123'));
      assert.match(log(), /invalid key \[redacted\] at internal-host:8080/, 'the log says what the upstream said, redacted');
    });

    test('a database error is logged by SQLSTATE code, constraint and table, never by the values of its query', async () => {
      const error = await p.database.db
        .insert(users)
        .values({ email: ADMIN.email, passwordHash: '$argon2id$stored-hash-9d1c', name: 'Twin', role: 'user' })
        .then(
          () => null,
          (err: unknown) => err,
        );
      assert.ok(error, 'the insert failed on the unique email');
      p.app.log.error({ err: error }, 'could not store the user');
      const line = logLines.find((l) => l.includes('could not store the user'))!;
      assert.ok(line);
      const logged = JSON.parse(line).err;
      assert.equal(logged.cause.code, '23505');
      assert.equal(logged.cause.constraint, 'users_email_unique');
      assert.equal(logged.cause.table, 'users');
      for (const value of ['stored-hash-9d1c', ADMIN.email, 'Twin', 'insert into']) assert.ok(!line.includes(value), value);
    });

    test("a NUL in the model's answer is dropped, and the answer is saved", async () => {
      const res = await say('Say it [nul]');
      const streamed = await readChatStream(res);
      assert.equal(streamed.text, 'beforeafter');
      assert.equal(streamed.final.status, 'completed');
      const stored = await (
        await p.api('GET', `/api/ai-agent/conversations/${res.headers.get('x-conversation-id')}/messages`, { token: user.token })
      ).json();
      assert.deepEqual(
        stored.items.map((m: { status: string; content: string }) => [m.status, m.content]),
        [
          ['completed', 'Say it [nul]'],
          ['completed', 'beforeafter'],
        ],
      );
    });
  });
}
