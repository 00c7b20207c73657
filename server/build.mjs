// Builds the server into dist/: one ES module file for the process (main.js), one for the embedded
// database's thread (embedded-worker.js, loaded from beside the module that starts it, as in src/)
// and one that makes the embedded database's template (embedded-template.js, run at the end).
// One bundled file loads in a fraction of the time Node takes to resolve and read the several hundred
// modules of the server and its dependencies (see docs/performance.md, "Start"). Type checking is
// `npm run typecheck`'s job, not the build's.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts', 'src/db/embedded-worker.ts', 'src/db/embedded-template.ts'],
  entryNames: '[name]',
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // PGlite reads its WebAssembly and data files from beside its own module; argon2 is a native addon;
  // pg's native binding is optional and not installed.
  external: ['@electric-sql/pglite', '@node-rs/argon2', 'pg-native'],
  // Some bundled dependencies are CommonJS and call require(): an ES module has none of its own.
  banner: {
    js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);",
  },
  logLevel: 'warning',
});

const { writeEmbeddedTemplate } = await import('./dist/embedded-template.js');
await writeEmbeddedTemplate();
