// Opaque bearer tokens, kept in the database (as SHA-256) so every instance accepts every token
// and a logout revokes it everywhere.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, sql } from 'drizzle-orm';
import { preparedFor, type Db } from '../db/index.js';
import { authTokens, users, type User } from '../db/schema.js';

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

export async function issueToken(db: Db, userId: string, ttlDays: number): Promise<string> {
  const token = `ap_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + ttlDays * 86_400_000);
  await db.insert(authTokens).values({ tokenHash: sha256(token), userId, expiresAt });
  return token;
}

// Every request asks this: prepared.
const userByTokenHash = preparedFor((db) => db.select({ user: users }).from(authTokens)
  .innerJoin(users, eq(users.id, authTokens.userId))
  .where(and(eq(authTokens.tokenHash, sql.placeholder('hash')), gt(authTokens.expiresAt, sql`now()`)))
  .prepare('user_by_token_hash'));

export async function userForToken(db: Db, token: string): Promise<User | null> {
  const [row] = await userByTokenHash(db).execute({ hash: sha256(token) });
  return row?.user ?? null;
}

export async function revokeToken(db: Db, token: string): Promise<void> {
  await db.delete(authTokens).where(eq(authTokens.tokenHash, sha256(token)));
}
