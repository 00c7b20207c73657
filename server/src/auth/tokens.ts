// Opaque bearer tokens, kept in the database (as SHA-256) so every instance accepts every token
// and a logout revokes it everywhere.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { authTokens, users, type User } from '../db/schema.js';

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

export async function issueToken(db: Db, userId: string, ttlDays: number): Promise<string> {
  const token = `ap_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + ttlDays * 86_400_000);
  await db.insert(authTokens).values({ tokenHash: sha256(token), userId, expiresAt });
  return token;
}

export async function userForToken(db: Db, token: string): Promise<User | null> {
  const [row] = await db.select({ user: users }).from(authTokens)
    .innerJoin(users, eq(users.id, authTokens.userId))
    .where(and(eq(authTokens.tokenHash, sha256(token)), gt(authTokens.expiresAt, new Date())));
  return row?.user ?? null;
}

export async function revokeToken(db: Db, token: string): Promise<void> {
  await db.delete(authTokens).where(eq(authTokens.tokenHash, sha256(token)));
}
