// Who is calling: `authenticate` resolves the bearer token; `requireUser` / `requireAdmin` guard routes.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/index.js';
import type { User } from '../db/schema.js';
import { HttpError } from '../http/errors.js';
import { userForToken } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1] ?? null;
}

export const unauthorized = () => new HttpError(401, 'Sign in first: send Authorization: Bearer <token>', 'unauthorized');

export function guards(db: Db) {
  async function requireUser(request: FastifyRequest, _reply: FastifyReply) {
    const token = bearerToken(request);
    const user = token ? await userForToken(db, token) : null;
    if (!user) throw unauthorized();
    request.user = user;
  }
  async function requireAdmin(request: FastifyRequest, reply: FastifyReply) {
    await requireUser(request, reply);
    if (request.user?.role !== 'admin') throw new HttpError(403, 'Only administrators can do this', 'forbidden');
  }
  return { requireUser, requireAdmin };
}

/** The signed-in user; only call behind a guard. */
export function currentUser(request: FastifyRequest): User {
  if (!request.user) throw unauthorized();
  return request.user;
}
