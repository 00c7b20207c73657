// Who is calling: `requireUser` resolves the bearer token (with the user's permissions, in the same
// query); `requirePermission` guards a route with one permission code.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/index.js';
import type { User } from '../db/schema.js';
import { HttpError } from '../http/errors.js';
import { PERMISSIONS, type Permission } from '../roles/permissions.js';
import { heldByDisabledUser, userForToken } from './tokens.js';

/** A signed-in user and what their role allows now. */
export type SignedInUser = User & { permissions: string[] };

declare module 'fastify' {
  interface FastifyRequest {
    user: SignedInUser | null;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1] ?? null;
}

export const unauthorized = () => new HttpError(401, 'Sign in first: send Authorization: Bearer <token>', 'unauthorized');

/** A disabled account: refused at sign-in (403, the password was right) and for its tokens (401, the session is gone). */
export const accountDisabled = (status: 401 | 403) =>
  new HttpError(status, 'This account is disabled. Ask an administrator to enable it again.', 'account_disabled');

/** Why `token` signs no one in: a disabled account is told so; anything else is to sign in. */
export async function refusal(db: Db, token: string | null): Promise<HttpError> {
  return token && (await heldByDisabledUser(db, token)) ? accountDisabled(401) : unauthorized();
}

export const hasPermission = (user: Pick<SignedInUser, 'permissions'>, permission: Permission) => user.permissions.includes(permission);

/** The 403 of a route the caller's role does not allow, naming the permission it needs (any one of `anyOf`). */
export function forbidden(...anyOf: [Permission, ...Permission[]]): HttpError {
  const needed =
    anyOf.length === 1 ? `the permission ${anyOf[0]} (${PERMISSIONS[anyOf[0]]})` : `one of the permissions ${anyOf.join(', ')}`;
  return new HttpError(403, `Your role does not allow this: it needs ${needed}. Ask an administrator.`, 'forbidden', {
    permission: anyOf.join(' '),
  });
}

export function guards(db: Db) {
  async function requireUser(request: FastifyRequest, _reply: FastifyReply) {
    const token = bearerToken(request);
    const user = token ? await userForToken(db, token) : null;
    if (!user) throw await refusal(db, token);
    request.user = user;
  }
  /** A console route's guard: a signed-in user whose role holds the permission (or any one of several). */
  const requirePermission = (...anyOf: [Permission, ...Permission[]]) =>
    async function (request: FastifyRequest, reply: FastifyReply) {
      await requireUser(request, reply);
      const user = currentUser(request);
      if (!anyOf.some((permission) => hasPermission(user, permission))) throw forbidden(...anyOf);
    };
  return { requireUser, requirePermission };
}

/** The signed-in user; only call behind a guard. */
export function currentUser(request: FastifyRequest): SignedInUser {
  if (!request.user) throw unauthorized();
  return request.user;
}
