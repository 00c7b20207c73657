// An answer streams on one instance; whoever reopens its conversation may be served by another (see
// docs/resume.md). This is the streaming side: it tells the answer's text to followers through
// PostgreSQL NOTIFY, and only while someone follows. A follower asks on FOLLOW_CHANNEL (again every
// FOLLOW_RENEW_MS, saying how much it has); the instance holding the answer then publishes on
// LIVE_CHANNEL what the follower lacks and, every PUBLISH_INTERVAL_MS, what came since, in pieces
// that carry their character offsets. Nobody following: no timer, no NOTIFY, nothing per delta.
// The channels are two and fixed (not one per answer): one LISTEN per instance serves every answer.
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/index.js';

export const FOLLOW_CHANNEL = 'agentport_answer_follow';
export const LIVE_CHANNEL = 'agentport_answer_live';
/** How often a follower renews its interest; the streaming side stops publishing three renewals after the last. */
export const FOLLOW_RENEW_MS = 5000;
const FOLLOW_TTL_MS = 3 * FOLLOW_RENEW_MS;
/** Deltas are gathered this long into one NOTIFY, not sent one by one. */
export const PUBLISH_INTERVAL_MS = 50;
/**
 * A NOTIFY payload is limited to 8000 bytes: a piece of at most 1200 UTF-16 units is at most 7200
 * bytes of JSON even if every character had to be escaped as \uXXXX.
 */
export const PIECE_CHARS = 1200;

/** A follower's request: answer (message) `m`, from `c` characters of its text and `r` of its reasoning on. */
export interface FollowRequest {
  m: string;
  c: number;
  r: number;
}

/**
 * What the streaming side publishes about answer `m`: a piece of its text (`c`) or reasoning (`r`)
 * as [offset, text]; whether the agent works unseen (`w`); or that it ended and is saved (`end`).
 */
export interface LiveMessage {
  m: string;
  c?: [number, string];
  r?: [number, string];
  w?: boolean;
  end?: true;
}

/** What the streaming side reads of a running answer (a ChatRun). */
export interface LiveSource {
  readonly content: string;
  readonly reasoning: string;
  readonly working: boolean;
}

interface LiveRun {
  source: LiveSource;
  followedUntil: number;
  /** How far the text and reasoning are published, and the working state last published. */
  content: number;
  reasoning: number;
  working: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface LiveAnswersOptions {
  now?: () => number;
  log?: Pick<FastifyBaseLogger, 'warn'>;
}

export class LiveAnswers {
  /** Answers streaming on this instance, by message id. Only a delivery address, never a source of truth. */
  private readonly runs = new Map<string, LiveRun>();
  /** Answers that ended here lately: a follow request that crossed their end is told at once. */
  private readonly ended = new Set<string>();
  /** NOTIFYs are sent one after another, so followers receive the pieces in their order. */
  private sending: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    private readonly database: Pick<Database, 'listen' | 'notify'>,
    private readonly options: LiveAnswersOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.database.listen(FOLLOW_CHANNEL, (payload) => this.onFollow(payload));
  }

  /** An answer starts streaming here; the returned function says it ended and was saved. */
  register(messageId: string, source: LiveSource): () => Promise<void> {
    const run: LiveRun = { source, followedUntil: 0, content: 0, reasoning: 0, working: false, timer: undefined };
    this.runs.set(messageId, run);
    return () => {
      clearInterval(run.timer);
      if (this.runs.get(messageId) === run) this.runs.delete(messageId);
      this.ended.add(messageId);
      setTimeout(() => this.ended.delete(messageId), FOLLOW_TTL_MS).unref();
      // Followers read the saved answer when told it ended: only what it lacks is sent afterwards.
      return run.followedUntil > this.now() ? this.publish({ m: messageId, end: true }) : this.sending;
    };
  }

  /** Whether anyone follows the answer now (tests, metrics). */
  isFollowed(messageId: string): boolean {
    const run = this.runs.get(messageId);
    return run !== undefined && run.followedUntil > this.now();
  }

  /** Everything queued so far is sent (tests). */
  flushed(): Promise<void> {
    return this.sending;
  }

  private onFollow(payload: string): void {
    const request = parseFollowRequest(payload);
    if (!request) return;
    if (this.ended.has(request.m)) {
      void this.publish({ m: request.m, end: true });
      return;
    }
    const run = this.runs.get(request.m);
    if (!run) return; // streaming on another instance, or not at all
    const now = this.now();
    const followed = run.followedUntil > now;
    run.followedUntil = now + FOLLOW_TTL_MS;
    // From where this follower stands; earlier when another follower is further behind (followers
    // drop what they have already).
    run.content = Math.min(request.c, followed ? run.content : Infinity, run.source.content.length);
    run.reasoning = Math.min(request.r, followed ? run.reasoning : Infinity, run.source.reasoning.length);
    if (!followed) run.working = false;
    this.flush(request.m, run);
    run.timer ??= setInterval(() => this.flush(request.m, run), PUBLISH_INTERVAL_MS).unref();
  }

  /** Publishes what came since the last flush; once nobody follows, stops. */
  private flush(messageId: string, run: LiveRun): void {
    if (run.followedUntil <= this.now()) {
      clearInterval(run.timer);
      run.timer = undefined;
      return;
    }
    const { source } = run;
    const messages: LiveMessage[] = [];
    for (let at = run.reasoning; at < source.reasoning.length; at += PIECE_CHARS)
      messages.push({ m: messageId, r: [at, source.reasoning.slice(at, at + PIECE_CHARS)] });
    for (let at = run.content; at < source.content.length; at += PIECE_CHARS)
      messages.push({ m: messageId, c: [at, source.content.slice(at, at + PIECE_CHARS)] });
    run.reasoning = source.reasoning.length;
    run.content = source.content.length;
    if (source.working !== run.working || messages.length) {
      run.working = source.working;
      if (messages.length) messages[messages.length - 1]!.w = source.working;
      else messages.push({ m: messageId, w: source.working });
    }
    for (const message of messages) void this.publish(message);
  }

  private publish(message: LiveMessage): Promise<void> {
    const payload = JSON.stringify(message);
    this.sending = this.sending
      .then(() => this.database.notify(LIVE_CHANNEL, payload))
      .catch((error: unknown) => this.options.log?.warn({ err: error }, 'could not publish a live answer'));
    return this.sending;
  }
}

function parseFollowRequest(payload: string): FollowRequest | null {
  try {
    const value = JSON.parse(payload) as Partial<FollowRequest>;
    const offset = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0;
    if (typeof value.m === 'string' && offset(value.c) && offset(value.r)) return value as FollowRequest;
  } catch {
    /* not ours to answer */
  }
  return null;
}
