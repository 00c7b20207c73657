// Preloaded into the platform by the bench (with --expose-gc; workers inherit it). On SIGUSR2 it writes
// to $BENCH_MEMORY_DIR/<pid>.json what this process's event loop and garbage collector went through since the
// previous signal (loop delay, GC pauses: where latency tails come from), then runs a full garbage
// collection and adds process.memoryUsage(), so the bench can read the live JavaScript heap (what an
// open stream really keeps) next to its RSS, and the size of V8's young generation before that
// collection (a load of any size grows it once) and after it (which shrinks it once allocation has
// been low for a while). Touches nothing else.
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const LOOP_RESOLUTION_MS = 10;
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loop.enable();
let gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) continue; // the bench's own
    gc.count += 1;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

const youngGenerationSize = () =>
  v8
    .getHeapSpaceStatistics()
    .filter((space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
    .reduce((sum, space) => sum + space.physical_space_size, 0);

let seq = 0;
process.on('SIGUSR2', () => {
  // The histogram records whole timer intervals: the delay is what exceeds the resolution.
  const sinceLast = {
    loopDelayP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    loopDelayMaxMs: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS),
    gc,
  };
  const youngGeneration = youngGenerationSize();
  globalThis.gc?.();
  seq += 1;
  const dir = process.env.BENCH_MEMORY_DIR;
  const report = { seq, ...process.memoryUsage(), youngGeneration, youngGenerationAfter: youngGenerationSize(), sinceLast };
  if (dir) writeFileSync(`${dir}/${process.pid}.json`, JSON.stringify(report));
  loop.reset();
  gc = { count: 0, totalMs: 0, maxMs: 0 };
});
