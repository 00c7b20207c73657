import { Type } from 'typebox';
import { and, count, eq, gt } from 'drizzle-orm';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { loginFailures, users } from '../db/schema.js';
import { HttpError, conflict } from '../http/errors.js';
import { bearerToken, currentUser, guards } from './guard.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { issueToken, revokeToken } from './tokens.js';
import { findUserByEmail, normaliseEmail, publicUser } from './users.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Credentials = Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) });

export const authRoutes: FastifyPluginAsyncTypebox<{ db: Db; config: Config }> = async (app, { db, config }) => {
  const { requireUser } = guards(db);
  const limits = config.login;

  /** Failed logins are counted in the database, so the limit holds across every instance. */
  async function assertNotLimited(email: string, ip: string) {
    const since = new Date(Date.now() - limits.windowMinutes * 60_000);
    const [byEmail] = await db.select({ n: count() }).from(loginFailures)
      .where(and(eq(loginFailures.email, email), gt(loginFailures.at, since)));
    const [byIp] = await db.select({ n: count() }).from(loginFailures)
      .where(and(eq(loginFailures.ip, ip), gt(loginFailures.at, since)));
    if ((byEmail?.n ?? 0) >= limits.maxFailuresPerEmail || (byIp?.n ?? 0) >= limits.maxFailuresPerIp) {
      throw new HttpError(429, `Too many failed sign-ins. Try again in ${limits.windowMinutes} minutes.`, 'rate_limited');
    }
  }

  app.post('/api/auth/register', {
    schema: {
      body: Type.Object({
        email: Email,
        password: Type.String({ minLength: 8, maxLength: 1024 }),
        name: Type.Optional(Type.String({ maxLength: 100 })),
      }),
    },
  }, async (request, reply) => {
    const email = normaliseEmail(request.body.email);
    const passwordHash = await hashPassword(request.body.password);
    const [user] = await db.insert(users)
      .values({ email, passwordHash, name: request.body.name?.trim() ?? '', role: 'user' })
      .onConflictDoNothing().returning();
    if (!user) throw conflict('An account with this email already exists');
    const token = await issueToken(db, user.id, config.tokenTtlDays);
    return reply.code(201).send({ token, user: publicUser(user) });
  });

  app.post('/api/auth/login', { schema: { body: Credentials } }, async (request) => {
    const email = normaliseEmail(request.body.email);
    await assertNotLimited(email, request.ip);
    const user = await findUserByEmail(db, email);
    if (!user || !(await verifyPassword(user.passwordHash, request.body.password))) {
      await db.insert(loginFailures).values({ email, ip: request.ip });
      throw new HttpError(401, 'Wrong email or password', 'invalid_credentials');
    }
    await db.delete(loginFailures).where(eq(loginFailures.email, email));
    return { token: await issueToken(db, user.id, config.tokenTtlDays), user: publicUser(user) };
  });

  app.get('/api/auth/me', { onRequest: requireUser }, async (request) => ({ user: publicUser(currentUser(request)) }));

  app.post('/api/auth/logout', { onRequest: requireUser }, async (request, reply) => {
    const token = bearerToken(request);
    if (token) await revokeToken(db, token);
    return reply.code(204).send();
  });
};
