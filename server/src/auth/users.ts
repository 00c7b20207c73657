import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { users, type Role, type User } from '../db/schema.js';
import { hashPassword } from './passwords.js';

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export const publicUser = (user: User) => ({ id: user.id, email: user.email, name: user.name, role: user.role });

export async function findUserByEmail(db: Db, email: string): Promise<User | null> {
  const [user] = await db.select().from(users).where(eq(users.email, normaliseEmail(email)));
  return user ?? null;
}

/** Creates the configured admin, or brings its password and role up to date. Runs under the start-up lock. */
export async function ensureAdmin(db: Db, admin: { email: string; password: string }): Promise<void> {
  const email = normaliseEmail(admin.email);
  const passwordHash = await hashPassword(admin.password);
  const role: Role = 'admin';
  await db.insert(users).values({ email, name: 'Administrator', passwordHash, role })
    .onConflictDoUpdate({ target: users.email, set: { passwordHash, role, updatedAt: new Date() } });
}
