/**
 * servers holds the machines of the resource database: each server's place in the lifecycle
 * (checked on every change), the one-time boot pointers that hand a booting machine its
 * personality, and the allocations that record which group a server served when (what billing
 * meters). Every function takes a Sql, so callers compose them inside one transaction.
 */
import { HostfleetError } from '../../core/errors.js';
import { assertTransition } from '../../core/model/server.js';
import type { ServerState, StoredServer } from '../../core/model/server.js';
import type { Personality } from '../../core/model/personality.js';
import { iso, isUniqueViolation, type Row } from './rows.js';
import type { Sql } from './store.js';

// StoredServer is a domain type (src/core/model/server.ts); the store's callers have read it from here.
export type { StoredServer } from '../../core/model/server.js';

const serverOf = (x: Row): StoredServer => ({
  id: String(x.id),
  siteId: String(x.site_id),
  bmcUrl: String(x.bmc_url),
  systemId: String(x.system_id),
  uuid: String(x.uuid),
  address: String(x.address),
  capacity: Number(x.capacity),
  state: String(x.state) as ServerState,
  groupId: x.group_id === null ? null : String(x.group_id),
  moveId: x.move_id === null ? null : String(x.move_id),
  version: Number(x.version),
  updatedAt: iso(x.updated_at),
  warmFor: x.warm_for === null || x.warm_for === undefined ? null : String(x.warm_for),
});

/** registerServer adds a machine to the site's pool (pool-cold); E_CONFLICT if it is known. */
export async function registerServer(
  sql: Sql,
  s: { id: string; siteId: string; bmcUrl: string; systemId: string; uuid: string; address: string; capacity?: number },
): Promise<StoredServer> {
  try {
    const r = await sql.query<Row>(
      `INSERT INTO servers (id, site_id, bmc_url, system_id, uuid, address, capacity, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pool-cold') RETURNING *`,
      [s.id, s.siteId, s.bmcUrl, s.systemId, s.uuid, s.address, s.capacity ?? 1],
    );
    return serverOf(r.rows[0] as Row);
  } catch (e) {
    if (isUniqueViolation(e))
      throw new HostfleetError(
        'E_CONFLICT',
        `server ${s.id} (or BMC system ${s.bmcUrl} ${s.systemId}, UUID ${s.uuid}) is already registered`,
        { details: { server: s.id } },
      );
    throw e;
  }
}

/** getServer returns a server or null; forUpdate locks its row for the transaction. */
export async function getServer(sql: Sql, id: string, forUpdate = false): Promise<StoredServer | null> {
  const r = await sql.query<Row>(`SELECT * FROM servers WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? serverOf(r.rows[0]) : null;
}

/** listServers returns every server, ordered by id. */
export async function listServers(sql: Sql): Promise<StoredServer[]> {
  return (await sql.query<Row>('SELECT * FROM servers ORDER BY id')).rows.map(serverOf);
}

/**
 * setServerPosition moves a server to a new state and group, checking the lifecycle's
 * transition rules, and bumps its version. A server that serves, drains, is off, cold or failed
 * holds no warm personality any more, so its warmFor is cleared here, whoever moved it.
 */
export async function setServerPosition(
  sql: Sql,
  id: string,
  to: { state: ServerState; groupId: string | null; moveId?: string | null },
): Promise<StoredServer> {
  const cur = await getServer(sql, id, true);
  if (!cur) throw new HostfleetError('E_NOT_FOUND', `server ${id} does not exist`, { details: { server: id } });
  assertTransition(id, cur.state, to.state);
  const moveId = to.moveId === undefined ? cur.moveId : to.moveId;
  const r = await sql.query<Row>(
    `UPDATE servers SET state = $2, group_id = $3, move_id = $4, version = version + 1, updated_at = now(),
       warm_for = CASE WHEN $2 IN ('pool-warm', 'moving', 'booting') THEN warm_for ELSE NULL END WHERE id = $1 RETURNING *`,
    [id, to.state, to.groupId, moveId],
  );
  return serverOf(r.rows[0] as Row);
}

/** insertBootPointer stores the hash of a boot token with the personality it unlocks. */
export async function insertBootPointer(
  sql: Sql,
  p: { tokenHash: string; machineUuid: string; serverId: string; personality: Personality; expiresAt: Date },
): Promise<void> {
  await sql.query(
    'INSERT INTO boot_pointers (token_hash, machine_uuid, server_id, personality, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [p.tokenHash, p.machineUuid, p.serverId, JSON.stringify(p.personality), p.expiresAt.toISOString()],
  );
}

/**
 * consumeBootPointer atomically marks a pointer used and returns its personality, only if it
 * exists, is unused, unexpired and was issued for this machine; otherwise null.
 */
export async function consumeBootPointer(
  sql: Sql,
  tokenHash: string,
  machineUuid: string,
  now: Date,
): Promise<Personality | null> {
  const r = await sql.query<Row>(
    `UPDATE boot_pointers SET used_at = $3
     WHERE token_hash = $1 AND machine_uuid = $2 AND used_at IS NULL AND expires_at > $3
     RETURNING personality`,
    [tokenHash, machineUuid, now.toISOString()],
  );
  return r.rows[0] ? (r.rows[0].personality as Personality) : null;
}

/** bootPointerUsed tells whether the pointer with this hash has been fetched by its machine. */
export async function bootPointerUsed(sql: Sql, tokenHash: string): Promise<boolean> {
  const r = await sql.query<Row>('SELECT used_at FROM boot_pointers WHERE token_hash = $1', [tokenHash]);
  return r.rows[0] !== undefined && r.rows[0].used_at !== null;
}

/** deleteExpiredBootPointers removes pointers expired before `before`. */
export async function deleteExpiredBootPointers(sql: Sql, before: Date): Promise<number> {
  return (await sql.query('DELETE FROM boot_pointers WHERE expires_at < $1', [before.toISOString()])).rowCount;
}

/** openAllocation starts a stretch of a server serving a group (idempotent per server). */
export async function openAllocation(
  sql: Sql,
  a: { serverId: string; accountId: string; groupId: string; role: string; at: Date },
): Promise<void> {
  await sql.query(
    `INSERT INTO allocations (server_id, account_id, group_id, role, started_at)
     SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM allocations WHERE server_id = $1 AND ended_at IS NULL)`,
    [a.serverId, a.accountId, a.groupId, a.role, a.at.toISOString()],
  );
}

/** closeAllocation ends the open stretch of a server, if any (idempotent). */
export async function closeAllocation(sql: Sql, serverId: string, at: Date): Promise<void> {
  await sql.query('UPDATE allocations SET ended_at = $2 WHERE server_id = $1 AND ended_at IS NULL', [
    serverId,
    at.toISOString(),
  ]);
}
