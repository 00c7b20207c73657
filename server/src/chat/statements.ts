// The chat's SQL, in one place. Every answer runs these statements, so each is one round trip and
// is prepared once per database (preparedFor):
// - the start of the turn (startFirstTurn, startNextTurn, startReplacingTurn): checks the caller and
//   the agent, checks the caller's quotas and takes the day's message from theirs (usage/quotas.ts),
//   creates or claims the conversation and stores the turn's two messages (a replacing turn first
//   deletes the user message it replaces and everything after it);
// - the upstream conversation id as soon as it is known (saveProviderConversation), and a checkpoint
//   now and then while the answer streams (saveCheckpoint), never per delta;
// - the answer once it ended, however it ended, with its usage (saveAnswer).
// The lease that allows one answer at a time per conversation, across every instance, is written by
// those same statements: its claim, renewal and release below are statement parts folded into them.
// The run's logic, which calls them, is chat-run.ts.
import { and, eq, gte, isNull, lt, or, sql, type Placeholder, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { WithSubqueryWithSelection } from 'drizzle-orm/pg-core';
import { chatableAgent, managesAgents } from '../agents/agents.js';
import { tokenHolder } from '../auth/tokens.js';
import { preparedFor, type Db } from '../db/index.js';
import { agents, conversations, messages, type Agent, type Conversation, type MessageError } from '../db/schema.js';
import { addAnswerUsage } from '../usage/accounting.js';
import { callerLimits, quotaAllows, reserveMessage } from '../usage/quotas.js';
import type { ChatUser } from './providers/types.js';

const param = sql.placeholder;

// ---- The lease ----
// A row's lease_run_id and lease_expires_at: the run that answers in the conversation, renewed while
// the answer streams. A lease left by a dead instance simply expires.

const INTERRUPTED: MessageError = {
  message: 'The answer was interrupted: the server handling it stopped.',
  type: 'server_error',
  code: 'interrupted',
};

const leaseUntil = (seconds: number | Placeholder) => sql`now() + make_interval(secs => ${seconds})`;

/**
 * Takes the conversation `which` selects for `runId`, when no other chat holds it (and sets `also`
 * on it). A statement, with the conversation's id and upstream conversation id as its rows: none when
 * it was not taken.
 */
function claimConversation(
  db: Db,
  which: SQL,
  runId: SQLWrapper,
  seconds: number | Placeholder,
  also: { providerConversationId?: null; title?: SQL } = {},
) {
  return db
    .update(conversations)
    .set({ ...also, leaseRunId: sql`${runId}`, leaseExpiresAt: leaseUntil(seconds), updatedAt: sql`now()` })
    .where(and(which, or(isNull(conversations.leaseRunId), lt(conversations.leaseExpiresAt, sql`now()`))))
    .returning({ id: conversations.id, providerConversationId: conversations.providerConversationId });
}

/** The upstream conversation id to keep: the one given, once known (null keeps the stored one). */
const keptProviderConversation = (given: SQLWrapper) => sql`coalesce(${given}::text, ${conversations.providerConversationId})`;

/** The conversation, while run `runId` holds it. */
const heldBy = (conversationId: SQLWrapper, runId: SQLWrapper) =>
  and(eq(conversations.id, conversationId), eq(conversations.leaseRunId, runId));

/** Renews the claim (and saves the upstream conversation id, once known). */
function renewLease(
  db: Db,
  conversationId: SQLWrapper,
  runId: SQLWrapper,
  seconds: number | Placeholder,
  providerConversationId: SQLWrapper,
) {
  return db
    .update(conversations)
    .set({ leaseExpiresAt: leaseUntil(seconds), providerConversationId: keptProviderConversation(providerConversationId) })
    .where(heldBy(conversationId, runId))
    .returning({ id: conversations.id });
}

/** Frees the conversation after an answer, saving the upstream conversation id, and marks it as just used (newest first). */
function releaseLease(db: Db, conversationId: SQLWrapper, runId: SQLWrapper, providerConversationId: SQLWrapper) {
  return db
    .update(conversations)
    .set({
      leaseRunId: null,
      leaseExpiresAt: null,
      updatedAt: sql`now()`,
      providerConversationId: keptProviderConversation(providerConversationId),
    })
    .where(heldBy(conversationId, runId))
    .returning({ id: conversations.id });
}

/** True while some instance is streaming an answer in the conversation (read from a row already loaded). */
export const isLeaseLive = (conversation: Conversation) =>
  conversation.leaseRunId !== null && conversation.leaseExpiresAt !== null && conversation.leaseExpiresAt > new Date();

/**
 * Answers still marked `streaming` whose run no longer holds the conversation were left by an instance
 * that died: they become `failed`, keeping whatever text was flushed. Runs on claim (inside
 * startNextTurn) and on read (the conversation's messages). `belowSeq` leaves alone the messages a
 * replacing turn deletes in the same statement (a row must not be written twice by one statement).
 */
export function failInterruptedAnswers(db: Db, conversationId: string | SQLWrapper, belowSeq?: SQLWrapper) {
  const liveRun = db
    .select({ id: conversations.leaseRunId })
    .from(conversations)
    .where(and(eq(conversations.id, conversationId), sql`${conversations.leaseExpiresAt} > now()`));
  return db
    .update(messages)
    .set({ status: 'failed', error: INTERRUPTED, updatedAt: sql`now()` })
    .where(
      and(
        eq(messages.conversationId, conversationId),
        eq(messages.status, 'streaming'),
        or(isNull(messages.runId), sql`${messages.runId} is distinct from (${liveRun})`),
        belowSeq ? lt(messages.seq, belowSeq) : undefined,
      ),
    )
    .returning({ id: messages.id });
}

// ---- The start of a turn ----
// One statement checks the caller's token and that they may chat with the agent, creates or claims
// the conversation, stores the turn's two messages and reads the agent. When the chat may not start
// it stores nothing, and the turn's ids come back empty (or no row at all, for a bad token or agent).

export interface TurnStart {
  agent: Agent;
  user: ChatUser;
  questionSeq: number | null;
  questionId: string | null;
  answerId: string | null;
  providerConversationId?: string | null;
  /** The day whose message of the caller's quota the turn took (null: none taken). */
  reservedDay: string | null;
}

/** The caller, from the token: no row when the token is unknown or expired. */
const callerOf = (db: Db) => db.$with('caller').as(tokenHolder(db, param('tokenHash')));
type Caller = ReturnType<typeof callerOf>;
const mayChat = (caller: Caller) => chatableAgent(param('agentId'), { role: caller.role, manages: managesAgents(caller.permissions) });

/** The user's message (with its attachments, as JSON text) and the answer to come, stored in the conversation `into` holds (when it holds one). */
function turnMessages(db: Db, into: WithSubqueryWithSelection<{ id: typeof conversations.id }, string>) {
  return db.$with('turn', { id: messages.id, seq: messages.seq, role: messages.role }).as(sql`
    insert into ${messages} (conversation_id, role, content, status, run_id, attachments)
    select ${into.id}, turn.role, turn.content, turn.status, turn.run_id, turn.attachments from ${into},
      (values ('user', ${param('content')}::text, 'completed', null::uuid, ${param('attachments')}::jsonb),
              ('assistant', '', 'streaming', ${param('runId')}::uuid, '[]'::jsonb)) as turn (role, content, status, run_id, attachments)
    returning id, seq, role`);
}

/**
 * The caller's quotas, and the day's message taken from theirs (see usage/quotas.ts) when they may
 * chat with the agent: the turn starts only where `allowed` holds.
 */
function quotaOf(db: Db, caller: Caller) {
  const limits = callerLimits(db, caller);
  const reserved = reserveMessage(db, limits, sql`exists (select 1 from ${caller}, ${agents} where ${mayChat(caller)})`);
  return { limits, reserved, allowed: quotaAllows(limits, reserved) };
}

/** The chat's agent and caller with the ids the turn got. */
function startedTurn(caller: Caller, turn: ReturnType<typeof turnMessages>, reserved: ReturnType<typeof quotaOf>['reserved']) {
  return {
    reservedDay: sql<string | null>`(select ${reserved.day} from ${reserved})`,
    agent: agents,
    user: { id: caller.id, role: caller.role },
    questionSeq: sql<number | null>`(select ${turn.seq} from ${turn} where ${turn.role} = 'user')`,
    questionId: sql<string | null>`(select ${turn.id} from ${turn} where ${turn.role} = 'user')`,
    answerId: sql<string | null>`(select ${turn.id} from ${turn} where ${turn.role} = 'assistant')`,
  };
}

/**
 * A new conversation, born claimed by the run (nothing to wait for, repair or read), and the turn.
 * Parameters: tokenHash, agentId, conversationId, title, runId, leaseSeconds, content, attachments.
 */
export const startFirstTurn = preparedFor((db) => {
  const caller = callerOf(db);
  const quota = quotaOf(db, caller);
  const created = db.$with('created', { id: conversations.id }).as(sql`
    insert into ${conversations} (id, user_id, agent_id, title, lease_run_id, lease_expires_at)
    select ${param('conversationId')}::uuid, ${caller.id}, ${agents.id}, ${param('title')}::text,
      ${param('runId')}::uuid, ${leaseUntil(param('leaseSeconds'))}
    from ${caller}, ${agents} where ${mayChat(caller)} and ${quota.allowed}
    returning id`);
  const turn = turnMessages(db, created);
  return db
    .with(caller, quota.limits, quota.reserved, created, turn)
    .select(startedTurn(caller, turn, quota.reserved))
    .from(caller)
    .innerJoin(agents, eq(agents.id, param('agentId')))
    .prepare('start_first_turn');
});

/** The conversation named by the parameter conversationId, when the caller owns it and may chat with its agent. */
const chatableConversation = (caller: Caller) =>
  and(
    eq(conversations.id, param('conversationId')),
    eq(conversations.userId, sql`(select ${caller.id} from ${caller})`),
    eq(conversations.agentId, param('agentId')),
    sql`exists (select 1 from ${caller}, ${agents} where ${mayChat(caller)})`,
  )!;

/**
 * The turn in an existing conversation the run claims: any other answer still `streaming` was left by
 * an instance that died. Parameters: tokenHash, agentId, conversationId, runId, leaseSeconds, content, attachments.
 */
export const startNextTurn = preparedFor((db) => {
  const caller = callerOf(db);
  const quota = quotaOf(db, caller);
  const claimed = db
    .$with('claimed')
    .as(claimConversation(db, and(chatableConversation(caller), quota.allowed)!, param('runId'), param('leaseSeconds')));
  const repaired = db.$with('repaired').as(failInterruptedAnswers(db, sql`(select ${claimed.id} from ${claimed})`));
  const turn = turnMessages(db, claimed);
  return db
    .with(caller, quota.limits, quota.reserved, claimed, repaired, turn)
    .select({ ...startedTurn(caller, turn, quota.reserved), providerConversationId: claimed.providerConversationId })
    .from(caller)
    .innerJoin(agents, eq(agents.id, param('agentId')))
    .leftJoin(claimed, sql`true`)
    .prepare('start_next_turn');
});

/**
 * A turn that replaces the conversation's user message replaceFrom and everything after it (an edit,
 * a new answer, a retry): the claim, the deletion and the new turn are one statement, so no other
 * answer can slip in between. The upstream conversation id is cleared: Coze's copy of the thread
 * still holds the replaced turns, so the next answer starts a fresh one that carries the kept turns.
 * A turn that replaces the first message also renames the conversation, unless the user named it.
 * Refused (no ids) when replaceFrom is not a user message of this conversation. Parameters:
 * tokenHash, agentId, conversationId, replaceFrom, title, runId, leaseSeconds, content, attachments.
 */
export const startReplacingTurn = preparedFor((db) => {
  const caller = callerOf(db);
  const quota = quotaOf(db, caller);
  const replacedSeq = sql`(select ${messages.seq} from ${messages} where ${messages.id} = ${param('replaceFrom')}
    and ${messages.conversationId} = ${param('conversationId')} and ${messages.role} = 'user')`;
  const claimed = db.$with('claimed').as(
    claimConversation(
      db,
      and(chatableConversation(caller), sql`${replacedSeq} is not null`, quota.allowed)!,
      param('runId'),
      param('leaseSeconds'),
      {
        providerConversationId: null,
        // Only a title taken from the replaced first message: a name the user gave stays.
        title: sql`case when not exists (select 1 from ${messages} where ${messages.conversationId} = ${conversations.id}
          and ${messages.seq} < ${replacedSeq})
        and starts_with((select ${messages.content} from ${messages} where ${messages.id} = ${param('replaceFrom')}), ${conversations.title})
        then ${param('title')}::text else ${conversations.title} end`,
      },
    ),
  );
  const claimedId = sql`(select ${claimed.id} from ${claimed})`;
  const removed = db.$with('removed').as(
    db
      .delete(messages)
      .where(and(eq(messages.conversationId, claimedId), gte(messages.seq, replacedSeq)))
      .returning({ id: messages.id }),
  );
  const repaired = db.$with('repaired').as(failInterruptedAnswers(db, claimedId, replacedSeq));
  const turn = turnMessages(db, claimed);
  return db
    .with(caller, quota.limits, quota.reserved, claimed, removed, repaired, turn)
    .select({ ...startedTurn(caller, turn, quota.reserved), providerConversationId: claimed.providerConversationId })
    .from(caller)
    .innerJoin(agents, eq(agents.id, param('agentId')))
    .leftJoin(claimed, sql`true`)
    .prepare('start_replacing_turn');
});

// ---- A running answer's writes ----
// Each finds the run's rows by conversationId, runId and messageId; the lease's part is a no-op once
// the run no longer holds the conversation.

const text = (name: string) => sql`${param(name)}::text`;
const json = (name: string) => sql`${param(name)}::jsonb`;

/**
 * Renews the claim and saves the partial answer (while it still streams) and the upstream conversation id.
 * Parameters: conversationId, runId, providerConversationId, messageId, leaseSeconds, content, reasoning.
 */
export const saveCheckpoint = preparedFor((db) => {
  const renewed = db
    .$with('renewed')
    .as(renewLease(db, param('conversationId'), param('runId'), param('leaseSeconds'), param('providerConversationId')));
  return db
    .with(renewed)
    .update(messages)
    .set({ content: text('content'), reasoningContent: text('reasoning'), updatedAt: sql`now()` })
    .where(and(eq(messages.id, param('messageId')), eq(messages.status, 'streaming')))
    .prepare('save_checkpoint');
});

/**
 * Saves the upstream conversation id as soon as the upstream names it, while the run holds the
 * conversation: lighter than a checkpoint, which also writes the answer so far (empty at that point).
 * Parameters: conversationId, runId, providerConversationId.
 */
export const saveProviderConversation = preparedFor((db) =>
  db
    .update(conversations)
    .set({ providerConversationId: text('providerConversationId') })
    .where(heldBy(param('conversationId'), param('runId')))
    .prepare('save_provider_conversation'),
);

/**
 * Stores the finished answer (however it ended), frees the conversation and adds the answer to its
 * user's usage (usage/accounting.ts), all in one statement. Parameters: conversationId, runId,
 * providerConversationId, messageId, content, reasoning, status, as JSON text (or null): error,
 * usage, suggestions, metadata; and userId, agentId, promptTokens, completionTokens.
 */
export const saveAnswer = preparedFor((db) => {
  const released = db.$with('released').as(releaseLease(db, param('conversationId'), param('runId'), param('providerConversationId')));
  const saved = db.$with('saved').as(
    db
      .update(messages)
      .set({
        content: text('content'),
        reasoningContent: text('reasoning'),
        status: text('status'),
        error: json('error'),
        usage: json('usage'),
        suggestions: json('suggestions'),
        providerMetadata: json('metadata'),
        updatedAt: sql`now()`,
      })
      .where(eq(messages.id, param('messageId')))
      .returning({ createdAt: messages.createdAt }),
  );
  // The answer counts even when its message is gone (its conversation was deleted while it ran): the
  // upstream was asked all the same.
  const startedAt = sql`coalesce((select ${saved.createdAt} from ${saved}), now())`;
  return addAnswerUsage(db.with(released, saved), startedAt).prepare('save_answer');
});
