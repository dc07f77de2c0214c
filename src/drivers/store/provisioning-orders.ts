/**
 * provisioning-orders holds 004's order forms: each order's contact, domain, services and plan,
 * its verification state and, once accepted, the account made from it. Every function takes a
 * Sql, so the manager composes them in one transaction.
 */
import type { Contact, OrderState, PlanName, ServiceKind } from '../../core/provisioning/index.js';
import { iso, json, type Row } from './rows.js';
import type { Sql } from './store.js';

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
  id: String(x.id),
  secretHash: String(x.secret_hash),
  state: String(x.state) as OrderState,
  contact: x.contact === null ? null : json<Contact>(x.contact),
  domain: x.domain === null ? null : String(x.domain),
  services: json<ServiceKind[]>(x.services),
  plan: String(x.plan) as PlanName,
  challenge: String(x.challenge),
  verifyAttempts: Number(x.verify_attempts),
  reasons: json<string[]>(x.reasons),
  paymentRef: x.payment_ref === null ? null : String(x.payment_ref),
  accountId: x.account_id === null ? null : String(x.account_id),
  resellerId: x.reseller_id === null || x.reseller_id === undefined ? null : String(x.reseller_id),
  createdAt: iso(x.created_at),
});

/** insertOrder stores a new order. */
export async function insertOrder(
  sql: Sql,
  o: {
    id: string;
    secretHash: string;
    contact: Contact;
    domain: string;
    services: readonly ServiceKind[];
    plan: PlanName;
    challenge: string;
    resellerId?: string | null;
  },
): Promise<void> {
  await sql.query(
    `INSERT INTO prov_orders (id, secret_hash, state, contact, domain, services, plan, challenge, reseller_id) VALUES ($1, $2, 'unverified', $3, $4, $5, $6, $7, $8)`,
    [
      o.id,
      o.secretHash,
      JSON.stringify(o.contact),
      o.domain,
      JSON.stringify(o.services),
      o.plan,
      o.challenge,
      o.resellerId ?? null,
    ],
  );
}

/** getOrder returns an order (lock: FOR UPDATE) or null. */
export async function getOrder(sql: Sql, id: string, lock = false): Promise<Order | null> {
  const r = await sql.query<Row>(`SELECT * FROM prov_orders WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? orderOf(r.rows[0]) : null;
}

/** listOrders returns orders in a state, oldest first. */
export async function listOrders(
  sql: Sql,
  state: OrderState | undefined,
  limit = 500,
  resellerId?: string,
): Promise<Order[]> {
  const r = await sql.query<Row>(
    `SELECT * FROM prov_orders WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR reseller_id = $2)
    ORDER BY created_at, id LIMIT $3`,
    [state ?? null, resellerId ?? null, limit],
  );
  return r.rows.map(orderOf);
}

/** updateOrder sets an order's state and optional fields; deleteData erases the contact and the domain (a rejected order keeps only its id, state and reasons). */
export async function updateOrder(
  sql: Sql,
  id: string,
  u: {
    state: OrderState;
    verifyAttempts?: number;
    reasons?: readonly string[];
    paymentRef?: string | null;
    accountId?: string | null;
    deleteData?: boolean;
  },
): Promise<void> {
  await sql.query(
    `UPDATE prov_orders SET state = $2,
      verify_attempts = COALESCE($3, verify_attempts),
      reasons = COALESCE($4::jsonb, reasons),
      payment_ref = CASE WHEN $5::boolean THEN $6 ELSE payment_ref END,
      account_id = CASE WHEN $7::boolean THEN $8 ELSE account_id END,
      contact = CASE WHEN $9::boolean THEN NULL ELSE contact END,
      domain = CASE WHEN $9::boolean THEN NULL ELSE domain END,
      updated_at = now()
    WHERE id = $1`,
    [
      id,
      u.state,
      u.verifyAttempts ?? null,
      u.reasons ? JSON.stringify(u.reasons) : null,
      u.paymentRef !== undefined,
      u.paymentRef ?? null,
      u.accountId !== undefined,
      u.accountId ?? null,
      u.deleteData === true,
    ],
  );
}
