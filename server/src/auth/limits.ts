// Sign-in and registration limits, kept in the database so they hold across every instance.
//
// A limit is checked and the attempt recorded under transaction-scoped advisory locks on the email
// and the client address: instances then take turns, and parallel attempts cannot all pass the count
// before any of them is recorded. The lock comes in its own statement, before the conditional insert,
// because a statement sees the rows committed when it began (a lock taken within it would be too late).
import { lte, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { LOCK, lock } from '../db/locks.js';
import { authTokens, invites, loginFailures, registrationAttempts, signInAddresses, users } from '../db/schema.js';

const minutesAgo = (minutes: number) => sql`now() - make_interval(mins => ${minutes})`;
const daysAgo = (days: number) => sql`now() - make_interval(days => ${days})`;

/** A user stays known at an address as long as a sign-in token lasts. */
const knownSince = (config: Config) => daysAgo(config.tokenTtlDays);

/**
 * Records a sign-in attempt before its password is checked, or answers null when a limit is reached
 * (the password is then not checked at all). The attempt counts as a failure until `signedIn` deletes it.
 *
 * The per-email limit always applies. The per-address limit does not apply where this user signed in
 * before (within the token lifetime): behind one NAT, a password sprayer's failures do not lock out
 * the people who sign in there, and guessing their passwords is still held to the per-email limit.
 */
export async function reserveSignIn(db: Db, email: string, ip: string, config: Config): Promise<string | null> {
  const limits = config.login;
  return db.transaction(async (tx) => {
    await lock(tx, LOCK.loginEmail, email);
    await lock(tx, LOCK.loginAddress, ip);
    const since = minutesAgo(limits.windowMinutes);
    const reserved = tx.$with('reserved', { id: loginFailures.id }).as(sql`
      insert into ${loginFailures} (email, ip)
      select ${email}, ${ip}
      where (select count(*) from ${loginFailures} where email = ${email} and at > ${since}) < ${limits.maxFailuresPerEmail}
        and (exists (select 1 from ${signInAddresses} join ${users} on ${users.id} = ${signInAddresses.userId}
                     where ${users.email} = ${email} and ${signInAddresses.ip} = ${ip}
                       and ${signInAddresses.lastAt} > ${knownSince(config)})
             or (select count(*) from ${loginFailures} where ip = ${ip} and at > ${since}) < ${limits.maxFailuresPerIp})
      returning id`);
    const [row] = await tx.with(reserved).select().from(reserved);
    return row?.id ?? null;
  });
}

/**
 * The user proved who they are from `ip` (signed in, or registered): it is their last sign-in, and they
 * are known there from now on. One statement, which also deletes the attempt `reserveSignIn` recorded
 * (it was no failure).
 */
export async function signedIn(db: Db, userId: string, ip: string, attemptId?: string): Promise<void> {
  await db.execute(sql`
    with attempt as (delete from ${loginFailures} where id = ${attemptId ?? null}::uuid),
      signed_in as (update ${users} set last_sign_in_at = now() where id = ${userId})
    insert into ${signInAddresses} (user_id, ip) values (${userId}, ${ip})
    on conflict (user_id, ip) do update set last_at = now()`);
}

/** Records a registration from `ip`, or answers false when the address reached its limit. */
export async function reserveRegistration(db: Db, ip: string, config: Config): Promise<boolean> {
  const limits = config.registration;
  return db.transaction(async (tx) => {
    await lock(tx, LOCK.registrationAddress, ip);
    const reserved = tx.$with('reserved', { id: registrationAttempts.id }).as(sql`
      insert into ${registrationAttempts} (ip)
      select ${ip}
      where (select count(*) from ${registrationAttempts} where ip = ${ip} and at > ${minutesAgo(limits.windowMinutes)}) < ${limits.maxPerIp}
      returning id`);
    const [row] = await tx.with(reserved).select().from(reserved);
    return row !== undefined;
  });
}

/**
 * Deletes what no limit or sign-in needs any more: expired tokens and invites, attempts older than
 * their window, addresses no longer known. Several instances may prune at once: each skips the rows
 * another is deleting (SKIP LOCKED), so none waits for another.
 */
export async function pruneAuthRecords(db: Db, config: Config): Promise<void> {
  await prune(db, authTokens, lte(authTokens.expiresAt, sql`now()`));
  await prune(db, invites, lte(invites.expiresAt, sql`now()`));
  await prune(db, loginFailures, lte(loginFailures.at, minutesAgo(config.login.windowMinutes)));
  await prune(db, registrationAttempts, lte(registrationAttempts.at, minutesAgo(config.registration.windowMinutes)));
  await prune(db, signInAddresses, lte(signInAddresses.lastAt, knownSince(config)));
}

function prune(db: Db, table: PgTable, stale: SQL) {
  return db.execute(sql`delete from ${table} where ctid = any (array(
    select ctid from ${table} where ${stale} for update skip locked))`);
}
