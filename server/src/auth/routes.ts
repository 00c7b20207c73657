import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { users } from '../db/schema.js';
import { HttpError, conflict } from '../http/errors.js';
import { NoContent, errorResponses } from '../http/schemas.js';
import { DEFAULT_ROLE } from '../roles/permissions.js';
import { permissionsOf } from '../roles/roles.js';
import { accountDisabled, bearerToken, currentUser, guards } from './guard.js';
import { claimInvite, inviteRoutes } from './invites.js';
import { pruneAuthRecords, reserveRegistration, reserveSignIn, signedIn } from './limits.js';
import { decoyHash, passwordMatches, passwords } from './passwords.js';
import { issueToken, revokeToken } from './tokens.js';
import { AuthConfig, AuthResponse, CurrentUser } from './schemas.js';
import { findUserByEmail, normaliseEmail, publicUser } from './users.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Credentials = Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) });
const PRUNE_EVERY_MS = 60 * 60_000;

const tooMany = (what: string, minutes: number) => new HttpError(429, `Too many ${what}. Try again in ${minutes} minutes.`, 'rate_limited');

export const authRoutes: FastifyPluginAsyncTypebox<{ db: Db; config: Config }> = async (app, { db, config }) => {
  const { requireUser } = guards(db);
  const registration = config.registration;

  // Stale limit rows and expired tokens go at start-up and then hourly, on every instance. At start-up
  // means once the app is ready: the app is built while the database migrates.
  app.addHook('onReady', async () => pruneAuthRecords(db, config));
  const pruning = setInterval(() => {
    pruneAuthRecords(db, config).catch((err) => app.log.warn({ err }, 'pruning expired sign-in records failed'));
  }, PRUNE_EVERY_MS).unref();
  app.addHook('onClose', async () => clearInterval(pruning));
  // Made now, so that the first sign-in with an unknown email takes no longer than any other.
  await decoyHash();

  app.get('/api/auth/config', { schema: { response: { 200: AuthConfig, ...errorResponses } } }, async () => ({
    registration: registration.mode,
  }));

  app.post(
    '/api/auth/register',
    {
      schema: {
        body: Type.Object({
          email: Email,
          password: Type.String({ minLength: 8, maxLength: 1024 }),
          name: Type.Optional(Type.String({ maxLength: 100 })),
          inviteCode: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        response: { 201: AuthResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { inviteCode } = request.body;
      if (registration.mode === 'closed') {
        throw new HttpError(403, 'Registration is closed on this platform. Ask an administrator for an account.', 'registration_closed');
      }
      if (registration.mode === 'invite' && !inviteCode) {
        throw new HttpError(403, 'Registration on this platform needs an invite code. Ask an administrator for one.', 'invite_required');
      }
      // Before the (deliberately slow) hash, so that the limit also bounds the work one address causes.
      if (!(await reserveRegistration(db, request.ip, config)))
        throw tooMany('registrations from this address', registration.windowMinutes);
      const email = normaliseEmail(request.body.email);
      const passwordHash = await passwords.hash(request.body.password);
      const user = await db.transaction(async (tx) => {
        const [created] = await tx
          .insert(users)
          .values({ email, passwordHash, name: request.body.name?.trim() ?? '', role: DEFAULT_ROLE })
          .onConflictDoNothing()
          .returning();
        if (!created) throw conflict('An account with this email already exists');
        if (registration.mode === 'invite' && !(await claimInvite(tx, inviteCode!, created.id))) {
          throw new HttpError(403, 'This invite code is not valid: it may be mistyped, used or expired.', 'invalid_invite');
        }
        return { ...created, permissions: await permissionsOf(tx, created.role) };
      });
      await signedIn(db, user.id, request.ip);
      const token = await issueToken(db, user.id, config.tokenTtlDays);
      return reply.code(201).send({ token, user: publicUser(user) });
    },
  );

  app.post('/api/auth/login', { schema: { body: Credentials, response: { 200: AuthResponse, ...errorResponses } } }, async (request) => {
    const email = normaliseEmail(request.body.email);
    const attempt = await reserveSignIn(db, email, request.ip, config);
    if (!attempt) throw tooMany('failed sign-ins', config.login.windowMinutes);
    const user = await findUserByEmail(db, email);
    const matches = await passwordMatches(user, request.body.password); // also when there is no such user
    if (!user || !matches) {
      throw new HttpError(401, 'Wrong email or password', 'invalid_credentials');
    }
    // Said only to whoever knows the password: to anyone else a disabled account is a wrong password.
    if (user.disabledAt) throw accountDisabled(403);
    await signedIn(db, user.id, request.ip, attempt);
    return { token: await issueToken(db, user.id, config.tokenTtlDays), user: publicUser(user) };
  });

  app.get(
    '/api/auth/me',
    {
      onRequest: requireUser,
      schema: { response: { 200: CurrentUser, ...errorResponses } },
    },
    async (request) => ({ user: publicUser(currentUser(request)) }),
  );

  app.post(
    '/api/auth/logout',
    {
      onRequest: requireUser,
      schema: { response: { 204: NoContent, ...errorResponses } },
    },
    async (request, reply) => {
      const token = bearerToken(request);
      if (token) await revokeToken(db, token);
      return reply.code(204).send(null);
    },
  );

  await app.register(inviteRoutes, { db });
};
