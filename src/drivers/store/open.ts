import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import type { Store } from './store.js';

/**
 * openStore opens the configured store and brings its schema up to date: PostgreSQL when
 * databaseUrl is set, otherwise PGlite under dataDir/db.
 */
export async function openStore(opts: {
  databaseUrl?: string | undefined;
  dataDir: string;
  schema?: string | undefined;
}): Promise<Store> {
  let store: Store;
  if (opts.databaseUrl) {
    store = await openPostgres(opts.databaseUrl, opts.schema !== undefined ? { schema: opts.schema } : {});
  } else {
    const dir = join(opts.dataDir, 'db');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    store = await openPglite(dir);
  }
  await migrate(store);
  return store;
}
