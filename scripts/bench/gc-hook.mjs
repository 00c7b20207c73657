// Preloaded into the platform by the bench (with --expose-gc): on SIGUSR2, a full garbage collection,
// then process.memoryUsage() written to $BENCH_MEMORY_FILE, so the bench can read the platform's live
// JavaScript heap (what an open stream really keeps) next to its RSS. Touches nothing else.
import { writeFileSync } from 'node:fs';

let seq = 0;
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  seq += 1;
  const file = process.env.BENCH_MEMORY_FILE;
  if (file) writeFileSync(file, JSON.stringify({ seq, ...process.memoryUsage() }));
});
