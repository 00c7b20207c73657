// One timer drives many streams: the bench streams subscribe to a shared timer instead of each
// owning a setTimeout chain, so the sandbox stays cheap at 1,000 open streams.
//
// How the streams line up on it is the `pacing`:
// - `spread` (the default): each stream ticks once per interval at its own phase, one interval after
//   it subscribed, as independent answers from a real upstream arrive. The timer steps every 2 ms and
//   calls one slot of streams per step.
// - `burst`: every stream ticks at the same instant, once per interval: the worst case for a relay,
//   which then has every open stream's delta to pass on at once.

import { performance } from 'node:perf_hooks';

export type Pacing = 'spread' | 'burst';
export const PACINGS: readonly Pacing[] = ['spread', 'burst'];

const SPREAD_STEP_MS = 2;

export class Ticker {
  private readonly stepMs: number;
  private readonly slots: Array<Set<() => void>>;
  /** The slot the timer calls at its next step. */
  private next = 0;
  private subscribed = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer started, and how many steps it has taken since: steps keep to the clock, not to the timer's drift. */
  private startedAt = 0;
  private steps = 0;

  constructor(
    readonly intervalMs: number,
    pacing: Pacing,
  ) {
    this.stepMs = pacing === 'spread' ? Math.min(SPREAD_STEP_MS, intervalMs) : intervalMs;
    this.slots = Array.from({ length: Math.max(1, Math.round(intervalMs / this.stepMs)) }, () => new Set<() => void>());
  }

  /** Calls `onTick` once per interval until the returned function is called. */
  subscribe(onTick: () => void): () => void {
    // The slot called last comes round again one interval from now (with `burst`, the only slot: the next tick).
    const slot = this.slots[(this.next + this.slots.length - 1) % this.slots.length]!;
    slot.add(onTick);
    this.subscribed += 1;
    if (!this.timer) {
      this.startedAt = performance.now();
      this.steps = 0;
      this.timer = setInterval(() => this.catchUp(), this.stepMs);
    }
    return () => {
      if (slot.delete(onTick)) this.subscribed -= 1;
      if (this.subscribed === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes every step that is due by now: a late timer call takes two, so an interval stays an interval. */
  private catchUp(): void {
    const due = Math.floor((performance.now() - this.startedAt) / this.stepMs);
    while (this.steps < due && this.timer) {
      this.steps += 1;
      const slot = this.slots[this.next]!;
      this.next = (this.next + 1) % this.slots.length;
      for (const tick of slot) tick();
    }
  }
}

/** One Ticker per interval and pacing (all default-paced bench streams, Coze and OpenAI, share one). */
export class TickerPool {
  private readonly tickers = new Map<string, Ticker>();

  get(intervalMs: number, pacing: Pacing): Ticker {
    const key = `${pacing}:${intervalMs}`;
    let ticker = this.tickers.get(key);
    if (!ticker) {
      ticker = new Ticker(intervalMs, pacing);
      this.tickers.set(key, ticker);
    }
    return ticker;
  }

  stopAll(): void {
    for (const ticker of this.tickers.values()) ticker.stop();
  }
}
