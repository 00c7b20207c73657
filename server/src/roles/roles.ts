// Roles as stored: the built-in two kept up to date at start-up, an administrator's own ones created,
// changed and deleted in the console (routes.ts).
import { randomBytes } from 'node:crypto';
import { and, asc, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { LOCK, lock } from '../db/locks.js';
import { agents, roles, users, type RoleRow } from '../db/schema.js';
import { HttpError, conflict, notFound } from '../http/errors.js';
import { BUILT_IN_ROLES, PERMISSIONS, isBuiltInRole, isPermission, type Permission } from './permissions.js';
import type { Role, RoleCreate, RoleList, RolePatch } from './schemas.js';

/** The permissions a stored list grants: codes this version no longer knows are dropped. */
export const knownPermissions = (stored: readonly string[]): Permission[] => stored.filter(isPermission);

/**
 * Gives the built-in roles their names and permissions: the administrator gets every permission this
 * version knows. Writes nothing when they are current (every restart, every instance). Runs under the
 * start-up lock.
 */
export async function ensureBuiltInRoles(db: Db): Promise<void> {
  const rows = Object.entries(BUILT_IN_ROLES).map(([key, role]) => ({ key, name: role.name, permissions: [...role.permissions] }));
  await db
    .insert(roles)
    .values(rows)
    .onConflictDoUpdate({
      target: roles.key,
      set: { name: sql`excluded.name`, permissions: sql`excluded.permissions`, updatedAt: sql`now()` },
      setWhere: sql`(${roles.name}, ${roles.permissions}) is distinct from (excluded.name, excluded.permissions)`,
    });
}

/** The permissions of role `key` (for a sign-in's answer; a signed-in request reads them with its token). */
export async function permissionsOf(db: Db, key: string): Promise<Permission[]> {
  const [role] = await db.select({ permissions: roles.permissions }).from(roles).where(eq(roles.key, key));
  return knownPermissions(role?.permissions ?? []);
}

/** The accounts that can manage users now: the platform must always keep one. */
const userManagers = and(
  isNull(users.disabledAt),
  sql`exists (select 1 from ${roles} where ${roles.key} = ${users.role} and 'users.manage' = any(${roles.permissions}))`,
);

/**
 * Makes changes to who can manage users take turns, on every instance, until the transaction `tx`
 * ends: two admins changing at once cannot both pass keepUserManager and leave no one.
 */
export const lockUserManagers = (tx: Db) => lock(tx, LOCK.userManagers, 'users');

/** After a change under lockUserManagers: refuses it (409 last_user_manager) when no active account can manage users any more. */
export async function keepUserManager(tx: Db, message: string): Promise<void> {
  const [managers] = await tx.select({ n: count() }).from(users).where(userManagers);
  if (!managers?.n) throw new HttpError(409, message, 'last_user_manager');
}

const roleView = (role: RoleRow, holders: number): Role => ({
  key: role.key,
  name: role.name,
  permissions: knownPermissions(role.permissions),
  builtIn: isBuiltInRole(role.key),
  users: holders,
  messagesPerDay: role.messagesPerDay,
  tokensPerMonth: role.tokensPerMonth,
});

const holders = (db: Db) =>
  db
    .select({ role: users.role, users: count().as('users') })
    .from(users)
    .groupBy(users.role)
    .as('holders');

export async function listRoles(db: Db): Promise<RoleList> {
  const held = holders(db);
  const rows = await db
    .select({ role: roles, users: held.users })
    .from(roles)
    .leftJoin(held, eq(held.role, roles.key))
    .orderBy(asc(roles.createdAt), asc(roles.key));
  return {
    items: rows.map((row) => roleView(row.role, row.users ?? 0)),
    permissions: Object.entries(PERMISSIONS).map(([code, description]) => ({ code: code as Permission, description })),
  };
}

async function roleWithHolders(db: Db, key: string): Promise<Role> {
  const [role] = await db.select().from(roles).where(eq(roles.key, key));
  if (!role) throw notFound(`No role with key ${key}`);
  const [held] = await db.select({ users: count() }).from(users).where(eq(users.role, key));
  return roleView(role, held?.users ?? 0);
}

/** A key from the name ("Agent curator" → agent-curator); a random one when the name has no latin letters or digits. */
function keyFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || `role-${randomBytes(4).toString('hex')}`;
}

const builtInUnchangeable = (key: string) =>
  new HttpError(409, `The built-in role ${key} cannot be changed or deleted: create a role of your own instead`, 'built_in_role');

export async function createRole(db: Db, body: RoleCreate): Promise<Role> {
  const name = body.name.trim();
  if (!name) throw new HttpError(400, 'A role needs a name', 'invalid_role');
  const key = body.key ?? keyFromName(name);
  const [created] = await db.insert(roles).values({ key, name, permissions: body.permissions }).onConflictDoNothing().returning();
  if (!created) throw conflict(`A role with the key ${key} exists already: choose another name or key`);
  return roleView(created, 0);
}

export async function updateRole(db: Db, key: string, patch: RolePatch): Promise<Role> {
  if (isBuiltInRole(key)) throw builtInUnchangeable(key);
  const name = patch.name?.trim();
  if (name === '') throw new HttpError(400, 'A role needs a name', 'invalid_role');
  // A role of one's own may hold the last accounts that can manage users: taking the permission away
  // waits its turn with user changes, then checks.
  const dropsUserManagement = patch.permissions !== undefined && !patch.permissions.includes('users.manage');
  await db.transaction(async (tx) => {
    if (dropsUserManagement) await lockUserManagers(tx);
    const [updated] = await tx
      .update(roles)
      .set({ ...(name ? { name } : {}), ...(patch.permissions ? { permissions: patch.permissions } : {}), updatedAt: new Date() })
      .where(eq(roles.key, key))
      .returning({ key: roles.key });
    if (!updated) throw notFound(`No role with key ${key}`);
    if (dropsUserManagement) {
      await keepUserManager(tx, 'This role holds the last accounts that can manage users: give another account that permission first');
    }
  });
  return roleWithHolders(db, key);
}

/**
 * Makes sure the roles `keys` exist and stay until the transaction `tx` ends: a deletion of one of
 * them waits, then sees it in use (an agent shown to it). Nothing to check for null (everyone).
 */
export async function lockRoles(tx: Db, keys: readonly string[] | null | undefined): Promise<void> {
  if (!keys?.length) return;
  const found = await tx
    .select({ key: roles.key })
    .from(roles)
    .where(inArray(roles.key, [...keys]))
    .for('key share');
  const missing = keys.filter((key) => !found.some((role) => role.key === key));
  if (missing.length) throw new HttpError(400, `No role with the key ${missing.join(', ')}`, 'unknown_role');
}

/**
 * Deletes a role no one holds and no agent is shown to. The role's row is locked first: a user given the role meanwhile waits
 * for the deletion, then fails on the foreign key, so no user is ever left holding a deleted role.
 */
export async function deleteRole(db: Db, key: string): Promise<void> {
  if (isBuiltInRole(key)) throw builtInUnchangeable(key);
  await db.transaction(async (tx) => {
    const [role] = await tx.select({ key: roles.key }).from(roles).where(eq(roles.key, key)).for('update');
    if (!role) throw notFound(`No role with key ${key}`);
    const [held] = await tx.select({ users: count() }).from(users).where(eq(users.role, key));
    const holding = held?.users ?? 0;
    if (holding > 0) {
      throw new HttpError(
        409,
        `${holding === 1 ? '1 user holds' : `${holding} users hold`} this role: give them another role before deleting it`,
        'role_in_use',
      );
    }
    const shownTo = await tx
      .select({ name: agents.name })
      .from(agents)
      .where(sql`${key}::text = any(${agents.visibleTo})`)
      .orderBy(asc(agents.name));
    if (shownTo.length > 0) {
      throw new HttpError(
        409,
        `${shownTo.length === 1 ? 'An agent is' : `${shownTo.length} agents are`} shown to this role (${shownTo
          .slice(0, 5)
          .map((agent) => agent.name)
          .join(', ')}${shownTo.length > 5 ? ', …' : ''}): change who sees them before deleting it`,
        'role_in_use',
      );
    }
    await tx.delete(roles).where(eq(roles.key, key));
  });
}
