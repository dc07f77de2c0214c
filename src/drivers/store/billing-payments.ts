/**
 * billing-payments holds the outcome of each day's overage charge and the restrictions in force
 * on accounts (seed 003's cut-off and failed payments). Every function takes a Sql so callers
 * compose them in one transaction.
 */
import type { CutOffAction, PaymentOutcome } from '../../core/billing/index.js';
import { isoOfMs, type Row } from './rows.js';
import type { Sql } from './store.js';

/** insertPayment records the outcome of a day's overage charge once; false when that day already has one. */
export async function insertPayment(
  tx: Sql,
  p: { readonly accountId: string; readonly day: string; readonly outcome: PaymentOutcome },
): Promise<boolean> {
  const r = await tx.query(
    'INSERT INTO billing_payments (account_id, day, outcome) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [p.accountId, p.day, p.outcome],
  );
  return r.rowCount === 1;
}

/** listPayments returns an account's payment outcomes by day (YYYY-MM-DD) between two days inclusive. */
export async function listPayments(
  sql: Sql,
  accountId: string,
  fromDay: string,
  toDay: string,
): Promise<Record<string, PaymentOutcome>> {
  const r = await sql.query<Row>(
    'SELECT day, outcome FROM billing_payments WHERE account_id = $1 AND day >= $2 AND day <= $3',
    [accountId, fromDay, toDay],
  );
  return Object.fromEntries(r.rows.map((x) => [String(x.day), String(x.outcome) as PaymentOutcome]));
}

/** Restriction is a restriction in force on an account's service (seed 003's cut-off and failed payments). */
export interface Restriction {
  readonly accountId: string;
  readonly action: Exclude<CutOffAction, 'upgrade'>;
  readonly reason: string;
  readonly resource: string | null;
  readonly day: string;
  readonly since: string;
}

const restrictionOf = (x: Row): Restriction => ({
  accountId: String(x.account_id),
  action: String(x.action) as Restriction['action'],
  reason: String(x.reason),
  resource: x.resource === null ? null : String(x.resource),
  day: String(x.day),
  since: isoOfMs(x.since),
});

/** setRestriction records a restriction; an account already restricted keeps its first restriction (suspend replaces milder ones). */
export async function setRestriction(tx: Sql, r: Omit<Restriction, 'since'>): Promise<void> {
  await tx.query(
    `INSERT INTO billing_restrictions (account_id, action, reason, resource, day) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account_id) DO UPDATE SET action = EXCLUDED.action, reason = EXCLUDED.reason, resource = EXCLUDED.resource, day = EXCLUDED.day, since = now()
      WHERE EXCLUDED.action = 'suspend' AND billing_restrictions.action <> 'suspend'`,
    [r.accountId, r.action, r.reason, r.resource, r.day],
  );
}

/** getRestriction returns the restriction in force on an account, or null. */
export async function getRestriction(sql: Sql, accountId: string): Promise<Restriction | null> {
  const r = await sql.query<Row>('SELECT * FROM billing_restrictions WHERE account_id = $1', [accountId]);
  return r.rows[0] ? restrictionOf(r.rows[0]) : null;
}

/** listRestrictions returns every restriction in force (what the decision loop and the edge act on). */
export async function listRestrictions(sql: Sql): Promise<Restriction[]> {
  return (await sql.query<Row>('SELECT * FROM billing_restrictions ORDER BY account_id')).rows.map(restrictionOf);
}

/** clearRestriction lifts an account's restriction; true when there was one. */
export async function clearRestriction(sql: Sql, accountId: string): Promise<boolean> {
  return (await sql.query('DELETE FROM billing_restrictions WHERE account_id = $1', [accountId])).rowCount === 1;
}
