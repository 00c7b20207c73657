// What the auth routes answer, as schemas (for the routes) and types (for the web app, via ../contract.ts).
import { Type, type Static } from 'typebox';
import { PermissionCode } from '../roles/schemas.js';

export const User = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  /** The key of the user's role: admin, user, or a role an administrator created. */
  role: Type.String(),
  /** What the role allows, so that the web app shows only what the user may do. */
  permissions: Type.Array(PermissionCode),
});
export type User = Static<typeof User>;

/** POST /api/auth/register and /api/auth/login: a sign-in token and who it signs in. */
export const AuthResponse = Type.Object({ token: Type.String(), user: User });
export type AuthResponse = Static<typeof AuthResponse>;

export const CurrentUser = Type.Object({ user: User });
export type CurrentUser = Static<typeof CurrentUser>;

/** Who may create an account: anyone, holders of an invite code, or no one. */
export const RegistrationMode = Type.Union([Type.Literal('open'), Type.Literal('invite'), Type.Literal('closed')]);
export type RegistrationMode = Static<typeof RegistrationMode>;

/** GET /api/auth/config, for the register page. */
export const AuthConfig = Type.Object({ registration: RegistrationMode });
export type AuthConfig = Static<typeof AuthConfig>;

/** POST /console/api/invites: the code, shown once (only its hash is stored). */
export const Invite = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type Invite = Static<typeof Invite>;

/** An invite as GET /console/api/invites lists it (never its code). */
export const InviteListed = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('used'), Type.Literal('expired'), Type.Literal('revoked')]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  /** Who registered with it. */
  usedBy: Type.Union([Type.String(), Type.Null()]),
});
export type InviteListed = Static<typeof InviteListed>;
export const InviteList = Type.Object({ items: Type.Array(InviteListed) });
export type InviteList = Static<typeof InviteList>;
