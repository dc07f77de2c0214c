/**
 * provisioning-services holds the service servers, the desired spec of every account service
 * and what each service server last reported holding, so the reconciler can tell which servers
 * are out of step. Every function takes a Sql, so the manager composes them in one transaction.
 */
import type { DesiredService, HeldService, ServiceKind, ServiceSpec } from '../../core/provisioning/index.js';
import { json, type Row } from './rows.js';
import type { Sql } from './store.js';

/** ProvServer is a registered service server. */
export interface ProvServer {
  readonly id: string;
  readonly services: readonly ServiceKind[];
  readonly capacity: number;
  readonly address: string;
  readonly used: number;
}

/** upsertServer registers a service server or updates it. */
export async function upsertServer(sql: Sql, s: Omit<ProvServer, 'used'>): Promise<void> {
  await sql.query(
    `INSERT INTO prov_servers (id, services, capacity, address) VALUES ($1, $2, $3, $4)
    ON CONFLICT (id) DO UPDATE SET services = EXCLUDED.services, capacity = EXCLUDED.capacity, address = EXCLUDED.address`,
    [s.id, JSON.stringify(s.services), s.capacity, s.address],
  );
}

/** listServers returns service servers with how many account services each holds; lock takes row locks (assignment). */
export async function listServers(sql: Sql, lock = false): Promise<ProvServer[]> {
  if (lock) await sql.query('SELECT id FROM prov_servers ORDER BY id FOR UPDATE');
  const r =
    await sql.query<Row>(`SELECT s.id, s.services, s.capacity, s.address, (SELECT count(*) FROM prov_services v WHERE v.server_id = s.id) AS used
    FROM prov_servers s ORDER BY s.id`);
  return r.rows.map((x) => ({
    id: String(x.id),
    services: json<ServiceKind[]>(x.services),
    capacity: Number(x.capacity),
    address: String(x.address),
    used: Number(x.used),
  }));
}

/** AccountService is one service of an account as stored. */
export interface AccountService {
  readonly accountId: string;
  readonly service: ServiceKind;
  readonly serverId: string;
  readonly enabled: boolean;
  readonly spec: ServiceSpec;
  readonly version: number;
}

const serviceOf = (x: Row): AccountService => ({
  accountId: String(x.account_id),
  service: String(x.service) as ServiceKind,
  serverId: String(x.server_id),
  enabled: Boolean(x.enabled),
  spec: json<ServiceSpec>(x.spec),
  version: Number(x.version),
});

/** putService stores the desired spec of an account service at a version. */
export async function putService(sql: Sql, s: AccountService): Promise<void> {
  await sql.query(
    `INSERT INTO prov_services (account_id, service, server_id, enabled, spec, version) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (account_id, service) DO UPDATE SET server_id = EXCLUDED.server_id, enabled = EXCLUDED.enabled, spec = EXCLUDED.spec, version = EXCLUDED.version`,
    [s.accountId, s.service, s.serverId, s.enabled, JSON.stringify(s.spec), s.version],
  );
}

/** deleteService removes one service of an account. */
export async function deleteService(sql: Sql, accountId: string, service: ServiceKind): Promise<boolean> {
  return (
    (await sql.query('DELETE FROM prov_services WHERE account_id = $1 AND service = $2', [accountId, service]))
      .rowCount > 0
  );
}

/** servicesOfAccount returns an account's services (lock: FOR UPDATE). */
export async function servicesOfAccount(sql: Sql, accountId: string, lock = false): Promise<AccountService[]> {
  const r = await sql.query<Row>(
    `SELECT * FROM prov_services WHERE account_id = $1 ORDER BY service${lock ? ' FOR UPDATE' : ''}`,
    [accountId],
  );
  return r.rows.map(serviceOf);
}

/** desiredOfServer returns what a server should hold: the enabled services assigned to it (only those of accounts, when given). */
export async function desiredOfServer(
  sql: Sql,
  serverId: string,
  accounts?: readonly string[],
): Promise<DesiredService[]> {
  const r =
    accounts === undefined
      ? await sql.query<Row>('SELECT * FROM prov_services WHERE server_id = $1 AND enabled', [serverId])
      : await sql.query<Row>(
          'SELECT * FROM prov_services WHERE server_id = $1 AND enabled AND account_id = ANY($2::text[])',
          [serverId, [...accounts]],
        );
  return r.rows
    .map(serviceOf)
    .map((s) => ({ account: s.accountId, service: s.service, version: s.version, spec: s.spec }));
}

/** ftpUserTaken tells whether another account's FTP service on the server (enabled or not) has a user of that name: names are one namespace per server. */
export async function ftpUserTaken(sql: Sql, serverId: string, name: string, exceptAccount: string): Promise<boolean> {
  const r = await sql.query(
    `SELECT 1 FROM prov_services WHERE server_id = $1 AND service = 'ftp' AND account_id <> $2 AND spec->'users' @> $3::jsonb LIMIT 1`,
    [serverId, exceptAccount, JSON.stringify([{ name }])],
  );
  return r.rows.length > 0;
}

/** heldOfServer returns what a server last reported holding (only for accounts, when given). */
export async function heldOfServer(sql: Sql, serverId: string, accounts?: readonly string[]): Promise<HeldService[]> {
  const r =
    accounts === undefined
      ? await sql.query<Row>('SELECT account_id, service, version FROM prov_held WHERE server_id = $1', [serverId])
      : await sql.query<Row>(
          'SELECT account_id, service, version FROM prov_held WHERE server_id = $1 AND account_id = ANY($2::text[])',
          [serverId, [...accounts]],
        );
  return r.rows.map((x) => ({
    account: String(x.account_id),
    service: String(x.service) as ServiceKind,
    version: Number(x.version),
  }));
}

/** HeldChange is one account service a server now holds at a version, or (version null) holds no more. */
export interface HeldChange {
  readonly accountId: string;
  readonly service: ServiceKind;
  readonly version: number | null;
}

/** setHeld records what a server now holds, in one statement per kind of change however many there are. */
export async function setHeld(sql: Sql, serverId: string, changes: readonly HeldChange[]): Promise<void> {
  const last = new Map(changes.map((c) => [`${c.accountId}/${c.service}`, c]));
  const gone = [...last.values()].filter((c) => c.version === null);
  const held = [...last.values()].filter((c) => c.version !== null);
  if (gone.length > 0) {
    await sql.query(
      `DELETE FROM prov_held h USING unnest($2::text[], $3::text[]) AS g(account_id, service)
      WHERE h.server_id = $1 AND h.account_id = g.account_id AND h.service = g.service`,
      [serverId, gone.map((c) => c.accountId), gone.map((c) => c.service)],
    );
  }
  if (held.length > 0) {
    await sql.query(
      `INSERT INTO prov_held (server_id, account_id, service, version)
      SELECT $1, a, s, v FROM unnest($2::text[], $3::text[], $4::bigint[]) AS x(a, s, v)
      ON CONFLICT (server_id, account_id, service) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
      [serverId, held.map((c) => c.accountId), held.map((c) => c.service), held.map((c) => c.version)],
    );
  }
}

/** serversOutOfStep returns the (server, account) pairs whose held state differs from the desired one. */
export async function serversOutOfStep(sql: Sql): Promise<{ serverId: string; accountId: string }[]> {
  const r = await sql.query<Row>(`SELECT s.server_id, s.account_id FROM prov_services s
      LEFT JOIN prov_held h ON h.server_id = s.server_id AND h.account_id = s.account_id AND h.service = s.service
      WHERE s.enabled AND (h.version IS NULL OR h.version <> s.version)
    UNION
    SELECT h.server_id, h.account_id FROM prov_held h
      LEFT JOIN prov_services s ON h.server_id = s.server_id AND h.account_id = s.account_id AND h.service = s.service AND s.enabled
      WHERE s.account_id IS NULL`);
  return r.rows.map((x) => ({ serverId: String(x.server_id), accountId: String(x.account_id) }));
}
