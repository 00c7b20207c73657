// One answer, from the user's new message to the persisted assistant message. The route only moves
// the deltas this yields onto the wire; everything else about the answer happens here.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, lt, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { chatableAgent } from '../agents/agents.js';
import { preparedFor, type Db } from '../db/index.js';
import {
  conversations, messages, type Agent, type Message, type MessageError, type MessageStatus, type Usage, type User,
} from '../db/schema.js';
import { HttpError, notFound } from '../http/errors.js';
import { claimConversation, failInterruptedAnswers, leaseUntil, releaseLease, renewLease, type ClaimTarget } from './lease.js';
import type { ChatConversation, ChatProvider, ProviderEvent } from './providers/types.js';
import type { AbortReason, StopSignals } from './stop-signals.js';

export interface ChatDeps {
  db: Db;
  providers: Record<Agent['provider'], ChatProvider>;
  stops: StopSignals;
  leaseSeconds: number;
  log: FastifyBaseLogger;
}

export interface ChatRequest { user: User; agentId: string; conversationId?: string; content: string }

export interface AnswerDelta { content?: string; reasoning_content?: string }

const TITLE_LENGTH = 80;

const SHUTDOWN: MessageError = { message: 'The server restarted while answering. Please send your message again.', type: 'server_error', code: 'shutdown' };

/** Validates, claims the conversation and stores the user message; throws an HttpError (4xx) before anything streams. */
export async function openChat(deps: ChatDeps, request: ChatRequest): Promise<ChatRun> {
  const { db } = deps;
  const agent = await chatableAgent(db, request.agentId, request.user.role);
  const runId = randomUUID();
  const turn = { runId, content: request.content };
  let conversation: ChatConversation;
  let inserted: Array<{ id: string; seq: number | null }>;
  if (request.conversationId) {
    const target = { conversationId: request.conversationId, userId: request.user.id, agentId: agent.id };
    conversation = await claimConversation(db, target, runId, deps.leaseSeconds) ?? await whyNotClaimed(db, target);
    inserted = await insertNextTurn(db).execute({ ...turn, conversationId: conversation.id });
  } else {
    conversation = { id: randomUUID(), providerConversationId: null };
    inserted = await insertFirstTurn(db).execute({
      ...turn,
      conversationId: conversation.id,
      userId: request.user.id,
      agentId: agent.id,
      title: request.content.slice(0, TITLE_LENGTH),
      leaseSeconds: deps.leaseSeconds,
    });
  }
  const [question, answer] = inserted;
  return new ChatRun(deps, agent, conversation, request.user, request.content, question!.seq!, answer!.id, runId);
}

// Every chat runs one of the two statements below (prepared), each storing the turn's two messages
// together with what must come first: one round trip.
const param = sql.placeholder;

function turnMessages(db: Pick<Db, 'insert'>) {
  return db.insert(messages).values([
    { conversationId: param('conversationId'), role: 'user', content: param('content'), status: 'completed' },
    { conversationId: param('conversationId'), role: 'assistant', status: 'streaming', runId: param('runId') },
  ]).returning({ id: messages.id, seq: messages.seq });
}

/** A new conversation, born claimed by the run (nothing to wait for, repair or read), and the turn. */
const insertFirstTurn = preparedFor((db) => turnMessages(db.with(db.$with('created').as(db.insert(conversations).values({
  id: param('conversationId'),
  userId: param('userId'),
  agentId: param('agentId'),
  title: param('title'),
  leaseRunId: param('runId'),
  leaseExpiresAt: leaseUntil(param('leaseSeconds')),
}).returning({ id: conversations.id })))).prepare('insert_first_turn'));

/** The turn in a conversation the run has claimed: any other answer still `streaming` was left by an instance that died. */
const insertNextTurn = preparedFor((db) => turnMessages(db.with(db.$with('repaired').as(failInterruptedAnswers(db, param('conversationId')))))
  .prepare('insert_next_turn'));

/** The claim failed: says why, as the client should hear it. */
async function whyNotClaimed(db: Db, target: ClaimTarget): Promise<never> {
  const [found] = await db.select({ agentId: conversations.agentId }).from(conversations)
    .where(and(eq(conversations.id, target.conversationId), eq(conversations.userId, target.userId)));
  if (!found) throw notFound(`No conversation with id ${target.conversationId}`);
  if (found.agentId !== target.agentId) throw new HttpError(400, 'This conversation belongs to another agent', 'agent_mismatch');
  throw new HttpError(409, 'This conversation is still answering the previous message. Wait for it or stop it.', 'conversation_busy');
}

export class ChatRun {
  readonly controller = new AbortController();
  content = '';
  reasoning = '';
  suggestions: string[] = [];
  usage: Usage | null = null;
  error: MessageError | null = null;
  status: MessageStatus = 'streaming';
  private readonly metadata: Record<string, unknown> = {};

  constructor(
    private readonly deps: ChatDeps,
    readonly agent: Agent,
    readonly conversation: ChatConversation,
    private readonly user: User,
    private readonly message: string,
    /** Where this run's messages start in the conversation. */
    private readonly questionSeq: number,
    readonly messageId: string,
    private readonly runId: string,
  ) {}

  abort(reason: AbortReason): void {
    this.controller.abort(reason);
  }

  /** Streams the answer's deltas; when it ends (however it ends) the answer is persisted and the conversation freed. */
  async *deltas(): AsyncGenerator<AnswerDelta> {
    const { db, stops, leaseSeconds, log } = this.deps;
    const signal = this.controller.signal;
    const unregister = stops.register(this.conversation.id, this.controller);
    // Renew the claim and save the partial answer now and then, never per delta.
    const heartbeat = setInterval(() => {
      this.checkpoint().catch((error) => log.warn({ err: error }, 'chat checkpoint failed'));
    }, (leaseSeconds * 1000) / 3).unref();
    try {
      const events = this.deps.providers[this.agent.provider].stream({
        agent: this.agent,
        conversation: this.conversation,
        user: this.user,
        loadHistory: () => this.loadHistory(),
        message: this.message,
        signal,
      });
      for await (const event of events) {
        const delta = this.apply(event);
        if (delta) yield delta;
        if (this.error || signal.aborted) break;
      }
    } catch (error) {
      if (!signal.aborted) {
        log.error({ err: error, agentId: this.agent.id }, 'chat provider failed');
        this.error = { message: 'The agent failed to answer. Please try again.', type: 'server_error', code: 'provider_error' };
      }
    } finally {
      clearInterval(heartbeat);
      unregister();
      this.settle();
      await this.persist().catch((error) => log.error({ err: error }, 'could not save the answer'));
    }
  }

  /** Takes one event into the answer; synchronous, as it runs for every delta. */
  private apply(event: ProviderEvent): AnswerDelta | null {
    switch (event.type) {
      case 'text-delta':
        this.content += event.text;
        return { content: event.text };
      case 'reasoning-delta':
        this.reasoning += event.text;
        return { reasoning_content: event.text };
      case 'suggestion':
        this.suggestions.push(event.text);
        return null;
      case 'usage':
        this.usage = event.usage;
        return null;
      case 'provider-conversation':
        // Saved with the next checkpoint or the answer, never as a write of its own in the stream's way.
        this.conversation.providerConversationId = event.id;
        return null;
      case 'provider-metadata':
        Object.assign(this.metadata, event.data);
        return null;
      case 'error':
        this.error = { type: 'upstream_error', ...event.error };
        return null;
    }
  }

  private settle(): void {
    const reason = this.controller.signal.reason as AbortReason | undefined;
    if (this.controller.signal.aborted && !this.error) {
      this.status = reason === 'shutdown' ? 'failed' : 'canceled';
      this.error = reason === 'shutdown' ? SHUTDOWN : null;
    } else {
      this.status = this.error ? 'failed' : 'completed';
    }
  }

  private async checkpoint(): Promise<void> {
    const { db, leaseSeconds } = this.deps;
    const renewed = db.$with('renewed').as(renewLease(db, this.conversation.id, this.runId, leaseSeconds, this.conversation.providerConversationId));
    await db.with(renewed).update(messages).set({ content: this.content, reasoningContent: this.reasoning, updatedAt: new Date() })
      .where(and(eq(messages.id, this.messageId), eq(messages.status, 'streaming')));
  }

  /** The conversation's messages before this run's question. */
  private loadHistory(): Promise<Message[]> {
    return this.deps.db.select().from(messages)
      .where(and(eq(messages.conversationId, this.conversation.id), lt(messages.seq, this.questionSeq)))
      .orderBy(asc(messages.seq));
  }

  private async persist(): Promise<void> {
    const { db } = this.deps;
    const released = db.$with('released').as(releaseLease(db, this.conversation.id, this.runId, this.conversation.providerConversationId));
    await db.with(released).update(messages).set({
      content: this.content,
      reasoningContent: this.reasoning,
      status: this.status,
      error: this.error,
      usage: this.usage,
      suggestions: this.suggestions,
      providerMetadata: Object.keys(this.metadata).length ? this.metadata : null,
      updatedAt: new Date(),
    }).where(eq(messages.id, this.messageId));
  }
}
