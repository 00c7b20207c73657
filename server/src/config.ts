// The platform's configuration: the settings of env.ts, checked together. README's configuration table lists them all.
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCozeConfig, type CozeConfig } from './coze/openapi/config.js';
import { readEnvironment, type Environment } from './env.js';
import { KNOWN_FILE_TYPES, type FileType } from './files/content-type.js';
import type { SignedUrlConfig } from './files/signed-url.js';

export type RegistrationMode = 'open' | 'invite' | 'closed';

export interface Config {
  host: string;
  port: number;
  /** Processes serving the port (node:cluster): 1, or more on PostgreSQL, each an instance of its own. */
  workers: number;
  /** Where the embedded database and local files live. */
  dataDir: string;
  /** PostgreSQL connection string; when absent the embedded database (PGlite) under dataDir is used. */
  databaseUrl: string | null;
  /** 'local' (files under DATA_DIR) or 'database' (bytes in PostgreSQL, for instances without a shared disk). */
  storageDriver: 'local' | 'database';
  webDistDir: string;
  admin: { email: string; password: string } | null;
  /**
   * The OpenAI-compatible endpoint of native agents, how long it may go silent mid-answer, and the
   * longest line of its stream.
   */
  openai: { baseUrl: string | null; apiKey: string | null; idleTimeoutMs: number; maxLineBytes: number };
  /** null when Coze is not configured: Coze features answer 503 and say what to set. */
  coze: CozeConfig | null;
  /** How long one instance reuses the Coze bot list. */
  cozeListCacheSeconds: number;
  bodyLimitBytes: number;
  /** Longest time a client may take to send a request, headers and body (not to read the answer). */
  requestTimeoutMs: number;
  /** The largest answer (text, reasoning and suggestions), how long a client may leave it unread, and the longest it may run. */
  answers: { maxBytes: number; stallTimeoutMs: number; timeoutMs: number };
  /**
   * Files users send to chat: the largest, how many one message may carry, the types allowed (read
   * from their bytes), and how long a file in no conversation is kept.
   */
  files: { maxBytes: number; perMessage: number; types: FileType[]; unattachedHours: number };
  /** NATIVE_IMAGE_URLS=signed: native agents' models get images as short-lived signed links, else (null) as data: URLs. */
  signedFileUrls: SignedUrlConfig | null;
  tokenTtlDays: number;
  login: { maxFailuresPerEmail: number; maxFailuresPerIp: number; windowMinutes: number };
  /** Who may create an account, and how many accounts one client address may create per window. */
  registration: { mode: RegistrationMode; maxPerIp: number; windowMinutes: number };
  /** How long a conversation's one-chat-at-a-time claim outlives a silent instance. */
  chatLeaseSeconds: number;
  logLevel: string;
  /** The proxies whose X-Forwarded-For is believed (addresses, CIDR ranges, proxy-addr's names), or none. */
  trustProxy: false | string[];
  /** Browsers reach the platform over https (TLS ends at a proxy in front): the page may ask for https only. */
  tlsInFront: boolean;
  /** Seeds a demo native agent at start-up (the offline demo). */
  demoSeed: boolean;
  /** GET /metrics (Prometheus) for holders of this token; null: no such route. */
  metrics: { token: string } | null;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** server/ — the same from src/ (tsx) and dist/ (built). */
export const serverRoot = path.resolve(here, '..');

/** Names proxy-addr (Fastify's trustProxy) accepts besides addresses and CIDR ranges. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const version = isIP(address);
  if (!version || rest.length) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
}

const PROXY_EXAMPLES = 'e.g. TRUST_PROXY=loopback (a proxy on this host), TRUST_PROXY=10.0.0.5 or TRUST_PROXY=10.0.0.0/8,fc00::/7';

function readTrustProxy(raw = ''): Config['trustProxy'] {
  const value = raw.trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true') {
    throw new Error(
      'TRUST_PROXY=true would believe any X-Forwarded-For a client sends, so clients could choose the ' +
        `address the sign-in limits count. Set the addresses of your proxies instead: ${PROXY_EXAMPLES}`,
    );
  }
  if (/^\d+$/.test(value)) {
    throw new Error(
      'TRUST_PROXY takes the addresses of your proxies, not a number of hops (a hop count cannot tell a ' +
        `proxy from a client that connects directly and writes X-Forwarded-For itself): ${PROXY_EXAMPLES}`,
    );
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const wrong = entries.find((entry) => !isAddressOrRange(entry));
  if (wrong !== undefined) {
    throw new Error(`TRUST_PROXY must list IP addresses, CIDR ranges, loopback, linklocal or uniquelocal, got "${wrong}"`);
  }
  return entries;
}

function readFileTypes(raw: string): FileType[] {
  const types = raw
    .split(',')
    .map((type) => type.trim().toLowerCase())
    .filter(Boolean);
  const unknown = types.find((type) => !(KNOWN_FILE_TYPES as readonly string[]).includes(type));
  if (unknown !== undefined || !types.length) {
    throw new Error(`FILE_TYPES must list some of ${KNOWN_FILE_TYPES.join(', ')} (comma-separated), got "${unknown ?? raw}"`);
  }
  return types as FileType[];
}

/** How long a signed link to a file (for a model endpoint that fetches it while it answers) lasts. */
const SIGNED_FILE_URL_SECONDS = 600;
const FILE_URL_SECRET_MIN_CHARS = 32;

function readSignedFileUrls(env: Environment): Config['signedFileUrls'] {
  if (env.NATIVE_IMAGE_URLS !== 'signed') return null;
  const needs = 'NATIVE_IMAGE_URLS=signed needs PUBLIC_URL (this server as the model endpoint reaches it, e.g. https://agents.example.com)';
  if (!env.PUBLIC_URL || !/^https?:\/\/[^/]/.test(env.PUBLIC_URL)) throw new Error(needs);
  const secret = env.FILE_URL_SECRET ?? '';
  if (secret.length < FILE_URL_SECRET_MIN_CHARS) {
    throw new Error(
      `NATIVE_IMAGE_URLS=signed needs FILE_URL_SECRET, at least ${FILE_URL_SECRET_MIN_CHARS} characters (e.g. from \`openssl rand -hex 32\`), the same on every instance`,
    );
  }
  return { publicUrl: env.PUBLIC_URL, secret, ttlSeconds: SIGNED_FILE_URL_SECONDS };
}

/** Long enough not to be guessed; no spaces, as a bearer token cannot carry them. */
const METRICS_TOKEN_MIN_CHARS = 16;

function readMetrics(env: Environment): Config['metrics'] {
  if (!env.METRICS) return null;
  const token = env.METRICS_TOKEN ?? '';
  const wanted =
    `at least ${METRICS_TOKEN_MIN_CHARS} characters without spaces, e.g. from \`openssl rand -hex 32\`; ` +
    'Prometheus sends it as Authorization: Bearer <METRICS_TOKEN>';
  // The token itself is never repeated in the message: start-up errors end up in logs.
  if (!token) throw new Error(`METRICS=1 needs METRICS_TOKEN (${wanted})`);
  if (token.length < METRICS_TOKEN_MIN_CHARS || /\s/.test(token)) {
    throw new Error(`METRICS_TOKEN is ${token.length} characters${/\s/.test(token) ? ' with spaces' : ''}: it must be ${wanted}`);
  }
  return { token };
}

/** The platform's configuration from its environment (see env.ts for each setting on its own). */
export function readConfig(raw: Readonly<Record<string, string | undefined>> = process.env): Config {
  const env = readEnvironment(raw);
  if (env.STORAGE_DRIVER === 'database' && !env.DATABASE_URL) {
    throw new Error('STORAGE_DRIVER=database needs DATABASE_URL (the embedded database is one process only)');
  }
  if (env.WORKERS > 1 && !env.DATABASE_URL) {
    throw new Error('WORKERS above 1 needs DATABASE_URL (the embedded database is one process only)');
  }
  if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
    throw new Error('Set both ADMIN_EMAIL and ADMIN_PASSWORD, or neither');
  }
  // One upstream event may carry the whole answer (Coze's completed message does), escaped as JSON.
  const maxUpstreamEvent = 4 * env.MAX_ANSWER_BYTES;
  const coze = readCozeConfig(env);
  return {
    host: env.HOST,
    port: env.PORT,
    workers: env.WORKERS,
    dataDir: path.resolve(env.DATA_DIR),
    databaseUrl: env.DATABASE_URL ?? null,
    storageDriver: env.STORAGE_DRIVER,
    webDistDir: path.resolve(env.WEB_DIST_DIR ?? path.join(serverRoot, '..', 'web', 'dist')),
    admin: env.ADMIN_EMAIL && env.ADMIN_PASSWORD ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD } : null,
    openai: {
      baseUrl: env.OPENAI_BASE_URL ?? null,
      apiKey: env.OPENAI_API_KEY ?? null,
      idleTimeoutMs: env.OPENAI_IDLE_TIMEOUT_MS,
      maxLineBytes: maxUpstreamEvent,
    },
    coze: coze && { ...coze, maxEventChars: maxUpstreamEvent },
    cozeListCacheSeconds: env.COZE_LIST_CACHE_SECONDS,
    bodyLimitBytes: env.MAX_BODY_BYTES,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    answers: { maxBytes: env.MAX_ANSWER_BYTES, stallTimeoutMs: env.STREAM_STALL_TIMEOUT_MS, timeoutMs: env.ANSWER_TIMEOUT_MS },
    files: {
      maxBytes: env.FILE_MAX_BYTES,
      perMessage: env.FILES_PER_MESSAGE,
      types: readFileTypes(env.FILE_TYPES),
      unattachedHours: env.FILE_UNATTACHED_HOURS,
    },
    signedFileUrls: readSignedFileUrls(env),
    tokenTtlDays: env.AUTH_TOKEN_TTL_DAYS,
    login: {
      maxFailuresPerEmail: env.LOGIN_MAX_FAILURES,
      maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
      windowMinutes: env.LOGIN_WINDOW_MINUTES,
    },
    registration: { mode: env.REGISTRATION, maxPerIp: env.REGISTER_MAX_PER_IP, windowMinutes: env.REGISTER_WINDOW_MINUTES },
    chatLeaseSeconds: env.CHAT_LEASE_SECONDS,
    logLevel: env.LOG_LEVEL,
    trustProxy: readTrustProxy(env.TRUST_PROXY),
    tlsInFront: env.TLS_IN_FRONT,
    demoSeed: env.DEMO_SEED,
    metrics: readMetrics(env),
  };
}
