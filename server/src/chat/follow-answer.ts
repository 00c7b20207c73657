// The following side of a running answer (see live-answers.ts and docs/resume.md): a reader who
// reopens a conversation gets the answer's text so far, from its last checkpoint, then what the
// streaming instance (this one or another) publishes, joined by character offsets so that nothing
// is lost or doubled; when the answer ends, the rest comes from the saved message. Every
// FOLLOW_RENEW_MS the follower renews its interest from where it stands (which also fills any gap)
// and looks whether the answer still runs: an instance that died leaves no end to wait for.
import type { ServerResponse } from 'node:http';
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/index.js';
import { conversations, messages, type Message } from '../db/schema.js';
import { CompletionStream } from './completion-stream.js';
import { FOLLOW_CHANNEL, FOLLOW_RENEW_MS, LIVE_CHANNEL, type FollowRequest, type LiveMessage } from './live-answers.js';
import type { ChunkDelta } from './schemas.js';
import { failInterruptedAnswers } from './statements.js';

/** One text (an answer's content or reasoning) rebuilt from pieces that may come twice, overlap or come early. */
export class TextSoFar {
  /** Pieces that start beyond the text so far, by offset, until the gap before them is filled. */
  private readonly early = new Map<number, string>();

  constructor(public text = '') {}

  /** Takes a piece at `offset`; returns what it adds to the end of the text ('' when nothing new). */
  take(offset: number, piece: string): string {
    if (offset > this.text.length) {
      if (piece.length > (this.early.get(offset)?.length ?? -1)) this.early.set(offset, piece);
      return '';
    }
    const before = this.text.length;
    this.append(offset, piece);
    // Early pieces the text now reaches.
    for (let joined = true; joined && this.early.size;) {
      joined = false;
      for (const [at, early] of this.early) {
        if (at > this.text.length) continue;
        this.early.delete(at);
        this.append(at, early);
        joined = true;
      }
    }
    return this.text.slice(before);
  }

  private append(offset: number, piece: string): void {
    const end = offset + piece.length;
    if (end > this.text.length) this.text += piece.slice(this.text.length - offset);
  }
}

/** This instance's followers, by answer (message id); one LISTEN for them all. */
export class AnswerFollowers {
  private readonly local = new Map<string, Set<(message: LiveMessage) => void>>();
  /** Closes each open follow stream, on shutdown: its client resumes from another instance. */
  private readonly closers = new Set<() => void>();

  constructor(private readonly database: Pick<Database, 'listen' | 'notify'>) {}

  async start(): Promise<void> {
    await this.database.listen(LIVE_CHANNEL, (payload) => {
      let message: LiveMessage;
      try {
        message = JSON.parse(payload) as LiveMessage;
      } catch {
        return;
      }
      for (const handler of this.local.get(message.m) ?? []) handler(message);
    });
  }

  subscribe(messageId: string, handler: (message: LiveMessage) => void): () => void {
    let handlers = this.local.get(messageId);
    if (!handlers) this.local.set(messageId, (handlers = new Set()));
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      if (!handlers.size && this.local.get(messageId) === handlers) this.local.delete(messageId);
    };
  }

  /** Asks the instance that streams the answer for what comes after these offsets (and to go on publishing). */
  async follow(request: FollowRequest): Promise<void> {
    await this.database.notify(FOLLOW_CHANNEL, JSON.stringify(request));
  }

  /** Keeps `close` until the returned function is called. */
  whileOpen(close: () => void): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  closeAll(): void {
    for (const close of this.closers) close();
  }
}

export interface FollowDeps {
  db: Db;
  followers: AnswerFollowers;
  stallTimeoutMs: number;
  log: { warn(object: unknown, message: string): void };
}

/** The answer running in the conversation (by its lease), or null when none runs. */
export async function runningAnswer(db: Db, conversationId: string): Promise<Message | null> {
  const [row] = await db
    .select({ message: messages })
    .from(conversations)
    .innerJoin(messages, and(eq(messages.conversationId, conversations.id), eq(messages.runId, conversations.leaseRunId)))
    .where(and(eq(conversations.id, conversationId), gt(conversations.leaseExpiresAt, sql`now()`), eq(messages.role, 'assistant')));
  const answer = row?.message;
  return answer && answer.status === 'streaming' ? answer : null;
}

/**
 * Streams `answer` (running, as `runningAnswer` found it) to `res` in the standard format: its text
 * so far, then the rest live. Resolves when the stream ends or the client goes.
 */
export function followAnswer(deps: FollowDeps, agentId: string, answer: Message, res: ServerResponse): Promise<void> {
  const { db, followers } = deps;
  const gone = new AbortController();
  const stream = new CompletionStream(
    res,
    {
      id: `chatcmpl-${answer.id}`,
      created: Math.floor(answer.createdAt.getTime() / 1000),
      model: agentId,
      conversationId: answer.conversationId,
      messageId: answer.id,
    },
    { signal: gone.signal, stallTimeoutMs: deps.stallTimeoutMs, onStall: () => gone.abort() },
  );
  const content = new TextSoFar(answer.content);
  const reasoning = new TextSoFar(answer.reasoningContent);
  let queued: ChunkDelta = {};
  let working = false;
  /** A chunk saying the agent works unseen is due. */
  let showWorking = false;
  let writing: Promise<void> | null = null;
  let ending = false;

  return new Promise<void>((resolve) => {
    const unsubscribe = followers.subscribe(answer.id, onLive);
    const forget = followers.whileOpen(() => res.destroy());
    const renew = setInterval(() => void checkAndRenew(), FOLLOW_RENEW_MS);
    res.on('close', () => gone.abort());
    gone.signal.addEventListener('abort', done, { once: true });

    function done(): void {
      clearInterval(renew);
      unsubscribe();
      forget();
      resolve();
    }

    // The text so far, then the request for the rest: what the streaming side sends starts at these offsets.
    queue({
      role: 'assistant',
      content: answer.content,
      ...(answer.reasoningContent ? { reasoning_content: answer.reasoningContent } : {}),
    });
    void askForMore();

    function onLive(message: LiveMessage): void {
      if (ending) return;
      if (message.r) add('reasoning_content', reasoning.take(...message.r));
      if (message.c) add('content', content.take(...message.c));
      if (message.w !== undefined && message.w !== working) {
        working = message.w;
        // The working state shows on a chunk of its own; text, when it comes, ends it.
        showWorking = working;
        void write();
      }
      if (message.end) void end();
    }

    function add(field: 'content' | 'reasoning_content', text: string): void {
      if (text) queue({ [field]: text });
    }

    function queue(delta: ChunkDelta): void {
      for (const field of ['role', 'reasoning_content', 'content'] as const) {
        const value = delta[field];
        if (value === undefined) continue;
        if (field === 'role') queued.role = 'assistant';
        else queued[field] = (queued[field] ?? '') + value;
      }
      void write();
    }

    /** Writes what is queued, one chunk at a time, waiting while the client is behind; resolves once all is written. */
    function write(): Promise<void> {
      if (!writing && (Object.keys(queued).length || showWorking)) {
        writing = (async () => {
          try {
            while (Object.keys(queued).length || showWorking) {
              const delta = queued;
              queued = {};
              if (Object.keys(delta).length) await stream.delta(delta);
              else {
                showWorking = false;
                await stream.working();
              }
            }
          } finally {
            writing = null;
          }
        })();
      }
      return writing ?? Promise.resolve();
    }

    async function askForMore(): Promise<void> {
      await followers
        .follow({ m: answer.id, c: content.text.length, r: reasoning.text.length })
        .catch((error: unknown) => deps.log.warn({ err: error }, 'could not follow an answer'));
    }

    async function checkAndRenew(): Promise<void> {
      if (ending) return;
      try {
        if ((await runningAnswer(db, answer.conversationId))?.id !== answer.id) await end();
        else await askForMore();
      } catch (error) {
        deps.log.warn({ err: error }, 'could not follow an answer');
      }
    }

    /** The answer ended (or its instance died): the rest from the saved message, then its end. */
    async function end(): Promise<void> {
      if (ending) return;
      ending = true;
      clearInterval(renew);
      unsubscribe();
      try {
        await failInterruptedAnswers(db, answer.conversationId);
        const [saved] = await db.select().from(messages).where(eq(messages.id, answer.id));
        if (saved) {
          add('reasoning_content', reasoning.take(0, saved.reasoningContent));
          add('content', content.take(0, saved.content));
        }
        showWorking = false;
        await write();
        if (!saved) stream.fail({ message: 'The conversation was deleted.', type: 'server_error', code: 'deleted' });
        else if (saved.status === 'failed' && saved.error) stream.fail(saved.error);
        else
          stream.finish({
            status: saved.status === 'canceled' ? 'canceled' : 'completed',
            usage: saved.usage ?? null,
            suggestions: saved.suggestions,
          });
      } catch (error) {
        // The database failed us: the connection closes without an end, and the client looks again.
        deps.log.warn({ err: error }, 'could not end a followed answer');
        res.destroy();
      }
      done();
    }
  });
}
