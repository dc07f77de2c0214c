import pg from 'pg';
import type { Sql, Store } from './store.js';

/**
 * openPostgres connects a pool to a PostgreSQL server. With schema set, every connection uses
 * that schema first in its search_path (creating it), which isolates test runs and lets several
 * sites share one server.
 */
export async function openPostgres(url: string, opts: { schema?: string; max?: number } = {}): Promise<Store> {
  if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema)) {
    throw new Error(`schema ${JSON.stringify(opts.schema)} is not a plain lower-case identifier`);
  }
  if (opts.schema !== undefined) {
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    try {
      await setup.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    } finally {
      await setup.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    ...(opts.schema !== undefined ? { options: `-c search_path=${opts.schema},public` } : {}),
  });
  // A pooled client that errors while idle must not crash the manager; the pool replaces it.
  pool.on('error', () => undefined);
  const wrap = (q: { query: pg.Pool['query'] }): Sql => ({
    async query<R>(text: string, params: readonly unknown[] = []) {
      const r = await q.query(text, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    },
  });
  const base = wrap(pool);
  return {
    kind: 'postgres',
    query: base.query,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client as unknown as { query: pg.Pool['query'] }));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    async exec(script) {
      const client = await pool.connect();
      try {
        await client.query(script);
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
