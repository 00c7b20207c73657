// The HTTP server: records every request, answers the control endpoints, dispatches the routes.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthApp, RequestContext, SandboxCore } from './context.js';
import { iconUrl } from './coze/icons.js';
import { newLogId, readBody, sendJson } from './http.js';
import { AUTH_CHECKS, ROUTES } from './routes.js';
import { TickerPool } from './ticker.js';

export interface SandboxOptions {
  /** Default 0 (a random free port); the host is always 127.0.0.1. */
  port?: number;
  /** The accepted personal access token; default 'pat_sandbox_token'. */
  token?: string;
  /** The space (workspace) holding the bots; default '7350000000000000001'. */
  spaceId?: string;
  /** Enables the OAuth JWT exchange (POST /api/permission/oauth2/token). */
  oauthApp?: OAuthApp;
  /** No request log on stderr. */
  quiet?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  /** When the request had arrived whole: wall-clock ms, to a fraction of a ms. */
  at: number;
  /** The client's TCP port: requests on one kept-alive connection share it. */
  clientPort: number;
}

export interface Sandbox {
  /** http://127.0.0.1:PORT */
  url: string;
  /** == url: Coze paths are at the root (/v1/…, /v3/…, /api/permission/oauth2/token). */
  cozeBaseUrl: string;
  /** url + '/openai/v1' */
  openaiBaseUrl: string;
  token: string;
  spaceId: string;
  /** Every request (Coze, OpenAI, icons; not /__sandbox/*), in order of arrival. */
  requests: RecordedRequest[];
  clearRequests(): void;
  /** Resolves with the first request (already seen or still to come) that matches; rejects after timeoutMs (default 10 s). */
  waitForRequest(match: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** A bot's signed icon URL, as the lists return it, optionally expiring at `expiresAt` (unix seconds; past = expired). */
  iconUrl(botId: string, expiresAt?: number): string;
  close(): Promise<void>;
}

interface Waiter {
  match: (r: RecordedRequest) => boolean;
  resolve: (r: RecordedRequest) => void;
  reject: (e: Error) => void;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const core: SandboxCore = {
    url: '',
    token: options.token ?? 'pat_sandbox_token',
    spaceId: options.spaceId ?? '7350000000000000001',
    ...(options.oauthApp ? { oauthApp: options.oauthApp } : {}),
    accessTokens: new Map(),
    seenJtis: new Set(),
    iconSecret: randomBytes(32),
    conversations: new Map(),
    flakyFailed: new Set(),
    chats: new Map(),
    files: new Map(),
    tickers: new TickerPool(),
  };
  const requests: RecordedRequest[] = [];
  const waiters = new Set<Waiter>();

  const record = (entry: RecordedRequest): void => {
    requests.push(entry);
    for (const waiter of waiters) {
      if (waiter.match(entry)) {
        waiters.delete(waiter);
        waiter.resolve(entry);
      }
    }
  };

  const server = createServer((req, res) => {
    handle(core, req, res, record, requests, options.quiet ?? false).catch((error: unknown) => {
      if (!options.quiet) console.error('[sandbox] handler failed:', error);
      if (!res.headersSent) sendJson(res, 500, { code: 5000, msg: 'sandbox internal error' });
      else res.destroy();
    });
  });
  // Idle connections stay open, without a Keep-Alive hint, until the client closes them (as behind
  // many CDNs): how long they last is the client's own choice, which tests can then see.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  core.url = `http://127.0.0.1:${port}`;

  return {
    url: core.url,
    cozeBaseUrl: core.url,
    openaiBaseUrl: `${core.url}/openai/v1`,
    token: core.token,
    spaceId: core.spaceId,
    requests,
    clearRequests: () => void requests.splice(0),
    waitForRequest(match, timeoutMs = 10_000) {
      const seen = requests.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`sandbox: no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter: Waiter = {
          match,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        waiters.add(waiter);
      });
    },
    iconUrl: (botId, expiresAt) => iconUrl(core, botId, expiresAt),
    async close() {
      for (const waiter of waiters) waiter.reject(new Error('sandbox closed'));
      waiters.clear();
      for (const run of core.chats.values()) run.abort.abort();
      core.tickers.stopAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function handle(
  core: SandboxCore,
  req: IncomingMessage,
  res: ServerResponse,
  record: (r: RecordedRequest) => void,
  requests: RecordedRequest[],
  quiet: boolean,
): Promise<void> {
  const started = Date.now();
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const logid = newLogId();
  res.setHeader('x-tt-logid', logid);
  if (!quiet) res.on('finish', () => console.error(`[sandbox] ${req.method} ${url.pathname} ${res.statusCode} ${Date.now() - started}ms`));

  if (url.pathname === '/__sandbox/requests') {
    if (req.method !== 'DELETE') return sendJson(res, 200, requests);
    requests.splice(0);
    res.writeHead(204).end();
    return;
  }

  const { body, malformed } = await readBody(req);
  const query = Object.fromEntries(url.searchParams);
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
  record({
    method: req.method ?? 'GET',
    path: url.pathname,
    query,
    headers,
    body,
    at: performance.timeOrigin + performance.now(),
    clientPort: req.socket.remotePort ?? 0,
  });

  for (const route of ROUTES) {
    const match = route.pattern.exec(url.pathname);
    if (!match || !route.methods.includes(req.method ?? '')) continue;
    const ctx: RequestContext = {
      req,
      res,
      path: url.pathname,
      query,
      body,
      malformed,
      logid,
      params: match.slice(1).map(decodeURIComponent),
      core,
    };
    if (!AUTH_CHECKS[route.auth](ctx)) return;
    return route.handler(ctx);
  }
  if (url.pathname.startsWith('/openai/'))
    return sendJson(res, 404, { error: { message: `Unknown path ${url.pathname}`, type: 'invalid_request_error' } });
  sendJson(res, 404, { code: 4000, msg: `no such API: ${req.method} ${url.pathname}`, detail: { logid } });
}
