// Invite codes for REGISTRATION=invite: an administrator (invites.create) creates one, one person registers with it.
// Single-use, expiring, and stored only as a SHA-256 (like tokens), so a database leak leaks no code.
import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../db/index.js';
import { invites } from '../db/schema.js';
import { errorResponses } from '../http/schemas.js';
import { currentUser, guards } from './guard.js';
import { Invite } from './schemas.js';
import { tokenHash } from './tokens.js';

export async function createInvite(db: Db, createdBy: string, expiresInDays: number): Promise<Invite> {
  const code = `inv_${randomBytes(18).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + expiresInDays * 86_400_000);
  await db.insert(invites).values({ codeHash: tokenHash(code), createdBy, expiresAt });
  return { code, expiresAt: expiresAt.toISOString() };
}

/** Uses up the invite for `userId`; false when the code is unknown, used or expired. */
export async function claimInvite(db: Db, code: string, userId: string): Promise<boolean> {
  const claimed = await db
    .update(invites)
    .set({ usedAt: sql`now()`, usedBy: userId })
    .where(and(eq(invites.codeHash, tokenHash(code)), isNull(invites.usedAt), gt(invites.expiresAt, sql`now()`)))
    .returning({ codeHash: invites.codeHash });
  return claimed.length > 0;
}

export const inviteRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  const { requirePermission } = guards(db);

  app.post(
    '/console/api/invites',
    {
      onRequest: requirePermission('invites.create'),
      schema: {
        body: Type.Object({ expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 90 })) }),
        response: { 201: Invite, ...errorResponses },
      },
    },
    async (request, reply) => {
      const invite = await createInvite(db, currentUser(request).id, request.body.expiresInDays ?? 7);
      return reply.code(201).send(invite);
    },
  );
};
