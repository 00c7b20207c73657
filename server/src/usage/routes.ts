import { Type } from 'typebox';
import { eq } from 'drizzle-orm';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentUser, guards } from '../auth/guard.js';
import type { Db } from '../db/index.js';
import { roles, userQuotas, users } from '../db/schema.js';
import { notFound } from '../http/errors.js';
import { NoContent, errorResponses } from '../http/schemas.js';
import { pruneMessageCounts, quotaStatus } from './quotas.js';
import { parsePeriod, usageByUser, usageCsv, usageReport } from './reports.js';
import { OwnUsage, PeriodQuery, Quotas, RoleQuotas, UsageReport, UserQuota } from './schemas.js';

const UserId = Type.Object({ id: Type.String({ format: 'uuid' }) });
const RoleParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 40 }) });
const PRUNE_EVERY_MS = 60 * 60_000;

export const usageRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  const { requireUser, requirePermission } = guards(db);

  app.addHook('onReady', async () => pruneMessageCounts(db));
  const pruning = setInterval(() => {
    pruneMessageCounts(db).catch((err) => app.log.warn({ err }, "pruning past days' quota counters failed"));
  }, PRUNE_EVERY_MS).unref();
  app.addHook('onClose', async () => clearInterval(pruning));

  // A user's own usage and quotas.
  app.get(
    '/api/ai-agent/usage/me',
    { onRequest: requireUser, schema: { querystring: PeriodQuery, response: { 200: OwnUsage, ...errorResponses } } },
    async (request) => {
      const userId = currentUser(request).id;
      const period = parsePeriod(request.query);
      const [report, quota] = await Promise.all([usageReport(db, period, userId), quotaStatus(db, userId)]);
      return { ...report, quota };
    },
  );

  app.get(
    '/console/api/usage',
    { onRequest: requirePermission('usage.view'), schema: { querystring: PeriodQuery, response: { 200: UsageReport, ...errorResponses } } },
    async (request) => {
      const period = parsePeriod(request.query);
      const [report, byUser] = await Promise.all([usageReport(db, period), usageByUser(db, period)]);
      return { ...report, users: byUser };
    },
  );

  // Made here, not in the browser: the same quoting and formula guard whoever downloads it.
  app.get(
    '/console/api/usage.csv',
    {
      onRequest: requirePermission('usage.view'),
      schema: { querystring: PeriodQuery, response: { 200: Type.String(), ...errorResponses } },
    },
    async (request, reply) => {
      const period = parsePeriod(request.query);
      const csv = await usageCsv(db, period);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="usage-${period.from}-to-${period.to}.csv"`)
        .send(csv);
    },
  );

  async function userQuota(id: string) {
    const [row] = await db
      .select({ user: { id: users.id, email: users.email, name: users.name, role: users.role }, own: userQuotas })
      .from(users)
      .leftJoin(userQuotas, eq(userQuotas.userId, users.id))
      .where(eq(users.id, id));
    if (!row) throw notFound(`No user with id ${id}`);
    const own = row.own && { messagesPerDay: row.own.messagesPerDay, tokensPerMonth: row.own.tokensPerMonth };
    return { user: row.user, own, status: await quotaStatus(db, id) };
  }

  const manageUsers = requirePermission('users.manage');
  app.get(
    '/console/api/quotas/users/:id',
    { onRequest: manageUsers, schema: { params: UserId, response: { 200: UserQuota, ...errorResponses } } },
    (request) => userQuota(request.params.id),
  );

  app.put(
    '/console/api/quotas/users/:id',
    { onRequest: manageUsers, schema: { params: UserId, body: Quotas, response: { 200: UserQuota, ...errorResponses } } },
    async (request) => {
      const { id } = request.params;
      const quotas = request.body;
      const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, id));
      if (!user) throw notFound(`No user with id ${id}`);
      await db
        .insert(userQuotas)
        .values({ userId: id, ...quotas })
        .onConflictDoUpdate({ target: userQuotas.userId, set: { ...quotas, updatedAt: new Date() } });
      return userQuota(id);
    },
  );

  // The user's role's quotas apply again.
  app.delete(
    '/console/api/quotas/users/:id',
    { onRequest: manageUsers, schema: { params: UserId, response: { 204: NoContent, ...errorResponses } } },
    async (request, reply) => {
      await db.delete(userQuotas).where(eq(userQuotas.userId, request.params.id));
      return reply.code(204).send(null);
    },
  );

  // A role's quotas; the built-in ones' too (their permissions are fixed, their quotas are not).
  app.put(
    '/console/api/quotas/roles/:key',
    {
      onRequest: requirePermission('roles.manage'),
      schema: { params: RoleParams, body: Quotas, response: { 200: RoleQuotas, ...errorResponses } },
    },
    async (request) => {
      const [updated] = await db
        .update(roles)
        .set({ ...request.body, updatedAt: new Date() })
        .where(eq(roles.key, request.params.key))
        .returning({ key: roles.key, messagesPerDay: roles.messagesPerDay, tokensPerMonth: roles.tokensPerMonth });
      if (!updated) throw notFound(`No role with key ${request.params.key}`);
      return updated;
    },
  );
};
