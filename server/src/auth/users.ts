import { eq, getTableColumns } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { roles, signInAddresses, users, type Role } from '../db/schema.js';
import { ADMIN_ROLE } from '../roles/permissions.js';
import { knownPermissions } from '../roles/roles.js';
import type { SignedInUser } from './guard.js';
import { passwords } from './passwords.js';
import type { User as UserView } from './schemas.js';
import { revokeUserTokens } from './tokens.js';

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

/** What the API shows of a user. */
export const publicUser = (user: SignedInUser): UserView => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  permissions: knownPermissions(user.permissions),
});

/** The user with this email, and their role's permissions. */
export async function findUserByEmail(db: Db, email: string): Promise<SignedInUser | null> {
  const [user] = await db
    .select({ ...getTableColumns(users), permissions: roles.permissions })
    .from(users)
    .innerJoin(roles, eq(roles.key, users.role))
    .where(eq(users.email, normaliseEmail(email)));
  return user ?? null;
}

/**
 * Sets a user's password and role, and enables the account if it was disabled. Whoever held the
 * account before gets nothing from it: its tokens are revoked and its sign-in addresses forgotten,
 * in the same transaction.
 */
export async function changeCredentials(db: Db, userId: string, set: { passwordHash: string; role: Role }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ ...set, disabledAt: null, updatedAt: new Date() })
      .where(eq(users.id, userId));
    await revokeUserTokens(tx, userId);
    await tx.delete(signInAddresses).where(eq(signInAddresses.userId, userId));
  });
}

/**
 * Creates the configured admin, or brings its password and role up to date and enables it: setting
 * ADMIN_EMAIL is how an operator gets back in, even after the account was disabled or demoted. An
 * account someone registered with that email beforehand is taken over, and its tokens stop working.
 * When nothing changed (every restart, every instance) nothing is written, so the admin stays signed in.
 * Runs under the start-up lock.
 */
export async function ensureAdmin(db: Db, admin: { email: string; password: string }): Promise<void> {
  const email = normaliseEmail(admin.email);
  const existing = await findUserByEmail(db, email);
  const current = existing?.role === ADMIN_ROLE && existing.disabledAt === null;
  if (current && (await passwords.verify(existing.passwordHash, admin.password))) return;
  const passwordHash = await passwords.hash(admin.password);
  const role: Role = ADMIN_ROLE;
  if (existing) await changeCredentials(db, existing.id, { passwordHash, role });
  else await db.insert(users).values({ email, name: 'Administrator', passwordHash, role });
}
