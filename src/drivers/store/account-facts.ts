/**
 * account-facts reads what decides an account's kind (core/model/account-kind.ts) in one query:
 * its customers, and whether it hosts services of its own (a group, or a hosting account made
 * from an order).
 */
import type { AccountFacts } from '../../core/model/account-kind.js';
import type { AccountRecord } from '../../core/model/records.js';
import type { Sql } from './store.js';

/** accountFacts returns the facts of a stored account. */
export async function accountFacts(sql: Sql, a: AccountRecord): Promise<AccountFacts> {
  const r = await sql.query<{ customers: number; hosted: boolean }>(
    `SELECT (SELECT count(*) FROM accounts WHERE reseller_id = $1)::int AS customers,
       (EXISTS (SELECT 1 FROM groups WHERE account_id = $1) OR EXISTS (SELECT 1 FROM prov_accounts WHERE id = $1)) AS hosted`,
    [a.id],
  );
  const row = r.rows[0];
  return { id: a.id, resellerId: a.resellerId, customers: Number(row?.customers ?? 0), hosted: row?.hosted === true };
}
