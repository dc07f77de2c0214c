/**
 * decision holds the decision loop's queries: recorded plans, server failures, recently
 * finished moves (the cool-downs' history) and the managers' lease with its fencing token.
 * Lease times are the database's clock (now()), so two managers with skewed clocks still agree
 * on who holds it.
 */
import { HostfleetError } from '../../core/errors.js';
import type { Sql } from './store.js';

type Row = Record<string, unknown>;
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

// ---- plans ---------------------------------------------------------------------------------

/** StoredPlan is a recorded plan: the pure plan plus what happened when it was carried out. */
export interface StoredPlan {
  readonly id: string;
  readonly at: string;
  readonly leaderToken: number;
  readonly moves: number;
  readonly plan: Readonly<Record<string, unknown>>;
}

/** insertPlan records a tick's plan. */
export async function insertPlan(
  sql: Sql,
  p: { id: string; siteId: string; at: Date; leaderToken: number; moves: number; plan: unknown },
): Promise<void> {
  await sql.query(
    'INSERT INTO decision_plans (id, site_id, at, leader_token, moves, plan) VALUES ($1, $2, $3, $4, $5, $6)',
    [p.id, p.siteId, p.at.toISOString(), p.leaderToken, p.moves, JSON.stringify(p.plan)],
  );
}

const planOf = (x: Row): StoredPlan => ({
  id: String(x.id),
  at: iso(x.at),
  leaderToken: Number(x.leader_token),
  moves: Number(x.moves),
  plan: x.plan as Record<string, unknown>,
});

/** listPlans returns the most recent plans first; withMoves keeps only plans that moved something. */
export async function listPlans(sql: Sql, opts: { limit?: number; withMoves?: boolean } = {}): Promise<StoredPlan[]> {
  const limit = Math.min(Math.max(opts.limit ?? 20, 1), 500);
  const r = await sql.query<Row>(
    `SELECT * FROM decision_plans${opts.withMoves ? ' WHERE moves > 0' : ''} ORDER BY at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return r.rows.map(planOf);
}

/** getPlan returns one plan or null. */
export async function getPlan(sql: Sql, id: string): Promise<StoredPlan | null> {
  const r = await sql.query<Row>('SELECT * FROM decision_plans WHERE id = $1', [id]);
  return r.rows[0] ? planOf(r.rows[0]) : null;
}

/** prunePlans keeps the newest `keep` plans that moved something and drops idle plans older than a minute. */
export async function prunePlans(sql: Sql, keep: number): Promise<void> {
  await sql.query(`DELETE FROM decision_plans WHERE moves = 0 AND at < now() - interval '1 minute'`);
  await sql.query(
    'DELETE FROM decision_plans WHERE id IN (SELECT id FROM decision_plans ORDER BY at DESC, id DESC OFFSET $1)',
    [keep],
  );
}

// ---- failures ------------------------------------------------------------------------------

/** insertFailure records a server judged failed. */
export async function insertFailure(
  sql: Sql,
  f: { serverId: string; groupId: string | null; causes: readonly string[]; action: string },
): Promise<void> {
  await sql.query('INSERT INTO server_failures (server_id, group_id, causes, action) VALUES ($1, $2, $3, $4)', [
    f.serverId,
    f.groupId,
    JSON.stringify(f.causes),
    f.action,
  ]);
}

/** markRecovered records that a failed server was power-cycled back to the pool. */
export async function markRecovered(sql: Sql, serverId: string): Promise<void> {
  await sql.query('UPDATE server_failures SET recovered_at = now() WHERE server_id = $1 AND recovered_at IS NULL', [
    serverId,
  ]);
}

/** recentFailureCounts counts each server's failures within the last windowMs. */
export async function recentFailureCounts(sql: Sql, windowMs: number): Promise<Map<string, number>> {
  const r = await sql.query<Row>(
    `SELECT server_id, count(*)::int AS n FROM server_failures WHERE at > now() - ($1::double precision * interval '1 millisecond') GROUP BY server_id`,
    [windowMs],
  );
  return new Map(r.rows.map((x) => [String(x.server_id), Number(x.n)]));
}

/** listFailures returns the most recent failures first. */
export async function listFailures(
  sql: Sql,
  limit = 50,
): Promise<
  {
    serverId: string;
    groupId: string | null;
    causes: string[];
    action: string;
    at: string;
    recoveredAt: string | null;
  }[]
> {
  const r = await sql.query<Row>('SELECT * FROM server_failures ORDER BY id DESC LIMIT $1', [
    Math.min(Math.max(limit, 1), 500),
  ]);
  return r.rows.map((x) => ({
    serverId: String(x.server_id),
    groupId: x.group_id === null ? null : String(x.group_id),
    causes: x.causes as string[],
    action: String(x.action),
    at: iso(x.at),
    recoveredAt: x.recovered_at === null ? null : iso(x.recovered_at),
  }));
}

// ---- history -------------------------------------------------------------------------------

/** recentMoves returns moves finished within the last windowMs, for the cool-downs. */
export async function recentMoves(
  sql: Sql,
  windowMs: number,
): Promise<{ serverId: string; fromGroup: string | null; toGroup: string | null; at: number }[]> {
  const r = await sql.query<Row>(
    `SELECT server_id, from_group, to_group, finished_at FROM moves WHERE status = 'done' AND finished_at > now() - ($1::double precision * interval '1 millisecond') ORDER BY finished_at`,
    [windowMs],
  );
  return r.rows.map((x) => ({
    serverId: String(x.server_id),
    fromGroup: x.from_group === null ? null : String(x.from_group),
    toGroup: x.to_group === null ? null : String(x.to_group),
    at: new Date(iso(x.finished_at)).getTime(),
  }));
}

/**
 * medianJoinMs is the median duration of the site's last `n` finished moves from the pool into
 * a group (null before any): how long the site takes to bring a pool server into service.
 */
export async function medianJoinMs(sql: Sql, siteId: string, n = 20): Promise<number | null> {
  const r = await sql.query<Row>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM (
       SELECT EXTRACT(EPOCH FROM (m.finished_at - m.created_at)) * 1000 AS ms
         FROM moves m JOIN groups g ON g.id = m.to_group
        WHERE m.status = 'done' AND m.from_group IS NULL AND g.site_id = $1
        ORDER BY m.finished_at DESC LIMIT $2) j`,
    [siteId, n],
  );
  const v = r.rows[0]?.ms;
  return v === null || v === undefined ? null : Number(v);
}

// ---- lease ---------------------------------------------------------------------------------

/** Lease is who holds a site's lease, with its fencing token (it grows at every change of holder). */
export interface Lease {
  readonly holder: string;
  readonly token: number;
  readonly expiresAt: string;
}

/**
 * acquireLease takes or renews the site's lease for ttlMs when it is free, expired or already
 * ours; it returns the fencing token we hold, or null when another manager holds it. A change
 * of holder (or a lapse) increments the token, so writes fenced with an older token fail.
 */
export async function acquireLease(sql: Sql, siteId: string, holder: string, ttlMs: number): Promise<number | null> {
  const r = await sql.query<{ token: string | number }>(
    `INSERT INTO manager_lease (site_id, holder, token, expires_at) VALUES ($1, $2, 1, now() + ($3::double precision * interval '1 millisecond'))
     ON CONFLICT (site_id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
       token = CASE WHEN manager_lease.holder = EXCLUDED.holder AND manager_lease.expires_at > now() THEN manager_lease.token ELSE manager_lease.token + 1 END
     WHERE manager_lease.holder = EXCLUDED.holder OR manager_lease.expires_at <= now()
     RETURNING token`,
    [siteId, holder, ttlMs],
  );
  return r.rows[0] ? Number(r.rows[0].token) : null;
}

/** releaseLease gives the lease up at once (a clean shutdown), so the standby need not wait it out. */
export async function releaseLease(sql: Sql, siteId: string, holder: string): Promise<void> {
  await sql.query(
    `UPDATE manager_lease SET expires_at = now() - interval '1 second' WHERE site_id = $1 AND holder = $2`,
    [siteId, holder],
  );
}

/** getLease returns the site's lease, or null if nobody ever held it. */
export async function getLease(sql: Sql, siteId: string): Promise<Lease | null> {
  const r = await sql.query<Row>('SELECT holder, token, expires_at FROM manager_lease WHERE site_id = $1', [siteId]);
  const x = r.rows[0];
  return x ? { holder: String(x.holder), token: Number(x.token), expiresAt: iso(x.expires_at) } : null;
}

/**
 * fence throws E_NOT_LEADER unless holder still holds the lease with this token. Called first
 * inside a write transaction: it locks the lease row FOR SHARE, so a standby's takeover (which
 * updates the row) waits for this transaction, and every write after the takeover fails here.
 */
export async function fence(sql: Sql, siteId: string, holder: string, token: number): Promise<void> {
  const r = await sql.query<Row>(
    'SELECT 1 FROM manager_lease WHERE site_id = $1 AND holder = $2 AND token = $3 AND expires_at > now() FOR SHARE',
    [siteId, holder, token],
  );
  if (r.rows.length === 0) {
    throw new HostfleetError(
      'E_NOT_LEADER',
      `this manager (${holder}) no longer holds the lease of site ${siteId} (token ${token}); the active manager carries on`,
      { details: { site: siteId, token } },
    );
  }
}
