// Where the client's bearer token comes from: a fixed personal access token, or an access token
// obtained from Coze's OAuth JWT flow (server-to-server app) and cached until shortly before expiry.
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { oauthAudienceFor, type CozeAuth } from './config.js';
import { CozeApiError, CozeTransportCode } from './errors.js';

export interface CozeTokenSource {
  /** A bearer token for the next call. */
  getToken(signal?: AbortSignal): Promise<string>;
  /** Forget a cached token Coze has just refused (4100), so the next call gets a fresh one. */
  invalidate(token: string): void;
  /** True when invalidate() can yield a different token (worth one retry of a refused call). */
  readonly renewable: boolean;
}

export class StaticTokenSource implements CozeTokenSource {
  readonly renewable = false;
  readonly #token: string;
  constructor(token: string) {
    this.#token = token;
  }
  async getToken(): Promise<string> {
    return this.#token;
  }
  invalidate(): void {}
}

export const OAUTH_TOKEN_PATH = '/api/permission/oauth2/token';
/** A cached token with less time left than this is not used for a new call. */
const STILL_USABLE_SECONDS = 10;
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface OAuthJwtOptions {
  baseUrl: string;
  fetch: typeof fetch;
  connectTimeoutMs: number;
  /** Access-token lifetime asked of Coze (default 900 s, Coze's maximum is 86399 s). */
  durationSeconds?: number;
  /** Renew this long before the token's expiry (default 60 s). */
  renewBeforeSeconds?: number;
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
}

/**
 * Exchanges a freshly signed RS256 JWT (new `jti` each time; Coze accepts a JWT once) for an access
 * token and caches it. Coze's `expires_in` is an absolute Unix time; the token is renewed once the
 * clock is within `renewBeforeSeconds` of it, in the background while it still has time left.
 * Concurrent callers share one in-flight exchange.
 * The exchange itself is not retried: a failure surfaces as CozeApiError (code -5 for an OAuth
 * refusal, -1/-2 for transport), and the next call tries again.
 */
export class OAuthJwtTokenSource implements CozeTokenSource {
  readonly renewable = true;
  readonly #auth: Extract<CozeAuth, { kind: 'oauth-jwt' }>;
  readonly #options: OAuthJwtOptions;
  readonly #now: () => number;
  #key: KeyObject | null = null;
  #cached: { token: string; expiresAtSec: number } | null = null;
  #inFlight: Promise<string> | null = null;

  constructor(auth: Extract<CozeAuth, { kind: 'oauth-jwt' }>, options: OAuthJwtOptions) {
    this.#auth = auth;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async getToken(signal?: AbortSignal): Promise<string> {
    const renewBefore = this.#options.renewBeforeSeconds ?? 60;
    const nowSec = this.#now() / 1000;
    const cached = this.#cached;
    if (cached && nowSec < cached.expiresAtSec - renewBefore) return cached.token;
    // One exchange for everyone waiting; a caller's abort only stops its own wait.
    this.#inFlight ??= this.#exchange().finally(() => {
      this.#inFlight = null;
    });
    // A token with time left serves this call while its successor is fetched: only the first call
    // and those after an expiry (or a refusal) wait for an exchange. A failed renewal is tried again
    // by the next call.
    if (cached && nowSec < cached.expiresAtSec - STILL_USABLE_SECONDS) {
      this.#inFlight.catch(() => {});
      return cached.token;
    }
    return signal ? raceAbort(this.#inFlight, signal) : this.#inFlight;
  }

  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = null;
  }

  async #exchange(): Promise<string> {
    const jwt = await this.#signJwt();
    const deadline = AbortSignal.timeout(this.#options.connectTimeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.#options.fetch(`${this.#options.baseUrl}${OAUTH_TOKEN_PATH}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ grant_type: JWT_BEARER_GRANT, duration_seconds: this.#options.durationSeconds ?? 900 }),
        signal: deadline,
      });
      text = await res.text();
    } catch (err) {
      const timedOut = deadline.aborted;
      throw new CozeApiError({
        code: timedOut ? CozeTransportCode.Timeout : CozeTransportCode.Network,
        cozeMsg: timedOut ? 'OAuth token exchange timed out' : 'OAuth token exchange failed to connect',
        cause: err,
      });
    }
    const logId = res.headers.get('x-tt-logid');
    let body: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
    } catch {
      // handled below
    }
    const token = body?.access_token;
    if (res.ok && typeof token === 'string' && token) {
      this.#cached = { token, expiresAtSec: absoluteExpiry(body?.expires_in, this.#now() / 1000) };
      return token;
    }
    if (body && (typeof body.error_code === 'string' || typeof body.error_message === 'string')) {
      const reason = [body.error_code, body.error_message].filter((s) => typeof s === 'string' && s).join(': ');
      throw new CozeApiError({ code: CozeTransportCode.OAuthFailed, cozeMsg: reason, httpStatus: res.status, logId, retryable: false });
    }
    if (body && typeof body.code === 'number' && body.code !== 0) {
      throw CozeApiError.fromBody(body as { code: number }, res.status, logId);
    }
    throw new CozeApiError({
      code: CozeTransportCode.BadResponse,
      cozeMsg: 'OAuth token endpoint sent no access_token',
      httpStatus: res.status,
      logId,
    });
  }

  async #signJwt(): Promise<string> {
    if (!this.#key) {
      try {
        this.#key = createPrivateKey(this.#auth.privateKeyPem); // PKCS#8 or PKCS#1 PEM
      } catch (err) {
        throw new CozeApiError({
          code: CozeTransportCode.OAuthFailed,
          cozeMsg: 'the OAuth private key could not be loaded',
          retryable: false,
          cause: err,
        });
      }
    }
    const iat = Math.floor(this.#now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.#auth.keyId })
      .setIssuer(this.#auth.appId)
      .setAudience(this.#auth.audience ?? oauthAudienceFor(this.#options.baseUrl))
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .setJti(randomUUID())
      .sign(this.#key);
  }
}

/**
 * Coze documents `expires_in` as an absolute Unix time. A value too small to be one (under ~2001)
 * is read as a lifetime in seconds, so a server that follows RFC 6749 literally still works.
 */
function absoluteExpiry(expiresIn: unknown, nowSec: number): number {
  const n = typeof expiresIn === 'string' ? Number(expiresIn) : expiresIn;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return nowSec + 300;
  return n < 1_000_000_000 ? nowSec + n : n;
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

export function createTokenSource(auth: CozeAuth, options: OAuthJwtOptions): CozeTokenSource {
  return auth.kind === 'token' ? new StaticTokenSource(auth.token) : new OAuthJwtTokenSource(auth, options);
}
