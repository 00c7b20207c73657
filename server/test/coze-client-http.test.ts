// The Coze client over real HTTP against small local servers that misbehave on purpose: error
// bodies, HTTP errors, retries, time-outs, aborts, OAuth JWT, icons.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { CozeClient, SPARE_CONNECTIONS } from '../src/coze/openapi/client.js';
import { CozeApiError, CozeTransportCode, isAbortError } from '../src/coze/openapi/errors.js';
import { MAX_REDIRECTS, OutboundError } from '../src/http/outbound.js';
import { poolWithSpares } from '../src/http/spare-connection.js';
import {
  SECRET_TOKEN,
  collect,
  hasIdleConnection,
  rejectsWith,
  sendJson,
  sse,
  startLocalServer,
  testConfig,
  type LocalServer,
} from './coze-client-support.js';
import { eventually } from './support.js';

const chatData = (status: string) => ({ id: 'c1', conversation_id: '7001', bot_id: 'b1', status });
/** The end of a successful chat stream: chat.completed, then done. */
const CHAT_COMPLETED = `${sse('conversation.chat.completed', chatData('completed'))}event:done\ndata:"[DONE]"\n\n`;
/** A self-signed certificate for 127.0.0.1, for the HTTPS tests only; clients trust it through their agent. */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const TLS = { key: fixture('tls-test-key.pem'), cert: fixture('tls-test-cert.pem') };

function recordingLogger() {
  const lines: { obj: object; msg?: string }[] = [];
  return { lines, warn: (obj: object, msg?: string) => void lines.push({ obj, msg }) };
}

describe('Coze client: errors and transport', () => {
  test('a JSON body on /v3/chat (even HTTP 200) throws its code, msg and header logid; the token never shows', async () => {
    const server = await startLocalServer((req, res) =>
      sendJson(
        res,
        200,
        { code: 4100, msg: `authentication is invalid: ${SECRET_TOKEN}`, detail: { logid: 'BODY-LOG' } },
        { 'x-tt-logid': 'HDR-LOG' },
      ),
    );
    try {
      const client = new CozeClient(testConfig(server.url));
      const err = await rejectsWith<CozeApiError>(
        collect((on) => client.streamChat({ botId: 'b1', userId: 'u1', message: 'hi' }, on)),
        (e) => {
          assert.ok(e instanceof CozeApiError);
          assert.equal(e.code, 4100);
          assert.equal(e.httpStatus, 200);
          assert.equal(e.logId, 'HDR-LOG');
          assert.match(e.userMessage, /COZE_API_TOKEN/);
        },
      );
      for (const text of [err.message, err.cozeMsg, err.userMessage, JSON.stringify(err), String(err.stack)]) {
        assert.ok(!text.includes(SECRET_TOKEN), 'token leaked');
      }
      assert.equal(server.requests.length, 1, 'a chat is never retried');
    } finally {
      await server.close();
    }
  });

  test('the body logid is used when the header is missing', async () => {
    const server = await startLocalServer((req, res) => sendJson(res, 400, { code: 4000, msg: 'bad', detail: { logid: 'BODY-LOG' } }));
    try {
      const client = new CozeClient(testConfig(server.url));
      await rejectsWith<CozeApiError>(client.createConversation({ botId: 'b1' }), (e) => {
        assert.equal(e.code, 4000);
        assert.equal(e.httpStatus, 400);
        assert.equal(e.logId, 'BODY-LOG');
      });
    } finally {
      await server.close();
    }
  });

  test('a non-2xx answer without JSON throws with the HTTP status; GETs retry it with backoff and log each retry', async () => {
    let calls = 0;
    const server = await startLocalServer((req, res) => {
      calls += 1;
      if (calls < 3) {
        res.writeHead(502, { 'content-type': 'text/html', 'x-tt-logid': `L${calls}` });
        res.end('<html>Bad gateway</html>');
      } else {
        sendJson(res, 200, { code: 0, msg: '', data: { space_bots: [], total: 0 } });
      }
    });
    try {
      const logger = recordingLogger();
      const client = new CozeClient(testConfig(server.url, { botListApi: 'published_bots_list' }), { logger, retryBaseDelayMs: 1 });
      assert.deepEqual(await client.listPublishedBots({ page: 1, pageSize: 10 }), { items: [], total: 0 });
      assert.equal(calls, 3);
      assert.equal(logger.lines.length, 2);
      assert.ok(!JSON.stringify(logger.lines).includes(SECRET_TOKEN));

      const noRetry = new CozeClient(testConfig(server.url, { botListApi: 'published_bots_list', maxRetries: 0 }), { retryBaseDelayMs: 1 });
      calls = 0;
      await rejectsWith<CozeApiError>(noRetry.listPublishedBots({ page: 1, pageSize: 10 }), (e) => {
        assert.equal(e.code, CozeTransportCode.BadResponse);
        assert.equal(e.httpStatus, 502);
        assert.equal(e.logId, 'L1');
        assert.equal(e.retryable, true);
      });
    } finally {
      await server.close();
    }
  });

  // The wait before a retry is at least 4 s (half its 8 s cap): a call that ends within the test's
  // 3 s was ended by the abort, not by the wait running out.
  test("an abort while a call waits to retry ends it at once, with the caller's reason", { timeout: 3_000 }, async () => {
    const server = await startLocalServer((req, res) => sendJson(res, 503, { code: 5000, msg: 'busy' }));
    try {
      // The retry is logged just before its wait begins.
      let retrying!: () => void;
      const waiting = new Promise<void>((resolve) => {
        retrying = resolve;
      });
      const client = new CozeClient(testConfig(server.url), { retryBaseDelayMs: 60_000, logger: { warn: () => retrying() } });
      const controller = new AbortController();
      const call = client.getBot('b1', { signal: controller.signal });
      await waiting;
      const why = new Error('the admin left the page');
      controller.abort(why);
      await rejectsWith(call, (e) => assert.equal(e, why));
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });

  test('POSTs that create things retry on 4013 only; a chat never retries, even on 5xx', async () => {
    let calls = 0;
    const server = await startLocalServer((req, res) => {
      calls += 1;
      if (req.url?.startsWith('/v1/conversation/create')) {
        if (calls === 1) return sendJson(res, 200, { code: 4013, msg: 'rate limited' });
        if (calls === 2) return sendJson(res, 200, { code: 0, msg: '', data: { id: '7001' } });
        return sendJson(res, 200, { code: 5000, msg: 'internal' });
      }
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('unavailable');
    });
    try {
      const client = new CozeClient(testConfig(server.url), { retryBaseDelayMs: 1 });
      assert.deepEqual(await client.createConversation({ botId: 'b1' }), { id: '7001' });
      assert.equal(calls, 2);
      await rejectsWith<CozeApiError>(client.createConversation({ botId: 'b1' }), (e) => assert.equal(e.code, 5000));
      assert.equal(calls, 3, 'no retry on 5000 for a POST');
      calls = 0;
      await rejectsWith<CozeApiError>(
        collect((on) => client.streamChat({ botId: 'b1', userId: 'u', message: 'x' }, on)),
        (e) => assert.equal(e.httpStatus, 503),
      );
      assert.equal(calls, 1);
    } finally {
      await server.close();
    }
  });

  test("a Stop's cancel is retried on 5xx like a GET (a lost cancel would keep the Coze conversation busy)", async () => {
    let calls = 0;
    const server = await startLocalServer((req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        return void res.end('bad gateway');
      }
      sendJson(res, 200, { code: 0, msg: '', data: { id: 'c1', status: 'canceled' } });
    });
    try {
      const client = new CozeClient(testConfig(server.url), { retryBaseDelayMs: 1 });
      await client.cancelChat({ conversationId: '7001', chatId: 'c1' });
      assert.equal(calls, 2);
      assert.deepEqual(
        server.requests.map((r) => [r.url, JSON.parse(r.body)]),
        [
          ['/v3/chat/cancel', { conversation_id: '7001', chat_id: 'c1' }],
          ['/v3/chat/cancel', { conversation_id: '7001', chat_id: 'c1' }],
        ],
      );
    } finally {
      await server.close();
    }
  });

  test('the chat request: conversation_id in the query only, the documented body, bearer auth', async () => {
    const server = await startLocalServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(CHAT_COMPLETED);
    });
    try {
      const client = new CozeClient(testConfig(server.url));
      await collect((on) =>
        client.streamChat({ botId: 'b1', userId: 'u1', conversationId: '7001', message: 'hello', customVariables: { name: 'Ann' } }, on),
      );
      await collect((on) => client.streamChat({ botId: 'b1', userId: 'u1', message: 'again' }, on));
      const [first, second] = server.requests;
      assert.equal(first?.method, 'POST');
      assert.equal(first?.url, '/v3/chat?conversation_id=7001');
      assert.equal(first?.headers.authorization, `Bearer ${SECRET_TOKEN}`);
      assert.deepEqual(JSON.parse(first!.body), {
        bot_id: 'b1',
        user_id: 'u1',
        stream: true,
        auto_save_history: true,
        additional_messages: [{ role: 'user', type: 'question', content: 'hello', content_type: 'text' }],
        custom_variables: { name: 'Ann' },
      });
      assert.equal(second?.url, '/v3/chat');
      assert.equal('custom_variables' in JSON.parse(second!.body), false);
    } finally {
      await server.close();
    }
  });

  test('a finished chat hands its connection to the next chat (no new connection, or TLS handshake, per chat)', async () => {
    const ports: number[] = [];
    const server = await startLocalServer((req, res) => {
      ports.push(req.socket.remotePort!);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(CHAT_COMPLETED);
    });
    try {
      const client = new CozeClient(testConfig(server.url));
      for (const message of ['one', 'two', 'three']) {
        const seen: string[] = [];
        // The reading ends at chat.completed; the rest of the body (`done`) flows away on its own.
        await client.streamChat({ botId: 'b1', userId: 'u1', message }, (event) => void seen.push(event.event));
        assert.deepEqual(seen, ['conversation.chat.completed']);
        await eventually(async () => hasIdleConnection(client.agent, server.url));
      }
      assert.equal(ports.length, 3);
      assert.equal(new Set(ports).size, 1, `one connection for three chats, got ${ports.join(', ')}`);
    } finally {
      await server.close();
    }
  });

  test("a connection idle for longer than Node's default 5 s still serves the next chat (no new TCP or TLS handshake)", async () => {
    const ports: number[] = [];
    const server = await startLocalServer(
      (req, res) => {
        ports.push(req.socket.remotePort!);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(CHAT_COMPLETED);
      },
      { keepAliveTimeoutMs: 60_000 },
    ); // a server that keeps idle connections longer than Node's own default (5 s)
    const client = new CozeClient(testConfig(server.url));
    try {
      await collect((on) => client.streamChat({ botId: 'b1', userId: 'u1', message: 'before' }, on));
      await new Promise((resolve) => setTimeout(resolve, 5_500)); // the idle time this test is about
      await collect((on) => client.streamChat({ botId: 'b1', userId: 'u1', message: 'after' }, on));
      assert.equal(ports.length, 2);
      assert.equal(ports[1], ports[0], "the second chat went out on the first chat's connection");
    } finally {
      await server.close();
    }
  });

  test('a kept-alive connection the server closed is replaced: the chat goes out again once, on a new connection', async () => {
    const ports: number[] = [];
    const served = new WeakSet<object>();
    let closeEveryConnection = false;
    const server = await startLocalServer((req, res) => {
      ports.push(req.socket.remotePort!);
      // What a server's idle time-out does to a pooled connection, at the moment the next chat uses it.
      if (served.has(req.socket) || closeEveryConnection) return void req.socket.destroy();
      served.add(req.socket);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(sse('conversation.message.delta', { id: 'm1', type: 'answer', content: `answer ${ports.length}` }) + CHAT_COMPLETED);
    });
    const answer = async (message: string) => {
      const texts: string[] = [];
      await client.streamChat({ botId: 'b1', userId: 'u1', message }, (event) => {
        if (event.event === 'conversation.message.delta') texts.push(event.data.content);
      });
      return texts.join('');
    };
    const client = new CozeClient(testConfig(server.url));
    try {
      assert.equal(await answer('one'), 'answer 1');
      await eventually(async () => hasIdleConnection(client.agent, server.url));
      assert.equal(await answer('two'), 'answer 3');
      assert.equal(ports.length, 3);
      assert.equal(ports[1], ports[0], 'the second chat first went out on the pooled connection');
      assert.notEqual(ports[2], ports[0], 'and then on a new one');
      // A new connection that breaks is a failed chat: only a reused one is tried again.
      closeEveryConnection = true;
      await eventually(async () => hasIdleConnection(client.agent, server.url));
      await rejectsWith<CozeApiError>(answer('three'), (e) => assert.equal(e.code, CozeTransportCode.Network));
      assert.equal(ports.length, 5, 'the pooled connection, then one new connection');
    } finally {
      await server.close();
    }
  });

  test('over HTTPS, as against api.coze.com: chats stream, and share one TLS connection', async () => {
    const server = await startLocalServer(
      (req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(
          sse('conversation.message.delta', { id: 'm1', type: 'answer', content: `hello ${server.requests.length}` }) + CHAT_COMPLETED,
        );
      },
      { tls: TLS },
    );
    const agent = poolWithSpares('https:', { keepAlive: true, ca: TLS.cert }, SPARE_CONNECTIONS);
    try {
      const client = new CozeClient(testConfig(server.url), { agent });
      for (const expected of ['hello 1', 'hello 2']) {
        const texts: string[] = [];
        await client.streamChat({ botId: 'b1', userId: 'u1', message: 'hi' }, (event) => {
          if (event.event === 'conversation.message.delta') texts.push(event.data.content);
        });
        assert.deepEqual(texts, [expected]);
        await eventually(async () => hasIdleConnection(agent, server.url));
      }
      const ports = server.requests.map((r) => r.clientPort);
      assert.equal(new Set(ports).size, 1, `one TLS connection for two chats, got ports ${ports.join(', ')}`);
    } finally {
      agent.destroy();
      await server.close();
    }
  });

  for (const protocol of ['http', 'https'] as const) {
    test(`chats that find every pooled connection busy take connections opened ahead of them, a bunch of them at once, and one closed meanwhile is replaced (${protocol})`, async () => {
      let endChats!: () => void;
      const chatsEnd = new Promise<void>((resolve) => {
        endChats = resolve;
      });
      const closing = new Set<number>();
      const server = await startLocalServer(
        async (req, res) => {
          // What a server's idle time-out does to a waiting connection, at the moment a chat arrives on it.
          if (closing.delete(req.socket.remotePort!)) {
            closing.clear();
            return void req.socket.destroy();
          }
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(sse('conversation.chat.created', chatData('created')));
          await chatsEnd; // every chat streams until the test is over
          res.end(CHAT_COMPLETED);
        },
        protocol === 'https' ? { tls: TLS } : {},
      );
      // Over HTTP the client's own pool; over HTTPS the same kind of pool, trusting the test certificate.
      const agent = protocol === 'https' ? poolWithSpares('https:', { keepAlive: true, ca: TLS.cert }, SPARE_CONNECTIONS) : undefined;
      const client = new CozeClient(testConfig(server.url), { agent });
      // Starts a chat; resolves once it streams.
      const chats: Promise<void>[] = [];
      const startChat = () =>
        new Promise<void>((streaming) => {
          chats.push(client.streamChat({ botId: 'b1', userId: 'u1', message: `chat ${chats.length}` }, () => streaming()));
        });
      try {
        await startChat();
        // While the first chat streams, the next connections are already open...
        await eventually(async () => server.connections.length === 1 + SPARE_CONNECTIONS);
        const openedAhead = server.connections.slice(1);
        // ...and as many chats arriving together go out on them, with no handshake of their own.
        await Promise.all(Array.from({ length: SPARE_CONNECTIONS }, startChat));
        assert.deepEqual(new Set(server.requests.slice(1).map((r) => r.clientPort)), new Set(openedAhead));
        await eventually(async () => server.connections.length === 1 + 2 * SPARE_CONNECTIONS);

        // A waiting connection the server has closed by the time a chat uses it: sent again, on a new one.
        for (const port of server.connections.slice(1 + SPARE_CONNECTIONS)) closing.add(port);
        const waiting = new Set(closing);
        await startChat();
        const [closed, resent] = server.requests.slice(-2);
        assert.equal(server.requests.length, SPARE_CONNECTIONS + 3);
        assert.ok(waiting.has(closed!.clientPort), 'the last chat first went out on a connection opened ahead');
        assert.notEqual(resent!.clientPort, closed!.clientPort, 'and then on another');
      } finally {
        endChats();
        await Promise.allSettled(chats);
        client.agent.destroy();
        await server.close();
      }
    });
  }

  test('no headers within the connect time-out → Timeout; silence mid-stream past the idle time-out → Timeout, not retryable', async () => {
    const server = await startLocalServer((req, res) => {
      if (req.url?.includes('silent')) return; // never answers
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-tt-logid': 'IDLE-LOG' });
      res.write(sse('conversation.chat.created', chatData('created'))); // then nothing
    });
    try {
      const client = new CozeClient(testConfig(server.url, { connectTimeoutMs: 100, idleTimeoutMs: 150 }));
      await rejectsWith<CozeApiError>(
        collect((on) => client.streamChat({ botId: 'b1', userId: 'u', conversationId: 'silent', message: 'x' }, on)),
        (e) => {
          assert.equal(e.code, CozeTransportCode.Timeout);
          assert.equal(e.retryable, false);
        },
      );
      const seen: string[] = [];
      await rejectsWith<CozeApiError>(
        client.streamChat({ botId: 'b1', userId: 'u', message: 'x' }, (e) => void seen.push(e.event)),
        (e) => {
          assert.equal(e.code, CozeTransportCode.Timeout);
          assert.equal(e.logId, 'IDLE-LOG');
          assert.equal(e.retryable, false);
        },
      );
      assert.deepEqual(seen, ['conversation.chat.created']);
      await server.closed[1]; // the client dropped the stalled stream's socket
    } finally {
      await server.close();
    }
  });

  test('an unreachable server is a Network error', async () => {
    const server = await startLocalServer(() => {});
    const url = server.url;
    await server.close();
    const client = new CozeClient(testConfig(url, { maxRetries: 0 }));
    await rejectsWith<CozeApiError>(client.getBot('b1'), (e) => {
      assert.equal(e.code, CozeTransportCode.Network);
      assert.match(e.cozeMsg, /ECONNREFUSED/);
    });
  });

  test('aborting before headers arrive rejects with an AbortError', async () => {
    const server = await startLocalServer(() => {}); // never answers
    try {
      const client = new CozeClient(testConfig(server.url));
      const controller = new AbortController();
      const reading = collect((on) => client.streamChat({ botId: 'b1', userId: 'u', message: 'x', signal: controller.signal }, on));
      await new Promise<void>((resolve) => {
        const check = () => (server.requests.length > 0 ? resolve() : setImmediate(check));
        check();
      });
      controller.abort();
      await rejectsWith(reading, (err) => assert.ok(isAbortError(err)));
      await server.closed[0];
    } finally {
      await server.close();
    }
  });

  test('getBot falls back to get_online_info when /v1/bots/{id} is missing, and accepts capitalised onboarding keys', async () => {
    const server = await startLocalServer((req, res) => {
      if (req.url?.startsWith('/v1/bots/')) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('404 page not found');
      }
      sendJson(res, 200, {
        code: 0,
        msg: '',
        data: {
          bot_id: '42',
          name: 'Old API bot',
          description: 'd',
          icon_url: 'https://cdn.example/i.png',
          update_time: 1718212388,
          onboarding_info: { Prologue: 'Hello!', SuggestedQuestions: ['One?', '', 'Two?'] },
          variables: [{ keyword: 'city', default_value: 'Paris', description: 'where', enable: false }],
        },
      });
    });
    try {
      const client = new CozeClient(testConfig(server.url), { retryBaseDelayMs: 1 });
      assert.deepEqual(await client.getBot('42'), {
        botId: '42',
        name: 'Old API bot',
        description: 'd',
        iconUrl: 'https://cdn.example/i.png',
        publishedAt: '2024-06-12T17:13:08.000Z',
        openingStatement: 'Hello!',
        openingQuestions: ['One?', 'Two?'],
        variables: [{ keyword: 'city', defaultValue: 'Paris', description: 'where', enabled: false }],
      });
      assert.deepEqual(
        server.requests.map((r) => r.url),
        ['/v1/bots/42?is_published=true', '/v1/bot/get_online_info?bot_id=42'],
      );
    } finally {
      await server.close();
    }
  });

  test('listing in auto mode falls back to published_bots_list once, then remembers it', async () => {
    const server = await startLocalServer((req, res) => {
      if (req.url?.startsWith('/v1/bots')) {
        res.writeHead(404);
        return res.end();
      }
      sendJson(res, 200, {
        code: 0,
        msg: '',
        data: {
          space_bots: [{ bot_id: '7', bot_name: 'Seven', description: '', icon_url: 'https://x/7.png', publish_time: '1718212388' }],
          total: '1',
        },
      });
    });
    try {
      const client = new CozeClient(testConfig(server.url), { retryBaseDelayMs: 1 });
      const expected = {
        items: [{ botId: '7', name: 'Seven', description: '', iconUrl: 'https://x/7.png', publishedAt: '2024-06-12T17:13:08.000Z' }],
        total: 1,
      };
      assert.deepEqual(await client.listPublishedBots({ page: 1, pageSize: 5 }), expected);
      assert.deepEqual(await client.listPublishedBots({ page: 2, pageSize: 5 }), expected);
      assert.deepEqual(
        server.requests.map((r) => r.url),
        [
          '/v1/bots?workspace_id=space-1&publish_status=published_online&connector_id=1024&page_num=1&page_size=5',
          '/v1/space/published_bots_list?space_id=space-1&page_index=1&page_size=5',
          '/v1/space/published_bots_list?space_id=space-1&page_index=2&page_size=5',
        ],
      );
    } finally {
      await server.close();
    }
  });
});

describe('Coze client: OAuth JWT', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let server: LocalServer;
  let exchanges = 0;
  let issued: string[] = [];
  let nowSec = 1_900_000_000;
  let oauthAnswer: 'ok' | 'refuse' | 'silent' = 'ok';
  const revoked = new Set<string>();

  before(async () => {
    const key = await importSPKI(publicKeyPem, 'RS256');
    server = await startLocalServer(async (req, res, body) => {
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (req.url === '/api/permission/oauth2/token') {
        exchanges += 1;
        if (oauthAnswer === 'refuse') return sendJson(res, 401, { error_code: 'invalid_client', error_message: `bad JWT ${bearer}` });
        if (oauthAnswer === 'silent') return; // never answers
        const header = decodeProtectedHeader(bearer);
        assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: 'key-1' });
        const { payload } = await jwtVerify(bearer, key, {
          issuer: 'app-1',
          audience: 'api.coze.cn',
          currentDate: new Date(nowSec * 1000),
        });
        assert.equal(typeof payload.jti, 'string');
        assert.ok(payload.exp! > payload.iat!);
        assert.deepEqual(JSON.parse(body), { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', duration_seconds: 900 });
        const token = `czs_access_${exchanges}`;
        issued.push(token);
        // Delay the answer a little so concurrent callers overlap the exchange.
        setImmediate(() => sendJson(res, 200, { access_token: token, expires_in: nowSec + 900 }));
        return;
      }
      if (!issued.includes(bearer) || revoked.has(bearer)) return sendJson(res, 401, { code: 4100, msg: 'authentication is invalid' });
      sendJson(res, 200, { code: 0, msg: '', data: { id: '7001' } });
    });
  });
  after(() => server.close());

  const oauthClient = () =>
    new CozeClient(testConfig(server.url, { auth: { kind: 'oauth-jwt', appId: 'app-1', keyId: 'key-1', privateKeyPem } }), {
      now: () => nowSec * 1000,
    });

  test('one exchange serves many calls, concurrent ones included', async () => {
    exchanges = 0;
    issued = [];
    const client = oauthClient();
    await Promise.all([
      client.createConversation({ botId: 'b' }),
      client.createConversation({ botId: 'b' }),
      client.createConversation({ botId: 'b' }),
    ]);
    await client.createConversation({ botId: 'b' });
    assert.equal(exchanges, 1);
    const apiCalls = server.requests.filter(
      (r) => r.url === '/v1/conversation/create' && r.headers.authorization === 'Bearer czs_access_1',
    );
    assert.ok(apiCalls.length >= 4);
  });

  test('within a minute of its absolute expiry the token is renewed in the background: calls wait only once it expired', async () => {
    exchanges = 0;
    issued = [];
    nowSec = 1_900_000_000;
    const client = oauthClient();
    const lastBearer = () => server.requests.filter((r) => r.url === '/v1/conversation/create').at(-1)?.headers.authorization;
    await client.createConversation({ botId: 'b' });
    nowSec += 900 - 61; // expires_in was nowSec+900: still more than 60 s left
    await client.createConversation({ botId: 'b' });
    assert.equal(exchanges, 1);
    nowSec += 2; // now within 60 s of expiry
    await client.createConversation({ botId: 'b' });
    assert.equal(lastBearer(), 'Bearer czs_access_1', 'the call went on with the token it had');
    await eventually(async () => {
      await client.createConversation({ botId: 'b' });
      return lastBearer() === 'Bearer czs_access_2';
    });
    assert.equal(exchanges, 2, 'one renewal, however many calls');
    nowSec += 900; // the new token has expired as well: this call has to wait for a fresh one
    await client.createConversation({ botId: 'b' });
    assert.equal(lastBearer(), 'Bearer czs_access_3');
  });

  test('a token Coze refuses (4100) is exchanged again once', async () => {
    exchanges = 0;
    issued = [];
    const client = oauthClient();
    await client.createConversation({ botId: 'b' });
    revoked.add('czs_access_1');
    assert.deepEqual(await client.createConversation({ botId: 'b' }), { id: '7001' });
    assert.equal(exchanges, 2);
  });

  test('an unreadable private key is an OAuth CozeApiError, not a crash', async () => {
    const badKey = '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n';
    const client = new CozeClient(
      testConfig(server.url, { auth: { kind: 'oauth-jwt', appId: 'app-1', keyId: 'key-1', privateKeyPem: badKey } }),
    );
    await rejectsWith<CozeApiError>(client.getBot('b'), (e) => {
      assert.equal(e.code, CozeTransportCode.OAuthFailed);
      assert.ok(!e.message.includes('bm90IGEga2V5'));
    });
  });

  test('an exchange not answered within the connect time-out is a Timeout CozeApiError', { timeout: 10_000 }, async () => {
    oauthAnswer = 'silent';
    try {
      const client = new CozeClient(
        testConfig(server.url, { connectTimeoutMs: 100, auth: { kind: 'oauth-jwt', appId: 'app-1', keyId: 'key-1', privateKeyPem } }),
        { now: () => nowSec * 1000 },
      );
      await rejectsWith<CozeApiError>(client.createConversation({ botId: 'b' }), (e) => {
        assert.equal(e.code, CozeTransportCode.Timeout);
        assert.match(e.cozeMsg, /OAuth token exchange timed out/);
      });
    } finally {
      oauthAnswer = 'ok';
    }
  });

  test('an OAuth refusal ({error_code, error_message}) is a CozeApiError without the JWT', async () => {
    oauthAnswer = 'refuse';
    try {
      const client = oauthClient();
      const err = await rejectsWith<CozeApiError>(client.createConversation({ botId: 'b' }), (e) => {
        assert.equal(e.code, CozeTransportCode.OAuthFailed);
        assert.equal(e.httpStatus, 401);
        assert.match(e.cozeMsg, /invalid_client/);
        assert.match(e.userMessage, /COZE_OAUTH_APP_ID/);
      });
      assert.doesNotMatch(`${err.message} ${JSON.stringify(err)}`, /eyJ/);
    } finally {
      oauthAnswer = 'ok';
    }
  });
});

describe('Coze client: icon download', () => {
  let server: LocalServer;
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  before(async () => {
    server = await startLocalServer((req, res) => {
      switch (req.url?.split('?')[0]) {
        case '/ok.png':
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(png.length) });
          return res.end(png);
        case '/mislabelled.png':
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end(png);
        case '/svg-as.png':
          res.writeHead(200, { 'content-type': 'image/png' });
          return res.end('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
        case '/html-as.png':
          res.writeHead(200, { 'content-type': 'image/png' });
          return res.end('<!doctype html><p>not an image</p>');
        case '/big-declared.png':
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5000000' });
          return res.write(png); // never finishes: the client must not wait for it
        case '/big-streamed.png':
          res.writeHead(200, { 'content-type': 'image/png' }); // chunked, no length
          res.write(png);
          res.write(Buffer.alloc(600));
          return res.write(Buffer.alloc(600)); // and never ends
        case '/stall.png':
          res.writeHead(200, { 'content-type': 'image/png' });
          return res.write(png);
        case '/to-ok':
          res.writeHead(302, { location: '/ok.png?x-signature=hop' });
          return res.end();
        case '/to-metadata':
          res.writeHead(302, { location: 'http://127.0.0.2/latest/meta-data/' }); // inside, and on loopback: never off this machine
          return res.end();
        case '/to-loopback':
          res.writeHead(301, { location: `https://127.0.0.1:${new URL(server.url).port}/ok.png` });
          return res.end();
        case '/loop':
          res.writeHead(307, { location: '/loop' });
          return res.end();
        default:
          res.writeHead(500);
          return res.end();
      }
    });
  });
  after(() => server.close());

  // As with the sandbox, the icons come from the configured COZE_API_BASE's own origin.
  const client = (baseUrl = server.url, logger?: ReturnType<typeof recordingLogger>) => new CozeClient(testConfig(baseUrl), { logger });
  const opts = { maxBytes: 1000, timeoutMs: 2000 };
  const reason = (r: string) => (e: OutboundError) => {
    assert.ok(e instanceof OutboundError, String(e));
    assert.equal(e.reason, r);
  };
  const requestsFor = (path: string) => server.requests.filter((r) => r.url.startsWith(path)).length;

  test('downloads an image without the Coze Authorization header', async () => {
    const result = await client().downloadIcon(`${server.url}/ok.png?x-expires=1&x-signature=abc`, opts);
    assert.equal(result.contentType, 'image/png');
    assert.deepEqual(result.bytes, png);
    const request = server.requests.find((r) => r.url.startsWith('/ok.png'));
    assert.equal(request?.headers.authorization, undefined);
  });

  test('an image is known by its bytes: a PNG labelled text/plain is a PNG, SVG or HTML labelled image/png is refused', async () => {
    const mislabelled = await client().downloadIcon(`${server.url}/mislabelled.png`, opts);
    assert.equal(mislabelled.contentType, 'image/png');
    assert.deepEqual(mislabelled.bytes, png);
    await rejectsWith(client().downloadIcon(`${server.url}/svg-as.png`, opts), reason('not-image'));
    await rejectsWith(client().downloadIcon(`${server.url}/html-as.png`, opts), reason('not-image'));
  });

  test('refuses too-large icons by Content-Length and by streamed size', async () => {
    await rejectsWith(client().downloadIcon(`${server.url}/big-declared.png`, opts), reason('too-large'));
    await rejectsWith(client().downloadIcon(`${server.url}/big-streamed.png`, opts), reason('too-large'));
  });

  test('refuses HTTP errors, non-http URLs, and stalls past the time-out', async () => {
    await rejectsWith<OutboundError>(client().downloadIcon(`${server.url}/missing.png`, opts), (e) => {
      reason('http-status')(e);
      assert.equal(e.httpStatus, 500);
    });
    await rejectsWith(client().downloadIcon('file:///etc/passwd', opts), reason('invalid-url'));
    await rejectsWith(client().downloadIcon('data:image/png;base64,AAAA', opts), reason('invalid-url'));
    await rejectsWith(client().downloadIcon('not a url', opts), reason('invalid-url'));
    await rejectsWith(client().downloadIcon(`${server.url}/stall.png`, { maxBytes: 1000, timeoutMs: 100 }), reason('timeout'));
  });

  test('only the COZE_API_BASE origin may serve icons over http or from a private address', async () => {
    const before = requestsFor('/ok.png');
    const { port } = new URL(server.url);
    // The default https base: an http icon, or one on a loopback address, is refused before any request.
    await rejectsWith(client('https://api.coze.cn').downloadIcon(`${server.url}/ok.png`, opts), reason('insecure-url'));
    await rejectsWith(client('https://api.coze.cn').downloadIcon(`https://127.0.0.1:${port}/ok.png`, opts), reason('private-address'));
    await rejectsWith(
      client('https://api.coze.cn').downloadIcon(`https://[::ffff:127.0.0.1]:${port}/ok.png`, opts),
      reason('private-address'),
    );
    // Another port of the same host is another origin.
    await rejectsWith(client('http://127.0.0.1:9').downloadIcon(`${server.url}/ok.png`, opts), reason('insecure-url'));
    assert.equal(requestsFor('/ok.png'), before, 'nothing reached the server');
  });

  test('redirects are followed by hand, each hop checked, a few at most', async () => {
    const followed = await client().downloadIcon(`${server.url}/to-ok`, opts);
    assert.deepEqual(followed.bytes, png);
    await rejectsWith(client().downloadIcon(`${server.url}/to-metadata`, opts), reason('insecure-url'));
    await rejectsWith(client().downloadIcon(`${server.url}/to-loopback`, opts), reason('private-address'));
    const before = requestsFor('/loop');
    await rejectsWith(client().downloadIcon(`${server.url}/loop`, opts), reason('too-many-redirects'));
    assert.equal(requestsFor('/loop') - before, MAX_REDIRECTS + 1);
  });

  test('the log says why, with the URL but not its signed query', async () => {
    const logger = recordingLogger();
    await rejectsWith(
      client('https://api.coze.cn', logger).downloadIcon(`${server.url}/ok.png?x-expires=1&x-signature=SECRETSIG`, opts),
      reason('insecure-url'),
    );
    await rejectsWith(
      client(server.url, logger).downloadIcon(`${server.url}/missing.png?x-signature=SECRETSIG`, opts),
      reason('http-status'),
    );
    assert.deepEqual(
      logger.lines.map((line) => (line.obj as { icon: unknown }).icon),
      [
        { url: `${server.url}/ok.png`, reason: 'insecure-url', httpStatus: null },
        { url: `${server.url}/missing.png`, reason: 'http-status', httpStatus: 500 },
      ],
    );
    assert.match(logger.lines[0]!.msg!, /plain http/);
    assert.doesNotMatch(JSON.stringify(logger.lines), /SECRETSIG/);
  });
});
