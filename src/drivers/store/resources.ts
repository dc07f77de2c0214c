/**
 * resources is the resource database of a site on top of a Store: sites, accounts, groups,
 * servers, moves and their events, boot pointers, allocations and API tokens. Every function
 * takes a Sql, so callers compose them inside one transaction.
 */
import { HostfleetError } from '../../core/errors.js';
import { assertTransition } from '../../core/model/server.js';
import type { ServerRecord, ServerState } from '../../core/model/server.js';
import type { AccountRecord, ApiRole, GroupRecord, MoveEvent, MoveRecord, MoveStatus, SiteRecord } from '../../core/model/records.js';
import type { Personality, RuntimeConfig } from '../../core/model/personality.js';
import type { Role } from '../../core/model/names.js';
import { defaultSla } from '../../core/model/sla.js';
import type { Sla, SlaMetric } from '../../core/model/sla.js';
import type { Sql } from './store.js';

type Row = Record<string, unknown>;

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));

/** isUniqueViolation tells whether a database error is a unique-key conflict (SQLSTATE 23505). */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}

// ---- sites ---------------------------------------------------------------------------------

/** upsertSite creates a site or updates its name and time zone. */
export async function upsertSite(sql: Sql, s: SiteRecord): Promise<void> {
  await sql.query(
    `INSERT INTO sites (id, name, time_zone) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone`,
    [s.id, s.name, s.timeZone],
  );
}

/** listSites returns every site. */
export async function listSites(sql: Sql): Promise<SiteRecord[]> {
  const r = await sql.query<Row>('SELECT id, name, time_zone FROM sites ORDER BY id');
  return r.rows.map((x) => ({ id: String(x.id), name: String(x.name), timeZone: String(x.time_zone) }));
}

// ---- accounts ------------------------------------------------------------------------------

/** FIRST_ACCOUNT_UID is the first uid given to a customer account's workloads. */
export const FIRST_ACCOUNT_UID = 200_001;

const accountOf = (x: Row): AccountRecord => ({
  id: String(x.id),
  displayName: String(x.display_name),
  uid: Number(x.uid),
  gid: Number(x.gid),
  resellerId: x.reseller_id === null ? null : String(x.reseller_id),
});

/** createAccount creates an account with the next free uid (gid = uid); E_CONFLICT if the id exists. */
export async function createAccount(sql: Sql, a: { id: string; displayName: string; resellerId?: string | null }): Promise<AccountRecord> {
  const next = await sql.query<{ uid: number }>('SELECT COALESCE(MAX(uid) + 1, $1)::int AS uid FROM accounts', [FIRST_ACCOUNT_UID]);
  const uid = next.rows[0]?.uid ?? FIRST_ACCOUNT_UID;
  try {
    const r = await sql.query<Row>(
      'INSERT INTO accounts (id, display_name, uid, gid, reseller_id) VALUES ($1, $2, $3, $3, $4) RETURNING *',
      [a.id, a.displayName, uid, a.resellerId ?? null],
    );
    return accountOf(r.rows[0] as Row);
  } catch (e) {
    if (isUniqueViolation(e)) throw new HostfleetError('E_CONFLICT', `account ${a.id} already exists; choose another id`, { details: { account: a.id } });
    throw e;
  }
}

/** getAccount returns an account or null. */
export async function getAccount(sql: Sql, id: string): Promise<AccountRecord | null> {
  const r = await sql.query<Row>('SELECT * FROM accounts WHERE id = $1', [id]);
  return r.rows[0] ? accountOf(r.rows[0]) : null;
}

/** listAccounts returns every account. */
export async function listAccounts(sql: Sql): Promise<AccountRecord[]> {
  return (await sql.query<Row>('SELECT * FROM accounts ORDER BY id')).rows.map(accountOf);
}

// ---- groups --------------------------------------------------------------------------------

const groupOf = (x: Row): GroupRecord => ({
  id: String(x.id),
  accountId: String(x.account_id),
  siteId: String(x.site_id),
  role: String(x.role) as Role,
  minSize: Number(x.min_size),
  maxSize: Number(x.max_size),
  runtime: x.runtime as RuntimeConfig,
  image: String(x.image),
  domains: ((x.domains as string[] | null) ?? []).filter((d) => d !== null).sort(),
});

const GROUP_SELECT = `SELECT g.*, COALESCE(array_agg(d.domain) FILTER (WHERE d.domain IS NOT NULL), '{}') AS domains
  FROM groups g LEFT JOIN domains d ON d.group_id = g.id`;

/** createGroup creates a group with its domains; E_CONFLICT if the id or a domain is taken. */
export async function createGroup(sql: Sql, g: Omit<GroupRecord, 'image'> & { image?: string }): Promise<GroupRecord> {
  try {
    await sql.query(
      `INSERT INTO groups (id, account_id, site_id, role, min_size, max_size, runtime, image)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [g.id, g.accountId, g.siteId, g.role, g.minSize, g.maxSize, JSON.stringify(g.runtime), g.image ?? 'hostfleet/demo-runtime'],
    );
    for (const d of g.domains) await sql.query('INSERT INTO domains (domain, group_id) VALUES ($1, $2)', [d, g.id]);
  } catch (e) {
    if (isUniqueViolation(e)) throw new HostfleetError('E_CONFLICT', `group ${g.id} or one of its domains (${g.domains.join(', ')}) already exists`, { details: { group: g.id, domains: g.domains } });
    throw e;
  }
  const out = await getGroup(sql, g.id);
  if (!out) throw new Error(`group ${g.id} vanished after insert`);
  return out;
}

/** getGroup returns a group with its domains, or null. */
export async function getGroup(sql: Sql, id: string): Promise<GroupRecord | null> {
  const r = await sql.query<Row>(`${GROUP_SELECT} WHERE g.id = $1 GROUP BY g.id`, [id]);
  return r.rows[0] ? groupOf(r.rows[0]) : null;
}

/** listGroups returns every group, or those of one account. */
export async function listGroups(sql: Sql, accountId?: string): Promise<GroupRecord[]> {
  const r = accountId === undefined
    ? await sql.query<Row>(`${GROUP_SELECT} GROUP BY g.id ORDER BY g.id`)
    : await sql.query<Row>(`${GROUP_SELECT} WHERE g.account_id = $1 GROUP BY g.id ORDER BY g.id`, [accountId]);
  return r.rows.map(groupOf);
}

// ---- servers -------------------------------------------------------------------------------

/** StoredServer is a server record with its optimistic-concurrency version and machine UUID. */
export interface StoredServer extends ServerRecord {
  readonly uuid: string;
  readonly version: number;
  readonly updatedAt: string;
  /**
   * warmFor is the group whose personality a warm pool server holds (or is being warmed with);
   * null otherwise (optional so records built by hand before the warm pool still type-check).
   */
  readonly warmFor?: string | null;
}

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
    if (isUniqueViolation(e)) throw new HostfleetError('E_CONFLICT', `server ${s.id} (or BMC system ${s.bmcUrl} ${s.systemId}, UUID ${s.uuid}) is already registered`, { details: { server: s.id } });
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
export async function setServerPosition(sql: Sql, id: string, to: { state: ServerState; groupId: string | null; moveId?: string | null }): Promise<StoredServer> {
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

// ---- moves ---------------------------------------------------------------------------------

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
  m: { id: string; serverId: string; fromGroup: string | null; toGroup: string | null; step: string; reason: string; requestedBy: string },
): Promise<MoveRecord> {
  try {
    const r = await sql.query<Row>(
      `INSERT INTO moves (id, server_id, from_group, to_group, step, status, reason, requested_by)
       VALUES ($1, $2, $3, $4, $5, 'running', $6, $7) RETURNING *`,
      [m.id, m.serverId, m.fromGroup, m.toGroup, m.step, m.reason, m.requestedBy],
    );
    return moveOf(r.rows[0] as Row);
  } catch (e) {
    if (isUniqueViolation(e)) throw new HostfleetError('E_MOVE_IN_PROGRESS', `server ${m.serverId} is already being moved; wait for that move to finish`, { details: { server: m.serverId } });
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
  const r = opts.status === undefined
    ? await sql.query<Row>('SELECT * FROM moves ORDER BY created_at DESC, id LIMIT $1', [limit])
    : await sql.query<Row>('SELECT * FROM moves WHERE status = $1 ORDER BY created_at, id LIMIT $2', [opts.status, limit]);
  return r.rows.map(moveOf);
}

/** updateMove records a move's step, attempts, status, error and boot token. */
export async function updateMove(
  sql: Sql,
  id: string,
  patch: { step?: string; attempts?: number; status?: MoveStatus; error?: MoveRecord['error']; bootTokenHash?: string | null },
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
      patch.error === undefined ? (cur.error === null ? null : JSON.stringify(cur.error)) : patch.error === null ? null : JSON.stringify(patch.error),
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

// ---- boot pointers -------------------------------------------------------------------------

/** insertBootPointer stores the hash of a boot token with the personality it unlocks. */
export async function insertBootPointer(sql: Sql, p: { tokenHash: string; machineUuid: string; serverId: string; personality: Personality; expiresAt: Date }): Promise<void> {
  await sql.query(
    'INSERT INTO boot_pointers (token_hash, machine_uuid, server_id, personality, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [p.tokenHash, p.machineUuid, p.serverId, JSON.stringify(p.personality), p.expiresAt.toISOString()],
  );
}

/**
 * consumeBootPointer atomically marks a pointer used and returns its personality, only if it
 * exists, is unused, unexpired and was issued for this machine; otherwise null.
 */
export async function consumeBootPointer(sql: Sql, tokenHash: string, machineUuid: string, now: Date): Promise<Personality | null> {
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

// ---- allocations ---------------------------------------------------------------------------

/** openAllocation starts a stretch of a server serving a group (idempotent per server). */
export async function openAllocation(sql: Sql, a: { serverId: string; accountId: string; groupId: string; role: string; at: Date }): Promise<void> {
  await sql.query(
    `INSERT INTO allocations (server_id, account_id, group_id, role, started_at)
     SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM allocations WHERE server_id = $1 AND ended_at IS NULL)`,
    [a.serverId, a.accountId, a.groupId, a.role, a.at.toISOString()],
  );
}

/** closeAllocation ends the open stretch of a server, if any (idempotent). */
export async function closeAllocation(sql: Sql, serverId: string, at: Date): Promise<void> {
  await sql.query('UPDATE allocations SET ended_at = $2 WHERE server_id = $1 AND ended_at IS NULL', [serverId, at.toISOString()]);
}

// ---- API tokens ----------------------------------------------------------------------------

/** insertApiToken stores the hash of an API token with its role and account scope. */
export async function insertApiToken(sql: Sql, t: { id: string; tokenHash: string; role: ApiRole; accountId: string | null; name: string }): Promise<void> {
  await sql.query('INSERT INTO api_tokens (id, token_hash, role, account_id, name) VALUES ($1, $2, $3, $4, $5)', [
    t.id,
    t.tokenHash,
    t.role,
    t.accountId,
    t.name,
  ]);
}

/** findApiToken returns the token row whose hash matches, or null. */
export async function findApiToken(sql: Sql, tokenHash: string): Promise<{ id: string; role: ApiRole; accountId: string | null; name: string } | null> {
  const r = await sql.query<Row>('SELECT id, role, account_id, name FROM api_tokens WHERE token_hash = $1', [tokenHash]);
  const x = r.rows[0];
  return x ? { id: String(x.id), role: String(x.role) as ApiRole, accountId: x.account_id === null ? null : String(x.account_id), name: String(x.name) } : null;
}

// ---- SLAs ----------------------------------------------------------------------------------

const slaOf = (x: Row): Sla => ({
  groupId: String(x.group_id),
  metric: String(x.metric) as SlaMetric,
  unitsPerServer: Number(x.units_per_server),
  committed: Number(x.committed),
  burst: Number(x.burst),
  extended: Number(x.extended),
  priority: Number(x.priority),
  responseTargetMs: Number(x.response_target_ms),
});

/** getSla returns a group's SLA, or the default agreement when none is recorded. */
export async function getSla(sql: Sql, groupId: string): Promise<Sla> {
  const r = await sql.query<Row>('SELECT * FROM slas WHERE group_id = $1', [groupId]);
  return r.rows[0] ? slaOf(r.rows[0]) : defaultSla(groupId);
}

/** listSlas returns the recorded SLAs of every group. */
export async function listSlas(sql: Sql): Promise<Sla[]> {
  return (await sql.query<Row>('SELECT * FROM slas ORDER BY group_id')).rows.map(slaOf);
}

/** putSla records (or replaces) a group's SLA. */
export async function putSla(sql: Sql, s: Sla): Promise<Sla> {
  await sql.query(
    `INSERT INTO slas (group_id, metric, units_per_server, committed, burst, extended, priority, response_target_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (group_id) DO UPDATE SET metric = EXCLUDED.metric, units_per_server = EXCLUDED.units_per_server,
       committed = EXCLUDED.committed, burst = EXCLUDED.burst, extended = EXCLUDED.extended, priority = EXCLUDED.priority,
       response_target_ms = EXCLUDED.response_target_ms, updated_at = now()`,
    [s.groupId, s.metric, s.unitsPerServer, s.committed, s.burst, s.extended, s.priority, s.responseTargetMs],
  );
  return getSla(sql, s.groupId);
}
