// From raw stream records to the figures: per-arm distributions, and "added" = platform − direct.
import type { Arm, StreamRecord } from './client.js';

export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const at = (n - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

function sorted(values: number[]): Float64Array {
  return Float64Array.from(values.filter((v) => Number.isFinite(v))).sort();
}

/** When a delta was due, which tells its relay latency; it depends on the sandbox's pacing. */
export interface DeltaReference {
  /** Delta `index` of `record`: arrival minus when it was due (ms); NaN when unknown. `toUpstream`: request start → the sandbox got it. */
  latency(record: StreamRecord, index: number, toUpstream: number): number;
}

/**
 * `spread` pacing: each stream's deltas are due one interval apart from one interval after the
 * sandbox got its request (less up to the timer's 2 ms step), so a delta's latency is its arrival
 * minus that.
 */
export class StreamSchedule implements DeltaReference {
  /** `intervalOf`: the pace of the bot that answered the stream. */
  constructor(private readonly intervalOf: (record: StreamRecord) => number) {}

  latency(record: StreamRecord, index: number, toUpstream: number): number {
    return record.times[index]! - record.start - toUpstream - (index + 1) * this.intervalOf(record);
  }
}

/**
 * `burst` pacing, the sandbox's shared tick as the generator sees it: the direct arm's deltas arrive in
 * one burst per tick. Each burst's median arrival is that tick's reference; a delta's relay latency is
 * its arrival minus the reference of its tick. This takes the timer's 0–interval wait out of
 * time-to-first-token.
 */
export class TickGrid implements DeltaReference {
  private readonly starts: Float64Array;
  private readonly refs: Float64Array;
  readonly spreadP99: number;
  readonly count: number;

  constructor(
    direct: StreamRecord[],
    private readonly intervalMs: number,
  ) {
    let total = 0;
    for (const r of direct) total += r.count;
    const all = new Float64Array(total);
    let at = 0;
    for (const r of direct) {
      all.set(r.times.subarray(0, r.count), at);
      at += r.count;
    }
    all.sort();
    const split = Math.max(2, intervalMs * 0.3);
    const starts: number[] = [];
    const refs: number[] = [];
    const spreads: number[] = [];
    for (let i = 0; i < all.length;) {
      let j = i + 1;
      while (j < all.length && all[j]! - all[j - 1]! <= split) j++;
      starts.push(all[i]!);
      refs.push(all[(i + j - 1) >> 1]!);
      spreads.push(all[j - 1]! - all[i]!);
      i = j;
    }
    this.starts = Float64Array.from(starts);
    this.refs = Float64Array.from(refs);
    this.count = starts.length;
    this.spreadP99 = quantile(sorted(spreads), 0.99);
  }

  latency(record: StreamRecord, index: number): number {
    return this.behindTick(record.times[index]!);
  }

  /** Arrival minus its tick's reference (ms), or NaN when no tick of the grid precedes it closely. */
  private behindTick(arrival: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    if (hi < 0 || arrival < this.starts[0]!) return NaN;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= arrival) lo = mid;
      else hi = mid - 1;
    }
    const latency = arrival - this.refs[lo]!;
    return latency > this.intervalMs ? NaN : latency;
  }
}

export interface ArmFigures {
  arm: Arm;
  streams: number;
  errors: number;
  errorSamples: string[];
  /** Request start → first content delta, as measured (includes the sandbox's wait before its first delta). */
  ttftRaw: Float64Array;
  /** Request start → upstream chat received + first delta's relay latency: TTFT without the sandbox's wait. */
  ttft: Float64Array;
  /** Request start → the sandbox received the chat request (its request log, to a fraction of a ms). */
  toUpstream: Float64Array;
  /** Request start → first byte of the body. */
  firstByte: Float64Array;
  /** The first delta's relay latency (the second part of `ttft`). */
  firstLatency: Float64Array;
  /** Gaps between consecutive deltas of a stream, inside the window. */
  gaps: Float64Array;
  /** Per-delta relay latency, inside the window. */
  latency: Float64Array;
  total: Float64Array;
  /** Deltas received inside the window. */
  windowDeltas: number;
}

export function armFigures(
  arm: Arm,
  records: StreamRecord[],
  due: DeltaReference,
  upstreamAt: Map<number, number>,
  window: [number, number],
): ArmFigures {
  const mine = records.filter((r) => r.arm === arm);
  const ttftRaw: number[] = [];
  const ttft: number[] = [];
  const toUpstream: number[] = [];
  const firstByte: number[] = [];
  const firstLatency: number[] = [];
  const gaps: number[] = [];
  const latency: number[] = [];
  const total: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let windowDeltas = 0;
  const [w0, w1] = window;
  for (const r of mine) {
    if (!r.ok) {
      errors += 1;
      if (r.error && errorSamples.length < 3 && !errorSamples.includes(r.error)) errorSamples.push(r.error);
    }
    firstByte.push(r.firstByte - r.start);
    const at = upstreamAt.get(r.id);
    const up = at === undefined ? NaN : at - r.wallStart;
    toUpstream.push(up);
    if (r.count > 0) {
      const first = r.times[0]!;
      ttftRaw.push(first - r.start);
      const firstDelay = due.latency(r, 0, up);
      firstLatency.push(firstDelay);
      ttft.push(up + firstDelay);
    }
    if (r.ok) total.push(r.end - r.start);
    for (let j = 0; j < r.count; j++) {
      const t = r.times[j]!;
      if (t < w0 || t > w1) continue;
      windowDeltas += 1;
      latency.push(due.latency(r, j, up));
      if (j > 0) gaps.push(t - r.times[j - 1]!);
    }
  }
  return {
    arm,
    streams: mine.length,
    errors,
    errorSamples,
    windowDeltas,
    ttftRaw: sorted(ttftRaw),
    ttft: sorted(ttft),
    toUpstream: sorted(toUpstream),
    firstByte: sorted(firstByte),
    firstLatency: sorted(firstLatency),
    gaps: sorted(gaps),
    latency: sorted(latency),
    total: sorted(total),
  };
}

/** platform − direct at quantile q of a figure. */
export function added(platform: ArmFigures, direct: ArmFigures, pick: (f: ArmFigures) => Float64Array, q: number): number {
  return quantile(pick(platform), q) - quantile(pick(direct), q);
}
