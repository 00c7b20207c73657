// The benchmark's answer: deterministic, so the load generator can check content once at the end.
import { PACINGS, type Pacing } from './ticker.js';

export const BENCH_DEFAULTS = { deltas: 200, intervalMs: 50 } as const;

const PHRASES = ['The quick relay ', 'streams a token ', 'and keeps pace, ', 'chunk after chunk. '] as const;

/** The text of delta `index` (0-based) of a bench answer. */
export function benchDelta(index: number): string {
  return `${PHRASES[index % PHRASES.length]}`;
}

/** The whole answer of a bench stream with `deltas` deltas. */
export function benchAnswer(deltas: number = BENCH_DEFAULTS.deltas): string {
  let text = '';
  for (let i = 0; i < deltas; i++) text += benchDelta(i);
  return text;
}

/** Reads `bench_deltas` / `bench_interval_ms` (strings, as custom_variables are, clamped to sane bounds) and `bench_pacing`. */
export function benchOptions(vars: Record<string, string>): { deltas: number; intervalMs: number; pacing: Pacing } {
  const pick = (raw: string | undefined, fallback: number, min: number, max: number): number => {
    const value = Number.parseInt(raw ?? '', 10);
    return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
  };
  return {
    deltas: pick(vars.bench_deltas, BENCH_DEFAULTS.deltas, 1, 100_000),
    intervalMs: pick(vars.bench_interval_ms, BENCH_DEFAULTS.intervalMs, 1, 60_000),
    pacing: PACINGS.find((pacing) => pacing === vars.bench_pacing) ?? 'spread',
  };
}
