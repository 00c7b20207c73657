// Every setting comes from the environment; README's configuration table lists them all.
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCozeConfig, type CozeConfig } from './coze/openapi/config.js';
import { int } from './env.js';

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
  /** The largest answer (text, reasoning and suggestions), and how long a client may leave it unread. */
  answers: { maxBytes: number; stallTimeoutMs: number };
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

/** Long enough not to be guessed; no spaces, as a bearer token cannot carry them. */
const METRICS_TOKEN_MIN_CHARS = 16;

function readMetrics(env: NodeJS.ProcessEnv): Config['metrics'] {
  if (env.METRICS !== '1' && env.METRICS !== 'true') return null;
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

function readRegistrationMode(raw = 'open'): RegistrationMode {
  if (raw === 'open' || raw === 'invite' || raw === 'closed') return raw;
  throw new Error(`REGISTRATION must be "open", "invite" or "closed", got "${raw}"`);
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const storageDriver = env.STORAGE_DRIVER ?? 'local';
  if (storageDriver !== 'local' && storageDriver !== 'database') {
    throw new Error(`STORAGE_DRIVER must be "local" or "database", got "${storageDriver}"`);
  }
  if (storageDriver === 'database' && !env.DATABASE_URL) {
    throw new Error('STORAGE_DRIVER=database needs DATABASE_URL (the embedded database is one process only)');
  }
  const workers = env.WORKERS === 'auto' ? os.availableParallelism() : int(env, 'WORKERS', 1, { min: 1, max: 256 });
  if (workers > 1 && !env.DATABASE_URL) {
    throw new Error('WORKERS above 1 needs DATABASE_URL (the embedded database is one process only)');
  }
  const adminEmail = env.ADMIN_EMAIL?.trim();
  const adminPassword = env.ADMIN_PASSWORD;
  if (Boolean(adminEmail) !== Boolean(adminPassword)) {
    throw new Error('Set both ADMIN_EMAIL and ADMIN_PASSWORD, or neither');
  }
  const maxAnswerBytes = int(env, 'MAX_ANSWER_BYTES', 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 });
  // One upstream event may carry the whole answer (Coze's completed message does), escaped as JSON.
  const maxUpstreamEvent = 4 * maxAnswerBytes;
  const coze = readCozeConfig(env);
  return {
    host: env.HOST ?? '127.0.0.1',
    port: int(env, 'PORT', 3000, { max: 65_535 }),
    workers,
    dataDir: path.resolve(env.DATA_DIR ?? 'data'),
    databaseUrl: env.DATABASE_URL || null,
    storageDriver,
    webDistDir: path.resolve(env.WEB_DIST_DIR ?? path.join(serverRoot, '..', 'web', 'dist')),
    admin: adminEmail && adminPassword ? { email: adminEmail, password: adminPassword } : null,
    openai: {
      baseUrl: env.OPENAI_BASE_URL || null,
      apiKey: env.OPENAI_API_KEY || null,
      idleTimeoutMs: int(env, 'OPENAI_IDLE_TIMEOUT_MS', 60_000, { min: 100, max: 3_600_000 }),
      maxLineBytes: maxUpstreamEvent,
    },
    coze: coze && { ...coze, maxEventChars: maxUpstreamEvent },
    cozeListCacheSeconds: int(env, 'COZE_LIST_CACHE_SECONDS', 60, { min: 1, max: 86_400 }),
    bodyLimitBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024, { min: 64 * 1024, max: 64 * 1024 * 1024 }),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 30_000, { min: 1000, max: 3_600_000 }),
    answers: { maxBytes: maxAnswerBytes, stallTimeoutMs: int(env, 'STREAM_STALL_TIMEOUT_MS', 30_000, { min: 1000, max: 3_600_000 }) },
    tokenTtlDays: int(env, 'AUTH_TOKEN_TTL_DAYS', 30, { min: 1, max: 3650 }),
    login: {
      maxFailuresPerEmail: int(env, 'LOGIN_MAX_FAILURES', 10, { min: 1, max: 1_000_000 }),
      maxFailuresPerIp: int(env, 'LOGIN_MAX_FAILURES_PER_IP', 50, { min: 1, max: 1_000_000 }),
      windowMinutes: int(env, 'LOGIN_WINDOW_MINUTES', 15, { min: 1, max: 10_080 }),
    },
    registration: {
      mode: readRegistrationMode(env.REGISTRATION || undefined),
      maxPerIp: int(env, 'REGISTER_MAX_PER_IP', 20, { min: 1, max: 1_000_000 }),
      windowMinutes: int(env, 'REGISTER_WINDOW_MINUTES', 60, { min: 1, max: 10_080 }),
    },
    chatLeaseSeconds: int(env, 'CHAT_LEASE_SECONDS', 30, { min: 1, max: 3600 }),
    logLevel: env.LOG_LEVEL ?? 'info',
    trustProxy: readTrustProxy(env.TRUST_PROXY),
    tlsInFront: env.TLS_IN_FRONT === '1' || env.TLS_IN_FRONT === 'true',
    demoSeed: env.DEMO_SEED === '1' || env.DEMO_SEED === 'true',
    metrics: readMetrics(env),
  };
}
