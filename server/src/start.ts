// Opens the database, migrates it and creates the admin under one lock, then builds the app.
import { buildApp, type App, type AppOptions } from './app.js';
import { seedDemoAgent } from './agents/demo.js';
import { ensureAdmin } from './auth/users.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/index.js';

export async function startPlatform(
  config: Config,
  options: Omit<AppOptions, 'config' | 'database'> = {},
): Promise<App & { database: Database }> {
  const database = await openDatabase(config);
  await database.migrate(async (db) => {
    if (config.admin) await ensureAdmin(db, config.admin);
    if (config.demoSeed) await seedDemoAgent(db);
  });
  const built = await buildApp({ config, database, ...options });
  built.app.addHook('onClose', async () => database.close());
  return { ...built, database };
}
