// WORKERS=N: N processes of the platform on one host, sharing its port through node:cluster, so that
// one host uses all its cores (a Node process runs its JavaScript on one). Each worker is an instance
// like any other (README, "Running several instances"): they share nothing but PostgreSQL.
import cluster from 'node:cluster';

/** Between a worker's crash and its replacement: a worker that keeps crashing does not spin. */
const RESTART_DELAY_MS = 1_000;

/**
 * Runs in the primary process: starts `count` workers, replaces one that dies after it was serving,
 * and passes SIGINT/SIGTERM on, exiting once every worker has finished its open answers. A worker that
 * fails before it serves (bad configuration, database unreachable) stops them all: its log says why.
 */
export function superviseWorkers(count: number): void {
  const serving = new Set<number>();
  let stopping = false;
  let exitCode = 0;

  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(exitCode); // between a crash and its replacement
    for (const worker of workers) worker?.process.kill(signal);
  };
  cluster.on('listening', (worker) => serving.add(worker.id));
  cluster.on('exit', (worker, code, signal) => {
    const wasServing = serving.delete(worker.id);
    if (!stopping && wasServing) {
      console.error(`agentport: worker ${worker.process.pid} ended (${signal ?? `exit ${code}`}); starting another`);
      setTimeout(() => {
        if (!stopping) cluster.fork();
      }, RESTART_DELAY_MS);
      return;
    }
    if (!stopping) {
      console.error(`agentport: a worker failed to start (${signal ?? `exit ${code}`}); stopping`);
      exitCode = 1;
      stopAll('SIGTERM');
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopAll(signal));
  for (let i = 0; i < count; i++) cluster.fork();
}
