/**
 * store is the manager's database: one SQL dialect (PostgreSQL) with two implementations,
 * PGlite persisted under the data directory (embedded default) and a real PostgreSQL server
 * (production, DATABASE_URL). One contract suite (test/contract/store.test.ts) runs on both.
 */
export type { Sql, Store, StoreKind } from './store.js';
export { openPglite } from './pglite.js';
export { openPostgres } from './postgres.js';
export { migrate, MIGRATIONS } from './migrate.js';
export { openStore } from './open.js';
