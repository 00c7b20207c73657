// The platform's one wire format for answers: OpenAI `chat.completion.chunk` server-sent events,
// with extensions (conversation_id, message_id, the user message's id first, delta.reasoning_content, activity "working" while the
// agent runs steps the user does not see, final usage/suggestions/status). Its events are the
// CompletionEvent schema (./schemas.ts), rendered here by hand because the stream's prefix is shared.
import type { ServerResponse } from 'node:http';
import type { ChunkDelta, CompletionChunk, MessageError, Usage } from './schemas.js';
import type { AbortReason } from './stop-signals.js';

export interface CompletionIds {
  id: string;
  created: number;
  model: string;
  conversationId: string;
  messageId: string;
}
export interface CompletionEnd {
  status: NonNullable<CompletionChunk['status']>;
  usage: Usage | null;
  suggestions: string[];
}

export interface StreamControl {
  /** The answer's: once it aborts (Stop, shutdown), nothing waits for the client any more. */
  signal: AbortSignal;
  /** How long the client may take in nothing of what is queued for it before its connection is closed. */
  stallTimeoutMs: number;
  /** Called before the connection of a client that stopped reading is closed. */
  onStall(): void;
}

const KEEPALIVE_MS = 15_000;

export class CompletionStream {
  /** Everything before the delta is the same in every chunk, so it is rendered once. */
  private readonly prefix: string;
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    ids: CompletionIds,
    private readonly control: StreamControl,
  ) {
    // Joined, not concatenated: one flat string for the stream's life, not a chain of its pieces.
    this.prefix = [
      `data: {"id":${JSON.stringify(ids.id)},"object":"chat.completion.chunk","created":${ids.created},`,
      `"model":${JSON.stringify(ids.model)},"conversation_id":${JSON.stringify(ids.conversationId)},`,
      `"message_id":${JSON.stringify(ids.messageId)},"choices":[{"index":0,"delta":`,
    ].join('');
    res.on('error', () => {}); // a client that went away is handled by the 'close' listener
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
      'x-conversation-id': ids.conversationId,
    });
    // Sent on their own, the headers are written as the string Node built them in: writing flattens
    // it. Sent with the first chunk, that string stays a chain of some 70 pieces (one per header
    // part) for the response's life: about 1.5 KB more a stream.
    res.flushHeaders();
    // SSE comments keep proxies from closing a stream that is silent while the model thinks; a client
    // that is behind has bytes enough on the way.
    this.keepalive = setInterval(() => {
      if (!res.writableNeedDrain) this.write(': keepalive\n\n');
    }, KEEPALIVE_MS).unref();
    res.on('close', () => clearInterval(this.keepalive));
  }

  /** The first chunk: the answer's role, and the stored id of the user's message it answers. */
  start(userMessageId: string): Promise<void> | undefined {
    return this.write(
      `${this.prefix}{"role":"assistant","content":""},"finish_reason":null}],"user_message_id":${JSON.stringify(userMessageId)}}\n\n`,
    );
  }

  /** Writes one delta; returns a promise only when the client is behind and the caller must wait. */
  delta(delta: ChunkDelta): Promise<void> | undefined {
    return this.write(`${this.prefix}${JSON.stringify(delta)},"finish_reason":null}]}\n\n`);
  }

  /** The agent is busy with steps the user does not see (tools, knowledge); text, when it comes, ends it. */
  working(): Promise<void> | undefined {
    return this.write(`${this.prefix}{},"finish_reason":null}],"activity":"working"}\n\n`);
  }

  finish(end: CompletionEnd): void {
    this.end(
      `${this.prefix}{},"finish_reason":"stop"}],"usage":${JSON.stringify(end.usage)},` +
        `"suggestions":${JSON.stringify(end.suggestions)},"status":"${end.status}"}\n\n`,
    );
  }

  fail(error: MessageError): void {
    this.end(`data: ${JSON.stringify({ error })}\n\n`);
  }

  /**
   * The last chunk and [DONE]. The answer is over (and saved): a client still behind gets the stall
   * time to read them, and none on shutdown, where the process waits for its connections to close.
   */
  private end(text: string): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    const flushed = res.write(text);
    res.end('data: [DONE]\n\n');
    if (!flushed && (this.control.signal.reason as AbortReason | undefined) === 'shutdown') {
      res.destroy();
      return;
    }
    const stalled = setTimeout(() => res.destroy(), this.control.stallTimeoutMs).unref();
    res.on('close', () => clearTimeout(stalled));
  }

  /** Writes; when the client reads slower than the upstream writes, returns a wait for the socket to drain. */
  private write(text: string): Promise<void> | undefined {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return undefined;
    if (res.write(text)) return undefined;
    return this.drained();
  }

  /**
   * Waits until the client has taken in what is queued, the connection closes or the answer is
   * stopped. A client that takes in nothing for the stall time is cut off: one timer, armed only
   * while waiting.
   */
  private drained(): Promise<void> | undefined {
    const { res, control } = this;
    const { signal } = control;
    if (signal.aborted) return undefined;
    return new Promise<void>((resolve) => {
      const stall = setTimeout(() => {
        control.onStall();
        res.destroy();
      }, control.stallTimeoutMs);
      // Every listener goes when any fires, so a slow client leaves none behind.
      const settle = () => {
        clearTimeout(stall);
        res.off('drain', settle);
        res.off('close', settle);
        signal.removeEventListener('abort', settle);
        resolve();
      };
      res.on('drain', settle);
      res.on('close', settle);
      signal.addEventListener('abort', settle, { once: true });
    });
  }
}
