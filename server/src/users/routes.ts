// The console's users: the list (searched, paged), and an admin's two changes to an account, its
// role and whether it is disabled. A disabled account's tokens are refused at once on every instance
// (auth/tokens.ts asks on every request); an answer it has streaming finishes.
import { Type } from 'typebox';
import { asc, count, eq, ilike, or } from 'drizzle-orm';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentUser, guards } from '../auth/guard.js';
import { revokeUserTokens } from '../auth/tokens.js';
import type { Db } from '../db/index.js';
import { roles, users, type User } from '../db/schema.js';
import { HttpError, badRequest, notFound } from '../http/errors.js';
import { errorResponses } from '../http/schemas.js';
import { containsPattern } from '../http/search.js';
import { keepUserManager, lockUserManagers } from '../roles/roles.js';
import { ConsoleUser, UserPage, UserPatch, UserQuery } from './schemas.js';

/** Paging by offset reads and skips every row before the page: it stops here (a search narrows the list). */
const MAX_OFFSET = 10_000;

const UserId = Type.Object({ id: Type.String({ format: 'uuid' }) });

const consoleUser = (user: User): ConsoleUser => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  status: user.disabledAt ? 'disabled' : 'active',
  createdAt: user.createdAt.toISOString(),
  lastSignInAt: user.lastSignInAt?.toISOString() ?? null,
});

export const userRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  const { requirePermission } = guards(db);
  app.addHook('onRequest', requirePermission('users.manage'));

  app.get('/console/api/users', { schema: { querystring: UserQuery, response: { 200: UserPage, ...errorResponses } } }, async (request) => {
    const { q, page, pageSize } = request.query;
    const offset = (page - 1) * pageSize;
    if (offset >= MAX_OFFSET) {
      throw badRequest(`Pages reach the first ${MAX_OFFSET} users only: search to narrow the list`, 'page_out_of_range');
    }
    const pattern = q?.trim() ? containsPattern(q.trim()) : null;
    const matching = pattern ? or(ilike(users.email, pattern), ilike(users.name, pattern)) : undefined;
    const rows = await db.select().from(users).where(matching).orderBy(asc(users.email)).limit(pageSize).offset(offset);
    const [counted] = await db.select({ total: count() }).from(users).where(matching);
    return { items: rows.map(consoleUser), total: counted?.total ?? 0, page, pageSize };
  });

  app.patch(
    '/console/api/users/:id',
    { schema: { params: UserId, body: UserPatch, response: { 200: ConsoleUser, ...errorResponses } } },
    async (request) => {
      const { id } = request.params;
      const { role, status } = request.body;
      if (status === 'disabled' && id === currentUser(request).id) {
        throw new HttpError(409, 'You cannot disable your own account', 'cannot_disable_self');
      }
      const updated = await db.transaction(async (tx) => {
        await lockUserManagers(tx);
        // Shared: the role cannot be deleted before this commits (deleting it waits, then finds a holder).
        if (role !== undefined && (await tx.select().from(roles).where(eq(roles.key, role)).for('share')).length === 0) {
          throw badRequest(`There is no role "${role}": GET /console/api/roles lists them`, 'unknown_role');
        }
        const [before] = await tx.select().from(users).where(eq(users.id, id));
        if (!before) throw notFound(`No user with id ${id}`);
        const disabledAt = status === undefined ? before.disabledAt : status === 'disabled' ? (before.disabledAt ?? new Date()) : null;
        const [after] = await tx
          .update(users)
          .set({ role: role ?? before.role, disabledAt, updatedAt: new Date() })
          .where(eq(users.id, id))
          .returning();
        // Kept while disabled (a refused token is told why); gone once enabled again: sessions from
        // before the disable do not come back.
        if (before.disabledAt && !disabledAt) await revokeUserTokens(tx, id);
        await keepUserManager(tx, 'This is the last account that can manage users: give another account that role first');
        return after!;
      });
      return consoleUser(updated);
    },
  );
};
