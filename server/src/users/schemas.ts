// What the console's user routes take and answer, as schemas (for the routes) and types (for the web
// app, via ../contract.ts).
import { Type, type Static } from 'typebox';

/** A disabled account cannot sign in, and its tokens are refused. */
export const UserStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);
export type UserStatus = Static<typeof UserStatus>;

/** A user as the console shows them. */
export const ConsoleUser = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  /** The key of the user's role (GET /console/api/roles lists them). */
  role: Type.String(),
  status: UserStatus,
  createdAt: Type.String({ format: 'date-time' }),
  /** Their last sign-in (or registration); null when they never signed in. */
  lastSignInAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type ConsoleUser = Static<typeof ConsoleUser>;

export const MAX_PAGE_SIZE = 100;

/** GET /console/api/users: by email, `pageSize` at a time. */
export const UserQuery = Type.Object({
  /** Emails or names containing this text (case-insensitive). */
  q: Type.Optional(Type.String()),
  page: Type.Integer({ minimum: 1, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 25 }),
});

/** One page of users; `total` counts every user the search matches. */
export const UserPage = Type.Object({
  items: Type.Array(ConsoleUser),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
export type UserPage = Static<typeof UserPage>;

/** PATCH /console/api/users/:id: a new role (its key), or the account disabled or enabled again. */
export const UserPatch = Type.Object(
  { role: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), status: Type.Optional(UserStatus) },
  { minProperties: 1 },
);
export type UserPatch = Static<typeof UserPatch>;
