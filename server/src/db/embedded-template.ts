// A new embedded database starts from a template made at build time: a new PostgreSQL cluster
// (initdb) packed as PGlite's own data-directory tarball. PGlite creates a cluster by running initdb
// in a second WebAssembly instance: a first start took 6.5 s and peaked at about 780 MB, more memory
// than a small server may have; from the template, 3.9 s and 350 MB (docs/performance.md, "Start").
// The template is PGlite-version specific: a build made with another PGlite is not used, and without
// one (running from the sources) the cluster is created as before.
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
