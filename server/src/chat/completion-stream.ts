// The platform's one wire format for answers: OpenAI `chat.completion.chunk` server-sent events,
// with extensions (conversation_id, message_id, delta.reasoning_content, activity "working" while the
// agent runs steps the user does not see, final usage/suggestions/status).
import type { ServerResponse } from 'node:http';
import type { MessageError, Usage } from '../db/schema.js';

export interface CompletionIds { id: string; created: number; model: string; conversationId: string; messageId: string }
export interface CompletionEnd { status: 'completed' | 'canceled'; usage: Usage | null; suggestions: string[] }

const KEEPALIVE_MS = 15_000;

export class CompletionStream {
  /** Everything before the delta is the same in every chunk, so it is rendered once. */
  private readonly prefix: string;
  private readonly keepalive: NodeJS.Timeout;

  constructor(private readonly res: ServerResponse, ids: CompletionIds) {
    this.prefix = `data: {"id":${JSON.stringify(ids.id)},"object":"chat.completion.chunk","created":${ids.created},`
      + `"model":${JSON.stringify(ids.model)},"conversation_id":${JSON.stringify(ids.conversationId)},`
      + `"message_id":${JSON.stringify(ids.messageId)},"choices":[{"index":0,"delta":`;
    res.on('error', () => {}); // a client that went away is handled by the 'close' listener
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
      'x-conversation-id': ids.conversationId,
    });
    // SSE comments keep proxies from closing a stream that is silent while the model thinks.
    this.keepalive = setInterval(() => this.write(': keepalive\n\n'), KEEPALIVE_MS).unref();
    res.on('close', () => clearInterval(this.keepalive));
  }

  /** Writes one delta; returns a promise only when the client is behind and the caller must wait. */
  delta(delta: { role?: 'assistant'; content?: string; reasoning_content?: string }): Promise<void> | undefined {
    return this.write(`${this.prefix}${JSON.stringify(delta)},"finish_reason":null}]}\n\n`);
  }

  /** The agent is busy with steps the user does not see (tools, knowledge); text, when it comes, ends it. */
  working(): Promise<void> | undefined {
    return this.write(`${this.prefix}{},"finish_reason":null}],"activity":"working"}\n\n`);
  }

  async finish(end: CompletionEnd): Promise<void> {
    await this.write(`${this.prefix}{},"finish_reason":"stop"}],"usage":${JSON.stringify(end.usage)},`
      + `"suggestions":${JSON.stringify(end.suggestions)},"status":"${end.status}"}\n\n`);
    this.close();
  }

  async fail(error: MessageError): Promise<void> {
    await this.write(`data: ${JSON.stringify({ error })}\n\n`);
    this.close();
  }

  private close(): void {
    if (!this.res.destroyed) this.res.end('data: [DONE]\n\n');
  }

  /** Writes; when the client reads slower than the upstream writes, returns a wait for the socket to drain. */
  private write(text: string): Promise<void> | undefined {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return undefined;
    if (res.write(text)) return undefined;
    return new Promise<void>((resolve) => {
      // Both listeners go when either fires, so a slow client leaves none behind.
      const settle = () => {
        res.off('drain', settle);
        res.off('close', settle);
        resolve();
      };
      res.on('drain', settle);
      res.on('close', settle);
    });
  }
}
