// Console routes for roles: list them with every permission, create, change and delete one.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { guards } from '../auth/guard.js';
import type { Db } from '../db/index.js';
import { NoContent, errorResponses } from '../http/schemas.js';
import { createRole, deleteRole, listRoles, updateRole } from './roles.js';
import { Role, RoleCreate, RoleList, RolePatch } from './schemas.js';

const RoleParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 40 }) });

export const roleRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  const { requirePermission } = guards(db);

  // Whoever gives users a role or shows agents to some roles reads the list too.
  app.get(
    '/console/api/roles',
    {
      onRequest: requirePermission('roles.manage', 'users.manage', 'agents.manage'),
      schema: { response: { 200: RoleList, ...errorResponses } },
    },
    async () => listRoles(db),
  );

  app.post(
    '/console/api/roles',
    {
      onRequest: requirePermission('roles.manage'),
      schema: { body: RoleCreate, response: { 201: Role, ...errorResponses } },
    },
    async (request, reply) => reply.code(201).send(await createRole(db, request.body)),
  );

  app.patch(
    '/console/api/roles/:key',
    {
      onRequest: requirePermission('roles.manage'),
      schema: { params: RoleParams, body: RolePatch, response: { 200: Role, ...errorResponses } },
    },
    async (request) => updateRole(db, request.params.key, request.body),
  );

  app.delete(
    '/console/api/roles/:key',
    {
      onRequest: requirePermission('roles.manage'),
      schema: { params: RoleParams, response: { 204: NoContent, ...errorResponses } },
    },
    async (request, reply) => {
      await deleteRole(db, request.params.key);
      return reply.code(204).send(null);
    },
  );
};
