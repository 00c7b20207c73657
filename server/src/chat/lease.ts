// One chat at a time per conversation, across every instance: a lease row in the database, renewed
// while the answer streams. A lease left by a dead instance simply expires.
// Claiming, renewing, releasing and repairing return statements rather than run them, so that the
// chat run can fold each into the statement that writes its messages: one round trip, not several.
import { and, eq, isNull, lt, or, sql, type Placeholder, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { conversations, messages, type Conversation, type MessageError } from '../db/schema.js';

export const INTERRUPTED: MessageError = {
  message: 'The answer was interrupted: the server handling it stopped.',
  type: 'server_error',
  code: 'interrupted',
};

export const leaseUntil = (seconds: number | Placeholder) => sql`now() + make_interval(secs => ${seconds})`;

/**
 * Takes the conversation `which` selects for `runId`, when no other chat holds it. A statement, with
 * the conversation's id and upstream conversation id as its rows: none when it was not taken.
 */
export function claimConversation(db: Db, which: SQL, runId: SQLWrapper, seconds: number | Placeholder) {
  return db.update(conversations)
    .set({ leaseRunId: sql`${runId}`, leaseExpiresAt: leaseUntil(seconds), updatedAt: sql`now()` })
    .where(and(which, or(isNull(conversations.leaseRunId), lt(conversations.leaseExpiresAt, sql`now()`))))
    .returning({ id: conversations.id, providerConversationId: conversations.providerConversationId });
}

/** The upstream conversation id to keep: the one given, once known (null keeps the stored one). */
const keptProviderConversation = (given: SQLWrapper) => sql`coalesce(${given}::text, ${conversations.providerConversationId})`;

/** The conversation, while run `runId` holds it. */
const heldBy = (conversationId: SQLWrapper, runId: SQLWrapper) =>
  and(eq(conversations.id, conversationId), eq(conversations.leaseRunId, runId));

/** Renews the claim (and saves the upstream conversation id, once known). */
export function renewLease(db: Db, conversationId: SQLWrapper, runId: SQLWrapper, seconds: number | Placeholder, providerConversationId: SQLWrapper) {
  return db.update(conversations)
    .set({ leaseExpiresAt: leaseUntil(seconds), providerConversationId: keptProviderConversation(providerConversationId) })
    .where(heldBy(conversationId, runId))
    .returning({ id: conversations.id });
}

/** Frees the conversation after an answer, saving the upstream conversation id, and marks it as just used (newest first). */
export function releaseLease(db: Db, conversationId: SQLWrapper, runId: SQLWrapper, providerConversationId: SQLWrapper) {
  return db.update(conversations)
    .set({ leaseRunId: null, leaseExpiresAt: null, updatedAt: sql`now()`, providerConversationId: keptProviderConversation(providerConversationId) })
    .where(heldBy(conversationId, runId))
    .returning({ id: conversations.id });
}

/** True while some instance is streaming an answer in the conversation. */
export const isLeaseLive = (conversation: Conversation) =>
  conversation.leaseRunId !== null && conversation.leaseExpiresAt !== null && conversation.leaseExpiresAt > new Date();

/**
 * Answers still marked `streaming` whose run no longer holds the conversation were left by an instance
 * that died: they become `failed`, keeping whatever text was flushed. Runs on claim and on read.
 */
export function failInterruptedAnswers(db: Db, conversationId: string | SQLWrapper) {
  const liveRun = db.select({ id: conversations.leaseRunId }).from(conversations)
    .where(and(eq(conversations.id, conversationId), sql`${conversations.leaseExpiresAt} > now()`));
  return db.update(messages).set({ status: 'failed', error: INTERRUPTED, updatedAt: sql`now()` })
    .where(and(
      eq(messages.conversationId, conversationId),
      eq(messages.status, 'streaming'),
      or(isNull(messages.runId), sql`${messages.runId} is distinct from (${liveRun})`),
    ))
    .returning({ id: messages.id });
}
