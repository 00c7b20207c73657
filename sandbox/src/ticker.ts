// One timer drives many streams: the bench streams subscribe to a shared tick instead of
// each owning a setTimeout chain, so the sandbox stays cheap at 1,000 open streams.

export class Ticker {
  private readonly subscribers = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly intervalMs: number) {}

  /** Calls `onTick` on every tick until the returned function is called. */
  subscribe(onTick: () => void): () => void {
    this.subscribers.add(onTick);
    this.timer ??= setInterval(() => {
      for (const tick of this.subscribers) tick();
    }, this.intervalMs);
    return () => {
      this.subscribers.delete(onTick);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** One Ticker per interval (all default-paced bench streams, Coze and OpenAI, share one). */
export class TickerPool {
  private readonly tickers = new Map<number, Ticker>();

  get(intervalMs: number): Ticker {
    let ticker = this.tickers.get(intervalMs);
    if (!ticker) {
      ticker = new Ticker(intervalMs);
      this.tickers.set(intervalMs, ticker);
    }
    return ticker;
  }

  stopAll(): void {
    for (const ticker of this.tickers.values()) ticker.stop();
  }
}
