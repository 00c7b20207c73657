// A new embedded database starts from a template made at build time: a new PostgreSQL cluster
// (initdb) packed as PGlite's own data-directory tarball. Creating a cluster on first start took
// about 4.5 s and some 800 MB of memory at its peak (PGlite runs initdb in a second WebAssembly
// instance), which a small server may not have; loading the template takes about 1.5 s and no more
// memory than the running server. The template is PGlite-version specific: a build made with
// another PGlite is not used, and a missing one (running from the sources) means initdb as before.
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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

function templatePath(): string {
  return path.join(serverRoot, 'dist', `pglite-${pgliteVersion()}-template.tgz`);
}

/** The template for the installed PGlite, when the build made one. */
export function embeddedTemplate(): string | null {
  const file = templatePath();
  return existsSync(file) ? file : null;
}

/** Makes the template (the build's last step). */
export async function writeEmbeddedTemplate(file = templatePath()): Promise<void> {
  const pglite = await PGlite.create();
  try {
    const tarball = await pglite.dumpDataDir('gzip');
    await writeFile(file, Buffer.from(await tarball.arrayBuffer()));
  } finally {
    await pglite.close();
  }
}
