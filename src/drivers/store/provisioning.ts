/**
 * provisioning is the store of 004's database server: orders, service servers, hosting
 * accounts, the desired spec of every account service, what each service server holds and
 * the task log. Every function takes a Sql, so the manager composes them in one transaction
 * (an account is created with all its services, or not at all).
 */
import type { HeldService, OrderState, PlanName, ServiceKind, ServiceSpec, DesiredService } from '../../core/provisioning/index.js';
import type { Contact } from '../../core/provisioning/index.js';
import type { Sql } from './store.js';

type Row = Record<string, unknown>;
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

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
  await sql.query(`INSERT INTO prov_servers (id, services, capacity, address) VALUES ($1, $2, $3, $4)
    ON CONFLICT (id) DO UPDATE SET services = EXCLUDED.services, capacity = EXCLUDED.capacity, address = EXCLUDED.address`, [s.id, JSON.stringify(s.services), s.capacity, s.address]);
}

/** listServers returns service servers with how many account services each holds; lock takes row locks (assignment). */
export async function listServers(sql: Sql, lock = false): Promise<ProvServer[]> {
  if (lock) await sql.query('SELECT id FROM prov_servers ORDER BY id FOR UPDATE');
  const r = await sql.query<Row>(`SELECT s.id, s.services, s.capacity, s.address, (SELECT count(*) FROM prov_services v WHERE v.server_id = s.id) AS used
    FROM prov_servers s ORDER BY s.id`);
  return r.rows.map((x) => ({ id: String(x.id), services: json<ServiceKind[]>(x.services), capacity: Number(x.capacity), address: String(x.address), used: Number(x.used) }));
}

/** Order is a stored order (contact is null once rejected: its data is deleted). */
export interface Order {
  readonly id: string;
  readonly secretHash: string;
  readonly state: OrderState;
  readonly contact: Contact | null;
  readonly domain: string | null;
  readonly services: readonly ServiceKind[];
  readonly plan: PlanName;
  readonly challenge: string;
  readonly verifyAttempts: number;
  readonly reasons: readonly string[];
  readonly paymentRef: string | null;
  readonly accountId: string | null;
  /** resellerId is the reseller whose token placed the order; the account becomes its customer. */
  readonly resellerId: string | null;
  readonly createdAt: string;
}

const orderOf = (x: Row): Order => ({
  id: String(x.id), secretHash: String(x.secret_hash), state: String(x.state) as OrderState, contact: x.contact === null ? null : json<Contact>(x.contact),
  domain: x.domain === null ? null : String(x.domain), services: json<ServiceKind[]>(x.services), plan: String(x.plan) as PlanName, challenge: String(x.challenge),
  verifyAttempts: Number(x.verify_attempts), reasons: json<string[]>(x.reasons), paymentRef: x.payment_ref === null ? null : String(x.payment_ref),
  accountId: x.account_id === null ? null : String(x.account_id), resellerId: x.reseller_id === null || x.reseller_id === undefined ? null : String(x.reseller_id), createdAt: iso(x.created_at),
});

/** insertOrder stores a new order. */
export async function insertOrder(sql: Sql, o: { id: string; secretHash: string; contact: Contact; domain: string; services: readonly ServiceKind[]; plan: PlanName; challenge: string; resellerId?: string | null }): Promise<void> {
  await sql.query(`INSERT INTO prov_orders (id, secret_hash, state, contact, domain, services, plan, challenge, reseller_id) VALUES ($1, $2, 'unverified', $3, $4, $5, $6, $7, $8)`,
    [o.id, o.secretHash, JSON.stringify(o.contact), o.domain, JSON.stringify(o.services), o.plan, o.challenge, o.resellerId ?? null]);
}

/** getOrder returns an order (lock: FOR UPDATE) or null. */
export async function getOrder(sql: Sql, id: string, lock = false): Promise<Order | null> {
  const r = await sql.query<Row>(`SELECT * FROM prov_orders WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? orderOf(r.rows[0]) : null;
}

/** listOrders returns orders in a state, oldest first. */
export async function listOrders(sql: Sql, state: OrderState | undefined, limit = 500, resellerId?: string): Promise<Order[]> {
  const r = await sql.query<Row>(`SELECT * FROM prov_orders WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR reseller_id = $2)
    ORDER BY created_at, id LIMIT $3`, [state ?? null, resellerId ?? null, limit]);
  return r.rows.map(orderOf);
}

/** updateOrder sets an order's state and optional fields; deleteData erases the contact and the domain (a rejected order keeps only its id, state and reasons). */
export async function updateOrder(sql: Sql, id: string, u: { state: OrderState; verifyAttempts?: number; reasons?: readonly string[]; paymentRef?: string | null; accountId?: string | null; deleteData?: boolean }): Promise<void> {
  await sql.query(`UPDATE prov_orders SET state = $2,
      verify_attempts = COALESCE($3, verify_attempts),
      reasons = COALESCE($4::jsonb, reasons),
      payment_ref = CASE WHEN $5::boolean THEN $6 ELSE payment_ref END,
      account_id = CASE WHEN $7::boolean THEN $8 ELSE account_id END,
      contact = CASE WHEN $9::boolean THEN NULL ELSE contact END,
      domain = CASE WHEN $9::boolean THEN NULL ELSE domain END,
      updated_at = now()
    WHERE id = $1`, [id, u.state, u.verifyAttempts ?? null, u.reasons ? JSON.stringify(u.reasons) : null, u.paymentRef !== undefined, u.paymentRef ?? null, u.accountId !== undefined, u.accountId ?? null, u.deleteData === true]);
}

/** ProvAccount is a hosting account created from an order. */
export interface ProvAccount {
  readonly id: string;
  readonly orderId: string;
  readonly domain: string;
  readonly plan: PlanName;
  readonly uid: number;
  readonly passwordHash: string;
  readonly email: string;
}

const accountOf = (x: Row): ProvAccount => ({ id: String(x.id), orderId: String(x.order_id), domain: String(x.domain), plan: String(x.plan) as PlanName, uid: Number(x.uid), passwordHash: String(x.password_hash), email: String(x.email) });

/** nextUid takes the next account uid. */
export async function nextUid(sql: Sql): Promise<number> {
  const r = await sql.query<Row>("SELECT nextval('prov_uid_seq') AS v");
  return Number(r.rows[0]?.v);
}

/** nextVersion takes the next spec version (one sequence for all, so versions only grow: zone serials). */
export async function nextVersion(sql: Sql): Promise<number> {
  return (await nextVersions(sql, 1))[0] as number;
}

/** nextVersions draws n versions at once, in ascending order. */
export async function nextVersions(sql: Sql, n: number): Promise<number[]> {
  const r = await sql.query<Row>("SELECT nextval('prov_version_seq') AS v FROM generate_series(1, $1::int)", [n]);
  return r.rows.map((x) => Number(x.v)).sort((a, b) => a - b);
}

/** insertAccount stores a hosting account. */
export async function insertAccount(sql: Sql, a: ProvAccount): Promise<void> {
  await sql.query('INSERT INTO prov_accounts (id, order_id, domain, plan, uid, password_hash, email) VALUES ($1, $2, $3, $4, $5, $6, $7)', [a.id, a.orderId, a.domain, a.plan, a.uid, a.passwordHash, a.email]);
}

/** getAccount returns an account or null. */
export async function getAccount(sql: Sql, id: string): Promise<ProvAccount | null> {
  const r = await sql.query<Row>('SELECT * FROM prov_accounts WHERE id = $1', [id]);
  return r.rows[0] ? accountOf(r.rows[0]) : null;
}

/** domainTaken tells whether an account or an open order holds domain. */
export async function domainTaken(sql: Sql, domain: string): Promise<boolean> {
  const r = await sql.query<Row>(`SELECT 1 FROM prov_accounts WHERE domain = $1 UNION ALL SELECT 1 FROM prov_orders WHERE domain = $1 AND state IN ('unverified', 'review', 'verified') LIMIT 1`, [domain]);
  return r.rows.length > 0;
}

/** deleteAccount removes an account and its desired services (servers then get remove tasks). */
export async function deleteAccount(sql: Sql, id: string): Promise<boolean> {
  await sql.query('DELETE FROM prov_services WHERE account_id = $1', [id]);
  const r = await sql.query('DELETE FROM prov_accounts WHERE id = $1', [id]);
  return r.rowCount > 0;
}

/**
 * revokeAccountAccess deletes the console users (their sessions go with them) and the API
 * tokens of a deleted hosting account. The accounts row itself stays: invoices and usage
 * already recorded refer to it, and its id is never given again (uids only grow).
 */
export async function revokeAccountAccess(sql: Sql, accountId: string): Promise<void> {
  await sql.query('DELETE FROM users WHERE account_id = $1', [accountId]);
  await sql.query('DELETE FROM api_tokens WHERE account_id = $1', [accountId]);
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

const serviceOf = (x: Row): AccountService => ({ accountId: String(x.account_id), service: String(x.service) as ServiceKind, serverId: String(x.server_id), enabled: Boolean(x.enabled), spec: json<ServiceSpec>(x.spec), version: Number(x.version) });

/** putService stores the desired spec of an account service at a version. */
export async function putService(sql: Sql, s: AccountService): Promise<void> {
  await sql.query(`INSERT INTO prov_services (account_id, service, server_id, enabled, spec, version) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (account_id, service) DO UPDATE SET server_id = EXCLUDED.server_id, enabled = EXCLUDED.enabled, spec = EXCLUDED.spec, version = EXCLUDED.version`,
  [s.accountId, s.service, s.serverId, s.enabled, JSON.stringify(s.spec), s.version]);
}

/** deleteService removes one service of an account. */
export async function deleteService(sql: Sql, accountId: string, service: ServiceKind): Promise<boolean> {
  return (await sql.query('DELETE FROM prov_services WHERE account_id = $1 AND service = $2', [accountId, service])).rowCount > 0;
}

/** servicesOfAccount returns an account's services (lock: FOR UPDATE). */
export async function servicesOfAccount(sql: Sql, accountId: string, lock = false): Promise<AccountService[]> {
  const r = await sql.query<Row>(`SELECT * FROM prov_services WHERE account_id = $1 ORDER BY service${lock ? ' FOR UPDATE' : ''}`, [accountId]);
  return r.rows.map(serviceOf);
}

/** desiredOfServer returns what a server should hold: the enabled services assigned to it (only those of accounts, when given). */
export async function desiredOfServer(sql: Sql, serverId: string, accounts?: readonly string[]): Promise<DesiredService[]> {
  const r = accounts === undefined
    ? await sql.query<Row>('SELECT * FROM prov_services WHERE server_id = $1 AND enabled', [serverId])
    : await sql.query<Row>('SELECT * FROM prov_services WHERE server_id = $1 AND enabled AND account_id = ANY($2::text[])', [serverId, [...accounts]]);
  return r.rows.map(serviceOf).map((s) => ({ account: s.accountId, service: s.service, version: s.version, spec: s.spec }));
}

/** ftpUserTaken tells whether another account's FTP service on the server (enabled or not) has a user of that name: names are one namespace per server. */
export async function ftpUserTaken(sql: Sql, serverId: string, name: string, exceptAccount: string): Promise<boolean> {
  const r = await sql.query(`SELECT 1 FROM prov_services WHERE server_id = $1 AND service = 'ftp' AND account_id <> $2 AND spec->'users' @> $3::jsonb LIMIT 1`, [serverId, exceptAccount, JSON.stringify([{ name }])]);
  return r.rows.length > 0;
}

/** heldOfServer returns what a server last reported holding (only for accounts, when given). */
export async function heldOfServer(sql: Sql, serverId: string, accounts?: readonly string[]): Promise<HeldService[]> {
  const r = accounts === undefined
    ? await sql.query<Row>('SELECT account_id, service, version FROM prov_held WHERE server_id = $1', [serverId])
    : await sql.query<Row>('SELECT account_id, service, version FROM prov_held WHERE server_id = $1 AND account_id = ANY($2::text[])', [serverId, [...accounts]]);
  return r.rows.map((x) => ({ account: String(x.account_id), service: String(x.service) as ServiceKind, version: Number(x.version) }));
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
    await sql.query(`DELETE FROM prov_held h USING unnest($2::text[], $3::text[]) AS g(account_id, service)
      WHERE h.server_id = $1 AND h.account_id = g.account_id AND h.service = g.service`, [serverId, gone.map((c) => c.accountId), gone.map((c) => c.service)]);
  }
  if (held.length > 0) {
    await sql.query(`INSERT INTO prov_held (server_id, account_id, service, version)
      SELECT $1, a, s, v FROM unnest($2::text[], $3::text[], $4::bigint[]) AS x(a, s, v)
      ON CONFLICT (server_id, account_id, service) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`, [serverId, held.map((c) => c.accountId), held.map((c) => c.service), held.map((c) => c.version)]);
  }
}

/** TaskRecord is a task handed out (state sent) or its outcome. */
export interface TaskRecord {
  readonly accountId: string;
  readonly service: ServiceKind;
  readonly action: 'put' | 'remove';
  readonly version: number;
  readonly state: 'sent' | 'done' | 'failed';
  readonly error?: string | null;
}

/** recordTasks logs tasks handed out to a server (each attempt counted) or their outcomes, in one statement. */
export async function recordTasks(sql: Sql, serverId: string, tasks: readonly TaskRecord[]): Promise<void> {
  const rows = [...new Map(tasks.map((t) => [`${t.accountId}/${t.service}`, t])).values()];
  if (rows.length === 0) return;
  await sql.query(`INSERT INTO prov_tasks (server_id, account_id, service, action, version, state, attempts, error)
      SELECT $1, a, s, act, v, st, CASE WHEN st = 'sent' THEN 1 ELSE 0 END, e
      FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS x(a, s, act, v, st, e)
    ON CONFLICT (server_id, account_id, service) DO UPDATE SET action = EXCLUDED.action, state = EXCLUDED.state, error = EXCLUDED.error, updated_at = now(),
      attempts = CASE WHEN EXCLUDED.state <> 'sent' THEN prov_tasks.attempts WHEN prov_tasks.version = EXCLUDED.version AND prov_tasks.action = EXCLUDED.action THEN prov_tasks.attempts + 1 ELSE 1 END,
      version = EXCLUDED.version`,
  [serverId, rows.map((t) => t.accountId), rows.map((t) => t.service), rows.map((t) => t.action), rows.map((t) => t.version), rows.map((t) => t.state), rows.map((t) => t.error ?? null)]);
}

/** TaskRow is one task's last known state. */
export interface TaskRow {
  readonly serverId: string;
  readonly accountId: string;
  readonly service: ServiceKind;
  readonly action: string;
  readonly version: number;
  readonly state: string;
  readonly attempts: number;
  readonly error: string | null;
}

/** tasksOfAccount returns the task log of an account's services. */
export async function tasksOfAccount(sql: Sql, accountId: string): Promise<TaskRow[]> {
  const r = await sql.query<Row>('SELECT * FROM prov_tasks WHERE account_id = $1 ORDER BY service', [accountId]);
  return r.rows.map((x) => ({ serverId: String(x.server_id), accountId: String(x.account_id), service: String(x.service) as ServiceKind, action: String(x.action), version: Number(x.version), state: String(x.state), attempts: Number(x.attempts), error: x.error === null ? null : String(x.error) }));
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

/** signingKey returns the stored nudge signing key pair, storing gen()'s when there is none. */
export async function signingKey(sql: Sql, gen: () => { privatePem: string; publicPem: string }): Promise<{ privatePem: string; publicPem: string }> {
  const r = await sql.query<Row>("SELECT private_pem, public_pem FROM prov_keys WHERE id = 'nudge'");
  if (r.rows[0]) return { privatePem: String(r.rows[0].private_pem), publicPem: String(r.rows[0].public_pem) };
  const k = gen();
  await sql.query("INSERT INTO prov_keys (id, private_pem, public_pem) VALUES ('nudge', $1, $2) ON CONFLICT (id) DO NOTHING", [k.privatePem, k.publicPem]);
  return signingKey(sql, () => k);
}
