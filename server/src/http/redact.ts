// What may reach a log line. Credentials are masked wherever they show up (an upstream's error text
// may echo the key it was sent), and an error is logged by what and where, never by the data it was
// about: a failed query says its SQLSTATE code, constraint and table, not the query and its values
// (a message's text, a password hash).
import { DrizzleQueryError } from 'drizzle-orm';

const SECRETS: [RegExp, string][] = [
  [/\b(?:pat|sat|czs|czu)_[A-Za-z0-9_-]+/g, '[redacted]'], // Coze personal / service / OAuth access tokens
  [/\bsk-[A-Za-z0-9_-]{4,}/g, '[redacted]'], // OpenAI-style API keys (sk-…, sk-proj-…)
  [/\bap_[A-Za-z0-9_-]{8,}/g, '[redacted]'], // agentport's own sign-in tokens
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted]'], // JWTs
  [/\b(Bearer\s+)\S+/gi, '$1[redacted]'],
  [/((?:api[_-]?key|token|secret|password)["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi, '$1[redacted]'], // client_secret=…, "apiKey": "…"
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1[redacted]@'], // credentials in a URL
];

/** Masks anything shaped like a token, an API key, a JWT, a bearer credential or a password. */
export function redactSecrets(text: string): string {
  return SECRETS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** Longest error message logged: an upstream may answer with a whole HTML page. */
const MAX_MESSAGE = 500;
/** Fields of an error that say what happened (codes, statuses, Coze's logid), never data. */
const SAFE_FIELDS = ['code', 'status', 'statusCode', 'httpStatus', 'logId', 'errno', 'syscall'] as const;
/** Causes followed, at most (a cause may point back at its error). */
const MAX_CAUSES = 5;

export interface LoggedError {
  type: string;
  message: string;
  stack: string;
  [field: string]: unknown;
}

/** The logger's serializer for `err`: an error as it may be logged. */
export function errorForLog(error: unknown, causes = 0): LoggedError {
  if (!(error instanceof Error)) return { type: typeof error, message: clip(redactSecrets(String(error))), stack: '' };
  const database = databaseErrorFields(error);
  const message =
    error instanceof DrizzleQueryError
      ? 'Failed query (its text and values are not logged)'
      : database
        ? `PostgreSQL error ${database.code}`
        : clip(redactSecrets(error.message));
  return {
    type: database ? 'DatabaseError' : error.constructor.name,
    message,
    ...(database ?? safeFields(error)),
    stack: `${error.name}: ${message}${stackFrames(error)}`,
    ...(error.cause !== undefined && causes < MAX_CAUSES ? { cause: errorForLog(error.cause, causes + 1) } : {}),
  };
}

/**
 * A PostgreSQL error (node-postgres or PGlite) by its SQLSTATE code and the objects involved. Its
 * message and detail are left out: they may quote values ("Key (email)=(…) already exists").
 */
function databaseErrorFields(error: Error) {
  const { code, severity, constraint, table, column } = error as Error & Record<string, unknown>;
  if (typeof code !== 'string' || typeof severity !== 'string') return null;
  return { code, constraint, table, column };
}

function safeFields(error: Error): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  for (const field of SAFE_FIELDS) {
    const value = (error as Error & Record<string, unknown>)[field];
    if (typeof value === 'number') fields[field] = value;
    else if (typeof value === 'string') fields[field] = clip(redactSecrets(value));
  }
  return fields;
}

/** The stack's "at …" lines without its header, which repeats the message. */
function stackFrames(error: Error): string {
  const header = String(error);
  return error.stack?.startsWith(header) ? error.stack.slice(header.length) : '';
}

const clip = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text);
