// `npm start` runs the built server as it is (no install, no build: a production start takes about a
// second). This says what to do when nothing is built yet (and stops), or when the sources changed
// since the build, as after a `git pull` without `npm run build` (and starts anyway: the build may be
// the one the operator means to run).
import { buildProblem } from './lib/built.mjs';

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
