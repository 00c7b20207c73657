// One PostgreSQL schema for both drivers (PGlite embedded, node-postgres in production).
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/** A role's key (roles.key): the built-in 'admin' and 'user', or one an administrator created. */
export type Role = string;

/** Named sets of permission codes (roles/permissions.ts); every user holds one. */
export const roles = pgTable('roles', {
  key: text('key').primaryKey(),
  name: text('name').notNull(),
  permissions: text('permissions')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  /** The role's quotas (null: unlimited); a user's own (user_quotas) replace them. */
  messagesPerDay: integer('messages_per_day'),
  tokensPerMonth: bigint('tokens_per_month', { mode: 'number' }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(), // stored lower-cased
  name: text('name').notNull().default(''),
  passwordHash: text('password_hash').notNull(),
  role: text('role')
    .$type<Role>()
    .notNull()
    .default('user')
    .references(() => roles.key),
  /** Set while an admin has disabled the account: its tokens are refused and it cannot sign in. */
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
  lastSignInAt: timestamp('last_sign_in_at', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Opaque bearer tokens; only their SHA-256 is stored, so a database leak leaks no session. */
export const authTokens = pgTable(
  'auth_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('auth_tokens_user_id').on(t.userId)],
);

/**
 * Sign-in attempts, counted across every instance for rate limiting. A row is written before the
 * password is checked and deleted when it proves right, so every row left is a failure.
 */
export const loginFailures = pgTable(
  'login_failures',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    ip: text('ip').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('login_failures_email_at').on(t.email, t.at), index('login_failures_ip_at').on(t.ip, t.at)],
);

/** Addresses a user signed in from: there, other accounts' failures do not lock them out. */
export const signInAddresses = pgTable(
  'sign_in_addresses',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    ip: text('ip').notNull(),
    lastAt: timestamp('last_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.ip] })],
);

/** Registrations per client address, counted across every instance for rate limiting. */
export const registrationAttempts = pgTable(
  'registration_attempts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ip: text('ip').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('registration_attempts_ip_at').on(t.ip, t.at)],
);

/** Single-use invite codes (REGISTRATION=invite); only their SHA-256 is stored. */
export const invites = pgTable('invites', {
  codeHash: text('code_hash').primaryKey(),
  /** What the console names an invite by (its code is shown once, and its hash is no one's business). */
  id: uuid('id').notNull().unique().defaultRandom(),
  createdBy: uuid('created_by')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  usedBy: uuid('used_by').references(() => users.id, { onDelete: 'set null' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export type Provider = 'native' | 'coze';

export interface CozeIntegration {
  botId: string;
  spaceId: string;
  syncedAt: string;
  iconUrl?: string;
  /** Default custom_variables sent with every chat (bot prompt {{vars}}). */
  customVariables?: Record<string, string>;
}
export interface ThirdPartyIntegration {
  coze?: CozeIntegration;
}

export const agents = pgTable(
  'agents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    avatar: text('avatar'),
    provider: text('provider').$type<Provider>().notNull().default('native'),
    model: text('model').notNull(),
    prompt: text('prompt').notNull().default(''),
    openingStatement: text('opening_statement').notNull().default(''),
    openingQuestions: jsonb('opening_questions').$type<string[]>().notNull().default([]),
    published: boolean('published').notNull().default(true),
    /** The roles that see the agent and may chat with it; null: everyone. */
    visibleTo: text('visible_to').array().$type<Role[]>(),
    /** Native agents: users may send files other than images (text files reach the model as text). */
    acceptsFiles: boolean('accepts_files').notNull().default(false),
    thirdPartyIntegration: jsonb('third_party_integration').$type<ThirdPartyIntegration | null>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // One agent per Coze bot, enforced by the database so concurrent imports cannot both win.
    uniqueIndex('agents_coze_bot_id').on(sql`(${t.thirdPartyIntegration} -> 'coze' ->> 'botId')`),
  ],
);

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    title: text('title').notNull().default(''),
    /** The upstream's own conversation id (Coze issues it); reused so the upstream keeps context. */
    providerConversationId: text('provider_conversation_id'),
    /** One chat at a time: a lease held by the instance streaming the answer, renewed while it streams. */
    leaseRunId: uuid('lease_run_id'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // The list's order and its cursor: a user's conversations by (updated_at, id), newest first.
  (t) => [index('conversations_user_updated_id').on(t.userId, t.updatedAt, t.id)],
);

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'streaming' | 'completed' | 'failed' | 'canceled';
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
export interface MessageError {
  message: string;
  type: string;
  code: string;
}

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    role: text('role').$type<MessageRole>().notNull(),
    content: text('content').notNull().default(''),
    reasoningContent: text('reasoning_content').notNull().default(''),
    status: text('status').$type<MessageStatus>().notNull().default('completed'),
    error: jsonb('error').$type<MessageError | null>(),
    usage: jsonb('usage').$type<Usage | null>(),
    suggestions: jsonb('suggestions').$type<string[]>().notNull().default([]),
    providerMetadata: jsonb('provider_metadata').$type<Record<string, unknown> | null>(),
    /** The files sent with a user message, as the message shows them (the bytes are in `files`). */
    attachments: jsonb('attachments').$type<Attachment[]>().notNull().default([]),
    /** The chat run that produced an assistant message; ties a `streaming` message to its lease. */
    runId: uuid('run_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** Orders messages of one conversation; timestamps can tie within a transaction. */
    seq: integer('seq').generatedAlwaysAsIdentity(),
  },
  (t) => [index('messages_conversation_seq').on(t.conversationId, t.seq)],
);

export type FileKind = 'image' | 'file';
/** A file as a message lists it. */
export interface Attachment {
  id: string;
  name: string;
  size: number;
  contentType: string;
  kind: FileKind;
}

/**
 * Files users sent to chat (their bytes under `storage_key` in the storage driver). A file belongs
 * to its uploader; it joins a conversation with the first message that carries it. One in no
 * conversation (never sent, or its conversation deleted) is removed FILE_UNATTACHED_HOURS after its upload.
 */
export const files = pgTable(
  'files',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').references(() => conversations.id, { onDelete: 'set null' }),
    name: text('name').notNull(),
    /** Read from the bytes, never from the name or what the client said. */
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    storageKey: text('storage_key').notNull(),
    /** Coze's id for the same bytes once uploaded there: a file goes to Coze once (per Coze account). */
    cozeFileId: text('coze_file_id'),
    /**
     * The Coze account cozeFileId belongs to (CozeClient.account: a hash of the base URL and the
     * credential, never the credential): another account cannot read it, so the file goes again.
     */
    cozeAccount: text('coze_account'),
    createdAt: createdAt(),
  },
  (t) => [
    index('files_user_id').on(t.userId),
    index('files_conversation_id').on(t.conversationId),
    index('files_unattached_created_at')
      .on(t.createdAt)
      .where(sql`${t.conversationId} is null`),
  ],
);

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
});

/** Bytes of stored files when STORAGE_DRIVER=database (instances without a shared disk). */
export const storedFiles = pgTable('stored_files', {
  key: text('key').primaryKey(),
  contentType: text('content_type').notNull(),
  bytes: bytea('bytes').notNull(),
  etag: text('etag').notNull(),
  createdAt: createdAt(),
});

/**
 * What each user's answers used, per agent and UTC day: every answer adds itself (one message, its
 * tokens) in the statement that saves it. The agent has no foreign key: a deleted agent's usage
 * stays in the accounts.
 */
export const usageDaily = pgTable(
  'usage_daily',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    messages: integer('messages').notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
  },
  // A user's days (their own usage, the month's tokens), and everyone's over a period (the console).
  (t) => [primaryKey({ columns: [t.userId, t.day, t.agentId] }), index('usage_daily_day').on(t.day)],
);

/**
 * A user's own quotas, which replace their role's (null: unlimited): messages per UTC day, tokens
 * per UTC month.
 */
export const userQuotas = pgTable('user_quotas', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  messagesPerDay: integer('messages_per_day'),
  tokensPerMonth: bigint('tokens_per_month', { mode: 'number' }),
  updatedAt: updatedAt(),
});

/**
 * The messages-per-day quota's counter: each chat of a user with such a quota takes one at its start,
 * in the statement that starts it, only while fewer than the quota are taken (usage/quotas.ts).
 */
export const quotaMessageCounts = pgTable(
  'quota_message_counts',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    messages: integer('messages').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.day] })],
);

export type User = typeof users.$inferSelect;
export type RoleRow = typeof roles.$inferSelect;
export type Agent = typeof agents.$inferSelect;
export type Conversation = typeof conversations.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type FileRow = typeof files.$inferSelect;
