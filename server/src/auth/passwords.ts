import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (OWASP-level memory cost). One object, so tests can watch it. */
export const passwords = {
  hash: (password: string) => hash(password),
  verify: (passwordHash: string, password: string) => verify(passwordHash, password).catch(() => false),
};

let decoy: Promise<string> | undefined;

/** A hash of a secret no one knows, made with the same parameters as every user's. */
export const decoyHash = () => (decoy ??= passwords.hash(randomBytes(32).toString('base64url')));

/**
 * Whether `password` is the user's. When there is no such user the password is still checked, against
 * the decoy hash: both paths cost one argon2 verification, so timing does not tell who has an account.
 */
export async function passwordMatches(user: { passwordHash: string } | null, password: string): Promise<boolean> {
  const matches = await passwords.verify(user?.passwordHash ?? (await decoyHash()), password);
  return user !== null && matches;
}
