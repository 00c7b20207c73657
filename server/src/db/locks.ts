// Transaction-scoped advisory locks (pg_advisory_xact_lock(class, key)): how instances take turns on
// a check and the write it allows, so that parallel requests cannot all pass the check first.
import { sql } from 'drizzle-orm';
import type { Db } from './index.js';

/** The lock classes, one per kind of thing locked; a transaction taking several takes them in this order. */
export const LOCK = { loginEmail: 1, loginAddress: 2, registrationAddress: 3, userManagers: 4 } as const;

/** Holds `key` of `lockClass` until the transaction `db` ends. */
export const lock = (db: Db, lockClass: number, key: string) =>
  db.execute(sql`select pg_advisory_xact_lock(${lockClass}, hashtext(${key}))`);
