// The HTTP plumbing under CozeClient: bearer auth, time-outs, the `{code, msg, data}` envelope,
// error mapping (always with the `x-tt-logid`), and retries of the calls that are safe to repeat.
// JSON calls go through fetch. The chat stream goes through node:http instead (postForStream): an
// open stream holds about 9 KB of heap that way against 36 KB through fetch's web streams, and every
// relayed event crosses fewer layers; a platform holds one such stream per user answering.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { wasOpenedAhead } from '../../http/spare-connection.js';
import type { CozeConfig } from './config.js';
import { CozeApiError, CozeErrorCode, CozeTransportCode } from './errors.js';
import type { CozeTokenSource } from './oauth.js';

export interface CozeLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * - `idempotent` (GETs, and a chat's cancel): retried on 4013, 5000, HTTP 5xx/429, network errors
 *   and connect time-outs;
 * - `rate-limit-only` (POSTs that create or change something): retried on 4013 / HTTP 429 only,
 *   where Coze has certainly not carried the request out;
 * - `never` (chats).
 * Retries wait `retryBaseDelayMs · 2^(attempt-1)`, with ±50 % jitter, capped at 8 s.
 */
export type RetryPolicy = 'idempotent' | 'rate-limit-only' | 'never';

export type QueryValue = string | number | boolean | undefined;

export interface JsonRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON; a FormData as multipart (fetch writes its boundary). */
  body?: unknown;
  /** Longest wait for the response headers, sending the body included (default: the connect time-out). */
  headersTimeoutMs?: number;
  retry: RetryPolicy;
  signal?: AbortSignal;
}

export interface TransportDeps {
  config: CozeConfig;
  fetch: typeof fetch;
  tokens: CozeTokenSource;
  logger: CozeLogger | undefined;
  retryBaseDelayMs: number;
}

/**
 * An AbortController for one call, tied to the caller's signal, with a re-armable timer: the
 * connect time-out until headers arrive, then the idle time-out while the body is read.
 * Not AbortSignal.timeout and AbortSignal.any: the request outlives each phase (a chat's stream
 * outlives the call), so a phase's time-out must stop when the phase ends, and the caller's signal
 * must let go of a chat's body left to drain for reuse; neither of those can be undone.
 */
export class CallControl {
  readonly #controller = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort = () => this.#controller.abort(this.#outer?.reason);
  #timer: NodeJS.Timeout | undefined;
  timedOut = false;

  constructor(outer?: AbortSignal) {
    this.#outer = outer;
    if (outer?.aborted) this.#controller.abort(outer.reason);
    else outer?.addEventListener('abort', this.#onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True when the caller (not a time-out) aborted. */
  get callerAborted(): boolean {
    return this.#outer?.aborted === true;
  }

  get callerReason(): unknown {
    return this.#outer?.reason;
  }

  arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort(new DOMException('Coze call timed out', 'TimeoutError'));
    }, ms);
  }

  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and forgets the caller's signal; the request is left to whoever reads its body. */
  detach(): void {
    this.disarm();
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
  }

  /** Like detach(), and stops the request (releasing its socket) if it is still running. */
  close(): void {
    this.detach();
    if (!this.#controller.signal.aborted) this.#controller.abort(new DOMException('Coze call finished', 'AbortError'));
  }
}

/** A thrown fetch/body error → the caller's abort reason, or a CozeApiError (time-out / network). */
export function transportError(
  err: unknown,
  ctl: CallControl,
  phase: 'connect' | 'read',
  logId: string | null,
  retryable?: boolean,
): unknown {
  if (ctl.callerAborted) return ctl.callerReason;
  if (err instanceof CozeApiError) return err;
  if (ctl.timedOut) {
    return new CozeApiError({
      code: CozeTransportCode.Timeout,
      cozeMsg: phase === 'connect' ? 'no response headers within the connect time-out' : 'the response body stalled past the idle time-out',
      logId,
      retryable,
      cause: err,
    });
  }
  // fetch wraps the socket's error (`cause.code`); node:http throws it as is.
  const failure = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const causeCode = failure?.cause?.code ?? failure?.code;
  return new CozeApiError({
    code: CozeTransportCode.Network,
    cozeMsg: `${phase === 'connect' ? 'request failed' : 'connection broke while reading the response'}${typeof causeCode === 'string' ? ` (${causeCode})` : ''}`,
    logId,
    retryable,
    cause: err,
  });
}

export class CozeTransport {
  readonly #deps: TransportDeps;

  constructor(deps: TransportDeps) {
    this.#deps = deps;
  }

  get config(): CozeConfig {
    return this.#deps.config;
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    const url = new URL(`${this.#deps.config.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** Sends a JSON call and returns the envelope's `data`; throws CozeApiError for any non-zero code. */
  async requestJson<T>(req: JsonRequest): Promise<T> {
    const { maxRetries } = this.#deps.config;
    let attempt = 0;
    let authRenewed = false;
    for (;;) {
      const token = await this.#deps.tokens.getToken(req.signal);
      try {
        return (await this.#requestJsonOnce(req, token)) as T;
      } catch (err) {
        if (!(err instanceof CozeApiError)) throw err;
        if (err.code === CozeErrorCode.AuthInvalid && this.#deps.tokens.renewable && !authRenewed) {
          // An OAuth access token Coze no longer accepts: fetch a new one once.
          this.#deps.tokens.invalidate(token);
          authRenewed = true;
          continue;
        }
        if (attempt >= maxRetries || !mayRetry(req.retry, err)) throw err;
        attempt += 1;
        const delayMs = backoffMs(this.#deps.retryBaseDelayMs, attempt);
        this.#deps.logger?.warn(
          { coze: { path: req.path, code: err.code, httpStatus: err.httpStatus, logId: err.logId, attempt, delayMs } },
          'Coze call failed; retrying',
        );
        await waitBeforeRetry(delayMs, req.signal);
      }
    }
  }

  async #requestJsonOnce(req: JsonRequest, token: string): Promise<unknown> {
    const { connectTimeoutMs, idleTimeoutMs } = this.#deps.config;
    const ctl = new CallControl(req.signal);
    try {
      ctl.arm(req.headersTimeoutMs ?? connectTimeoutMs);
      let res: Response;
      try {
        res = await this.#deps.fetch(this.url(req.path, req.query), {
          method: req.method,
          headers: jsonHeaders(token, req.body !== undefined && !(req.body instanceof FormData)),
          body: req.body === undefined || req.body instanceof FormData ? req.body : JSON.stringify(req.body),
          signal: ctl.signal,
        });
      } catch (err) {
        throw transportError(err, ctl, 'connect', null);
      }
      const logId = res.headers.get('x-tt-logid');
      ctl.arm(idleTimeoutMs);
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        throw transportError(err, ctl, 'read', logId);
      }
      ctl.disarm();
      return parseEnvelope(text, res, logId, token);
    } finally {
      ctl.close();
    }
  }
}

function jsonHeaders(token: string, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  if (hasBody) headers['Content-Type'] = 'application/json';
  return headers;
}

/** Headers for `POST /v3/chat` with `stream: true`. */
export function streamHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, Accept: 'text/event-stream', 'Content-Type': 'application/json' };
}

/**
 * POSTs a JSON body and resolves with the response once its headers arrive; its body is a Node
 * stream. Aborting `signal` destroys the request, and the response with it. `agent` pools the
 * connections (an https.Agent for https).
 */
export function postForStream(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  agent: http.Agent,
): Promise<IncomingMessage> {
  const send = (mayResend: boolean) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const target = new URL(url);
      const request = (target.protocol === 'https:' ? https : http).request(target, {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        signal,
        agent,
      });
      let answered = false;
      request.on('response', (res) => {
        answered = true;
        resolve(res);
      });
      // Kept for the request's life: a later error (the body breaking) reaches the response's reader.
      request.on('error', (error: NodeJS.ErrnoException) => {
        // A connection the server closed while it sat idle (kept alive, or opened ahead) fails the next
        // request sent on it, before any answer: the server dropped the connection, not the chat. Sent
        // again, once, on a new connection (the case Node's `reusedSocket` is there for).
        const waitedOnConnection = request.reusedSocket || wasOpenedAhead(request.socket);
        const idleConnectionClosed = waitedOnConnection && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        if (mayResend && idleConnectionClosed) resolve(send(false));
        else reject(error);
      });
      request.flushHeaders(); // on their own, as the response's are (see CompletionStream)
      request.end(body);
    });
  return send(true);
}

/** A JSON answer where a chat stream was due is an error of a few hundred bytes. */
const MAX_REFUSAL_BYTES = 64 * 1024;

/** Reads a small, non-stream response body as text; a larger one is dropped (BadResponse). */
export async function readText(res: IncomingMessage, logId: string | null = null): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REFUSAL_BYTES) {
      res.destroy();
      throw new CozeApiError({
        code: CozeTransportCode.BadResponse,
        cozeMsg: `a non-stream answer over ${MAX_REFUSAL_BYTES} bytes`,
        httpStatus: res.statusCode ?? null,
        logId,
        retryable: false,
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** What parseEnvelope needs of a response, from fetch or node:http. */
export interface ResponseStatus {
  status: number;
  statusText: string;
}

/**
 * A Coze `{code, msg, data}` body → its data, or the CozeApiError it describes. A body that is not a
 * Coze envelope is an error too: with its HTTP status when non-2xx, else BadResponse.
 */
export function parseEnvelope(text: string, res: ResponseStatus, logId: string | null, token: string): unknown {
  const ok = isSuccess(res.status);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body !== null && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const code =
      typeof record.code === 'number'
        ? record.code
        : typeof record.code === 'string' && /^-?\d+$/.test(record.code)
          ? Number(record.code)
          : null;
    if (code !== null && code !== 0) {
      const msg = typeof record.msg === 'string' ? record.msg.split(token).join('[redacted]') : '';
      throw CozeApiError.fromBody({ code, msg, detail: record.detail }, res.status, logId);
    }
    if (code === 0 && ok) return record.data;
  }
  throw new CozeApiError({
    code: CozeTransportCode.BadResponse,
    cozeMsg: ok ? 'the response is not a Coze JSON body' : `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
    httpStatus: res.status,
    logId,
  });
}

function mayRetry(policy: RetryPolicy, err: CozeApiError): boolean {
  if (policy === 'never') return false;
  const rateLimited = err.code === CozeErrorCode.RateLimited || err.httpStatus === 429;
  if (policy === 'rate-limit-only') return rateLimited;
  return rateLimited || err.retryable;
}

function backoffMs(baseMs: number, attempt: number): number {
  const exponential = Math.min(8_000, baseMs * 2 ** (attempt - 1));
  return Math.round(exponential * (0.5 + Math.random()));
}

/** Waits `ms`; an abort ends the wait with the caller's own reason, as it ends a request. */
function waitBeforeRetry(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}
