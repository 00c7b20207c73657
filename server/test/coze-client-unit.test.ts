// The Coze client's pure parts: configuration, errors, and the chat stream reader fed from memory.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { oauthAudienceFor, readCozeConfig } from '../src/coze/openapi/config.js';
import { readEnvironment } from '../src/env.js';
import { CozeApiError, CozeTransportCode, isAbortError } from '../src/coze/openapi/errors.js';
import { redactSecrets } from '../src/http/redact.js';
import { readCozeChatStream, type CozeChatEvent } from '../src/coze/openapi/stream.js';
import { answerText, chunkedStream, collect, openBody, rejectsWith, splitEvery, sse } from './coze-client-support.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

/** The Coze configuration from raw environment text, as at start-up. */
const cozeConfig = (env: Record<string, string>) => readCozeConfig(readEnvironment(env));

describe('readCozeConfig', () => {
  test('is null when nothing about Coze is set', () => {
    assert.equal(cozeConfig({}), null);
    assert.equal(cozeConfig({ COZE_API_BASE: 'https://api.coze.com', COZE_API_TOKEN: '  ' }), null);
  });

  test('a token and a space give a config with the documented defaults', () => {
    const config = cozeConfig({ COZE_API_TOKEN: 'pat_x', COZE_SPACE_ID: '123' });
    assert.deepEqual(config, {
      baseUrl: 'https://api.coze.cn',
      spaceId: '123',
      auth: { kind: 'token', token: 'pat_x' },
      connectTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxRetries: 2,
      botListApi: 'auto',
    });
  });

  test('reads the base URL (trailing slash dropped), time-outs, retries and list endpoint', () => {
    const config = cozeConfig({
      COZE_API_TOKEN: 'pat_x',
      COZE_SPACE_ID: '1',
      COZE_API_BASE: 'https://api.coze.com/',
      COZE_CONNECT_TIMEOUT_MS: '2500',
      COZE_IDLE_TIMEOUT_MS: '30000',
      COZE_MAX_RETRIES: '0',
      COZE_BOT_LIST_API: 'published_bots_list',
    });
    assert.equal(config?.baseUrl, 'https://api.coze.com');
    assert.equal(config?.connectTimeoutMs, 2500);
    assert.equal(config?.idleTimeoutMs, 30_000);
    assert.equal(config?.maxRetries, 0);
    assert.equal(config?.botListApi, 'published_bots_list');
  });

  test('half a configuration throws an error naming the missing variable', () => {
    assert.throws(() => cozeConfig({ COZE_API_TOKEN: 'pat_x' }), /COZE_SPACE_ID/);
    assert.throws(() => cozeConfig({ COZE_SPACE_ID: '1' }), /COZE_API_TOKEN/);
    assert.throws(() => cozeConfig({ COZE_SPACE_ID: '1', COZE_OAUTH_APP_ID: 'a', COZE_OAUTH_PRIVATE_KEY: PEM }), /COZE_OAUTH_KEY_ID/);
    assert.throws(() => cozeConfig({ COZE_SPACE_ID: '1', COZE_OAUTH_KEY_ID: 'k', COZE_OAUTH_PRIVATE_KEY: PEM }), /COZE_OAUTH_APP_ID/);
    assert.throws(() => cozeConfig({ COZE_SPACE_ID: '1', COZE_OAUTH_APP_ID: 'a', COZE_OAUTH_KEY_ID: 'k' }), /COZE_OAUTH_PRIVATE_KEY/);
  });

  test('malformed values throw naming the variable, without echoing secrets', () => {
    assert.throws(() => cozeConfig({ COZE_API_TOKEN: 'pat_x', COZE_SPACE_ID: '1', COZE_IDLE_TIMEOUT_MS: 'soon' }), /COZE_IDLE_TIMEOUT_MS/);
    assert.throws(() => cozeConfig({ COZE_API_TOKEN: 'pat_x', COZE_SPACE_ID: '1', COZE_API_BASE: 'ftp://x' }), /COZE_API_BASE/);
    assert.throws(() => cozeConfig({ COZE_API_TOKEN: 'pat_x', COZE_SPACE_ID: '1', COZE_BOT_LIST_API: 'v2' }), /COZE_BOT_LIST_API/);
    assert.throws(() => cozeConfig({ COZE_API_TOKEN: 'pat_x', COZE_SPACE_ID: '1', COZE_OAUTH_APP_ID: 'a' }), /not both/);
    assert.throws(
      () => cozeConfig({ COZE_SPACE_ID: '1', COZE_OAUTH_APP_ID: 'a', COZE_OAUTH_KEY_ID: 'k', COZE_OAUTH_PRIVATE_KEY: 'secret-not-a-pem' }),
      (err: Error) => /PEM/.test(err.message) && !err.message.includes('secret-not-a-pem'),
    );
  });

  test('OAuth JWT settings: inline key with \\n escapes, or a key file', () => {
    const inline = cozeConfig({
      COZE_SPACE_ID: '1',
      COZE_OAUTH_APP_ID: 'app',
      COZE_OAUTH_KEY_ID: 'kid',
      COZE_OAUTH_PRIVATE_KEY: PEM.replace(/\n/g, '\\n'),
    });
    assert.deepEqual(inline?.auth, { kind: 'oauth-jwt', appId: 'app', keyId: 'kid', privateKeyPem: PEM });
    const dir = mkdtempSync(path.join(tmpdir(), 'coze-config-'));
    const file = path.join(dir, 'private_key.pem');
    writeFileSync(file, PEM);
    const fromFile = cozeConfig({
      COZE_SPACE_ID: '1',
      COZE_OAUTH_APP_ID: 'app',
      COZE_OAUTH_KEY_ID: 'kid',
      COZE_OAUTH_PRIVATE_KEY_FILE: file,
    });
    assert.equal(fromFile?.auth.kind === 'oauth-jwt' && fromFile.auth.privateKeyPem, PEM);
    assert.throws(
      () =>
        cozeConfig({
          COZE_SPACE_ID: '1',
          COZE_OAUTH_APP_ID: 'app',
          COZE_OAUTH_KEY_ID: 'kid',
          COZE_OAUTH_PRIVATE_KEY_FILE: path.join(dir, 'missing.pem'),
        }),
      /COZE_OAUTH_PRIVATE_KEY_FILE/,
    );
  });

  test('the OAuth audience follows the region of the base URL', () => {
    assert.equal(oauthAudienceFor('https://api.coze.cn'), 'api.coze.cn');
    assert.equal(oauthAudienceFor('https://api.coze.com'), 'api.coze.com');
    assert.equal(oauthAudienceFor('http://127.0.0.1:4000'), 'api.coze.cn');
  });
});

describe('CozeApiError', () => {
  test('known codes get clear user messages', () => {
    const auth = new CozeApiError({ code: 4100, cozeMsg: 'authentication is invalid', httpStatus: 401, logId: 'L1' });
    assert.match(auth.userMessage, /COZE_API_TOKEN/);
    assert.match(auth.userMessage, /COZE_API_BASE/);
    assert.match(auth.userMessage, /region/);
    assert.match(auth.message, /4100.*authentication is invalid.*HTTP 401.*logid L1/);
    assert.match(new CozeApiError({ code: 4015 }).userMessage, /not published to the API channel/);
    assert.match(new CozeApiError({ code: 4016 }).userMessage, /in progress/);
    assert.match(new CozeApiError({ code: CozeTransportCode.StreamEndedEarly }).userMessage, /ended before/);
    assert.match(new CozeApiError({ code: CozeTransportCode.BadResponse, httpStatus: 502 }).userMessage, /HTTP 502/);
    assert.match(new CozeApiError({ code: 987654 }).userMessage, /987654/);
  });

  test('retryable by default for 4013, 5000, 5xx, network and time-outs only', () => {
    assert.equal(new CozeApiError({ code: 4013 }).retryable, true);
    assert.equal(new CozeApiError({ code: 5000 }).retryable, true);
    assert.equal(new CozeApiError({ code: CozeTransportCode.BadResponse, httpStatus: 503 }).retryable, true);
    assert.equal(new CozeApiError({ code: CozeTransportCode.Network }).retryable, true);
    assert.equal(new CozeApiError({ code: 4100 }).retryable, false);
    assert.equal(new CozeApiError({ code: 4015 }).retryable, false);
    assert.equal(new CozeApiError({ code: CozeTransportCode.Timeout, retryable: false }).retryable, false);
  });

  test('token-like strings in a Coze message are redacted everywhere', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhIn0.c2lnbmF0dXJl';
    const err = new CozeApiError({ code: 4100, cozeMsg: `bad token pat_abc123 / czs_XYZ / ${jwt} / Bearer sk-live` });
    const everything = `${err.message} ${err.cozeMsg} ${err.userMessage} ${JSON.stringify(err)}`;
    for (const secret of ['pat_abc123', 'czs_XYZ', jwt, 'sk-live']) assert.ok(!everything.includes(secret), secret);
    assert.equal(redactSecrets('Bearer abc'), 'Bearer [redacted]');
  });
});

const enc = new TextEncoder();
const chat = (status: string, extra: object = {}) => ({ id: 'c1', conversation_id: 'v1', bot_id: 'b1', status, ...extra });
const delta = (content: string, extra: object = {}) => ({
  id: 'm1',
  conversation_id: 'v1',
  bot_id: 'b1',
  chat_id: 'c1',
  role: 'assistant',
  type: 'answer',
  content,
  content_type: 'text',
  ...extra,
});

const names = (events: CozeChatEvent[]) => events.map((e) => (e.event === 'unknown' ? `unknown:${e.name}` : e.event));

describe('readCozeChatStream', () => {
  const text = '你好，世界 🌍🚀 — café';
  const full =
    sse('conversation.chat.created', chat('created')) +
    sse('conversation.message.delta', delta(text.slice(0, 7))) +
    sse('conversation.message.delta', delta(text.slice(7))) +
    sse('conversation.chat.completed', chat('completed', { usage: { token_count: 3, output_count: 2, input_count: 1 } })) +
    sse('done', '"[DONE]"');

  test('gives the same events whether bytes come whole, one by one, or in odd splits (mid UTF-8)', async () => {
    const bytes = enc.encode(full);
    const whole = await collect((on) => readCozeChatStream(chunkedStream([bytes]), on));
    assert.deepEqual(names(whole), [
      'conversation.chat.created',
      'conversation.message.delta',
      'conversation.message.delta',
      'conversation.chat.completed',
    ]);
    assert.equal(answerText(whole), text);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      assert.deepEqual(await collect((on) => readCozeChatStream(chunkedStream(splitEvery(bytes, size)), on)), whole, `chunks of ${size}`);
    }
  });

  test('a bare [DONE] ends the stream too, and nothing after done is read', async () => {
    const events = await collect((on) =>
      readCozeChatStream(
        chunkedStream([
          enc.encode(
            sse('conversation.message.delta', delta('a')) +
              'event:done\ndata:[DONE]\n\n' +
              sse('conversation.message.delta', delta('late')),
          ),
        ]),
        on,
      ),
    );
    assert.deepEqual(names(events), ['conversation.message.delta', 'done']);
  });

  test('chat.failed is handed out (not thrown) and is terminal', async () => {
    const failed = chat('failed', { last_error: { code: 5000, msg: 'event interval error' } });
    const events = await collect((on) =>
      readCozeChatStream(
        chunkedStream([
          enc.encode(
            sse('conversation.message.delta', delta('a')) +
              sse('conversation.chat.failed', failed) +
              sse('conversation.message.delta', delta('after')),
          ),
        ]),
        on,
      ),
    );
    assert.deepEqual(names(events), ['conversation.message.delta', 'conversation.chat.failed']);
    const last = events.at(-1)!;
    assert.ok(last.event === 'conversation.chat.failed');
    assert.deepEqual(last.data.last_error, { code: 5000, msg: 'event interval error' });
  });

  test('an error event is handed out as {code, msg} and is terminal', async () => {
    const events = await collect((on) => readCozeChatStream(chunkedStream([enc.encode(sse('error', { code: 5000, msg: 'boom' }))]), on));
    assert.deepEqual(events, [{ event: 'error', data: { code: 5000, msg: 'boom' } }]);
  });

  test('an end without a terminal event throws StreamEndedEarly with the logid', async () => {
    await rejectsWith<CozeApiError>(
      collect((on) =>
        readCozeChatStream(chunkedStream([enc.encode(sse('conversation.message.delta', delta('a')))]), on, { logId: 'LOG-1' }),
      ),
      (err) => {
        assert.ok(err instanceof CozeApiError);
        assert.equal(err.code, CozeTransportCode.StreamEndedEarly);
        assert.equal(err.logId, 'LOG-1');
        assert.equal(err.retryable, false);
      },
    );
  });

  test('an end right after chat.completed (no done) is a normal end; a last event without its blank line still counts', async () => {
    assert.deepEqual(
      names(
        await collect((on) => readCozeChatStream(chunkedStream([enc.encode(sse('conversation.chat.completed', chat('completed')))]), on)),
      ),
      ['conversation.chat.completed'],
    );
    assert.deepEqual(
      names(
        await collect((on) =>
          readCozeChatStream(chunkedStream([enc.encode(sse('conversation.message.delta', delta('a')) + 'event:done\ndata:"[DONE]"')]), on),
        ),
      ),
      ['conversation.message.delta', 'done'],
    );
  });

  test('unknown events pass through; a known event with broken JSON is a BadResponse error', async () => {
    const events = await collect((on) =>
      readCozeChatStream(
        chunkedStream([enc.encode(sse('conversation.audio.transcript', { x: 1 }) + sse('ping', 'not json') + sse('done', '"[DONE]"'))]),
        on,
      ),
    );
    assert.deepEqual(events, [
      { event: 'unknown', name: 'conversation.audio.transcript', data: { x: 1 } },
      { event: 'unknown', name: 'ping', data: 'not json' },
      { event: 'done' },
    ]);
    await rejectsWith<CozeApiError>(
      collect((on) => readCozeChatStream(chunkedStream([enc.encode(sse('conversation.message.delta', '{"id":'))]), on)),
      (err) => {
        assert.equal(err.code, CozeTransportCode.BadResponse);
      },
    );
  });

  test('a consumer that falls behind pauses the body (so TCP slows Coze down) and reading on resumes it', async () => {
    const body = new Readable({ read() {} });
    for (let i = 0; i < 100; i++) body.push(enc.encode(sse('conversation.message.delta', delta(`d${i} `))));
    body.push(enc.encode(sse('done', '"[DONE]"')));
    body.push(null);
    const seen: string[] = [];
    let catchUp!: () => void;
    const behind = new Promise<void>((resolve) => (catchUp = resolve));
    const reading = readCozeChatStream(body, (event) => {
      seen.push(event.event === 'conversation.message.delta' ? event.data.content : event.event);
      return seen.length === 1 ? behind : undefined;
    });
    await new Promise<void>((resolve) => setImmediate(resolve)); // the body's first bytes are read
    assert.deepEqual(seen, ['d0 ']);
    assert.equal(body.isPaused(), true, 'the body waits for the consumer');
    assert.ok(body.readableLength > 0, 'bytes are left in the body, not all parsed into memory');
    catchUp();
    await reading;
    assert.equal(seen.length, 101);
    assert.equal(seen.at(-2), 'd99 ');
    assert.equal(seen.at(-1), 'done');
  });

  test('the time a consumer is behind is not silence: no time-out however long it takes', async () => {
    const body = new Readable({ read() {} });
    body.push(enc.encode(sse('conversation.message.delta', delta('a'))));
    let catchUp!: () => void;
    const behind = new Promise<void>((resolve) => (catchUp = resolve));
    const seen: string[] = [];
    const reading = readCozeChatStream(
      body,
      (event) => {
        seen.push(event.event);
        return seen.length === 1 ? behind : undefined;
      },
      { idleTimeoutMs: 20 },
    );
    setTimeout(() => {
      catchUp(); // behind for five time-outs
      body.push(enc.encode(sse('conversation.chat.completed', chat('completed'))));
    }, 100);
    await reading;
    assert.deepEqual(seen, ['conversation.message.delta', 'conversation.chat.completed']);
  });

  test('reasoning deltas with empty content keep reasoning_content', async () => {
    const events = await collect((on) =>
      readCozeChatStream(
        chunkedStream([enc.encode(sse('conversation.message.delta', delta('', { reasoning_content: 'think' })) + sse('done', '"[DONE]"'))]),
        on,
      ),
    );
    assert.ok(events[0]?.event === 'conversation.message.delta');
    assert.equal(events[0].data.reasoning_content, 'think');
    assert.equal(events[0].data.content, '');
  });

  test('silence past the idle time-out throws Timeout and destroys the body', async () => {
    const { body, destroyed } = openBody(enc.encode(sse('conversation.chat.created', chat('created'))));
    const seen: string[] = [];
    await rejectsWith<CozeApiError>(
      readCozeChatStream(body, (e) => void seen.push(e.event), { idleTimeoutMs: 50 }),
      (err) => {
        assert.equal(err.code, CozeTransportCode.Timeout);
        assert.equal(err.retryable, false);
      },
    );
    assert.deepEqual(seen, ['conversation.chat.created']);
    assert.ok(destroyed(), 'body destroyed');
  });

  test('an abort throws an AbortError at once and destroys the body', async () => {
    const { body, destroyed } = openBody(enc.encode(sse('conversation.chat.created', chat('created'))));
    const controller = new AbortController();
    await rejectsWith(
      readCozeChatStream(body, (e) => (e.event === 'conversation.chat.created' ? controller.abort() : undefined), {
        signal: controller.signal,
      }),
      (err) => assert.ok(isAbortError(err)),
    );
    assert.ok(destroyed(), 'body destroyed');
  });

  test('after an abort, not even an already-read event is handed out', async () => {
    const controller = new AbortController();
    const bytes = enc.encode(sse('conversation.chat.created', chat('created')) + sse('conversation.chat.in_progress', chat('in_progress')));
    const seen: string[] = [];
    await rejectsWith(
      readCozeChatStream(
        chunkedStream([bytes]),
        (e) => {
          seen.push(e.event);
          controller.abort();
        },
        { signal: controller.signal },
      ),
      (err) => assert.ok(isAbortError(err)),
    );
    assert.deepEqual(seen, ['conversation.chat.created']);
  });

  test('a consumer that throws ends the reading with its error and destroys the body', async () => {
    const { body, destroyed } = openBody(enc.encode(sse('conversation.chat.created', chat('created'))));
    const mistake = new Error('the consumer failed');
    await rejectsWith(
      readCozeChatStream(body, () => {
        throw mistake;
      }),
      (err) => assert.equal(err, mistake),
    );
    assert.ok(destroyed());
  });

  test('after chat.completed, the rest of the body (done) is read to its end (its connection can be reused), not cut off', async () => {
    const { body } = openBody(enc.encode(sse('conversation.chat.completed', chat('completed')) + sse('done', '"[DONE]"')));
    assert.deepEqual(names(await collect((on) => readCozeChatStream(body, on))), ['conversation.chat.completed']);
    const closed = once(body, 'close');
    body.push(enc.encode(': trailing bytes\n\n'));
    body.push(null);
    await closed;
    assert.equal(body.readableEnded, true, 'read to its end before it closed');
  });

  test('a body that errors mid-stream becomes StreamEndedEarly, never a silent end', async () => {
    const { body } = openBody(enc.encode(sse('conversation.message.delta', delta('a'))));
    body.destroy(new Error('aborted'));
    await rejectsWith<CozeApiError>(
      collect((on) => readCozeChatStream(body, on)),
      (err) => assert.equal(err.code, CozeTransportCode.StreamEndedEarly),
    );
  });
});
