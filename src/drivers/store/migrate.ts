import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Store } from './store.js';

/** Migration is one versioned schema change, applied once, in order, in its own transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const dir = fileURLToPath(new URL('./migrations/', import.meta.url));

/** MIGRATIONS are the files migrations/NNN_name.sql, in version order. */
export const MIGRATIONS: readonly Migration[] = readdirSync(dir)
  .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
  .sort()
  .map((f) => ({ version: Number(f.slice(0, 3)), name: f.slice(4, -4), sql: readFileSync(dir + f, 'utf8') }));

// Any fixed number works as the lock key, as long as every manager uses the same one.
const MIGRATION_LOCK_KEY = 727_100_001;

/**
 * migrate applies every migration the store has not seen, each in one transaction, and
 * returns the versions it applied. Two managers starting together on PostgreSQL serialise on
 * an advisory lock, so a migration never runs twice.
 */
export async function migrate(store: Store): Promise<number[]> {
  await store.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const done = await store.transaction(async (tx) => {
      if (store.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (seen.rows.length > 0) return false;
      for (const stmt of splitStatements(m.sql)) await tx.query(stmt);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/**
 * splitStatements cuts a migration script at semicolons that end a line. Migrations are
 * written so (no function bodies); this keeps them runnable as parameterless statements
 * inside one transaction on both implementations.
 */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\r?\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
