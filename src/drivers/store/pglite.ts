import { PGlite } from '@electric-sql/pglite';
import type { Sql, Store } from './store.js';

/**
 * openPglite opens (creating it if needed) an embedded PostgreSQL under dataDir, or in memory
 * when dataDir is null. PGlite is single-connection: it serialises statements itself.
 */
export async function openPglite(dataDir: string | null): Promise<Store> {
  const db = dataDir === null ? await PGlite.create() : await PGlite.create(dataDir);
  const wrap = (q: { query: PGlite['query'] }): Sql => ({
    async query<R>(text: string, params: readonly unknown[] = []) {
      const r = await q.query<R>(text, params as unknown[]);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
  });
  const base = wrap(db);
  return {
    kind: 'pglite',
    query: base.query,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    exec: async (script) => {
      await db.exec(script);
    },
    close: () => db.close(),
  };
}
