// What an answer tells the metrics: three calls per answer, none per delta. The chat code sees only
// this interface, so it neither loads nor pays for prom-client when /metrics is off (or in tests).
import type { Agent } from '../db/schema.js';

export type ProviderName = Agent['provider'];

export interface ChatMetrics {
  /** An answer begins: the provider is about to be asked. */
  answerStarted(provider: ProviderName): void;
  /** The provider's first text or reasoning delta arrived, `seconds` after the answer began. */
  firstDelta(provider: ProviderName, seconds: number): void;
  /** The answer is over and saved; `deltas` is how many text and reasoning deltas it relayed. */
  answerEnded(provider: ProviderName, outcome: { deltas: number; failed: boolean }): void;
}

export const noChatMetrics: ChatMetrics = {
  answerStarted() {},
  firstDelta() {},
  answerEnded() {},
};
