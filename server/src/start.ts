// Opens the database, migrates it and brings the built-in roles and the admin up to date under one
// lock, then builds the app.
import type { App, AppOptions } from './app.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/index.js';
import { collectGarbage, QuietCollection } from './memory.js';

export async function startPlatform(
  config: Config,
  options: Omit<AppOptions, 'config' | 'database'> = {},
): Promise<App & { database: Database }> {
  // The database opens (the embedded one starts PostgreSQL on a thread of its own) while this thread
  // loads the app's modules, rather than after: the embedded client is handed over at once, and
  // statements wait until its thread is ready.
  const [database, { buildApp }, { ensureBuiltInRoles }, { ensureAdmin }, { seedDemoAgent }] = await Promise.all([
    openDatabase(config),
    import('./app.js'),
    import('./roles/roles.js'),
    import('./auth/users.js'),
    import('./agents/demo.js'),
  ]);
  // The app is built (on this thread) while the database migrates (on its own thread or server);
  // nothing is served before both are done.
  const [built] = await Promise.all([
    buildApp({ config, database, ...options }),
    database.migrate(async (db) => {
      await ensureBuiltInRoles(db);
      if (config.admin) await ensureAdmin(db, config.admin);
      if (config.demoSeed) await seedDemoAgent(db);
    }),
  ]);
  built.app.addHook('onClose', async () => database.close());
  // Started now, the process's size is measured once the database and the app are up.
  new QuietCollection({
    collect: async () => {
      collectGarbage();
      await database.collectGarbage?.();
    },
  }).watch(built.app.server);
  return { ...built, database };
}
