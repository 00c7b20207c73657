// `npm start` runs the built server as it is (no install, no build: a production start takes about a
// second); this says what to do when there is nothing built yet.
import { existsSync } from 'node:fs';

const missing = ['server/dist/main.js', 'web/dist/index.html'].filter((file) => !existsSync(file));
if (missing.length) {
  console.error(`[agentport] ${missing.join(' and ')} missing: run \`npm ci && npm run build\` once, then \`npm start\`.`);
  process.exit(1);
}
