// Invite codes for REGISTRATION=invite: an administrator (invites.create) creates one, one person registers with it.
// Single-use, expiring, and stored only as a SHA-256 (like tokens), so a database leak leaks no code.
import { randomBytes } from 'node:crypto';
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../db/index.js';
import { invites, users } from '../db/schema.js';
import { HttpError, notFound } from '../http/errors.js';
import { NoContent, errorResponses } from '../http/schemas.js';
import { currentUser, guards } from './guard.js';
import { Invite, InviteList, type InviteListed } from './schemas.js';
import { tokenHash } from './tokens.js';

export async function createInvite(db: Db, createdBy: string, expiresInDays: number): Promise<Invite> {
  const code = `inv_${randomBytes(18).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + expiresInDays * 86_400_000);
  const [created] = await db
    .insert(invites)
    .values({ codeHash: tokenHash(code), createdBy, expiresAt })
    .returning({ id: invites.id });
  return { id: created!.id, code, expiresAt: expiresAt.toISOString() };
}

/** An invite that can still register someone. */
const pending = and(isNull(invites.usedAt), isNull(invites.revokedAt), gt(invites.expiresAt, sql`now()`))!;

/** Uses up the invite for `userId`; false when the code is unknown, used or expired. */
export async function claimInvite(db: Db, code: string, userId: string): Promise<boolean> {
  const claimed = await db
    .update(invites)
    .set({ usedAt: sql`now()`, usedBy: userId })
    .where(and(eq(invites.codeHash, tokenHash(code)), pending))
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

  // The newest 100: expired ones are pruned within the hour (limits.ts), so the list stays short.
  app.get(
    '/console/api/invites',
    { onRequest: requirePermission('invites.create'), schema: { response: { 200: InviteList, ...errorResponses } } },
    async () => {
      const rows = await db
        .select({ invite: invites, usedBy: users.email, now: sql<Date>`now()`.mapWith(invites.expiresAt) })
        .from(invites)
        .leftJoin(users, eq(users.id, invites.usedBy))
        .orderBy(desc(invites.createdAt))
        .limit(100);
      return {
        items: rows.map(({ invite, usedBy, now }): InviteListed => ({
          id: invite.id,
          status: invite.usedAt ? 'used' : invite.revokedAt ? 'revoked' : invite.expiresAt <= now ? 'expired' : 'pending',
          createdAt: invite.createdAt.toISOString(),
          expiresAt: invite.expiresAt.toISOString(),
          usedBy,
        })),
      };
    },
  );

  app.delete(
    '/console/api/invites/:id',
    {
      onRequest: requirePermission('invites.create'),
      schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 204: NoContent, ...errorResponses } },
    },
    async (request, reply) => {
      const { id } = request.params;
      const [revoked] = await db
        .update(invites)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(invites.id, id), pending))
        .returning({ id: invites.id });
      if (!revoked) {
        const [exists] = await db.select({ id: invites.id }).from(invites).where(eq(invites.id, id));
        if (!exists) throw notFound(`No invite with id ${id}`);
        throw new HttpError(409, 'Only a pending invite can be revoked: this one was used, revoked or has expired', 'invite_not_pending');
      }
      return reply.code(204).send(null);
    },
  );
};
