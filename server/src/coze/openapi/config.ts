// Coze connection settings, read once from the environment.
import { readFileSync } from 'node:fs';
import type { Environment } from '../../env.js';

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

const OAUTH_VARS = ['COZE_OAUTH_APP_ID', 'COZE_OAUTH_KEY_ID', 'COZE_OAUTH_PRIVATE_KEY', 'COZE_OAUTH_PRIVATE_KEY_FILE'] as const;

/**
 * The Coze settings of env.ts: the region's base URL, the space, and either a token or an OAuth JWT
 * app (private key inline, with `\n` escapes allowed, or from a file).
 *
 * Returns null when none of the credential or space settings is set (Coze is simply off); throws an
 * Error naming the setting when the configuration is half there or malformed.
 */
export function readCozeConfig(env: Environment): CozeConfig | null {
  const get = (name: (typeof OAUTH_VARS)[number]): string | undefined => env[name]?.trim() || undefined;
  const token = env.COZE_API_TOKEN?.trim();
  const spaceId = env.COZE_SPACE_ID;
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
    baseUrl: parseBaseUrl(env.COZE_API_BASE),
    spaceId: required(spaceId, 'COZE_SPACE_ID', 'to list the workspace’s bots'),
    auth,
    connectTimeoutMs: env.COZE_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: env.COZE_IDLE_TIMEOUT_MS,
    maxRetries: env.COZE_MAX_RETRIES,
    botListApi: env.COZE_BOT_LIST_API,
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
