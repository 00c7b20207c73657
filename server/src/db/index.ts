// Driver choice: PGlite (embedded, zero configuration) or node-postgres (DATABASE_URL). Everything
// above this file sees one Drizzle PgDatabase and one notification channel, whichever it is.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { serverRoot } from '../config.js';
import { EmbeddedClient } from './embedded.js';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'embedded' | 'postgres';
  /**
   * Runs migrations, then `bootstrap`, holding a database-wide lock so that instances starting
   * together migrate once and create one admin.
   */
  migrate(bootstrap?: (db: Db) => Promise<void>): Promise<void>;
  /** PostgreSQL LISTEN: `handler` runs on every instance for each NOTIFY on `channel`. */
  listen(channel: string, handler: (payload: string) => void): Promise<void>;
  notify(channel: string, payload: string): Promise<void>;
  /** PostgreSQL only: the connection pool right now (read at each /metrics scrape). The embedded database has no pool. */
  poolCounts?(): PoolCounts;
  /** Embedded only: full garbage collections on the database's own thread, once a load is over (see memory.ts). */
  collectGarbage?(): Promise<void>;
  close(): Promise<void>;
}

/** pg.Pool's own counts: connections open, of which idle, and queries waiting for one. */
export interface PoolCounts {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * A query prepared once per database, for the few that run on every request (the server then skips
 * parsing and planning it: about half of such a query's time). The statement `build` returns must
 * take its inputs as `sql.placeholder`s.
 */
export function preparedFor<T>(build: (db: Db) => T): (db: Db) => T {
  const prepared = new WeakMap<Db, T>();
  return (db) => {
    let statement = prepared.get(db);
    if (!statement) {
      statement = build(db);
      prepared.set(db, statement);
    }
    return statement;
  };
}

const migrationsFolder = path.join(serverRoot, 'drizzle');
const MIGRATION_LOCK = 7_215_301; // arbitrary, fixed: pg_advisory_lock key for start-up
const POOL_IDLE_MS = 5 * 60_000;
/** The connection that LISTENs, named so operators (and tests) can tell it apart. */
export const LISTENER_NAME = 'agentport-listener';

export async function openDatabase(options: { databaseUrl: string | null; dataDir: string }): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openEmbedded(options.dataDir);
}

/** `memory://` keeps the embedded database in memory (tests); otherwise a directory. */
export async function openEmbedded(dataDir: string): Promise<Database> {
  let location = dataDir;
  if (!dataDir.startsWith('memory://')) {
    location = path.join(dataDir, 'pglite');
    mkdirSync(location, { recursive: true });
  }
  const client = await EmbeddedClient.open(location);
  // Drizzle's PGlite session calls only `query` and `transaction`, which EmbeddedClient offers.
  const db = drizzlePglite(client as never, { schema });
  return {
    db: db as unknown as Db,
    kind: 'embedded',
    async migrate(bootstrap) {
      // One process owns an embedded database, so no lock is needed.
      await migratePglite(db, { migrationsFolder });
      await bootstrap?.(db as unknown as Db);
    },
    async listen(channel, handler) {
      await client.listen(channel, handler);
    },
    async notify(channel, payload) {
      await client.query('select pg_notify($1, $2)', [channel, payload]);
    },
    collectGarbage: () => client.collectGarbage(),
    async close() {
      await client.close();
    },
  };
}

export async function openPostgres(connectionString: string): Promise<Database> {
  // Idle connections are kept for minutes, not pg's default 10 s: a new one costs the next chat a
  // server process and its start-up (~5 ms on the same host, a TLS handshake more to a managed
  // database) and its prepared statements. TCP keep-alive lets firewalls and NATs see them live.
  const pool = new pg.Pool({ connectionString, max: 20, idleTimeoutMillis: POOL_IDLE_MS, keepAlive: true });
  // An idle client's error (e.g. the server restarted) must not crash the process.
  pool.on('error', () => {});
  const db = drizzlePg(pool, { schema });
  let listener: Promise<pg.Client> | null = null;
  let closed = false;
  const handlers = new Map<string, Array<(payload: string) => void>>();
  /** The listener's LISTENs, one at a time: a pg Client runs one query at a time (queuing more is deprecated). */
  let subscribing: Promise<unknown> = Promise.resolve();
  const subscribe = (client: pg.Client, channel: string) => {
    const done = subscribing.then(() => client.query(`LISTEN ${pg.escapeIdentifier(channel)}`));
    subscribing = done.catch(() => {});
    return done;
  };

  /** One connection LISTENs for every channel; if the server drops it, a new one subscribes again. */
  function ensureListener(): Promise<pg.Client> {
    listener ??= (async () => {
      const client = new pg.Client({ connectionString, application_name: LISTENER_NAME });
      client.on('notification', (msg) => {
        for (const handler of handlers.get(msg.channel) ?? []) handler(msg.payload ?? '');
      });
      client.on('error', () => {});
      client.on('end', () => {
        listener = null;
        if (!closed) resubscribe();
      });
      await client.connect();
      for (const channel of handlers.keys()) await subscribe(client, channel);
      return client;
    })();
    listener.catch(() => {
      listener = null;
    });
    return listener;
  }
  function resubscribe(): void {
    ensureListener().catch(() => {
      if (!closed) setTimeout(resubscribe, 1000).unref();
    });
  }

  return {
    db: db as unknown as Db,
    kind: 'postgres',
    async migrate(bootstrap) {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
        const locked = drizzlePg(client, { schema });
        await migratePg(locked, { migrationsFolder });
        await bootstrap?.(locked as unknown as Db);
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
        client.release();
      }
    },
    async listen(channel, handler) {
      const list = handlers.get(channel);
      if (list) {
        list.push(handler);
        return;
      }
      handlers.set(channel, [handler]);
      await subscribe(await ensureListener(), channel);
    },
    async notify(channel, payload) {
      await db.execute(sql`select pg_notify(${channel}, ${payload})`);
    },
    poolCounts: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      closed = true;
      await listener?.then((client) => client.end()).catch(() => {});
      await pool.end();
    },
  };
}
