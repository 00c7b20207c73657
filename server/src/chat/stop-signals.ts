// A Stop can arrive at any instance; the answer streams on one. Stops are published through
// PostgreSQL NOTIFY, and each instance aborts the run it holds for that conversation, if any.
import type { Database } from '../db/index.js';

const CHANNEL = 'agentport_chat_stop';

/** Why an answer ended early: a Stop, a client that hung up or stopped reading, a shutdown, an answer past its size or time limit. */
export type AbortReason = 'stopped' | 'client-disconnected' | 'client-stalled' | 'shutdown' | 'answer-too-long' | 'answer-timeout';

export class StopSignals {
  /** Runs streaming on this instance, by conversation id. Only a delivery address, never a source of truth. */
  private readonly local = new Map<string, AbortController>();

  constructor(private readonly database: Database) {}

  async start(): Promise<void> {
    await this.database.listen(CHANNEL, (conversationId) => this.local.get(conversationId)?.abort('stopped'));
  }

  register(conversationId: string, controller: AbortController): () => void {
    this.local.set(conversationId, controller);
    return () => {
      if (this.local.get(conversationId) === controller) this.local.delete(conversationId);
    };
  }

  /** Asks whichever instance streams in the conversation to stop. */
  async stop(conversationId: string): Promise<void> {
    await this.database.notify(CHANNEL, conversationId);
  }

  /** On shutdown: end every local run so each is persisted before the process exits. */
  abortAll(reason: AbortReason): void {
    for (const controller of this.local.values()) controller.abort(reason);
  }

  get activeCount(): number {
    return this.local.size;
  }
}
