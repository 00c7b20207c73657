// CozeClient: the typed Coze OpenAPI calls this project makes — list and read bots, create a
// conversation, stream a chat, cancel it, download a bot's avatar. Wire facts: docs/coze-openapi.md.
import { createHash } from 'node:crypto';
import type { Agent, IncomingMessage } from 'node:http';
import { IDLE_CONNECTION_MS } from '../../http/connections.js';
import type { ImageType } from '../../http/image-type.js';
import type { OutboundRules } from '../../http/outbound.js';
import { poolWithSpares } from '../../http/spare-connection.js';
import type { CozeBotListApi, CozeConfig } from './config.js';
import { CozeApiError, CozeErrorCode, CozeTransportCode } from './errors.js';
import {
  CallControl,
  CozeTransport,
  isSuccess,
  parseEnvelope,
  postForStream,
  readText,
  streamHeaders,
  transportError,
  type CozeLogger,
} from './http.js';
import { downloadIcon, iconRules, type IconDownloadOptions } from './icon.js';
import { createTokenSource, type CozeTokenSource } from './oauth.js';
import { readCozeChatStream, type CozeChatEventHandler } from './stream.js';

export interface CozeBotSummary {
  botId: string;
  name: string;
  description: string;
  /** Signed CDN URL that expires (`x-expires`): download it, don't store it. */
  iconUrl: string;
  /** ISO 8601, or null when Coze gives no time. */
  publishedAt: string | null;
}

export interface CozeBotVariable {
  keyword: string;
  defaultValue: string;
  description: string;
  enabled: boolean;
}

export interface CozeBotDetail extends CozeBotSummary {
  openingStatement: string;
  openingQuestions: string[];
  variables: CozeBotVariable[];
}

export interface CozeChatParams {
  botId: string;
  /** One stable id per end user (Coze keeps per-user memory under it). */
  userId: string;
  /** A Coze-issued conversation id; omitted → Coze starts one (every event carries its id). */
  conversationId?: string;
  /** Text, or text and files: sent as an object_string message (docs/coze-openapi.md, Files). */
  message: string | CozeObjectItem[];
  /**
   * Earlier turns to give the bot as context, oldest first: for a new Coze conversation that continues
   * a thread Coze does not hold. Only the newest that fit beside the message are sent.
   */
  history?: CozeHistoryMessage[];
  customVariables?: Record<string, string>;
  signal?: AbortSignal;
}

/** One item of an object_string message: at most one text, beside files uploaded to Coze (uploadFile). */
export type CozeObjectItem = { type: 'text'; text: string } | { type: 'image' | 'file'; file_id: string };

export interface CozeHistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** /v3/chat takes at most this many additional_messages, the new message included (docs/coze-openapi.md §3). */
export const MAX_ADDITIONAL_MESSAGES = 100;

export interface CozeClientOptions {
  /** For the JSON calls and the OAuth exchange (the chat stream uses node:http, http.ts says why; icons, icon.ts). */
  fetch?: typeof fetch;
  logger?: CozeLogger;
  /** First retry delay; doubles each attempt, with jitter (default 500 ms). */
  retryBaseDelayMs?: number;
  /** Clock in ms for OAuth token expiry; injectable for tests. */
  now?: () => number;
  /**
   * The chat stream's connection pool (an https.Agent for https); by default the client's own, which
   * also keeps connections open ahead of need (see poolWithSpares).
   */
  agent?: Agent;
}

export const COZE_API_CONNECTOR_ID = '1024';

/**
 * Chat connections kept open ahead of need. Under load chats arrive in bunches (all that came in while
 * the event loop was busy); with a few ready, a bunch's chats do not each wait for a handshake.
 */
export const SPARE_CONNECTIONS = 4;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** CozeClient.account: the base URL with a hash of the token (or the OAuth app and key), hashed again. */
export function cozeAccount(config: Pick<CozeConfig, 'baseUrl' | 'auth'>): string {
  const credential = config.auth.kind === 'token' ? sha256(config.auth.token) : `oauth:${config.auth.appId}:${config.auth.keyId}`;
  return sha256(`${config.baseUrl}\n${credential}`).slice(0, 32);
}

export class CozeClient {
  readonly #config: CozeConfig;
  readonly #fetch: typeof fetch;
  /** The chat stream's connection pool: connections to Coze kept between chats, and one opened ahead of need. */
  readonly agent: Agent;
  readonly #logger: CozeLogger | undefined;
  readonly #tokens: CozeTokenSource;
  readonly #http: CozeTransport;
  readonly #iconRules: OutboundRules;
  /** `auto` becomes the endpoint that answered first, for the life of the client. */
  #botListApi: CozeBotListApi;
  /**
   * Which Coze account this client speaks for: a hash of the base URL and the token (or the OAuth
   * app), so that what Coze issued one account (file ids) is not handed to another. Never the secret.
   */
  readonly account: string;

  constructor(config: CozeConfig, options: CozeClientOptions = {}) {
    this.#config = config;
    this.#fetch = options.fetch ?? globalThis.fetch;
    // A connection Coze closed while it waited costs no more than a new one: postForStream sends again.
    this.agent =
      options.agent ??
      poolWithSpares(
        new URL(config.baseUrl).protocol,
        { keepAlive: true, scheduling: 'lifo', timeout: IDLE_CONNECTION_MS },
        SPARE_CONNECTIONS,
      );
    this.#logger = options.logger;
    this.#tokens = createTokenSource(config.auth, {
      baseUrl: config.baseUrl,
      fetch: this.#fetch,
      connectTimeoutMs: config.connectTimeoutMs,
      now: options.now,
    });
    this.#http = new CozeTransport({
      config,
      fetch: this.#fetch,
      tokens: this.#tokens,
      logger: this.#logger,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
    });
    this.#botListApi = config.botListApi ?? 'auto';
    this.#iconRules = iconRules(config.baseUrl);
    this.account = cozeAccount(config);
  }

  /**
   * The workspace's bots published to the API channel, one page (1-based).
   *
   * Endpoint (config `botListApi`, env COZE_BOT_LIST_API): by default (`auto`) the current
   * `GET /v1/bots?workspace_id=&publish_status=published_online&connector_id=1024`, and when that
   * is not available (HTTP 404/405/501, an "unsupported" answer, or 4200) the deprecated
   * `GET /v1/space/published_bots_list`; whichever answers is then kept for this client.
   */
  async listPublishedBots(p: {
    page: number;
    pageSize: number;
    signal?: AbortSignal;
  }): Promise<{ items: CozeBotSummary[]; total: number }> {
    const page = Math.max(1, Math.floor(p.page));
    const pageSize = Math.max(1, Math.floor(p.pageSize));
    if (this.#botListApi === 'published_bots_list') return this.#listLegacy(page, pageSize, p.signal);
    if (this.#botListApi === 'bots') return this.#listBots(page, pageSize, p.signal);
    try {
      const result = await this.#listBots(page, pageSize, p.signal);
      this.#botListApi = 'bots';
      return result;
    } catch (err) {
      if (!(err instanceof CozeApiError) || !(isEndpointUnavailable(err) || err.code === CozeErrorCode.NotFound)) throw err;
      this.#logger?.warn(
        { coze: { code: err.code, httpStatus: err.httpStatus, logId: err.logId } },
        'Coze GET /v1/bots unavailable; using /v1/space/published_bots_list',
      );
      const result = await this.#listLegacy(page, pageSize, p.signal);
      this.#botListApi = 'published_bots_list';
      return result;
    }
  }

  async #listBots(page: number, pageSize: number, signal?: AbortSignal): Promise<{ items: CozeBotSummary[]; total: number }> {
    const data = await this.#http.requestJson<Record<string, unknown> | undefined>({
      method: 'GET',
      path: '/v1/bots',
      query: {
        workspace_id: this.#config.spaceId,
        publish_status: 'published_online',
        connector_id: COZE_API_CONNECTOR_ID,
        page_num: page,
        page_size: pageSize,
      },
      retry: 'idempotent',
      signal,
    });
    const items = arrayOf(data?.items).map((raw) =>
      summary({
        id: raw.id ?? raw.bot_id,
        name: raw.name ?? raw.bot_name,
        description: raw.description,
        icon: raw.icon_url,
        time: raw.published_at ?? raw.publish_time,
      }),
    );
    return { items, total: totalOf(data?.total, items.length) };
  }

  async #listLegacy(page: number, pageSize: number, signal?: AbortSignal): Promise<{ items: CozeBotSummary[]; total: number }> {
    const data = await this.#http.requestJson<Record<string, unknown> | undefined>({
      method: 'GET',
      path: '/v1/space/published_bots_list',
      query: { space_id: this.#config.spaceId, page_index: page, page_size: pageSize },
      retry: 'idempotent',
      signal,
    });
    const items = arrayOf(data?.space_bots).map((raw) =>
      summary({
        id: raw.bot_id ?? raw.id,
        name: raw.bot_name ?? raw.name,
        description: raw.description,
        icon: raw.icon_url,
        time: raw.publish_time ?? raw.published_at,
      }),
    );
    return { items, total: totalOf(data?.total, items.length) };
  }

  /**
   * The published version of a bot: `GET /v1/bots/{id}?is_published=true`, falling back to the
   * deprecated `GET /v1/bot/get_online_info?bot_id=` when the former is not available (HTTP
   * 404/405/501 without a Coze body, or an "unsupported" answer). `publishedAt` is the bot's
   * `update_time` (the detail has no publish time of its own).
   */
  async getBot(botId: string, p: { signal?: AbortSignal } = {}): Promise<CozeBotDetail> {
    let data: Record<string, unknown> | undefined;
    try {
      data = await this.#http.requestJson({
        method: 'GET',
        path: `/v1/bots/${encodeURIComponent(botId)}`,
        query: { is_published: 'true' },
        retry: 'idempotent',
        signal: p.signal,
      });
    } catch (err) {
      if (!(err instanceof CozeApiError) || !isEndpointUnavailable(err)) throw err;
      this.#logger?.warn(
        { coze: { code: err.code, httpStatus: err.httpStatus, logId: err.logId } },
        'Coze GET /v1/bots/{id} unavailable; using /v1/bot/get_online_info',
      );
      data = await this.#http.requestJson({
        method: 'GET',
        path: '/v1/bot/get_online_info',
        query: { bot_id: botId },
        retry: 'idempotent',
        signal: p.signal,
      });
    }
    if (!data || typeof data !== 'object') {
      throw new CozeApiError({ code: CozeTransportCode.BadResponse, cozeMsg: 'bot detail answered without data' });
    }
    return botDetail(data, botId);
  }

  /** `POST /v1/conversation/create` → the Coze-issued conversation id. Retried on rate limiting only. */
  async createConversation(p: { botId: string; signal?: AbortSignal }): Promise<{ id: string }> {
    const data = await this.#http.requestJson<Record<string, unknown> | undefined>({
      method: 'POST',
      path: '/v1/conversation/create',
      body: { bot_id: p.botId },
      retry: 'rate-limit-only',
      signal: p.signal,
    });
    const id = idString(data?.id);
    if (!id) throw new CozeApiError({ code: CozeTransportCode.BadResponse, cozeMsg: 'conversation/create answered without an id' });
    return { id };
  }

  /**
   * `POST /v3/chat` with `stream: true`, each event handed to `onEvent` as it arrives (a promise back
   * pauses the reading: see CozeChatEventHandler). Never retried (except once with a fresh OAuth
   * token after a 4100, which Coze refuses before doing anything, and once on a new connection when a
   * pooled one turns out closed: see postForStream).
   *
   * - Errors Coze reports before streaming (a JSON body, whatever the HTTP status) and HTTP errors
   *   reject with CozeApiError; so do time-outs (code -2) and an early end (code -3), never retryable.
   * - `conversation.chat.failed` and `error` are handed out, not thrown, and end the chat: map them to
   *   the user-facing failure. On success the last event is `conversation.chat.completed` (or `done`).
   * - Aborting `signal` cancels the request/body at once and rejects with the signal's reason (an
   *   AbortError DOMException by default). Full stream rules: stream.ts.
   */
  async streamChat(p: CozeChatParams, onEvent: CozeChatEventHandler): Promise<void> {
    const body: Record<string, unknown> = {
      bot_id: p.botId,
      user_id: p.userId,
      stream: true,
      auto_save_history: true,
      additional_messages: [
        ...(p.history ?? []).slice(-(MAX_ADDITIONAL_MESSAGES - 1)).map((m) => ({
          role: m.role,
          type: m.role === 'user' ? 'question' : 'answer',
          content: m.content,
          content_type: 'text',
        })),
        typeof p.message === 'string'
          ? { role: 'user', type: 'question', content: p.message, content_type: 'text' }
          : { role: 'user', type: 'question', content: JSON.stringify(p.message), content_type: 'object_string' },
      ],
    };
    if (p.customVariables && Object.keys(p.customVariables).length > 0) body.custom_variables = p.customVariables;
    const url = this.#http.url('/v3/chat', { conversation_id: p.conversationId });
    const ctl = new CallControl(p.signal);
    try {
      const { res, logId } = await this.#openChat(url, JSON.stringify(body), ctl, p.signal);
      await readCozeChatStream(res, onEvent, {
        idleTimeoutMs: this.#config.idleTimeoutMs,
        maxEventChars: this.#config.maxEventChars,
        signal: p.signal,
        logId,
      });
    } finally {
      ctl.detach(); // the reader has let go of the body: drained for reuse once the chat is over, else destroyed
    }
  }

  /** Sends the chat request; resolves once an event stream has started, else throws what Coze said. */
  async #openChat(
    url: string,
    body: string,
    ctl: CallControl,
    signal?: AbortSignal,
  ): Promise<{ res: IncomingMessage; logId: string | null }> {
    for (let authRenewed = false; ;) {
      const token = await this.#tokens.getToken(signal);
      ctl.arm(this.#config.connectTimeoutMs);
      let res: IncomingMessage;
      try {
        res = await postForStream(url, streamHeaders(token), body, ctl.signal, this.agent);
      } catch (err) {
        throw transportError(err, ctl, 'connect', null, false);
      }
      ctl.disarm();
      const logId = headerValue(res, 'x-tt-logid');
      const contentType = (headerValue(res, 'content-type') ?? '').toLowerCase();
      if (isSuccess(res.statusCode ?? 0) && !contentType.includes('json')) return { res, logId };
      const err = await this.#chatRefusal(res, logId, token, ctl);
      if (err.code === CozeErrorCode.AuthInvalid && this.#tokens.renewable && !authRenewed) {
        this.#tokens.invalidate(token);
        authRenewed = true;
        continue;
      }
      throw err;
    }
  }

  /** A `/v3/chat` answer that is not an event stream → the CozeApiError it amounts to. */
  async #chatRefusal(res: IncomingMessage, logId: string | null, token: string, ctl: CallControl): Promise<CozeApiError> {
    ctl.arm(this.#config.idleTimeoutMs);
    const status = { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '' };
    let text: string;
    try {
      text = await readText(res, logId);
    } catch (err) {
      const mapped = transportError(err, ctl, 'read', logId, false);
      if (mapped instanceof CozeApiError) return mapped;
      throw mapped; // the caller aborted
    } finally {
      ctl.disarm();
    }
    try {
      parseEnvelope(text, status, logId, token);
    } catch (err) {
      if (err instanceof CozeApiError) return err;
      throw err;
    }
    // `{code: 0}` where a stream was due.
    return new CozeApiError({
      code: CozeTransportCode.BadResponse,
      cozeMsg: 'expected an event stream, got a JSON body',
      httpStatus: status.status,
      logId,
      retryable: false,
    });
  }

  /**
   * `POST /v1/files/upload` (multipart, the field `file`) → Coze's id for the file, usable in chats
   * of the same account. Retried like a GET: an upload sent twice only leaves a spare copy in Coze.
   */
  async uploadFile(p: { bytes: Buffer; name: string; contentType: string; signal?: AbortSignal }): Promise<{ id: string }> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(p.bytes)], { type: p.contentType }), p.name);
    const data = await this.#http.requestJson<Record<string, unknown> | undefined>({
      method: 'POST',
      path: '/v1/files/upload',
      body: form,
      // The headers come once the whole file is sent: the connect time-out plus a second per 100 KB.
      headersTimeoutMs: this.#config.connectTimeoutMs + Math.ceil(p.bytes.length / 100_000) * 1000,
      retry: 'idempotent',
      signal: p.signal,
    });
    const id = idString(data?.id);
    if (!id) throw new CozeApiError({ code: CozeTransportCode.BadResponse, cozeMsg: 'files/upload answered without an id' });
    return { id };
  }

  /**
   * `POST /v3/chat/cancel`: marks the chat canceled on Coze's side (closing the stream is the
   * caller's job). A finished chat answers 4104, thrown as CozeApiError. Retried like a GET: a chat
   * canceled twice stays canceled, while a lost cancel leaves Coze answering, and the conversation
   * busy (4016) for the user's next message.
   */
  async cancelChat(p: { conversationId: string; chatId: string; signal?: AbortSignal }): Promise<void> {
    await this.#http.requestJson({
      method: 'POST',
      path: '/v3/chat/cancel',
      body: { conversation_id: p.conversationId, chat_id: p.chatId },
      retry: 'idempotent',
      signal: p.signal,
    });
  }

  /**
   * Fetches a bot avatar from its (signed, expiring) CDN URL — without the Coze Authorization
   * header. Throws OutboundError, after logging why; see icon.ts for the rules.
   */
  downloadIcon(url: string, p: IconDownloadOptions): Promise<{ bytes: Buffer; contentType: ImageType }> {
    return downloadIcon(url, { ...p, rules: this.#iconRules, logger: this.#logger });
  }
}

/** The server does not offer this endpoint (as opposed to: the endpoint says no). */
export function isEndpointUnavailable(err: CozeApiError): boolean {
  if (err.code < 0 && err.httpStatus !== null && [404, 405, 501].includes(err.httpStatus)) return true;
  return (
    err.code > 0 && /unsupported|not supported|not implemented|no such (?:api|route|path)|unknown (?:api|route|path)/i.test(err.cozeMsg)
  );
}

function headerValue(res: IncomingMessage, name: string): string | null {
  const value = res.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

type Raw = Record<string, unknown>;

function arrayOf(value: unknown): Raw[] {
  return Array.isArray(value) ? value.filter((v): v is Raw => v !== null && typeof v === 'object') : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** Coze ids are 64-bit numbers sent as strings; accept a JSON number too (precision is the sender's problem). */
function idString(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'bigint' ? String(value) : '';
}

function totalOf(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** Unix seconds (number or numeric string; milliseconds tolerated) → ISO, or null for none/zero. */
export function unixToIso(value: unknown): string | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return null;
  const ms = n > 100_000_000_000 ? n : n * 1000;
  return new Date(ms).toISOString();
}

function summary(f: { id: unknown; name: unknown; description: unknown; icon: unknown; time: unknown }): CozeBotSummary {
  return {
    botId: idString(f.id),
    name: str(f.name),
    description: str(f.description),
    iconUrl: str(f.icon),
    publishedAt: unixToIso(f.time),
  };
}

function botDetail(data: Raw, requestedId: string): CozeBotDetail {
  const onboarding = (data.onboarding_info ?? {}) as Raw;
  const questions = onboarding.suggested_questions ?? onboarding.SuggestedQuestions;
  return {
    ...summary({
      id: data.bot_id ?? data.id ?? requestedId,
      name: data.name ?? data.bot_name,
      description: data.description,
      icon: data.icon_url,
      time: data.published_at ?? data.publish_time ?? data.update_time,
    }),
    openingStatement: str(onboarding.prologue ?? onboarding.Prologue),
    openingQuestions: Array.isArray(questions) ? questions.filter((q): q is string => typeof q === 'string' && q.trim() !== '') : [],
    variables: arrayOf(data.variables).map((v) => ({
      keyword: str(v.keyword),
      defaultValue: str(v.default_value),
      description: str(v.description),
      enabled: v.enable !== false && v.is_disabled !== true,
    })),
  };
}
