// Test support: a real platform on a real port, on the embedded database and on a fresh PostgreSQL
// database of its own (so files can run in parallel) on TEST_DATABASE_URL's server; without that
// variable the PostgreSQL suites are reported as skipped, with the reason.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import type { App, AppOptions } from '../src/app.js';
import { CompletionEvent } from '../src/chat/schemas.js';
import { closedSchemaChecker } from '../src/http/response-check.js';
import { readConfig, type Config } from '../src/config.js';
import type { Database } from '../src/db/index.js';
import { startPlatform } from '../src/start.js';
import { readEvents } from './sse.js';

export const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };

const postgresUrl = process.env.TEST_DATABASE_URL;
/** Why the PostgreSQL suites are skipped, or undefined when they run. */
const POSTGRES_SKIPPED = postgresUrl
  ? undefined
  : 'TEST_DATABASE_URL is not set: this needs a PostgreSQL server (npm test uses postgres://postgres@127.0.0.1:5432/test)';

export interface DatabaseTarget {
  name: 'embedded' | 'postgres';
  url: () => Promise<{ databaseUrl: string | null; drop(): Promise<void> }>;
  /** Why this target cannot run here (it is reported as skipped, with this reason). */
  skip?: string | undefined;
}

/** The databases every integration suite runs on: the embedded one first, then PostgreSQL. */
export function databaseTargets(): DatabaseTarget[] {
  return [
    { name: 'embedded', url: async () => ({ databaseUrl: null, drop: async () => {} }) },
    postgresUrl
      ? { name: 'postgres', url: () => freshPostgresDatabase(postgresUrl) }
      : { name: 'postgres', url: () => Promise.reject(new Error(POSTGRES_SKIPPED)), skip: POSTGRES_SKIPPED },
  ];
}

/**
 * `describe`, or when `skip` says why the suite cannot run here, one skipped test of the suite's name
 * with that reason: node:test (Node 20) prints a skipped suite but leaves it out of the summary's count.
 */
function describeUnlessSkipped(title: string, skip: string | undefined, suite: () => void): void {
  if (skip) test(title, { skip }, () => {});
  else describe(title, suite);
}

/** A suite on one database target, titled "<title> (<target>)". */
export function describeOn(target: DatabaseTarget, title: string, suite: () => void): void {
  describeUnlessSkipped(`${title} (${target.name})`, target.skip, suite);
}

/** A suite that needs PostgreSQL itself (several processes on one database); `suite` gets TEST_DATABASE_URL. */
export function describeOnPostgres(title: string, suite: (baseUrl: string) => void): void {
  describeUnlessSkipped(title, POSTGRES_SKIPPED, () => suite(postgresUrl!));
}

export async function freshPostgresDatabase(baseUrl: string) {
  const name = `agentport_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestPlatform extends App {
  url: string;
  config: Config;
  database: Database;
  adminToken: string;
  /** Registers a user and returns its token. */
  newUser(email?: string): Promise<{ token: string; id: string }>;
  api(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestPlatform(
  target: DatabaseTarget,
  env: Record<string, string> = {},
  options: Omit<AppOptions, 'config' | 'database'> = {},
): Promise<TestPlatform> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'agentport-test-'));
  const db = await target.url();
  const config = readConfig({
    DATA_DIR: dataDir,
    ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    WEB_DIST_DIR: path.join(dataDir, 'no-web'),
    LOG_LEVEL: 'silent',
    ...env,
  });
  // Every response a test receives is held to its route's schema: nothing the serialiser would drop.
  const platform = await startPlatform(config, { logger: false, checkResponses: true, ...options });
  const url = await platform.app.listen({ host: '127.0.0.1', port: 0 });

  async function api(method: string, route: string, opts: { token?: string; body?: unknown } = {}) {
    return fetch(url + route, {
      method,
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
  }
  const login = (await (await api('POST', '/api/auth/login', { body: ADMIN })).json()) as { token: string };
  let users = 0;
  return {
    ...platform,
    url,
    config,
    adminToken: login.token,
    api,
    async newUser(email = `user${++users}-${randomBytes(3).toString('hex')}@example.com`) {
      const res = await api('POST', '/api/auth/register', { body: { email, password: 'user-password-1', name: 'Test User' } });
      const body = (await res.json()) as { token: string; user: { id: string } };
      return { token: body.token, id: body.user.id };
    },
    async close() {
      await platform.app.close(); // a no-op when a test closed it already
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const checker = closedSchemaChecker();

/** Asserts that `value` is exactly what `schema` declares: every field it lists, of its type, and no other. */
export function assertMatches(schema: object, value: unknown, name = 'body'): void {
  const problems = checker.problems(schema, value, name);
  assert.equal(problems, null, `${problems}: ${JSON.stringify(value)}`);
}

/** The end of a chat stream, and everything in it: parsed chunks, joined text and reasoning, the raw body. */
export interface ChatStreamRead {
  raw: string;
  chunks: any[];
  text: string;
  reasoning: string;
  final: any;
  error: any;
  done: boolean;
}

/**
 * A standard chat stream, read chunk by chunk as it arrives. Every chunk is held to the stream's
 * schema, the one the web app reads it by.
 */
export function chatStream(res: Response) {
  const events = readEvents(res.body!);
  const chunks: any[] = [];
  let done = false;
  return {
    /** The next chunk; null once the body has ended (`[DONE]` is not a chunk: it sets `done`). */
    async next(): Promise<any | null> {
      for (let event = await events.next(); event; event = await events.next()) {
        if (event.data === '[DONE]') {
          done = true;
          continue;
        }
        const chunk: unknown = JSON.parse(event.data);
        assertMatches(CompletionEvent, chunk, 'event');
        chunks.push(chunk);
        return chunk;
      }
      return null;
    },
    /** Reads to the end: what the whole stream held, the chunks read before this call included. */
    async rest(): Promise<ChatStreamRead> {
      while (await this.next()) {
        /* every chunk is kept */
      }
      const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
      const reasoning = chunks.map((c) => c.choices?.[0]?.delta?.reasoning_content ?? '').join('');
      const final = chunks.find((c) => c.choices?.[0]?.finish_reason);
      const error = chunks.find((c) => c.error)?.error;
      return { raw: events.text, chunks, text, reasoning, final, error, done };
    },
    /** Stops reading; the platform sees its client go. */
    cancel: () => events.cancel(),
  };
}

/** Reads a standard chat stream to its end. */
export const readChatStream = (res: Response): Promise<ChatStreamRead> => chatStream(res).rest();

/** Re-checks a condition until it holds (a state the system reaches on its own), failing after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads a chat stream until a chunk matches, leaving the rest of it to read (or cancel). */
export async function readUntil(res: Response, match: (chunk: any) => boolean) {
  const stream = chatStream(res);
  for (let chunk = await stream.next(); chunk; chunk = await stream.next()) {
    if (match(chunk)) return stream;
  }
  throw new Error(`stream ended before the expected chunk: ${(await stream.rest()).raw}`);
}
