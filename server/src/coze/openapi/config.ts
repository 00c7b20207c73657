// Coze connection settings, read once from the environment.
import { readFileSync } from 'node:fs';
import { int } from '../../env.js';

export type CozeAuth =
  | { kind: 'token'; token: string }
  | {
      kind: 'oauth-jwt';
      appId: string;
      keyId: string;
      privateKeyPem: string;
      /** JWT `aud`; by default `api.coze.com` for a *.coze.com base URL, else `api.coze.cn`. */
      audience?: string;
    };

/**
 * Which bot list the client asks:
 * - `auto` (default): the current `GET /v1/bots`, falling back — once, then remembered — to the
 *   deprecated `GET /v1/space/published_bots_list` when the server does not offer the new one;
 * - `bots` / `published_bots_list`: that endpoint only.
 */
export type CozeBotListApi = 'auto' | 'bots' | 'published_bots_list';

export interface CozeConfig {
  /** No trailing slash, e.g. `https://api.coze.cn`. */
  baseUrl: string;
  spaceId: string;
  auth: CozeAuth;
  /** Longest wait for response headers. */
  connectTimeoutMs: number;
  /** Longest silence between two stream events (and while reading a JSON body). */
  idleTimeoutMs: number;
  /** Retries of idempotent calls on 4013, 5xx and network errors. */
  maxRetries: number;
  /** Longest event (or unended line) of a chat stream, in characters; see readCozeChatStream. */
  maxEventChars?: number;
  botListApi?: CozeBotListApi;
}

export const DEFAULT_COZE_API_BASE = 'https://api.coze.cn';

const OAUTH_VARS = ['COZE_OAUTH_APP_ID', 'COZE_OAUTH_KEY_ID', 'COZE_OAUTH_PRIVATE_KEY', 'COZE_OAUTH_PRIVATE_KEY_FILE'] as const;

/**
 * Reads COZE_API_BASE (default https://api.coze.cn), COZE_SPACE_ID, and either COZE_API_TOKEN or
 * COZE_OAUTH_APP_ID + COZE_OAUTH_KEY_ID + COZE_OAUTH_PRIVATE_KEY (PEM, `\n` escapes allowed) or
 * COZE_OAUTH_PRIVATE_KEY_FILE; plus COZE_CONNECT_TIMEOUT_MS (10000), COZE_IDLE_TIMEOUT_MS (60000),
 * COZE_MAX_RETRIES (2), COZE_BOT_LIST_API (auto | bots | published_bots_list).
 *
 * Returns null when none of the credential or space variables is set (Coze is simply off); throws an
 * Error naming the variable when the configuration is half there or malformed.
 */
export function readCozeConfig(env: NodeJS.ProcessEnv = process.env): CozeConfig | null {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const token = get('COZE_API_TOKEN');
  const spaceId = get('COZE_SPACE_ID');
  const oauthSet = OAUTH_VARS.filter((name) => get(name) !== undefined);
  if (!token && !spaceId && oauthSet.length === 0) return null;

  if (token && oauthSet.length > 0) {
    throw new Error(`Coze config: set either COZE_API_TOKEN or the COZE_OAUTH_* variables, not both (found ${oauthSet.join(', ')}).`);
  }

  let auth: CozeAuth;
  if (token) {
    auth = { kind: 'token', token };
  } else if (oauthSet.length > 0) {
    const appId = required(get('COZE_OAUTH_APP_ID'), 'COZE_OAUTH_APP_ID', 'for OAuth JWT authentication');
    const keyId = required(get('COZE_OAUTH_KEY_ID'), 'COZE_OAUTH_KEY_ID', 'for OAuth JWT authentication');
    const inlineKey = get('COZE_OAUTH_PRIVATE_KEY');
    const keyFile = get('COZE_OAUTH_PRIVATE_KEY_FILE');
    if (inlineKey && keyFile) throw new Error('Coze config: set COZE_OAUTH_PRIVATE_KEY or COZE_OAUTH_PRIVATE_KEY_FILE, not both.');
    let privateKeyPem: string;
    if (inlineKey) {
      privateKeyPem = inlineKey.replace(/\\n/g, '\n');
    } else if (keyFile) {
      try {
        privateKeyPem = readFileSync(keyFile, 'utf8');
      } catch (err) {
        throw new Error(`Coze config: cannot read COZE_OAUTH_PRIVATE_KEY_FILE (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
      }
    } else {
      throw new Error('Coze config: COZE_OAUTH_PRIVATE_KEY or COZE_OAUTH_PRIVATE_KEY_FILE is required for OAuth JWT authentication.');
    }
    if (!/-----BEGIN (?:RSA )?PRIVATE KEY-----/.test(privateKeyPem)) {
      throw new Error('Coze config: the OAuth private key is not a PEM private key (expected "-----BEGIN PRIVATE KEY-----").');
    }
    auth = { kind: 'oauth-jwt', appId, keyId, privateKeyPem };
  } else {
    throw new Error('Coze config: COZE_API_TOKEN (or the COZE_OAUTH_* variables) is required when COZE_SPACE_ID is set.');
  }

  return {
    baseUrl: parseBaseUrl(get('COZE_API_BASE') ?? DEFAULT_COZE_API_BASE),
    spaceId: required(spaceId, 'COZE_SPACE_ID', 'to list the workspace’s bots'),
    auth,
    connectTimeoutMs: int(env, 'COZE_CONNECT_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 }),
    idleTimeoutMs: int(env, 'COZE_IDLE_TIMEOUT_MS', 60_000, { min: 100, max: 3_600_000 }),
    maxRetries: int(env, 'COZE_MAX_RETRIES', 2, { max: 10 }),
    botListApi: botListApi(get('COZE_BOT_LIST_API')),
  };
}

/** The JWT audience Coze expects for a base URL: its region's API host. */
export function oauthAudienceFor(baseUrl: string): string {
  const host = new URL(baseUrl).hostname.toLowerCase();
  return host === 'coze.com' || host.endsWith('.coze.com') ? 'api.coze.com' : 'api.coze.cn';
}

function required(value: string | undefined, name: string, why: string): string {
  if (!value) throw new Error(`Coze config: ${name} is required ${why}.`);
  return value;
}

function parseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('Coze config: COZE_API_BASE is not a URL (e.g. https://api.coze.cn).');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('Coze config: COZE_API_BASE must be http(s).');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function botListApi(raw: string | undefined): CozeBotListApi {
  if (raw === undefined) return 'auto';
  if (raw === 'auto' || raw === 'bots' || raw === 'published_bots_list') return raw;
  throw new Error('Coze config: COZE_BOT_LIST_API must be auto, bots or published_bots_list.');
}
