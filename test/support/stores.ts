/**
 * stores lists the store implementations every store contract suite runs against: PGlite in
 * memory, and a real PostgreSQL server (a fresh schema per suite, dropped at the end).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite, openPostgres } from '../../src/drivers/store/index.js';
import type { Store } from '../../src/drivers/store/index.js';

/** PG_URL is the PostgreSQL server of the contract suites (HOSTFLEET_TEST_DATABASE_URL to change it). */
export const PG_URL = process.env.HOSTFLEET_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** STORE_IMPLEMENTATIONS open a store and give its cleanup. */
export const STORE_IMPLEMENTATIONS: {
  name: string;
  open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>;
}[] = [
  { name: 'pglite', open: async () => ({ store: await openPglite(null), cleanup: async () => undefined }) },
  {
    name: 'postgres',
    open: async () => {
      const schema = `hf_test_${randomBytes(6).toString('hex')}`;
      const store = await openPostgres(PG_URL, { schema });
      return {
        store,
        cleanup: async () => {
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          await c.query(`DROP SCHEMA ${schema} CASCADE`);
          await c.end();
        },
      };
    },
  },
];
