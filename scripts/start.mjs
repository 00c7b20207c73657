// `npm start`: the built server as it is (no install, no build), in this same process: a second Node
// process only to check the build would add a tenth of a second to every start. It says what to do
// when nothing is built yet (and stops), or when the sources changed since the build, as after a
// `git pull` without `npm run build` (and starts anyway: the build may be the one the operator means
// to run). With WORKERS > 1 each worker runs this file again: only the primary checks.
import cluster from 'node:cluster';
import { buildProblem } from './lib/built.mjs';

if (cluster.isPrimary) {
  const found = ['server', 'web'].map((part) => buildProblem(part)).filter((problem) => problem !== null);
  const missing = found.filter((problem) => problem.missing);
  if (missing.length) {
    console.error(
      `[agentport] ${missing.map((problem) => problem.problem).join(' and ')}: run \`npm ci && npm run build\` once, then \`npm start\`.`,
    );
    process.exit(1);
  }
  for (const { problem } of found)
    console.warn(`[agentport] warning: ${problem}; starting the last build (run \`npm run build\` to build the sources).`);
}

await import('../server/dist/main.js');
