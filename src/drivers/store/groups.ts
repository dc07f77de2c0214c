/**
 * groups holds the groups of the resource database (one per customer account and role, with
 * its domains) and their SLAs. Every function takes a Sql, so callers compose them inside one
 * transaction.
 */
import { HostfleetError } from '../../core/errors.js';
import type { GroupRecord } from '../../core/model/records.js';
import type { RuntimeConfig } from '../../core/model/personality.js';
import type { Role } from '../../core/model/names.js';
import { defaultSla } from '../../core/model/sla.js';
import type { Sla, SlaMetric } from '../../core/model/sla.js';
import { isUniqueViolation, type Row } from './rows.js';
import type { Sql } from './store.js';

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
      [
        g.id,
        g.accountId,
        g.siteId,
        g.role,
        g.minSize,
        g.maxSize,
        JSON.stringify(g.runtime),
        g.image ?? 'hostfleet/demo-runtime',
      ],
    );
    for (const d of g.domains) await sql.query('INSERT INTO domains (domain, group_id) VALUES ($1, $2)', [d, g.id]);
  } catch (e) {
    if (isUniqueViolation(e))
      throw new HostfleetError(
        'E_CONFLICT',
        `group ${g.id} or one of its domains (${g.domains.join(', ')}) already exists`,
        { details: { group: g.id, domains: g.domains } },
      );
    throw e;
  }
  const out = await getGroup(sql, g.id);
  if (!out) throw new Error(`group ${g.id} vanished after insert`);
  return out;
}

/** setGroupDomains makes domains exactly the group's; E_CONFLICT if another group holds one. */
export async function setGroupDomains(sql: Sql, groupId: string, domains: readonly string[]): Promise<void> {
  try {
    await sql.query('DELETE FROM domains WHERE group_id = $1', [groupId]);
    for (const d of domains) await sql.query('INSERT INTO domains (domain, group_id) VALUES ($1, $2)', [d, groupId]);
  } catch (e) {
    if (isUniqueViolation(e))
      throw new HostfleetError('E_CONFLICT', `one of ${domains.join(', ')} belongs to another group here`, {
        details: { group: groupId, domains },
      });
    throw e;
  }
}

/** getGroup returns a group with its domains, or null. */
export async function getGroup(sql: Sql, id: string): Promise<GroupRecord | null> {
  const r = await sql.query<Row>(`${GROUP_SELECT} WHERE g.id = $1 GROUP BY g.id`, [id]);
  return r.rows[0] ? groupOf(r.rows[0]) : null;
}

/** listGroups returns every group, or those of one account. */
export async function listGroups(sql: Sql, accountId?: string): Promise<GroupRecord[]> {
  const r =
    accountId === undefined
      ? await sql.query<Row>(`${GROUP_SELECT} GROUP BY g.id ORDER BY g.id`)
      : await sql.query<Row>(`${GROUP_SELECT} WHERE g.account_id = $1 GROUP BY g.id ORDER BY g.id`, [accountId]);
  return r.rows.map(groupOf);
}

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
