// One chat at a time per conversation, across every instance: a lease row in the database, renewed
// while the answer streams. A lease left by a dead instance simply expires.
// Renewing, releasing and repairing return statements rather than run them, so that the chat run
// can fold each into the statement that writes its messages: one round trip where there would be two.
import { and, eq, isNull, lt, or, sql, type Placeholder } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { conversations, messages, type Conversation, type MessageError } from '../db/schema.js';

export const INTERRUPTED: MessageError = {
  message: 'The answer was interrupted: the server handling it stopped.',
  type: 'server_error',
  code: 'interrupted',
};

export const leaseUntil = (seconds: number | Placeholder) => sql`now() + make_interval(secs => ${seconds})`;

/** Whose conversation to claim: only its owner may, and only with the agent it belongs to. */
export interface ClaimTarget { conversationId: string; userId: string; agentId: string }

/** Takes the conversation for `runId`; null when it is not there for this user and agent, or another chat holds it. */
export async function claimConversation(db: Db, target: ClaimTarget, runId: string, seconds: number): Promise<Pick<Conversation, 'id' | 'providerConversationId'> | null> {
  const [claimed] = await db.update(conversations)
    .set({ leaseRunId: runId, leaseExpiresAt: leaseUntil(seconds), updatedAt: new Date() })
    .where(and(
      eq(conversations.id, target.conversationId),
      eq(conversations.userId, target.userId),
      eq(conversations.agentId, target.agentId),
      or(isNull(conversations.leaseRunId), lt(conversations.leaseExpiresAt, sql`now()`)),
    ))
    .returning({ id: conversations.id, providerConversationId: conversations.providerConversationId });
  return claimed ?? null;
}

/** Renews the claim (and saves the upstream conversation id, once known). */
export function renewLease(db: Db, conversationId: string, runId: string, seconds: number, providerConversationId: string | null) {
  return db.update(conversations)
    .set({ leaseExpiresAt: leaseUntil(seconds), ...(providerConversationId ? { providerConversationId } : {}) })
    .where(and(eq(conversations.id, conversationId), eq(conversations.leaseRunId, runId)))
    .returning({ id: conversations.id });
}

/** Frees the conversation after an answer, saving the upstream conversation id, and marks it as just used (newest first). */
export function releaseLease(db: Db, conversationId: string, runId: string, providerConversationId: string | null) {
  return db.update(conversations)
    .set({ leaseRunId: null, leaseExpiresAt: null, updatedAt: new Date(), ...(providerConversationId ? { providerConversationId } : {}) })
    .where(and(eq(conversations.id, conversationId), eq(conversations.leaseRunId, runId)))
    .returning({ id: conversations.id });
}

/** True while some instance is streaming an answer in the conversation. */
export const isLeaseLive = (conversation: Conversation) =>
  conversation.leaseRunId !== null && conversation.leaseExpiresAt !== null && conversation.leaseExpiresAt > new Date();

/**
 * Answers still marked `streaming` whose run no longer holds the conversation were left by an instance
 * that died: they become `failed`, keeping whatever text was flushed. Runs on claim and on read.
 */
export function failInterruptedAnswers(db: Db, conversationId: string | Placeholder) {
  const liveRun = db.select({ id: conversations.leaseRunId }).from(conversations)
    .where(and(eq(conversations.id, conversationId), sql`${conversations.leaseExpiresAt} > now()`));
  return db.update(messages).set({ status: 'failed', error: INTERRUPTED, updatedAt: new Date() })
    .where(and(
      eq(messages.conversationId, conversationId),
      eq(messages.status, 'streaming'),
      or(isNull(messages.runId), sql`${messages.runId} is distinct from (${liveRun})`),
    ))
    .returning({ id: messages.id });
}
