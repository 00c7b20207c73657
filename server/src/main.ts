import cluster from 'node:cluster';
import { readConfig } from './config.js';
import { startPlatform } from './start.js';
import { superviseWorkers } from './workers.js';

const config = readConfig();
if (config.workers > 1 && cluster.isPrimary) {
  superviseWorkers(config.workers);
} else {
  const { app } = await startPlatform(config);
  const address = await app.listen({ host: config.host, port: config.port });
  // Fastify logs it too; this plain line is what scripts (demo, tests) wait for.
  console.log(`agentport listening on ${address}${cluster.isWorker ? ` (worker pid ${process.pid})` : ''}`);

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Ctrl+C reaches a worker twice (from the terminal and from the primary): the second changes nothing.
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      app.log.info(`${signal}: finishing open answers and shutting down`);
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
