// Tests that run the built output (server/dist, web/dist) would test the last build rather than the
// sources when those changed since: they call this first, so that a stale build fails with what to do.
// (`npm test` builds first; this is for a single file run without a build.)
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './processes.js';

interface Build {
  /** The build's output directory, for the message. */
  dist: string;
  /** The file every build rewrites (tsc and vite write all their output, not only what changed). */
  entry: string;
  /** What the build reads, files or directories (everything under them counts). */
  sources: string[];
}

const BUILDS = {
  server: { dist: 'server/dist', entry: 'server/dist/main.js', sources: ['server/src', 'server/tsconfig.build.json'] },
  web: { dist: 'web/dist', entry: 'web/dist/index.html', sources: ['web/src', 'web/public', 'web/index.html', 'web/vite.config.ts'] },
} satisfies Record<string, Build>;

export type BuiltPart = keyof typeof BUILDS;

/** The most recently modified file or directory at or under `relative` (a directory's time changes when an entry is added, removed or renamed). */
function newestUnder(root: string, relative: string): { file: string; mtimeMs: number } | null {
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

/** Why `part`'s build (in the checkout at `root`) cannot be tested as it is (missing, or older than a source), or null when it is current. */
export function staleBuild(part: BuiltPart, root = repoRoot): string | null {
  const build: Build = BUILDS[part];
  const entry = path.join(root, build.entry);
  if (!existsSync(entry)) return `${build.entry} is missing: run npm run build`;
  const builtAt = statSync(entry).mtimeMs;
  for (const source of build.sources) {
    const newest = newestUnder(root, source);
    if (newest && newest.mtimeMs > builtAt) {
      const changed = newest.file === source ? '' : ` (${newest.file} changed since the build)`;
      return `${build.dist} is older than ${source}${changed}: run npm run build`;
    }
  }
  return null;
}

/** Throws with one clear line when any of `parts` is missing or older than its sources. */
export function assertFreshBuild(...parts: BuiltPart[]): void {
  const problems = parts.map((part) => staleBuild(part)).filter((problem) => problem !== null);
  if (problems.length) throw new Error(problems.join('; '));
}
