/**
 * warm holds the warm pool's queries (migration 010_warm.sql): the group a pool server is warm
 * for, and the kind of a move (an ordinary move, a warm-up, a warm join, a cool-down), which the
 * dispatcher needs to resume a move with the right steps. Every function takes a Sql, so callers
 * compose them inside one transaction with the resource database's.
 */
import { MOVE_KINDS } from '../../core/dispatch/move.js';
import type { MoveKind } from '../../core/dispatch/move.js';
import type { Sql } from './store.js';

/** setWarmFor records the group whose personality a server holds or is being warmed with (null: none). */
export async function setWarmFor(sql: Sql, serverId: string, groupId: string | null): Promise<void> {
  await sql.query('UPDATE servers SET warm_for = $2 WHERE id = $1', [serverId, groupId]);
}

/** setMoveKind records a move's kind; 'move' is stored as null, like the moves made before the warm pool existed. */
export async function setMoveKind(sql: Sql, moveId: string, kind: MoveKind): Promise<void> {
  await sql.query('UPDATE moves SET kind = $2 WHERE id = $1', [moveId, kind === 'move' ? null : kind]);
}

/** getMoveKind returns a move's kind ('move' for null or an unknown value, so an old record resumes as it was). */
export async function getMoveKind(sql: Sql, moveId: string): Promise<MoveKind> {
  const r = await sql.query<{ kind: string | null }>('SELECT kind FROM moves WHERE id = $1', [moveId]);
  const k = r.rows[0]?.kind ?? null;
  return k !== null && (MOVE_KINDS as readonly string[]).includes(k) ? (k as MoveKind) : 'move';
}

/** runningKindOf returns the kind of the move in flight for a server, or null when it has none. */
export async function runningKindOf(sql: Sql, serverId: string): Promise<MoveKind | null> {
  const r = await sql.query<{ kind: string | null }>(
    `SELECT kind FROM moves WHERE server_id = $1 AND status = 'running'`,
    [serverId],
  );
  const row = r.rows[0];
  if (row === undefined) return null;
  return row.kind !== null && (MOVE_KINDS as readonly string[]).includes(row.kind) ? (row.kind as MoveKind) : 'move';
}

/** runningKinds maps every server with a move in flight to that move's kind. */
export async function runningKinds(sql: Sql): Promise<Map<string, MoveKind>> {
  const r = await sql.query<{ server_id: string; kind: string | null }>(
    `SELECT server_id, kind FROM moves WHERE status = 'running'`,
  );
  const out = new Map<string, MoveKind>();
  for (const row of r.rows)
    out.set(
      String(row.server_id),
      row.kind !== null && (MOVE_KINDS as readonly string[]).includes(row.kind) ? (row.kind as MoveKind) : 'move',
    );
  return out;
}
