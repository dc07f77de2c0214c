/**
 * billing-facts holds what billing meters: facts derived from the allocation history, usage
 * samples, and the cumulative counters whose differences samples are. Every function takes a
 * Sql so callers compose them in one transaction, and every write is idempotent: a manager that
 * fails over and repeats what it was doing never records anything twice.
 */
import {
  type AllocationEvent,
  type Metric,
  type MetricSample,
  METRIC_KIND,
  parseAllocationEvent,
} from '../../core/billing/index.js';
import { msOf, type Row } from './rows.js';
import type { Sql } from './store.js';

/**
 * syncAllocationFacts turns the allocation history (table `allocations`, written by the
 * dispatcher) into billing facts: `alloc:<id>:start` when a stretch opened and `alloc:<id>:end`
 * once it closed, stamped with the row's own instants (not the time of syncing), so running it
 * late, twice, or from two managers at once writes each fact exactly once with the same content.
 * ramMb is the memory recorded for servers whose stretch starts now (RAM-hours).
 */
export async function syncAllocationFacts(
  sql: Sql,
  opts: { readonly ramMb: number },
): Promise<{ readonly inserted: number }> {
  const started = await sql.query(
    `INSERT INTO billing_facts (id, kind, at, server_id, account_id, role, ram_mb, allocation_id)
     SELECT 'alloc:' || a.id || ':start', 'allocated', a.started_at, a.server_id, a.account_id, a.role, $1, a.id
       FROM allocations a
      WHERE NOT EXISTS (SELECT 1 FROM billing_facts f WHERE f.id = 'alloc:' || a.id || ':start')
     ON CONFLICT (id) DO NOTHING`,
    [opts.ramMb],
  );
  const ended = await sql.query(
    `INSERT INTO billing_facts (id, kind, at, server_id, account_id, role, ram_mb, allocation_id)
     SELECT 'alloc:' || a.id || ':end', 'released', a.ended_at, a.server_id, a.account_id, a.role, 0, a.id
       FROM allocations a
      WHERE a.ended_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM billing_facts f WHERE f.id = 'alloc:' || a.id || ':end')
     ON CONFLICT (id) DO NOTHING`,
  );
  return { inserted: started.rowCount + ended.rowCount };
}

const factOf = (x: Row): AllocationEvent =>
  parseAllocationEvent(
    {
      kind: x.kind,
      id: x.id,
      at: msOf(x.at),
      server: x.server_id,
      account: x.account_id,
      role: x.role,
      ...(x.kind === 'allocated' ? { ramMb: Number(x.ram_mb) } : {}),
    },
    `billing_facts[${String(x.id)}]`,
  );

/**
 * loadAllocationFacts returns the facts of every stretch that may hold minutes in
 * [startMs, endMs): opened before the end and not closed before the start — both facts of each
 * stretch, so the meter sees its whole extent. account narrows to one account.
 */
export async function loadAllocationFacts(
  sql: Sql,
  q: { readonly account?: string | null; readonly startMs: number; readonly endMs: number },
): Promise<AllocationEvent[]> {
  const r = await sql.query<Row>(
    `SELECT f.* FROM billing_facts f
      WHERE f.allocation_id IN (
        SELECT s.allocation_id FROM billing_facts s
         WHERE s.kind = 'allocated' AND s.at < $3 AND ($1::text IS NULL OR s.account_id = $1)
           AND NOT EXISTS (SELECT 1 FROM billing_facts e WHERE e.allocation_id = s.allocation_id AND e.kind = 'released' AND e.at < $2))
      ORDER BY f.at, f.id`,
    [q.account ?? null, new Date(q.startMs).toISOString(), new Date(q.endMs).toISOString()],
  );
  return r.rows.map(factOf);
}

/**
 * factsAsOf returns the history as it stands at instant atMs: facts from atMs on are dropped and
 * every stretch still open at atMs is closed there by a synthetic release (id `draft:…`, never
 * stored). A draft invoice of the running period is metered from it, so open stretches are
 * billed up to atMs rather than to the end of the period. An atMs in the future projects the
 * open stretches forward to it.
 */
export function factsAsOf(facts: readonly AllocationEvent[], atMs: number): AllocationEvent[] {
  const kept = facts.filter((f) => f.at < atMs);
  const released = new Set(kept.filter((f) => f.kind === 'released').map((f) => f.id.replace(/:end$/, '')));
  const out: AllocationEvent[] = [...kept];
  for (const f of kept) {
    if (f.kind !== 'allocated') continue;
    const stretch = f.id.replace(/:start$/, '');
    if (released.has(stretch)) continue;
    out.push({
      kind: 'released',
      id: `draft:${stretch}`,
      at: atMs,
      server: f.server,
      account: f.account,
      role: f.role,
    });
  }
  return out;
}

/** countFacts returns how many facts the store holds per kind (for the metering status). */
export async function countFacts(sql: Sql): Promise<{ readonly allocated: number; readonly released: number }> {
  const r = await sql.query<Row>(`SELECT kind, count(*)::int AS n FROM billing_facts GROUP BY kind`);
  const get = (k: string): number => Number(r.rows.find((x) => x.kind === k)?.n ?? 0);
  return { allocated: get('allocated'), released: get('released') };
}

/** insertSamples stores usage samples; a sample id already stored is left as it was. */
export async function insertSamples(sql: Sql, samples: readonly MetricSample[]): Promise<number> {
  let n = 0;
  for (const s of samples) {
    const r = await sql.query(
      `INSERT INTO billing_samples (id, account_id, metric, at, value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [s.id, s.account, s.metric, new Date(s.at).toISOString(), s.value],
    );
    n += r.rowCount;
  }
  return n;
}

/**
 * loadSamples returns the samples of [startMs, endMs), plus for each gauge the last sample
 * before the window (its value at the window's start). account narrows to one account.
 */
export async function loadSamples(
  sql: Sql,
  q: { readonly account?: string | null; readonly startMs: number; readonly endMs: number },
): Promise<MetricSample[]> {
  const gauges = Object.entries(METRIC_KIND)
    .filter(([, k]) => k === 'gauge')
    .map(([m]) => m);
  const r = await sql.query<Row>(
    `(SELECT * FROM billing_samples WHERE ($1::text IS NULL OR account_id = $1) AND at >= $2 AND at < $3)
     UNION ALL
     (SELECT DISTINCT ON (account_id, metric) * FROM billing_samples
       WHERE ($1::text IS NULL OR account_id = $1) AND at < $2 AND metric = ANY($4::text[])
       ORDER BY account_id, metric, at DESC)
     ORDER BY 4, 1`,
    [q.account ?? null, new Date(q.startMs).toISOString(), new Date(q.endMs).toISOString(), gauges],
  );
  return r.rows.map((x) => ({
    id: String(x.id),
    account: String(x.account_id),
    metric: String(x.metric) as Metric,
    at: msOf(x.at),
    value: Number(x.value),
  }));
}

/**
 * counterDeltas records new readings of cumulative counters (e.g. the edge's served count per
 * server) and returns how much each grew since the previous reading, whichever manager took it
 * (the rows are locked for the transaction). A counter that went down was reset (a restarted
 * edge, a server attached afresh) and counts from zero. Keys of the source that are absent from
 * the readings are forgotten, so a counter that reappears later starts from zero too.
 */
export async function counterDeltas(
  tx: Sql,
  source: string,
  readings: readonly { readonly key: string; readonly value: number }[],
  atMs: number,
): Promise<Map<string, number>> {
  const prev = await tx.query<Row>('SELECT key, value FROM billing_counters WHERE source = $1 FOR UPDATE', [source]);
  const before = new Map(prev.rows.map((x) => [String(x.key), Number(x.value)]));
  const out = new Map<string, number>();
  const at = new Date(atMs).toISOString();
  for (const { key, value } of readings) {
    const p = before.get(key);
    out.set(key, p === undefined || value < p ? value : value - p);
    await tx.query(
      `INSERT INTO billing_counters (source, key, value, read_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source, key) DO UPDATE SET value = EXCLUDED.value, read_at = EXCLUDED.read_at`,
      [source, key, value, at],
    );
  }
  const gone = [...before.keys()].filter((k) => !readings.some((r) => r.key === k));
  if (gone.length > 0)
    await tx.query('DELETE FROM billing_counters WHERE source = $1 AND key = ANY($2::text[])', [source, gone]);
  return out;
}
