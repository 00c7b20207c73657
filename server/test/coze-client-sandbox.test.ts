// The Coze client against the sandbox's Coze-compatible API, over real HTTP.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { BOTS, startSandbox } from '@agentport/sandbox';
import { CozeClient } from '../src/coze/openapi/client.js';
import type { CozeConfig } from '../src/coze/openapi/config.js';
import { CozeApiError, CozeTransportCode, isAbortError } from '../src/coze/openapi/errors.js';
import type { CozeChatEvent, CozeChatEventHandler } from '../src/coze/openapi/stream.js';
import { OutboundError } from '../src/http/outbound.js';
import { answerText, collect, rejectsWith } from './coze-client-support.js';
import { eventually } from './support.js';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const OAUTH_APP = {
  appId: 'sandbox-app',
  keyId: 'sandbox-key',
  publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};
const PRIVATE_KEY_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const names = (events: CozeChatEvent[]) =>
  events.map((e) =>
    e.event === 'conversation.message.completed' || e.event === 'conversation.message.delta' ? `${e.event}:${e.data.type}` : e.event,
  );

/** Reads a chat's state straight from the sandbox (the client has no retrieve call). */
async function chatStatus(sb: Sandbox, conversationId: string, chatId: string): Promise<string> {
  const res = await fetch(`${sb.cozeBaseUrl}/v3/chat/retrieve?conversation_id=${conversationId}&chat_id=${chatId}`, {
    headers: { Authorization: `Bearer ${sb.token}` },
  });
  const body = (await res.json()) as { data?: { status?: string } };
  return body.data?.status ?? 'unknown';
}

/** Asks until the chat has left `in_progress` (each ask is a round trip, no timers). */
async function settledStatus(sb: Sandbox, conversationId: string, chatId: string): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const status = await chatStatus(sb, conversationId, chatId);
    if (status !== 'in_progress') return status;
  }
  throw new Error('chat still in progress');
}

describe('Coze client against the sandbox', () => {
  let sb: Sandbox;
  let config: CozeConfig;
  let client: CozeClient;

  before(async () => {
    sb = await startSandbox({ oauthApp: OAUTH_APP, quiet: true });
    config = {
      baseUrl: sb.cozeBaseUrl,
      spaceId: sb.spaceId,
      auth: { kind: 'token', token: sb.token },
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 10_000,
      maxRetries: 0,
    };
    client = new CozeClient(config);
  });
  after(() => sb.close());

  const chat =
    (
      botId: string,
      message: string,
      extra: { conversationId?: string; customVariables?: Record<string, string>; signal?: AbortSignal } = {},
    ) =>
    (onEvent: CozeChatEventHandler) =>
      client.streamChat({ botId, userId: 'user-1', message, ...extra }, onEvent);

  describe('bots', () => {
    test('both list endpoints page through the same published bots, normalised alike', async () => {
      const current = new CozeClient({ ...config, botListApi: 'bots' });
      const legacy = new CozeClient({ ...config, botListApi: 'published_bots_list' });
      // Icon URLs are signed with an expiry counted from now: two listings a second apart differ there only.
      const unsigned = (page: Awaited<ReturnType<typeof current.listPublishedBots>>) => ({
        ...page,
        items: page.items.map((b) => ({ ...b, iconUrl: b.iconUrl?.split('?')[0] })),
      });
      const all = await current.listPublishedBots({ page: 1, pageSize: 100 });
      assert.deepEqual(unsigned(await legacy.listPublishedBots({ page: 1, pageSize: 100 })), unsigned(all));
      assert.ok(all.total >= 10);
      assert.equal(all.items.length, all.total);
      assert.ok(!all.items.some((b) => b.botId === BOTS.unpublished.id), 'unpublished bots are not listed');

      const travel = all.items.find((b) => b.botId === BOTS.travel.id);
      assert.equal(travel?.name, BOTS.travel.name);
      assert.equal(travel?.description, BOTS.travel.description);
      assert.match(travel?.iconUrl ?? '', /^http:\/\/.+x-expires=\d+/);
      assert.equal(travel?.publishedAt, new Date(BOTS.travel.publishedAt * 1000).toISOString());

      for (const c of [current, legacy]) {
        const page1 = await c.listPublishedBots({ page: 1, pageSize: 3 });
        const page2 = await c.listPublishedBots({ page: 2, pageSize: 3 });
        assert.equal(page1.total, all.total);
        assert.deepEqual(unsigned({ ...page1, items: [...page1.items, ...page2.items] }).items, unsigned(all).items.slice(0, 6));
      }
      const paths = sb.requests.map((r) => r.path);
      assert.ok(paths.includes('/v1/bots') && paths.includes('/v1/space/published_bots_list'));
    });

    test('the default (auto) listing uses /v1/bots', async () => {
      sb.clearRequests();
      await client.listPublishedBots({ page: 1, pageSize: 5 });
      assert.deepEqual(
        sb.requests.map((r) => r.path),
        ['/v1/bots'],
      );
      assert.equal(sb.requests[0]?.query.publish_status, 'published_online');
      assert.equal(sb.requests[0]?.query.connector_id, '1024');
    });

    test('a bot detail carries the opening statement, questions and variables', async () => {
      const bot = await client.getBot(BOTS.travel.id);
      assert.equal(bot.botId, BOTS.travel.id);
      assert.equal(bot.name, BOTS.travel.name);
      assert.equal(bot.openingStatement, BOTS.travel.prologue);
      assert.deepEqual(bot.openingQuestions, [...BOTS.travel.suggestedQuestions]);
      assert.deepEqual(
        bot.variables,
        BOTS.travel.variables.map((v) => ({
          keyword: v.keyword,
          defaultValue: v.default_value,
          description: v.description,
          enabled: v.enable,
        })),
      );
    });

    test('an unknown bot is a 4200 CozeApiError with a logid', async () => {
      await rejectsWith<CozeApiError>(client.getBot('7499999999999999999'), (e) => {
        assert.equal(e.code, 4200);
        assert.ok(e.logId);
      });
    });
  });

  describe('chat', () => {
    test('a full echo chat: the typed event sequence, in a conversation created first', async () => {
      const { id: conversationId } = await client.createConversation({ botId: BOTS.echo.id });
      assert.match(conversationId, /^\d+$/);
      const events = await collect(chat(BOTS.echo.id, 'hello', { conversationId }));
      const seq = names(events);
      assert.deepEqual(seq.slice(0, 2), ['conversation.chat.created', 'conversation.chat.in_progress']);
      assert.deepEqual(seq.slice(-5), [
        'conversation.message.completed:answer',
        'conversation.message.completed:verbose',
        'conversation.message.completed:follow_up',
        'conversation.message.completed:follow_up',
        'conversation.chat.completed',
      ]);
      assert.ok(seq.slice(2, -5).every((n) => n === 'conversation.message.delta:answer'));
      assert.equal(answerText(events), 'Turn 1: you said "hello"');
      for (const e of events) {
        if (e.event !== 'done' && e.event !== 'unknown' && e.event !== 'error') assert.equal(e.data.conversation_id, conversationId);
      }
      const completed = events.find((e) => e.event === 'conversation.chat.completed');
      assert.ok(completed?.event === 'conversation.chat.completed');
      assert.ok(completed.data.usage && completed.data.usage.token_count > 0);

      const second = await collect(chat(BOTS.echo.id, 'again', { conversationId, customVariables: { nickname: 'Ann' } }));
      assert.equal(answerText(second), 'Turn 2: you said "again" (previous: "hello") [vars: nickname=Ann]');
    });

    test('without a conversation id, Coze issues one in every event', async () => {
      const events = await collect(chat(BOTS.echo.id, 'fresh'));
      const created = events[0];
      assert.ok(created?.event === 'conversation.chat.created');
      assert.match(created.data.conversation_id, /^\d+$/);
    });

    test('multi-answer: two answer messages with their own ids', async () => {
      const events = await collect(chat(BOTS.multiAnswer.id, 'go'));
      const answers = events.flatMap((e) => (e.event === 'conversation.message.completed' && e.data.type === 'answer' ? [e.data] : []));
      assert.equal(answers.length, 2);
      assert.notEqual(answers[0]?.id, answers[1]?.id);
      assert.deepEqual(
        answers.map((a) => a.content),
        ['First answer: here is part one.', 'Second answer: and here is part two.'],
      );
    });

    test('internals arrive typed, so a consumer can keep them from users', async () => {
      const events = await collect(chat(BOTS.internals.id, 'weather?'));
      const types = new Set(events.flatMap((e) => (e.event === 'conversation.message.completed' ? [e.data.type] : [])));
      for (const t of ['function_call', 'tool_response', 'tool_output', 'knowledge', 'verbose', 'answer']) assert.ok(types.has(t), t);
      assert.ok(!answerText(events).includes('INTERNAL_TOOL_PAYLOAD'));
      assert.equal(answerText(events), 'Let me check the weather tool. The forecast says sunny, 24°C.');
    });

    test('reasoning: reasoning_content deltas with empty content come before the answer', async () => {
      const events = await collect(chat(BOTS.reasoning.id, 'why'));
      const deltas = events.flatMap((e) => (e.event === 'conversation.message.delta' ? [e.data] : []));
      const reasoning = deltas
        .filter((d) => d.reasoning_content)
        .map((d) => d.reasoning_content)
        .join('');
      assert.equal(reasoning, 'Let me think. The user said "why". A short, direct answer is best.');
      assert.ok(deltas.filter((d) => d.reasoning_content).every((d) => d.content === ''));
      assert.equal(answerText(events), 'After thinking: you said "why".');
    });

    test('split bytes: CJK and emoji cut across 1–3-byte writes arrive intact', async () => {
      const events = await collect(chat(BOTS.splitBytes.id, 'hi'));
      assert.equal(answerText(events), '你好，世界 🌍🚀 — café');
      assert.equal(names(events).at(-1), 'conversation.chat.completed');
    });

    test('chat.failed mid-stream is handed out, typed, and ends the reading', async () => {
      const events = await collect(chat(BOTS.failMidStream.id, 'x'));
      const last = events.at(-1);
      assert.ok(last?.event === 'conversation.chat.failed');
      assert.deepEqual(last.data.last_error, { code: 5000, msg: 'event interval error' });
      assert.equal(answerText(events), 'This answer will not finish ');
    });

    test('an error event is handed out as {code, msg} and ends the reading', async () => {
      const events = await collect(chat(BOTS.errorEvent.id, 'x'));
      assert.deepEqual(events.at(-1), { event: 'error', data: { code: 5000, msg: 'internal error: the model stopped responding' } });
    });

    test('a dropped connection throws StreamEndedEarly — never a silent end', async () => {
      const seen: CozeChatEvent[] = [];
      await rejectsWith<CozeApiError>(
        chat(BOTS.dropConnection.id, 'x')((e) => void seen.push(e)),
        (e) => {
          assert.ok(e instanceof CozeApiError, String(e));
          assert.equal(e.code, CozeTransportCode.StreamEndedEarly);
          assert.ok(e.logId, 'logid kept');
        },
      );
      assert.equal(answerText(seen), 'This answer will not finish ');
    });

    test('an unpublished bot: JSON 4015 instead of a stream → CozeApiError with a clear userMessage', async () => {
      await rejectsWith<CozeApiError>(collect(chat(BOTS.unpublished.id, 'x')), (e) => {
        assert.equal(e.code, 4015);
        assert.match(e.userMessage, /not published to the API channel/);
        assert.ok(e.logId);
      });
    });

    test('an unknown conversation id is 4200; a busy conversation is 4016', async () => {
      await rejectsWith<CozeApiError>(collect(chat(BOTS.echo.id, 'x', { conversationId: '7488888888888888888' })), (e) =>
        assert.equal(e.code, 4200),
      );
      const { id: conversationId } = await client.createConversation({ botId: BOTS.slow.id });
      const controller = new AbortController();
      let streaming!: () => void;
      const started = new Promise<void>((resolve) => (streaming = resolve));
      const running = chat(BOTS.slow.id, 'long', { conversationId, signal: controller.signal })(() => streaming());
      await started; // the first chat is streaming
      await rejectsWith<CozeApiError>(collect(chat(BOTS.slow.id, 'second', { conversationId })), (e) => assert.equal(e.code, 4016));
      controller.abort();
      await rejectsWith(running, (err) => assert.ok(isAbortError(err)));
    });

    test('a bad token is 4100 with a region hint, and the token appears nowhere in the error', async () => {
      const badToken = 'pat_WRONG_region_token_0123456789';
      const bad = new CozeClient({ ...config, auth: { kind: 'token', token: badToken } });
      for (const call of [
        () => bad.listPublishedBots({ page: 1, pageSize: 5 }),
        () => collect((on) => bad.streamChat({ botId: BOTS.echo.id, userId: 'u', message: 'x' }, on)),
      ]) {
        const err = await rejectsWith<CozeApiError>(call(), (e) => {
          assert.equal(e.code, 4100);
          assert.match(e.userMessage, /COZE_API_TOKEN/);
          assert.match(e.userMessage, /COZE_API_BASE/);
        });
        for (const text of [err.message, err.userMessage, err.cozeMsg, JSON.stringify(err), String(err.stack)])
          assert.ok(!text.includes(badToken));
      }
    });

    test('abort mid-stream stops at once: the reading rejects promptly and the sandbox sees the chat end', async () => {
      const controller = new AbortController();
      let chatId = '';
      let conversationId = '';
      let abortedAt = 0;
      await rejectsWith(
        chat(BOTS.slow.id, 'long', { signal: controller.signal })((e) => {
          assert.ok(!controller.signal.aborted, 'no event after the abort');
          if (e.event === 'conversation.chat.created') ({ id: chatId, conversation_id: conversationId } = e.data);
          if (e.event === 'conversation.message.delta' && !abortedAt) {
            abortedAt = performance.now();
            controller.abort();
          }
        }),
        (err) => assert.ok(isAbortError(err), String(err)),
      );
      assert.ok(performance.now() - abortedAt < 1_000, 'the reading did not wait for the stream to end');
      // The slow bot would stream for ~15 s; the sandbox saw the socket close and ended the chat.
      assert.equal(await settledStatus(sb, conversationId, chatId), 'canceled');
    });

    test('cancel marks a running chat canceled; a finished chat answers 4104', async () => {
      const controller = new AbortController();
      let firstEvent!: (event: CozeChatEvent) => void;
      const first = new Promise<CozeChatEvent>((resolve) => (firstEvent = resolve));
      const reading = chat(BOTS.slow.id, 'long', { signal: controller.signal })(firstEvent);
      reading.catch(() => {}); // the cancel may end the stream before the abort below: its rejection is awaited there
      const created = await first;
      assert.ok(created.event === 'conversation.chat.created');
      const { id: chatId, conversation_id: conversationId } = created.data;
      await client.cancelChat({ conversationId, chatId });
      assert.equal(await chatStatus(sb, conversationId, chatId), 'canceled');
      controller.abort(); // closing the stream is the caller's job
      await rejectsWith(reading, (err) => assert.ok(isAbortError(err) || err instanceof CozeApiError, String(err)));
      await rejectsWith<CozeApiError>(client.cancelChat({ conversationId, chatId }), (e) => assert.equal(e.code, 4104));
    });
  });

  describe('OAuth JWT', () => {
    test('one exchange for many calls; renewed in the background before its absolute expiry', async () => {
      let offsetMs = 0;
      const exchanges = () => sb.requests.filter((r) => r.path === '/api/permission/oauth2/token').length;
      // The clock jumps ahead to near the first token's expiry; the second token is as fresh as the
      // sandbox made it (the same offset would put it near its own expiry and renew it too).
      const oauth = new CozeClient(
        { ...config, auth: { kind: 'oauth-jwt', appId: OAUTH_APP.appId, keyId: OAUTH_APP.keyId, privateKeyPem: PRIVATE_KEY_PEM } },
        { now: () => Date.now() + (exchanges() < 2 ? offsetMs : 0) },
      );
      sb.clearRequests();
      await Promise.all([oauth.listPublishedBots({ page: 1, pageSize: 2 }), oauth.getBot(BOTS.echo.id)]);
      await oauth.createConversation({ botId: BOTS.echo.id });
      assert.equal(exchanges(), 1);
      const events = await collect((on) => oauth.streamChat({ botId: BOTS.echo.id, userId: 'u', message: 'via oauth' }, on));
      assert.equal(answerText(events), 'Turn 1: you said "via oauth"');
      assert.equal(exchanges(), 1);
      const apiAuth = () =>
        sb.requests.filter((r) => r.path !== '/api/permission/oauth2/token').map((r) => String(r.headers.authorization));
      assert.ok(apiAuth().every((h) => /^Bearer czs_/.test(h)));

      const first = apiAuth().at(-1);
      offsetMs = (900 - 30) * 1000; // 30 s before the absolute expiry the sandbox gave
      await oauth.getBot(BOTS.echo.id);
      assert.equal(apiAuth().at(-1), first, 'this call went on with the token it had');
      await eventually(async () => {
        await oauth.getBot(BOTS.echo.id);
        return apiAuth().at(-1) !== first;
      });
      assert.equal(exchanges(), 2, 'a new access token, from one exchange');
    });
  });

  describe('icons', () => {
    const opts = { maxBytes: 1024 * 1024, timeoutMs: 5_000 };
    const iconOf = async (botId: string) => (await client.getBot(botId)).iconUrl;

    test('downloads a PNG avatar without the Coze token', async () => {
      sb.clearRequests();
      const icon = await client.downloadIcon(await iconOf(BOTS.travel.id), opts);
      assert.equal(icon.contentType, 'image/png');
      assert.deepEqual([...icon.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
      const iconRequest = sb.requests.find((r) => r.path.startsWith('/icons/'));
      if (iconRequest) assert.equal(iconRequest.headers.authorization, undefined);
    });

    test('too big, HTML, broken and non-http icons are refused with a reason', async () => {
      const reason = (r: string) => (e: OutboundError) => {
        assert.ok(e instanceof OutboundError, String(e));
        assert.equal(e.reason, r);
      };
      await rejectsWith(client.downloadIcon(await iconOf(BOTS.hugeIcon.id), opts), reason('too-large'));
      await rejectsWith(client.downloadIcon(await iconOf(BOTS.htmlIcon.id), opts), reason('not-image'));
      await rejectsWith(client.downloadIcon(await iconOf(BOTS.brokenIcon.id), opts), reason('http-status'));
      await rejectsWith(client.downloadIcon('ftp://example.com/icon.png', opts), reason('invalid-url'));
    });
  });
});
