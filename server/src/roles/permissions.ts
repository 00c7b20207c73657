// What a role may do: a fixed list of permission codes, each one capability of the console. A role is
// a named set of them (the roles table); a route asks for one code (auth/guard.ts requirePermission).

/** Every permission, with what it allows in words an administrator reads in the console. */
export const PERMISSIONS = {
  'agents.manage': 'Create, edit, publish and delete agents; chat with agents that are unpublished or hidden from their role, to try them',
  'coze.list': "See the bots of the organisation's Coze space",
  'coze.import': 'Import Coze bots as agents, and sync imported agents with Coze',
  'users.manage': "List users, change a user's role, disable a user",
  'invites.create': 'Create invite codes, when registration needs one',
  'usage.view': "See every user's and agent's usage",
  'roles.manage': 'Create, edit and delete roles',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const PERMISSION_CODES = Object.keys(PERMISSIONS) as Permission[];

/** Roles the platform needs and an administrator cannot change: they hold every permission and none. */
export const BUILT_IN_ROLES: Record<'admin' | 'user', { name: string; permissions: readonly Permission[] }> = {
  admin: { name: 'Administrator', permissions: PERMISSION_CODES },
  user: { name: 'User', permissions: [] },
};
export const ADMIN_ROLE = 'admin';
/** Everyone who registers gets it. */
export const DEFAULT_ROLE = 'user';

export const isPermission = (code: string): code is Permission => Object.hasOwn(PERMISSIONS, code);
export const isBuiltInRole = (key: string): key is keyof typeof BUILT_IN_ROLES => Object.hasOwn(BUILT_IN_ROLES, key);
