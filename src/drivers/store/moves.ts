/**
 * moves holds the dispatcher's durable record of every move, step by step, and each move's
 * history of step outcomes. Every function takes a Sql, so callers compose them inside one
 * transaction.
 */
import { HostfleetError } from '../../core/errors.js';
import type { MoveEvent, MoveRecord, MoveStatus } from '../../core/model/records.js';
import { iso, isoOrNull, isUniqueViolation, type Row } from './rows.js';
import type { Sql } from './store.js';

const moveOf = (x: Row): MoveRecord => ({
  id: String(x.id),
  serverId: String(x.server_id),
  fromGroup: x.from_group === null ? null : String(x.from_group),
  toGroup: x.to_group === null ? null : String(x.to_group),
  step: String(x.step),
  status: String(x.status) as MoveStatus,
  attempts: Number(x.attempts),
  reason: String(x.reason),
  requestedBy: String(x.requested_by),
  error: (x.error as MoveRecord['error']) ?? null,
  bootTokenHash: x.boot_token_hash === null ? null : String(x.boot_token_hash),
  createdAt: iso(x.created_at),
  updatedAt: iso(x.updated_at),
  finishedAt: isoOrNull(x.finished_at),
});

/** insertMove records a new running move; E_MOVE_IN_PROGRESS if the server already has one. */
export async function insertMove(
  sql: Sql,
  m: {
    id: string;
    serverId: string;
    fromGroup: string | null;
    toGroup: string | null;
    step: string;
    reason: string;
    requestedBy: string;
  },
): Promise<MoveRecord> {
  try {
    const r = await sql.query<Row>(
      `INSERT INTO moves (id, server_id, from_group, to_group, step, status, reason, requested_by)
       VALUES ($1, $2, $3, $4, $5, 'running', $6, $7) RETURNING *`,
      [m.id, m.serverId, m.fromGroup, m.toGroup, m.step, m.reason, m.requestedBy],
    );
    return moveOf(r.rows[0] as Row);
  } catch (e) {
    if (isUniqueViolation(e))
      throw new HostfleetError(
        'E_MOVE_IN_PROGRESS',
        `server ${m.serverId} is already being moved; wait for that move to finish`,
        { details: { server: m.serverId } },
      );
    throw e;
  }
}

/** getMove returns a move or null. */
export async function getMove(sql: Sql, id: string): Promise<MoveRecord | null> {
  const r = await sql.query<Row>('SELECT * FROM moves WHERE id = $1', [id]);
  return r.rows[0] ? moveOf(r.rows[0]) : null;
}

/** listMoves returns the most recent moves first, or only running ones. */
export async function listMoves(sql: Sql, opts: { status?: MoveStatus; limit?: number } = {}): Promise<MoveRecord[]> {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
  const r =
    opts.status === undefined
      ? await sql.query<Row>('SELECT * FROM moves ORDER BY created_at DESC, id LIMIT $1', [limit])
      : await sql.query<Row>('SELECT * FROM moves WHERE status = $1 ORDER BY created_at, id LIMIT $2', [
          opts.status,
          limit,
        ]);
  return r.rows.map(moveOf);
}

/** updateMove records a move's step, attempts, status, error and boot token. */
export async function updateMove(
  sql: Sql,
  id: string,
  patch: {
    step?: string;
    attempts?: number;
    status?: MoveStatus;
    error?: MoveRecord['error'];
    bootTokenHash?: string | null;
  },
): Promise<MoveRecord> {
  const cur = await getMove(sql, id);
  if (!cur) throw new HostfleetError('E_NOT_FOUND', `move ${id} does not exist`);
  const status = patch.status ?? cur.status;
  const r = await sql.query<Row>(
    `UPDATE moves SET step = $2, attempts = $3, status = $4, error = $5, boot_token_hash = $6, updated_at = now(),
       finished_at = CASE WHEN $4 = 'running' THEN NULL ELSE COALESCE(finished_at, now()) END
     WHERE id = $1 RETURNING *`,
    [
      id,
      patch.step ?? cur.step,
      patch.attempts ?? cur.attempts,
      status,
      patch.error === undefined
        ? cur.error === null
          ? null
          : JSON.stringify(cur.error)
        : patch.error === null
          ? null
          : JSON.stringify(patch.error),
      patch.bootTokenHash === undefined ? cur.bootTokenHash : patch.bootTokenHash,
    ],
  );
  return moveOf(r.rows[0] as Row);
}

/** addMoveEvent appends one step outcome to a move's history. */
export async function addMoveEvent(sql: Sql, e: Omit<MoveEvent, 'at'>): Promise<void> {
  await sql.query('INSERT INTO move_events (move_id, step, outcome, detail) VALUES ($1, $2, $3, $4)', [
    e.moveId,
    e.step,
    e.outcome,
    e.detail === null ? null : JSON.stringify(e.detail),
  ]);
}

/** listMoveEvents returns a move's history in order. */
export async function listMoveEvents(sql: Sql, moveId: string): Promise<MoveEvent[]> {
  const r = await sql.query<Row>('SELECT * FROM move_events WHERE move_id = $1 ORDER BY id', [moveId]);
  return r.rows.map((x) => ({
    moveId: String(x.move_id),
    step: String(x.step),
    outcome: String(x.outcome) as MoveEvent['outcome'],
    detail: (x.detail as MoveEvent['detail']) ?? null,
    at: iso(x.at),
  }));
}
