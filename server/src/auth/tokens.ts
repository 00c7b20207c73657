// Opaque bearer tokens, kept in the database (as SHA-256) so every instance accepts every token
// and a logout revokes it everywhere.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, getTableColumns, gt, isNotNull, isNull, sql, type Placeholder } from 'drizzle-orm';
import { preparedFor, type Db } from '../db/index.js';
import { authTokens, roles, users } from '../db/schema.js';
import type { SignedInUser } from './guard.js';

/** Tokens are looked up by their hash. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export async function issueToken(db: Db, userId: string, ttlDays: number): Promise<string> {
  const token = `ap_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + ttlDays * 86_400_000);
  await db.insert(authTokens).values({ tokenHash: tokenHash(token), userId, expiresAt });
  return token;
}

const liveToken = (hash: Placeholder | string) => and(eq(authTokens.tokenHash, hash), gt(authTokens.expiresAt, sql`now()`));

/**
 * The user who holds the live token whose hash `hash` stands for (no row: not signed in, or their
 * account is disabled), with their role's permissions as they are now (a role changed applies to the
 * next request, on every instance). A query, so that other statements can fold it in and ask at no
 * round trip of their own (a chat's first statement does). Asked on every request, so a disabled
 * account's tokens stop working at once on every instance.
 */
export const tokenHolder = (db: Db, hash: Placeholder) =>
  db
    .select({ ...getTableColumns(users), permissions: roles.permissions })
    .from(authTokens)
    .innerJoin(users, eq(users.id, authTokens.userId))
    .innerJoin(roles, eq(roles.key, users.role))
    .where(and(liveToken(hash), isNull(users.disabledAt)));

// Every request asks this: prepared.
const userByTokenHash = preparedFor((db) => tokenHolder(db, sql.placeholder('hash')).prepare('user_by_token_hash'));

export async function userForToken(db: Db, token: string): Promise<SignedInUser | null> {
  const [user] = await userByTokenHash(db).execute({ hash: tokenHash(token) });
  return user ?? null;
}

/** Whether `token` is live but its user's account is disabled (asked only of a refused token, to say why). */
export async function heldByDisabledUser(db: Db, token: string): Promise<boolean> {
  const rows = await db
    .select({ userId: users.id })
    .from(authTokens)
    .innerJoin(users, eq(users.id, authTokens.userId))
    .where(and(liveToken(tokenHash(token)), isNotNull(users.disabledAt)));
  return rows.length > 0;
}

export async function revokeToken(db: Db, token: string): Promise<void> {
  await db.delete(authTokens).where(eq(authTokens.tokenHash, tokenHash(token)));
}

/** Signs the user out everywhere (their password or role changed). */
export async function revokeUserTokens(db: Db, userId: string): Promise<void> {
  await db.delete(authTokens).where(eq(authTokens.userId, userId));
}
