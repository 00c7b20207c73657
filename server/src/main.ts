import { readConfig } from './config.js';
import { startPlatform } from './start.js';

const config = readConfig();
const { app } = await startPlatform(config);

const address = await app.listen({ host: config.host, port: config.port });
// Fastify logs it too; this plain line is what scripts (demo, tests) wait for.
console.log(`agentport listening on ${address}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info(`${signal}: finishing open answers and shutting down`);
    app.close().then(() => process.exit(0), () => process.exit(1));
  });
}
