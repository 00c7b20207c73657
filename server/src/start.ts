// Opens the database, migrates it and creates the admin under one lock, then builds the app.
import type { App, AppOptions } from './app.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/index.js';

export async function startPlatform(
  config: Config,
  options: Omit<AppOptions, 'config' | 'database'> = {},
): Promise<App & { database: Database }> {
  // The database opens (the embedded one starts PostgreSQL on a thread of its own) while this thread
  // loads the app's modules, rather than after.
  const [database, { buildApp }, { ensureAdmin }, { seedDemoAgent }] = await Promise.all([
    openDatabase(config),
    import('./app.js'),
    import('./auth/users.js'),
    import('./agents/demo.js'),
  ]);
  await database.migrate(async (db) => {
    if (config.admin) await ensureAdmin(db, config.admin);
    if (config.demoSeed) await seedDemoAgent(db);
  });
  const built = await buildApp({ config, database, ...options });
  built.app.addHook('onClose', async () => database.close());
  return { ...built, database };
}
