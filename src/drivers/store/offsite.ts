/**
 * offsite records the servers of other sites a group used (lent by them through the global
 * coordinator), one row per server from attach to detach, so billing can charge the minutes at
 * the extended level's rate.
 */
import { randomUUID } from 'node:crypto';
import type { Row } from './rows.js';
import type { Sql } from './store.js';

/** OffsiteUse is one lent server's time in one of this site's groups. */
export interface OffsiteUse {
  readonly id: string;
  readonly groupId: string;
  readonly accountId: string;
  readonly lender: string;
  readonly serverId: string;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
}

const useOf = (x: Row): OffsiteUse => ({
  id: String(x.id),
  groupId: String(x.group_id),
  accountId: String(x.account_id),
  lender: String(x.lender),
  serverId: String(x.server_id),
  startedAt: new Date(x.started_at as string),
  endedAt: x.ended_at === null ? null : new Date(x.ended_at as string),
});

/** openOffsiteUse records that a lent server began serving a group (idempotent while open). */
export async function openOffsiteUse(
  sql: Sql,
  u: { groupId: string; accountId: string; lender: string; serverId: string; at: Date },
): Promise<void> {
  const open = await sql.query(
    'SELECT 1 FROM offsite_use WHERE group_id = $1 AND lender = $2 AND server_id = $3 AND ended_at IS NULL',
    [u.groupId, u.lender, u.serverId],
  );
  if (open.rows.length > 0) return;
  await sql.query(
    'INSERT INTO offsite_use (id, group_id, account_id, lender, server_id, started_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [randomUUID(), u.groupId, u.accountId, u.lender, u.serverId, u.at.toISOString()],
  );
}

/** closeOffsiteUse records that a lent server stopped serving a group. */
export async function closeOffsiteUse(
  sql: Sql,
  u: { groupId: string; lender: string; serverId: string; at: Date },
): Promise<void> {
  await sql.query(
    'UPDATE offsite_use SET ended_at = $4 WHERE group_id = $1 AND lender = $2 AND server_id = $3 AND ended_at IS NULL',
    [u.groupId, u.lender, u.serverId, u.at.toISOString()],
  );
}

/** listOffsiteUse lists an account's off-site use overlapping [from, to) (all accounts when accountId is null). */
export async function listOffsiteUse(sql: Sql, accountId: string | null, from: Date, to: Date): Promise<OffsiteUse[]> {
  const r = await sql.query<Row>(
    `SELECT * FROM offsite_use WHERE ($1::text IS NULL OR account_id = $1)
       AND started_at < $3 AND (ended_at IS NULL OR ended_at > $2) ORDER BY started_at, id`,
    [accountId, from.toISOString(), to.toISOString()],
  );
  return r.rows.map(useOf);
}

/** offsiteMinutes is the minutes of use within [from, to), open rows counted up to `to`. */
export function offsiteMinutes(uses: readonly OffsiteUse[], from: Date, to: Date): number {
  let ms = 0;
  for (const u of uses) {
    const a = Math.max(u.startedAt.getTime(), from.getTime());
    const b = Math.min((u.endedAt ?? to).getTime(), to.getTime());
    if (b > a) ms += b - a;
  }
  return ms / 60_000;
}
