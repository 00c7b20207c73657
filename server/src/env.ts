// Every setting the server reads from its environment, in one place: what each takes, its default and
// its bounds. readEnvironment() reads them all once at start-up; a value its setting does not take
// stops the start with a message naming the setting (and never repeating a value that may be a
// secret). What the settings mean together (the rules between them, the Config the platform runs
// on) is config.ts's. The README's configuration table lists the same settings: a test holds the two
// together. (A JSON-schema validator would coerce "1e3" and "0x10" to numbers: a whole number here is
// digits only, so each kind reads its own text.)
import os from 'node:os';

/** How one setting is read: from its raw text (undefined when unset) to its value. */
interface Setting<T> {
  read(raw: string | undefined, name: string): T;
  /** The default as the README shows it, or null when there is none. */
  readonly shown: string | null;
  /** A whole number's bounds. */
  readonly min?: number;
  readonly max?: number;
}

/** A whole number within [min, max]; unset or empty: `fallback`. */
function whole(fallback: number, min: number, max: number): Setting<number> {
  return {
    min,
    max,
    shown: String(fallback),
    read(raw, name) {
      const text = raw?.trim();
      if (text === undefined || text === '') return fallback;
      const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
      if (!(value >= min && value <= max)) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
      return value;
    },
  };
}

/** One of `choices`; unset or empty: `fallback`. */
function choice<const C extends string>(fallback: NoInfer<C>, choices: readonly C[]): Setting<C> {
  return {
    shown: fallback,
    read(raw, name) {
      const text = raw?.trim();
      if (text === undefined || text === '') return fallback;
      if ((choices as readonly string[]).includes(text)) return text as C;
      const listed = choices.map((c) => `"${c}"`);
      throw new Error(`${name} must be ${listed.slice(0, -1).join(', ')} or ${listed.at(-1)}, got "${text}"`);
    },
  };
}

/** On (`1`, `true`) or off (`0`, `false`, unset). */
const flag: Setting<boolean> = {
  shown: null,
  read(raw, name) {
    const text = raw?.trim().toLowerCase();
    if (text === undefined || text === '' || text === '0' || text === 'false') return false;
    if (text === '1' || text === 'true') return true;
    throw new Error(`${name} must be 1 or true (on), 0 or false (off), got "${raw}"`);
  },
};

/** Free text, trimmed; unset or empty: `fallback` (or undefined). */
function text(fallback: string): Setting<string>;
function text(): Setting<string | undefined>;
function text(fallback?: string): Setting<string | undefined> {
  return { shown: fallback ?? null, read: (raw) => raw?.trim() || fallback };
}

/** A secret, exactly as set (a password may start or end with a space); empty: unset. Never in a message. */
const secret: Setting<string | undefined> = { shown: null, read: (raw) => raw || undefined };

/** Every server setting. */
export const SETTINGS = {
  HOST: text('127.0.0.1'),
  PORT: whole(3000, 0, 65_535),
  /** `auto`: one per core. */
  WORKERS: {
    shown: '1',
    read: (raw: string | undefined, name: string) =>
      raw?.trim() === 'auto' ? os.availableParallelism() : whole(1, 1, 256).read(raw, name),
    min: 1,
    max: 256,
  },
  DATA_DIR: text('data'),
  DATABASE_URL: secret,
  STORAGE_DRIVER: choice('local', ['local', 'database']),
  ADMIN_EMAIL: text(),
  ADMIN_PASSWORD: secret,
  OPENAI_BASE_URL: text(),
  OPENAI_API_KEY: secret,
  OPENAI_IDLE_TIMEOUT_MS: whole(60_000, 100, 3_600_000),
  COZE_API_BASE: text('https://api.coze.cn'),
  COZE_API_TOKEN: secret,
  COZE_SPACE_ID: text(),
  COZE_OAUTH_APP_ID: text(),
  COZE_OAUTH_KEY_ID: text(),
  COZE_OAUTH_PRIVATE_KEY: secret,
  COZE_OAUTH_PRIVATE_KEY_FILE: text(),
  COZE_CONNECT_TIMEOUT_MS: whole(10_000, 100, 600_000),
  COZE_IDLE_TIMEOUT_MS: whole(60_000, 100, 3_600_000),
  COZE_MAX_RETRIES: whole(2, 0, 10),
  COZE_BOT_LIST_API: choice('auto', ['auto', 'bots', 'published_bots_list']),
  COZE_LIST_CACHE_SECONDS: whole(60, 1, 86_400),
  CHAT_LEASE_SECONDS: whole(30, 1, 3600),
  AUTH_TOKEN_TTL_DAYS: whole(30, 1, 3650),
  LOGIN_MAX_FAILURES: whole(10, 1, 1_000_000),
  LOGIN_MAX_FAILURES_PER_IP: whole(50, 1, 1_000_000),
  LOGIN_WINDOW_MINUTES: whole(15, 1, 10_080),
  REGISTRATION: choice('open', ['open', 'invite', 'closed']),
  REGISTER_MAX_PER_IP: whole(20, 1, 1_000_000),
  REGISTER_WINDOW_MINUTES: whole(60, 1, 10_080),
  MAX_BODY_BYTES: whole(1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: whole(30_000, 1000, 3_600_000),
  MAX_ANSWER_BYTES: whole(1024 * 1024, 1024, 256 * 1024 * 1024),
  STREAM_STALL_TIMEOUT_MS: whole(30_000, 1000, 3_600_000),
  ANSWER_TIMEOUT_MS: whole(30 * 60_000, 1000, 86_400_000),
  FILE_MAX_BYTES: whole(10 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  FILES_PER_MESSAGE: whole(5, 1, 20),
  FILE_TYPES: text('image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain'),
  FILE_UNATTACHED_HOURS: whole(24, 1, 8760),
  NATIVE_IMAGE_URLS: choice('data', ['data', 'signed']),
  PUBLIC_URL: text(),
  FILE_URL_SECRET: secret,
  TRUST_PROXY: text(),
  TLS_IN_FRONT: flag,
  METRICS: flag,
  METRICS_TOKEN: secret,
  LOG_LEVEL: choice('info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  WEB_DIST_DIR: text(),
  DEMO_SEED: flag,
} satisfies Record<string, Setting<unknown>>;

export type Environment = { [Name in keyof typeof SETTINGS]: ReturnType<(typeof SETTINGS)[Name]['read']> };

/** Every setting's value; throws on the first one its setting does not take. */
export function readEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): Environment {
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS)) values[name] = setting.read(env[name], name);
  return values as Environment;
}
