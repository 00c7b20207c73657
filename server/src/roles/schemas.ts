// What the roles routes take and answer, as schemas (for the routes) and types (for the web app, via ../contract.ts).
import { Type, type Static } from 'typebox';
import { Quotas } from '../usage/schemas.js';
import { PERMISSION_CODES } from './permissions.js';

export const PermissionCode = Type.Enum(PERMISSION_CODES);
export type Permission = Static<typeof PermissionCode>;

export const RoleKey = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,39}$' });

export const Role = Type.Object({
  key: Type.String(),
  name: Type.String(),
  permissions: Type.Array(PermissionCode),
  /** admin and user: the platform needs them, they cannot be changed or deleted. */
  builtIn: Type.Boolean(),
  /** How many users hold it (a role held by anyone cannot be deleted). */
  users: Type.Integer(),
  /** Its quotas (null: unlimited), set with PUT /console/api/quotas/roles/:key (usage/routes.ts). */
  ...Quotas.properties,
});
export type Role = Static<typeof Role>;

/** GET /console/api/roles: the roles, and every permission with what it allows (for the role form). */
export const RoleList = Type.Object({
  items: Type.Array(Role),
  permissions: Type.Array(Type.Object({ code: PermissionCode, description: Type.String() })),
});
export type RoleList = Static<typeof RoleList>;

const RoleName = Type.String({ minLength: 1, maxLength: 60 });
const Permissions = Type.Array(PermissionCode, { uniqueItems: true, maxItems: PERMISSION_CODES.length });

export const RoleCreate = Type.Object({
  /** Made from the name when not given; it never changes (users.role holds it). */
  key: Type.Optional(RoleKey),
  name: RoleName,
  permissions: Permissions,
});
export type RoleCreate = Static<typeof RoleCreate>;

export const RolePatch = Type.Object({ name: Type.Optional(RoleName), permissions: Type.Optional(Permissions) }, { minProperties: 1 });
export type RolePatch = Static<typeof RolePatch>;
