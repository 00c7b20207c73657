// A new embedded database is a copy of a template the build makes: a PostgreSQL cluster as initdb
// leaves it. PGlite creates a cluster by running initdb in a second WebAssembly instance: a first
// start took 6.5 s and peaked at about 780 MB, more memory than a small server may have, where a copy
// takes a few tenths of a second and the server then starts as on any later day (docs/performance.md,
// "Start"). The template is PGlite-version specific: a build made with another PGlite is not used,
// and without one (running from the sources) the cluster is created as before.
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { serverRoot } from '../config.js';

/** The installed PGlite's version (its package.json is not among its exports, so read from beside its entry). */
function pgliteVersion(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const manifest = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

const templatePath = (): string => path.join(serverRoot, 'dist', `pglite-${pgliteVersion()}-template`);

/** The template for the installed PGlite, when the build made one. */
export function embeddedTemplate(): string | null {
  const dir = templatePath();
  return existsSync(path.join(dir, 'PG_VERSION')) ? dir : null;
}

/** Makes the template (the build's last step): readable by whoever runs the server, writable by no one else. */
export async function writeEmbeddedTemplate(dir = templatePath()): Promise<void> {
  const pglite = await PGlite.create(dir);
  await pglite.close();
  // PGlite makes its files writable by everyone (0666).
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
}

/**
 * Makes `location` a copy of the template, whole or not at all: the copy is made beside it and then
 * renamed into place, so that a start stopped halfway leaves no half database behind.
 */
export function copyTemplate(template: string, location: string): void {
  const staging = `${location}.new`;
  rmSync(staging, { recursive: true, force: true }); // what an interrupted copy left
  cpSync(template, staging, { recursive: true });
  try {
    rmdirSync(location); // only when empty
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      rmSync(staging, { recursive: true, force: true });
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      throw new Error(`${location} holds files but no database: move them away, or point DATA_DIR at a new directory.`);
    }
  }
  renameSync(staging, location);
}
