// Whether the built output (server/dist, web/dist) is there and newer than its sources. Tests that run
// the build call it so that a stale build fails with what to do rather than test the last build;
// `npm start` calls it (scripts/start.mjs) so that an operator who pulled without building hears
// so. Plain JS: `npm start` runs it without tsx, on a host that may have only production dependencies.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * @typedef {object} Build
 * @property {string} dist The build's output directory, for the message.
 * @property {string} entry The file every build rewrites (esbuild and vite write all their output, not only what changed).
 * @property {string[]} sources What the build reads, files or directories (everything under them counts).
 */

/** @satisfies {Record<string, Build>} */
const BUILDS = {
  server: { dist: 'server/dist', entry: 'server/dist/main.js', sources: ['server/src', 'server/build.mjs'] },
  web: { dist: 'web/dist', entry: 'web/dist/index.html', sources: ['web/src', 'web/public', 'web/index.html', 'web/vite.config.ts'] },
};

/** @typedef {keyof typeof BUILDS} BuiltPart */

/**
 * The most recently modified file or directory at or under `relative` (a directory's time changes
 * when an entry is added, removed or renamed); null when there is nothing there.
 * @param {string} root
 * @param {string} relative
 * @returns {{ file: string, mtimeMs: number } | null}
 */
function newestUnder(root, relative) {
  const top = path.join(root, relative);
  if (!existsSync(top)) return null;
  let newest = { file: relative, mtimeMs: statSync(top).mtimeMs };
  if (statSync(top).isDirectory()) {
    for (const entry of readdirSync(top, { recursive: true, encoding: 'utf8' })) {
      const mtimeMs = statSync(path.join(top, entry)).mtimeMs;
      if (mtimeMs > newest.mtimeMs) newest = { file: path.join(relative, entry), mtimeMs };
    }
  }
  return newest;
}

/**
 * Whether `part`'s build (in the checkout at `root`) is missing, or older than one of its sources
 * (a checkout without the sources, as in a container image, counts as current).
 * @param {BuiltPart} part
 * @param {string} [root]
 * @returns {{ missing: boolean, problem: string } | null} null when the build is current
 */
export function buildProblem(part, root = repoRoot) {
  const build = BUILDS[part];
  const entry = path.join(root, build.entry);
  if (!existsSync(entry)) return { missing: true, problem: `${build.entry} is missing` };
  const builtAt = statSync(entry).mtimeMs;
  for (const source of build.sources) {
    const newest = newestUnder(root, source);
    if (newest && newest.mtimeMs > builtAt) {
      const changed = newest.file === source ? '' : ` (${newest.file} changed since the build)`;
      return { missing: false, problem: `${build.dist} is older than ${source}${changed}` };
    }
  }
  return null;
}

/**
 * Why `part`'s build cannot be tested as it is, or null when it is current.
 * @param {BuiltPart} part
 * @param {string} [root]
 * @returns {string | null}
 */
export function staleBuild(part, root = repoRoot) {
  const found = buildProblem(part, root);
  return found && `${found.problem}: run npm run build`;
}

/**
 * Throws with one clear line when any of `parts` is missing or older than its sources.
 * @param {...BuiltPart} parts
 */
export function assertFreshBuild(...parts) {
  const problems = parts.map((part) => staleBuild(part)).filter((problem) => problem !== null);
  if (problems.length) throw new Error(problems.join('; '));
}
