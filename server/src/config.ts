// Every setting comes from the environment; README's configuration table lists them all.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCozeConfig, type CozeConfig } from './coze/config.js';
import { int } from './env.js';

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
  /** The OpenAI-compatible endpoint of native agents, and how long it may go silent mid-answer. */
  openai: { baseUrl: string | null; apiKey: string | null; idleTimeoutMs: number };
  /** null when Coze is not configured: Coze features answer 503 and say what to set. */
  coze: CozeConfig | null;
  /** How long one instance reuses the Coze bot list. */
  cozeListCacheSeconds: number;
  bodyLimitBytes: number;
  tokenTtlDays: number;
  login: { maxFailuresPerEmail: number; maxFailuresPerIp: number; windowMinutes: number };
  /** How long a conversation's one-chat-at-a-time claim outlives a silent instance. */
  chatLeaseSeconds: number;
  logLevel: string;
  trustProxy: boolean;
  /** Seeds a demo native agent at start-up (the offline demo). */
  demoSeed: boolean;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** server/ — the same from src/ (tsx) and dist/ (built). */
export const serverRoot = path.resolve(here, '..');

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
  return {
    host: env.HOST ?? '127.0.0.1',
    port: int(env, 'PORT', 3000, { max: 65_535 }),
    workers,
    dataDir: path.resolve(env.DATA_DIR ?? 'data'),
    databaseUrl: env.DATABASE_URL || null,
    storageDriver,
    webDistDir: path.resolve(env.WEB_DIST_DIR ?? path.join(serverRoot, '..', 'web', 'dist')),
    admin: adminEmail && adminPassword ? { email: adminEmail, password: adminPassword } : null,
    openai: { baseUrl: env.OPENAI_BASE_URL || null, apiKey: env.OPENAI_API_KEY || null, idleTimeoutMs: int(env, 'OPENAI_IDLE_TIMEOUT_MS', 60_000, { min: 100, max: 3_600_000 }) },
    coze: readCozeConfig(env),
    cozeListCacheSeconds: int(env, 'COZE_LIST_CACHE_SECONDS', 60, { min: 1, max: 86_400 }),
    bodyLimitBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024, { min: 64 * 1024, max: 64 * 1024 * 1024 }),
    tokenTtlDays: int(env, 'AUTH_TOKEN_TTL_DAYS', 30, { min: 1, max: 3650 }),
    login: {
      maxFailuresPerEmail: int(env, 'LOGIN_MAX_FAILURES', 10, { min: 1, max: 1_000_000 }),
      maxFailuresPerIp: int(env, 'LOGIN_MAX_FAILURES_PER_IP', 50, { min: 1, max: 1_000_000 }),
      windowMinutes: int(env, 'LOGIN_WINDOW_MINUTES', 15, { min: 1, max: 10_080 }),
    },
    chatLeaseSeconds: int(env, 'CHAT_LEASE_SECONDS', 30, { min: 1, max: 3600 }),
    logLevel: env.LOG_LEVEL ?? 'info',
    trustProxy: env.TRUST_PROXY === '1' || env.TRUST_PROXY === 'true',
    demoSeed: env.DEMO_SEED === '1' || env.DEMO_SEED === 'true',
  };
}
