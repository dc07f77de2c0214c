/**
 * provisioning-accounts holds the hosting accounts made from orders, the sequences that number
 * their uids and spec versions, and the removal of an account and of its access. Every function
 * takes a Sql, so the manager composes them in one transaction (an account is created with all
 * its services, or not at all).
 */
import type { PlanName } from '../../core/provisioning/index.js';
import type { Row } from './rows.js';
import type { Sql } from './store.js';

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

const accountOf = (x: Row): ProvAccount => ({
  id: String(x.id),
  orderId: String(x.order_id),
  domain: String(x.domain),
  plan: String(x.plan) as PlanName,
  uid: Number(x.uid),
  passwordHash: String(x.password_hash),
  email: String(x.email),
});

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
  await sql.query(
    'INSERT INTO prov_accounts (id, order_id, domain, plan, uid, password_hash, email) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [a.id, a.orderId, a.domain, a.plan, a.uid, a.passwordHash, a.email],
  );
}

/** getAccount returns an account or null. */
export async function getAccount(sql: Sql, id: string): Promise<ProvAccount | null> {
  const r = await sql.query<Row>('SELECT * FROM prov_accounts WHERE id = $1', [id]);
  return r.rows[0] ? accountOf(r.rows[0]) : null;
}

/** domainTaken tells whether an account or an open order holds domain. */
export async function domainTaken(sql: Sql, domain: string): Promise<boolean> {
  const r = await sql.query<Row>(
    `SELECT 1 FROM prov_accounts WHERE domain = $1 UNION ALL SELECT 1 FROM prov_orders WHERE domain = $1 AND state IN ('unverified', 'review', 'verified') LIMIT 1`,
    [domain],
  );
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
