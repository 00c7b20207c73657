// Streams against careless and hostile peers: a client that stops reading, an upstream that sends
// too much, a client that trickles its request in.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { BOTS, HUGE_DELTA, startSandbox, type Sandbox } from '@agentport/sandbox';
import { openDatabase } from '../src/db/index.js';
import { messages } from '../src/db/schema.js';
import { readConfig } from '../src/config.js';
import { CozeClient } from '../src/coze/openapi/client.js';
import { CozeApiError, CozeTransportCode } from '../src/coze/openapi/errors.js';
import { collect, rejectsWith, startLocalServer, testConfig } from './coze-client-support.js';
import { databaseTargets, describeOn, eventually, readChatStream, startTestPlatform, type TestPlatform } from './support.js';

const MB = 1024 * 1024;

/** A raw HTTP/1.1 client on its own socket, so that it can stop reading, or send slowly. */
function rawClient(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => {}); // the server closing on it is what some tests wait for
  return socket;
}

function postRequest(path: string, token: string, body: unknown): string {
  const payload = JSON.stringify(body);
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`
  );
}

/**
 * Sends a streaming chat and reads the response head (for the conversation id), then nothing more:
 * the socket stays open, and once the buffers on the way are full the platform's writes back up.
 */
async function chatWithoutReading(url: string, token: string, body: Record<string, unknown>) {
  const socket = rawClient(url);
  socket.write(postRequest('/api/ai-agent/chat/completions', token, { ...body, stream: true }));
  const head = await new Promise<string>((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (!received.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      resolve(received);
    };
    socket.on('data', onData).once('close', () => reject(new Error(`closed before the response head: ${received}`)));
  });
  assert.match(head, /^HTTP\/1\.1 200/);
  const conversationId = /x-conversation-id: ([0-9a-f-]+)/i.exec(head)![1]!;
  return { socket, conversationId };
}

/** The end of a chunked response: its last chunk. */
const RESPONSE_END = '\r\n0\r\n\r\n';

/**
 * Reads what is left on a socket until the response ends or the server closes the connection, or
 * `withinMs` passes. Returns the last few KB of it.
 */
function readRest(socket: net.Socket, withinMs: number): Promise<{ tail: string; ended: boolean; closed: boolean }> {
  return new Promise((resolve) => {
    let tail = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ tail, ended: tail.endsWith(RESPONSE_END), closed });
    };
    const timer = setTimeout(() => done(false), withinMs);
    const onData = (chunk: Buffer) => {
      tail = (tail + chunk.toString('latin1')).slice(-4096);
      if (tail.endsWith(RESPONSE_END)) done(false);
    };
    socket.on('data', onData).once('close', () => done(true));
    socket.resume();
  });
}

/** Resolves with the time `promise` took, or with null when it is still pending after `withinMs`. */
async function timed(promise: Promise<unknown>, withinMs: number): Promise<number | null> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), withinMs);
  });
  const result = await Promise.race([promise.then(() => Date.now() - started), late]);
  clearTimeout(timer);
  return result;
}

/** Waits until a response written past its buffer can take more, or is gone. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      res.off('drain', settle).off('close', settle);
      resolve();
    };
    res.on('drain', settle).on('close', settle);
  });
}

/** True while the platform holds its Coze stream back: it waits for a client that is behind. */
const upstreamPaused = (p: TestPlatform) =>
  Object.values(p.coze!.agent.sockets)
    .flat()
    .some((socket) => socket?.isPaused());

async function importBot(p: TestPlatform, key: keyof typeof BOTS): Promise<string> {
  const res = await p.api('POST', '/console/api/ai-agent/import/coze', { token: p.adminToken, body: { cozeBotId: BOTS[key].id } });
  assert.equal(res.status, 201);
  return (await res.json()).agent.id;
}

const answerOf = async (p: TestPlatform, token: string, conversationId: string) =>
  (await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token })).json()).items[1];

const stored = async (p: TestPlatform, conversationId: string) => {
  const [answer] = await p.database.db
    .select()
    .from(messages)
    .where(and(eq(messages.conversationId, conversationId), eq(messages.role, 'assistant')));
  return answer!;
};

for (const target of databaseTargets()) {
  describeOn(target, 'a client that stops reading but keeps its socket open', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let agentId: string;
    let user: { token: string; id: string };

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      // The answer must outgrow the sockets on the way, not the answer limit; the stall time is the default, 30 s.
      p = await startTestPlatform(target, {
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
        MAX_ANSWER_BYTES: String(64 * MB),
      });
      agentId = await importBot(p, 'hugeAnswer');
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    test('Stop ends the answer at once: it is saved as canceled, the stream ends with [DONE], and the next message is answered', async () => {
      const { socket, conversationId } = await chatWithoutReading(p.url, user.token, {
        agentId,
        messages: [{ role: 'user', content: 'Everything' }],
      });
      try {
        await eventually(async () => upstreamPaused(p));
        const stop = await p.api('POST', `/api/ai-agent/conversations/${conversationId}/stop`, { token: user.token });
        assert.deepEqual(await stop.json(), { stopped: true });
        const answer = await eventually(async () => {
          const a = await answerOf(p, user.token, conversationId);
          return a.status !== 'streaming' && a;
        }, 5000);
        assert.equal(answer.status, 'canceled');
        assert.ok(answer.content.startsWith(HUGE_DELTA), 'what arrived is kept');

        const next = await p.api('POST', '/api/ai-agent/chat/completions', {
          token: user.token,
          body: { agentId, conversationId, messages: [{ role: 'user', content: 'Again' }], stream: true },
        });
        assert.equal(next.status, 200, 'the conversation is free again');
        await next.body!.cancel();

        // The client that reads again gets the rest of the stopped stream, to its end.
        const rest = await readRest(socket, 10_000);
        assert.ok(rest.ended, 'the response ended');
        assert.match(rest.tail, /"status":"canceled"}\n\n\r\n[0-9a-f]+\r\ndata: \[DONE\]\n\n\r\n0\r\n\r\n$/);
      } finally {
        socket.destroy();
      }
    });

    // Last: it closes the platform.
    test('shutdown (what SIGTERM does) closes within seconds, not after the stall time, and saves the answer as failed with what arrived', async () => {
      const { socket, conversationId } = await chatWithoutReading(p.url, p.adminToken, {
        agentId,
        messages: [{ role: 'user', content: 'Everything' }],
      });
      let closing: Promise<void> | undefined;
      try {
        await eventually(async () => upstreamPaused(p));
        closing = p.app.close();
        const tookMs = await timed(closing, 5000);
        assert.notEqual(tookMs, null, 'the platform closed within 5 s');
        // The platform closed its database on the way out; open the same data again to read what it saved.
        const reopened = await openDatabase(p.config);
        try {
          const [answer] = await reopened.db
            .select()
            .from(messages)
            .where(and(eq(messages.conversationId, conversationId), eq(messages.role, 'assistant')));
          assert.equal(answer!.status, 'failed');
          assert.equal(answer!.error?.code, 'shutdown');
          assert.ok(answer!.content.startsWith(HUGE_DELTA), 'what arrived is kept');
        } finally {
          await reopened.close();
        }
      } finally {
        socket.destroy(); // lets a platform that waits on it close
        await closing;
      }
    });
  });
}

// About the relay, not the storage: one database is enough from here on.
const embedded = databaseTargets()[0]!;

describe('a client that stops reading, past STREAM_STALL_TIMEOUT_MS', () => {
  test('is cut off: the answer is saved as failed with what arrived, and the conversation is free', async () => {
    const sandbox = await startSandbox({ quiet: true });
    const p = await startTestPlatform(embedded, {
      COZE_API_BASE: sandbox.cozeBaseUrl,
      COZE_API_TOKEN: sandbox.token,
      COZE_SPACE_ID: sandbox.spaceId,
      MAX_ANSWER_BYTES: String(64 * MB),
      STREAM_STALL_TIMEOUT_MS: '1000',
    });
    const agentId = await importBot(p, 'hugeAnswer');
    const { socket, conversationId } = await chatWithoutReading(p.url, p.adminToken, {
      agentId,
      messages: [{ role: 'user', content: 'Everything' }],
    });
    try {
      await eventually(async () => upstreamPaused(p));
      const answer = await eventually(async () => {
        const a = await stored(p, conversationId);
        return a.status !== 'streaming' && a;
      }, 8000);
      assert.equal(answer.status, 'failed');
      assert.equal(answer.error?.code, 'client_stalled');
      assert.ok(answer.content.startsWith(HUGE_DELTA), 'what arrived is kept');
      const rest = await readRest(socket, 10_000);
      assert.ok(rest.closed && !rest.ended, 'the platform cut the connection');
      assert.ok(!rest.tail.includes('[DONE]'));
      const next = await p.api('POST', '/api/ai-agent/chat/completions', {
        token: p.adminToken,
        body: { agentId, conversationId, messages: [{ role: 'user', content: 'Again' }], stream: true },
      });
      assert.equal(next.status, 200, 'the conversation is free again');
      await next.body!.cancel();
    } finally {
      socket.destroy();
      await p.close();
      await sandbox.close();
    }
  });
});

describe('limits on what upstreams send, and on how slowly clients send', () => {
  let sandbox: Sandbox;
  let p: TestPlatform;
  let native: string;

  before(async () => {
    sandbox = await startSandbox({ quiet: true });
    p = await startTestPlatform(embedded, {
      COZE_API_BASE: sandbox.cozeBaseUrl,
      COZE_API_TOKEN: sandbox.token,
      COZE_SPACE_ID: sandbox.spaceId,
      OPENAI_BASE_URL: sandbox.openaiBaseUrl,
      OPENAI_API_KEY: 'sk-sandbox',
      REQUEST_TIMEOUT_MS: '1000',
    });
    native = (
      await (await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Native', model: 'sandbox-chat' } })).json()
    ).id;
  });
  after(async () => {
    await p.close();
    await sandbox.close();
  });

  const chat = (agentId: string, content: string) =>
    p.api('POST', '/api/ai-agent/chat/completions', {
      token: p.adminToken,
      body: { agentId, messages: [{ role: 'user', content }], stream: true },
    });

  /** The 16 MB answer, cut at the 1 MB default of MAX_ANSWER_BYTES: the first MB arrives and is stored, then a clear error. */
  async function assertCutAtLimit(res: Response) {
    const s = await readChatStream(res);
    assert.equal(s.error?.code, 'answer_too_long');
    assert.match(s.error.message, /1 MB/);
    assert.ok(s.done);
    assert.equal(Buffer.byteLength(s.text), MB);
    assert.ok(s.text === HUGE_DELTA.repeat(64), 'the first MB of the answer');
    const answer = await stored(p, res.headers.get('x-conversation-id')!);
    assert.equal(answer.status, 'failed');
    assert.equal(answer.error?.code, 'answer_too_long');
    assert.ok(answer.content === s.text, 'stored as streamed');
  }

  test('a 16 MB answer from Coze: the first MB is kept and stored, the answer fails with answer_too_long, and Coze is told to stop', async () => {
    await assertCutAtLimit(await chat(await importBot(p, 'hugeAnswer'), 'Everything'));
    await sandbox.waitForRequest((r) => r.path === '/v3/chat/cancel');
  });

  test('a 16 MB answer from the model endpoint: the same limit', async () => {
    await assertCutAtLimit(await chat(native, 'Everything [huge]'));
  });

  test('a 50 MB data line from Coze, without a newline: the text before it is kept and a clear error ends the answer', async () => {
    const res = await chat(await importBot(p, 'hugeLine'), 'Flood');
    const s = await readChatStream(res);
    assert.equal(s.text, 'This answer will not finish ');
    assert.equal(s.error?.code, 'coze_event_too_large');
    assert.match(s.error.message, /too large/);
    const answer = await stored(p, res.headers.get('x-conversation-id')!);
    assert.equal(answer.status, 'failed');
    assert.equal(answer.content, s.text);
  });

  test('a 50 MB data line from the model endpoint: the same', async () => {
    const res = await chat(native, 'Flood [huge-line]');
    const s = await readChatStream(res);
    assert.equal(s.text, 'Hello from the ');
    assert.equal(s.error?.code, 'upstream_line_too_long');
    assert.match(s.error.message, /too long/);
    const answer = await stored(p, res.headers.get('x-conversation-id')!);
    assert.equal(answer.status, 'failed');
    assert.equal(answer.content, s.text);
  });

  /** Sends `head` at once, then one byte every 250 ms, until the server closes the connection. */
  async function trickle(head: string) {
    const socket = rawClient(p.url);
    socket.write(head);
    const drip = setInterval(() => socket.write('a'), 250);
    try {
      const started = Date.now();
      const { tail, closed } = await readRest(socket, 6000);
      return { text: tail, closed, tookMs: Date.now() - started };
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  }

  test('a request body trickled in a byte at a time gets 408 and the connection closes, after REQUEST_TIMEOUT_MS', async () => {
    const r = await trickle(
      'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    assert.ok(r.closed, 'closed by the server');
    assert.match(r.text, /^HTTP\/1\.1 408/);
    assert.ok(r.tookMs < 4000, `took ${r.tookMs} ms`);
  });

  test('headers trickled in a byte at a time: the same', async () => {
    const r = await trickle('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    assert.ok(r.closed, 'closed by the server');
    assert.match(r.text, /^HTTP\/1\.1 408/);
    assert.ok(r.tookMs < 4000, `took ${r.tookMs} ms`);
  });

  test('an answer that streams for longer than REQUEST_TIMEOUT_MS is not cut', async () => {
    const started = Date.now();
    const s = await readChatStream(await chat(native, 'Take your time [slow]'));
    assert.ok(Date.now() - started > 3000, 'streamed for several request time-outs');
    assert.equal(s.final?.status, 'completed');
    assert.match(s.text, /^Hello from the sandbox model/);
  });
});

describe("a huge JSON answer where Coze's chat stream was due", () => {
  test('is not read whole: the chat fails as an unexpected response', async () => {
    const total = 64 * MB;
    let written = 0;
    const server = await startLocalServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const piece = `{"code":4000,"msg":"${'x'.repeat(64 * 1024)}`;
      while (written < total && !res.destroyed) {
        written += piece.length;
        if (!res.write(piece)) await drainedOrClosed(res);
      }
      res.end();
    });
    try {
      const client = new CozeClient(testConfig(server.url));
      await rejectsWith<CozeApiError>(
        collect((on) => client.streamChat({ botId: 'b1', userId: 'u1', message: 'hi' }, on)),
        (e) => {
          assert.equal(e.code, CozeTransportCode.BadResponse);
          assert.match(e.userMessage, /unexpected response/);
        },
      );
      assert.ok(written < total / 4, `the client stopped reading (the server wrote ${written} bytes)`);
    } finally {
      await server.close();
    }
  });
});

describe("the limits' settings", () => {
  test('a value too small to be a limit rather than a fault is refused at start-up, naming the setting', () => {
    assert.throws(() => readConfig({ STREAM_STALL_TIMEOUT_MS: '10' }), /STREAM_STALL_TIMEOUT_MS must be a whole number from 1000 to/);
    assert.throws(() => readConfig({ REQUEST_TIMEOUT_MS: '0' }), /REQUEST_TIMEOUT_MS must be a whole number from 1000 to/);
    assert.throws(() => readConfig({ MAX_ANSWER_BYTES: '100' }), /MAX_ANSWER_BYTES must be a whole number from 1024 to/);
    const config = readConfig({ COZE_API_TOKEN: 'pat_x', COZE_SPACE_ID: 's', MAX_ANSWER_BYTES: String(2 * MB) });
    assert.equal(config.answers.maxBytes, 2 * MB);
    assert.equal(config.coze?.maxEventChars, 8 * MB, 'an upstream event may carry the whole answer');
    assert.equal(config.openai.maxLineBytes, 8 * MB);
  });
});
