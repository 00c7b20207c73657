// One answer, from the user's new message to the persisted assistant message. The route only moves
// the steps it is handed onto the wire; everything else about the answer happens here. Its SQL
// statements are in statements.ts.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, lt } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { chatableAgent, viewerOf } from '../agents/agents.js';
import { refusal } from '../auth/guard.js';
import { tokenHash, userForToken } from '../auth/tokens.js';
import type { Db } from '../db/index.js';
import {
  agents,
  conversations,
  messages,
  type Agent,
  type FileRow,
  type Message,
  type MessageError,
  type MessageStatus,
  type Usage,
} from '../db/schema.js';
import { attachToConversation, chatAttachment, type ChatAttachment } from '../files/attach.js';
import { attachmentOf } from '../files/files.js';
import { HttpError, badRequest, notFound } from '../http/errors.js';
import type { FileStorage } from '../storage/storage.js';
import type { ChatMetrics } from '../metrics/chat-metrics.js';
import { quotaExceeded, quotaStatus, returnMessage } from '../usage/quotas.js';
import type { ChatConversation, ChatProvider, ChatUser, ProviderEvent } from './providers/types.js';
import {
  saveAnswer,
  saveCheckpoint,
  saveProviderConversation,
  startFirstTurn,
  startNextTurn,
  startReplacingTurn,
  type TurnStart,
} from './statements.js';
import type { AnswerFollowers } from './follow-answer.js';
import { GrowingText } from './growing-text.js';
import type { LiveAnswers } from './live-answers.js';
import type { AbortReason, StopSignals } from './stop-signals.js';

export interface ChatDeps {
  db: Db;
  /** Where the bytes of the files messages carry are. */
  storage: FileStorage;
  providers: Record<Agent['provider'], ChatProvider>;
  stops: StopSignals;
  /** Tells a running answer to those who follow it from elsewhere (a reload, another instance). */
  live: LiveAnswers;
  /** Followers of answers running on any instance, served by this one. */
  followers: AnswerFollowers;
  leaseSeconds: number;
  /**
   * The largest answer, how long a client may leave it unread (see CompletionStream), and the longest
   * an answer may run (one kept running after its client left ends by then at the latest).
   */
  answers: { maxBytes: number; stallTimeoutMs: number; timeoutMs: number };
  log: FastifyBaseLogger;
  /** Told when an answer starts, gets its first delta and ends; never per delta. */
  metrics: ChatMetrics;
}

/** `token` is the caller's bearer token: the chat's first statement checks it. */
export interface ChatRequest {
  token: string;
  agentId: string;
  conversationId?: string;
  /**
   * A user message of the conversation: it and every later message are replaced by this turn (an
   * edited message, a new answer to the same one, a retry after an error).
   */
  replaceFrom?: string;
  content: string;
  /** The files the message carries (checked: see files/attach.ts), in order. */
  attachments: FileRow[];
}

export interface AnswerDelta {
  content?: string;
  reasoning_content?: string;
}
/** What the answer does next: some text, or steps the user waits for without seeing them. */
export type AnswerStep = AnswerDelta | 'working';

const TITLE_LENGTH = 80;

/** An upstream may send a NUL character; PostgreSQL cannot store one, and the answer must be saved. */
const withoutNul = (text: string) => (text.includes('\0') ? text.replaceAll('\0', '') : text); // finding none costs less than replacing none

const SHUTDOWN: MessageError = {
  message: 'The server restarted while answering. Please send your message again.',
  type: 'server_error',
  code: 'shutdown',
};
const CLIENT_STALLED: MessageError = {
  message: 'The answer was cut off: the connection stopped taking it in. The text that arrived is kept.',
  type: 'server_error',
  code: 'client_stalled',
};
/** How an answer that was aborted ended, when not simply canceled (the time limit's: answerTimedOut). */
const ABORT_FAILURES: Partial<Record<AbortReason, MessageError>> = { shutdown: SHUTDOWN, 'client-stalled': CLIENT_STALLED };

function answerTimedOut(timeoutMs: number): MessageError {
  const minutes = timeoutMs / 60_000;
  const limit = minutes >= 1 ? `${+minutes.toFixed(1)} min` : `${+(timeoutMs / 1000).toFixed(1)} s`;
  return {
    message: `The answer took longer than the ${limit} this server allows and was cut off there. The text that arrived is kept.`,
    type: 'server_error',
    code: 'answer_timeout',
  };
}

function answerTooLong(maxBytes: number): MessageError {
  const size = maxBytes >= 1024 * 1024 ? `${+(maxBytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.floor(maxBytes / 1024)} KB`;
  return {
    message: `The answer grew past the ${size} this server keeps and was cut off there.`,
    type: 'upstream_error',
    code: 'answer_too_long',
  };
}

/** Checks who calls and may chat, claims the conversation and stores the user message; throws an HttpError (4xx) before anything streams. */
export async function openChat(deps: ChatDeps, request: ChatRequest): Promise<ChatRun> {
  const { db, leaseSeconds } = deps;
  const runId = randomUUID();
  const common = {
    tokenHash: tokenHash(request.token),
    agentId: request.agentId,
    runId,
    content: request.content,
    attachments: JSON.stringify(request.attachments.map(attachmentOf)),
    leaseSeconds,
  };
  // A message of files alone is titled by its first file.
  const title = (request.content.trim() ? request.content : (request.attachments[0]?.name ?? '')).slice(0, TITLE_LENGTH);
  let conversation: ChatConversation;
  let started: TurnStart | undefined;
  if (request.replaceFrom && !request.conversationId)
    throw badRequest('replaceFrom names a message of a conversation: give its conversationId too', 'missing_conversation');
  if (request.conversationId && request.replaceFrom) {
    [started] = await startReplacingTurn(db).execute({
      ...common,
      conversationId: request.conversationId,
      replaceFrom: request.replaceFrom,
      title,
    });
    conversation = { id: request.conversationId, providerConversationId: started?.providerConversationId ?? null };
  } else if (request.conversationId) {
    [started] = await startNextTurn(db).execute({ ...common, conversationId: request.conversationId });
    conversation = { id: request.conversationId, providerConversationId: started?.providerConversationId ?? null };
  } else {
    conversation = { id: randomUUID(), providerConversationId: null };
    [started] = await startFirstTurn(db).execute({
      ...common,
      conversationId: conversation.id,
      title,
    });
  }
  if (!started?.answerId || !started.questionId || started.questionSeq === null) {
    if (started?.reservedDay) await returnMessage(db, started.user.id, started.reservedDay);
    return whyRefused(db, request);
  }
  const attachments = request.attachments.map((file) => chatAttachment(db, deps.storage, file));
  return new ChatRun(
    deps,
    started.agent,
    conversation,
    started.user,
    { text: request.content, attachments },
    {
      runId,
      messageId: started.answerId,
      questionId: started.questionId,
      questionSeq: started.questionSeq,
      firstTurn: !request.conversationId,
    },
  );
}

/** The chat was refused: says why, as the client should hear it. */
async function whyRefused(db: Db, request: ChatRequest): Promise<never> {
  const user = await userForToken(db, request.token);
  if (!user) throw await refusal(db, request.token);
  const overQuota = async () => quotaExceeded(await quotaStatus(db, user.id));
  const [agent] = await db
    .select({ id: agents.id })
    .from(agents)
    .where(chatableAgent(request.agentId, viewerOf(user)));
  if (!request.conversationId) {
    if (!agent) throw notFound(`No agent with id ${request.agentId}`);
    throw (await overQuota()) ?? new Error('a first turn was refused with a chatable agent');
  }
  // An existing conversation is refused when it is not the user's, not the agent's, its agent was
  // unpublished since (it stays readable, see conversations.ts), or it is busy.
  const [found] = await db
    .select({ agentId: conversations.agentId })
    .from(conversations)
    .where(and(eq(conversations.id, request.conversationId), eq(conversations.userId, user.id)));
  if (!found) throw notFound(`No conversation with id ${request.conversationId}`);
  if (found.agentId !== request.agentId) throw new HttpError(400, 'This conversation belongs to another agent', 'agent_mismatch');
  if (!agent)
    throw new HttpError(403, 'This agent is no longer available: the conversation can be read but not continued', 'agent_unavailable');
  if (request.replaceFrom) {
    const [replaced] = await db
      .select({ role: messages.role })
      .from(messages)
      .where(and(eq(messages.id, request.replaceFrom), eq(messages.conversationId, request.conversationId)));
    if (!replaced) throw notFound(`No message with id ${request.replaceFrom} in this conversation`);
    if (replaced.role !== 'user')
      throw badRequest("Only the user's messages can be replaced (edited or answered again)", 'not_a_user_message');
  }
  const quotaRefusal = await overQuota();
  if (quotaRefusal) throw quotaRefusal;
  throw new HttpError(409, 'This conversation is still answering the previous message. Wait for it or stop it.', 'conversation_busy');
}

/** Where a run's rows are. */
interface RunTurn {
  runId: string;
  messageId: string;
  questionId: string;
  /** Where this run's messages start in the conversation. */
  questionSeq: number;
  /** A new conversation: there is no history to read. */
  firstTurn: boolean;
}

export class ChatRun {
  readonly controller = new AbortController();
  private readonly contentText = new GrowingText();
  private readonly reasoningText = new GrowingText();
  suggestions: string[] = [];
  usage: Usage | null = null;
  error: MessageError | null = null;
  status: MessageStatus = 'streaming';
  /** The agent is busy with steps the user does not see (since the last text). */
  working = false;
  private readonly metadata: Record<string, unknown> = {};
  /** UTF-8 bytes of the text, reasoning and suggestions so far, held to `answers.maxBytes`. */
  private size = 0;
  /** Text and reasoning deltas taken so far: a plain count, reported to the metrics once, when the answer ends. */
  private deltas = 0;
  /** When the provider was asked (performance.now()), for the upstream's time to first token. */
  private askedAt = 0;
  /** Checkpoints are saved one after another: an earlier one never lands after a later one. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: ChatDeps,
    readonly agent: Agent,
    readonly conversation: ChatConversation,
    private readonly user: ChatUser,
    private readonly message: { text: string; attachments: ChatAttachment[] },
    private readonly turn: RunTurn,
  ) {}

  /** The answer's text so far. */
  get content(): string {
    return this.contentText.toString();
  }

  get reasoning(): string {
    return this.reasoningText.toString();
  }

  /** The answer's stored id. */
  get messageId(): string {
    return this.turn.messageId;
  }

  /** The stored id of the user's message it answers. */
  get questionId(): string {
    return this.turn.questionId;
  }

  abort(reason: AbortReason): void {
    this.controller.abort(reason);
  }

  /**
   * Streams the answer into `write`, which returns a promise when the client is behind (the upstream
   * then waits). However the answer ends, it is persisted and the conversation freed before this resolves.
   */
  async answer(write: (step: AnswerStep) => Promise<void> | undefined): Promise<void> {
    const { stops, leaseSeconds, log, metrics } = this.deps;
    const signal = this.controller.signal;
    const unregister = stops.register(this.conversation.id, this.controller);
    const ended = this.deps.live.register(this.messageId, this);
    const timeout = setTimeout(() => this.abort('answer-timeout'), this.deps.answers.timeoutMs).unref();
    // Renew the claim and save the partial answer now and then, never per delta.
    const heartbeat = setInterval(() => this.checkpointAside(), (leaseSeconds * 1000) / 3).unref();
    metrics.answerStarted(this.agent.provider);
    this.askedAt = performance.now();
    try {
      // The message's files join its conversation; inside the run, so that a failure here still saves
      // the answer (failed) and frees the conversation.
      await attachToConversation(
        this.deps.db,
        this.message.attachments.map((file) => file.id),
        this.conversation.id,
      );
      await this.deps.providers[this.agent.provider].answer(
        {
          agent: this.agent,
          conversation: this.conversation,
          user: this.user,
          loadHistory: () => this.loadHistory(),
          message: this.message.text,
          attachments: this.message.attachments,
          signal,
        },
        (event) => {
          // Nothing more reaches the answer once it failed or was stopped.
          if (this.error || signal.aborted) return undefined;
          const step = this.apply(event);
          return step ? write(step) : undefined;
        },
      );
    } catch (error) {
      if (!signal.aborted) {
        log.error({ err: error, agentId: this.agent.id }, 'chat provider failed');
        this.error = { message: 'The agent failed to answer. Please try again.', type: 'server_error', code: 'provider_error' };
      }
    } finally {
      clearInterval(heartbeat);
      clearTimeout(timeout);
      unregister();
      this.settle();
      await this.saving;
      await this.persist().catch((error) => log.error({ err: error }, 'could not save the answer'));
      // Followers read the saved answer once told: after the save. Nothing here waits for them.
      void ended();
      metrics.answerEnded(this.agent.provider, { deltas: this.deltas, failed: this.status === 'failed' });
    }
  }

  /** Takes one event into the answer; synchronous, as it runs for every delta. */
  private apply(event: ProviderEvent): AnswerStep | null {
    switch (event.type) {
      case 'text-delta': {
        this.working = false;
        this.countDelta();
        const text = this.fit(withoutNul(event.text));
        this.contentText.append(text);
        return { content: text };
      }
      case 'reasoning-delta': {
        this.countDelta();
        const text = this.fit(withoutNul(event.text));
        this.reasoningText.append(text);
        return { reasoning_content: text };
      }
      case 'working':
        this.working = true;
        return 'working';
      case 'suggestion': {
        const text = this.fit(withoutNul(event.text));
        if (text) this.suggestions.push(text);
        return null;
      }
      case 'usage':
        this.usage = event.usage;
        return null;
      case 'provider-conversation':
        // Saved at once, beside the stream rather than in its way: were this instance to die before its
        // first checkpoint, the next turn must still find the upstream conversation and its memory.
        this.conversation.providerConversationId = event.id;
        this.aside(() => saveProviderConversation(this.deps.db).execute(this.ids()), 'saving the upstream conversation failed');
        return null;
      case 'provider-metadata':
        Object.assign(this.metadata, event.data);
        return null;
      case 'error': {
        const { cause, ...shown } = event.error;
        if (cause !== undefined)
          this.deps.log.warn({ err: cause, agentId: this.agent.id, code: shown.code }, "the agent's upstream failed");
        this.error = { type: 'upstream_error', ...shown };
        return null;
      }
    }
  }

  /** One increment per delta; the clock is read once, at the first. */
  private countDelta(): void {
    if (this.deltas++ === 0) this.deps.metrics.firstDelta(this.agent.provider, (performance.now() - this.askedAt) / 1000);
  }

  /** Counts `text` into the answer's size: past the limit, only what fits is kept and the answer ends. */
  private fit(text: string): string {
    const bytes = Buffer.byteLength(text);
    const { maxBytes } = this.deps.answers;
    if (this.size + bytes <= maxBytes) {
      this.size += bytes;
      return text;
    }
    // The whole characters that fit in the room left; then the upstream is stopped.
    const { read } = new TextEncoder().encodeInto(text, new Uint8Array(maxBytes - this.size));
    this.size = maxBytes;
    this.error = answerTooLong(maxBytes);
    this.controller.abort('answer-too-long' satisfies AbortReason);
    return text.slice(0, read);
  }

  private settle(): void {
    const { aborted, reason } = this.controller.signal;
    if (aborted && !this.error)
      this.error =
        reason === 'answer-timeout' ? answerTimedOut(this.deps.answers.timeoutMs) : (ABORT_FAILURES[reason as AbortReason] ?? null);
    this.status = this.error ? 'failed' : aborted ? 'canceled' : 'completed';
  }

  /** A checkpoint nothing waits for. */
  private checkpointAside(): void {
    this.aside(() => this.checkpoint(), 'chat checkpoint failed');
  }

  /** A save nothing waits for, after those before it: an earlier one never lands after a later one. */
  private aside(save: () => Promise<unknown>, failure: string): void {
    this.saving = this.saving.then(save).then(
      () => undefined,
      (error: unknown) => this.deps.log.warn({ err: error }, failure),
    );
  }

  private async checkpoint(): Promise<void> {
    const { db, leaseSeconds } = this.deps;
    await saveCheckpoint(db).execute({
      ...this.ids(),
      leaseSeconds,
      content: this.content,
      reasoning: this.reasoning,
    });
  }

  /** The conversation's messages before this run's question. */
  private async loadHistory(): Promise<Message[]> {
    if (this.turn.firstTurn) return [];
    return this.deps.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, this.conversation.id), lt(messages.seq, this.turn.questionSeq)))
      .orderBy(asc(messages.seq));
  }

  private async persist(): Promise<void> {
    const asJson = (value: unknown) => (value === null ? null : JSON.stringify(value));
    await saveAnswer(this.deps.db).execute({
      ...this.ids(),
      content: this.content,
      reasoning: this.reasoning,
      status: this.status,
      error: asJson(this.error),
      usage: asJson(this.usage),
      suggestions: asJson(this.suggestions),
      metadata: asJson(Object.keys(this.metadata).length ? this.metadata : null),
      userId: this.user.id,
      agentId: this.agent.id,
      promptTokens: this.usage?.prompt_tokens ?? 0,
      completionTokens: this.usage?.completion_tokens ?? 0,
    });
  }

  /** What the statements (statements.ts) need to find this run's rows. */
  private ids() {
    return {
      conversationId: this.conversation.id,
      runId: this.turn.runId,
      providerConversationId: this.conversation.providerConversationId,
      messageId: this.turn.messageId,
    };
  }
}
