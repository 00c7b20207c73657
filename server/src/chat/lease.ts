// One chat at a time per conversation, across every instance: a lease row in the database, renewed
// while the answer streams. A lease left by a dead instance simply expires.
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { conversations, messages, type Conversation, type MessageError } from '../db/schema.js';

export const INTERRUPTED: MessageError = {
  message: 'The answer was interrupted: the server handling it stopped.',
  type: 'server_error',
  code: 'interrupted',
};

export const leaseUntil = (seconds: number) => sql`now() + make_interval(secs => ${seconds})`;

/** Takes the conversation for `runId`, or returns null when another chat holds it. */
export async function claimConversation(db: Db, conversationId: string, runId: string, seconds: number): Promise<Conversation | null> {
  const [claimed] = await db.update(conversations)
    .set({ leaseRunId: runId, leaseExpiresAt: leaseUntil(seconds), updatedAt: new Date() })
    .where(and(eq(conversations.id, conversationId), or(isNull(conversations.leaseRunId), lt(conversations.leaseExpiresAt, sql`now()`))))
    .returning();
  if (claimed) await failInterruptedAnswers(db, conversationId);
  return claimed ?? null;
}

export async function renewLease(db: Db, conversationId: string, runId: string, seconds: number): Promise<void> {
  await db.update(conversations).set({ leaseExpiresAt: leaseUntil(seconds) })
    .where(and(eq(conversations.id, conversationId), eq(conversations.leaseRunId, runId)));
}

/** Frees the conversation after an answer (and marks it as just used, for the newest-first list). */
export async function releaseLease(db: Db, conversationId: string, runId: string): Promise<void> {
  await db.update(conversations).set({ leaseRunId: null, leaseExpiresAt: null, updatedAt: new Date() })
    .where(and(eq(conversations.id, conversationId), eq(conversations.leaseRunId, runId)));
}

/** True while some instance is streaming an answer in the conversation. */
export const isLeaseLive = (conversation: Conversation) =>
  conversation.leaseRunId !== null && conversation.leaseExpiresAt !== null && conversation.leaseExpiresAt > new Date();

/**
 * Answers still marked `streaming` whose run no longer holds the conversation were left by an instance
 * that died: they become `failed`, keeping whatever text was flushed. Runs on claim and on read.
 */
export async function failInterruptedAnswers(db: Db, conversationId: string): Promise<void> {
  const liveRun = db.select({ id: conversations.leaseRunId }).from(conversations)
    .where(and(eq(conversations.id, conversationId), sql`${conversations.leaseExpiresAt} > now()`));
  await db.update(messages).set({ status: 'failed', error: INTERRUPTED, updatedAt: new Date() })
    .where(and(
      eq(messages.conversationId, conversationId),
      eq(messages.status, 'streaming'),
      or(isNull(messages.runId), sql`${messages.runId} is distinct from (${liveRun})`),
    ));
}
