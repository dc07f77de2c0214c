/**
 * billing-plans holds the price plans and which plan each account is on. Every function takes a
 * Sql so callers compose them in one transaction.
 */
import { HostfleetError } from '../../core/errors.js';
import { isoOfMs, type Row } from './rows.js';
import type { Sql } from './store.js';

/** PLAN_KINDS are the two kinds of price plan. */
export const PLAN_KINDS = ['sla', 'allotment'] as const;
/** PlanKind is one of PLAN_KINDS. */
export type PlanKind = (typeof PLAN_KINDS)[number];

/** StoredPlan is a plan as stored: its validated input, parsed again by the caller. */
export interface StoredPlan {
  readonly id: string;
  readonly kind: PlanKind;
  readonly body: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const planOf = (x: Row): StoredPlan => ({
  id: String(x.id),
  kind: String(x.kind) as PlanKind,
  body: x.body as Record<string, unknown>,
  createdAt: isoOfMs(x.created_at),
  updatedAt: isoOfMs(x.updated_at),
});

/** putPlan creates a plan or replaces it (same id); the body must already be validated. */
export async function putPlan(
  sql: Sql,
  p: { readonly id: string; readonly kind: PlanKind; readonly body: unknown },
): Promise<{ readonly plan: StoredPlan; readonly created: boolean }> {
  const r = await sql.query<Row>(
    `INSERT INTO billing_plans (id, kind, body) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, body = EXCLUDED.body, updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [p.id, p.kind, JSON.stringify(p.body)],
  );
  const row = r.rows[0] as Row;
  return { plan: planOf(row), created: row.created === true };
}

/** getPlan returns a plan or null. */
export async function getPlan(sql: Sql, id: string): Promise<StoredPlan | null> {
  const r = await sql.query<Row>('SELECT * FROM billing_plans WHERE id = $1', [id]);
  return r.rows[0] ? planOf(r.rows[0]) : null;
}

/** listPlans returns every plan, or those of one kind. */
export async function listPlans(sql: Sql, kind?: PlanKind): Promise<StoredPlan[]> {
  const r = await sql.query<Row>('SELECT * FROM billing_plans WHERE ($1::text IS NULL OR kind = $1) ORDER BY id', [
    kind ?? null,
  ]);
  return r.rows.map(planOf);
}

/** AccountPlan is which plan an account is on, since when and by whom. */
export interface AccountPlan {
  readonly accountId: string;
  readonly planId: string;
  readonly assignedAt: string;
  readonly assignedBy: string;
}

/** assignPlan puts an account on a plan (replacing its plan); E_NOT_FOUND for an unknown account or plan. */
export async function assignPlan(
  sql: Sql,
  a: { readonly accountId: string; readonly planId: string; readonly by: string },
): Promise<AccountPlan> {
  try {
    const r = await sql.query<Row>(
      `INSERT INTO billing_account_plans (account_id, plan_id, assigned_by) VALUES ($1, $2, $3)
       ON CONFLICT (account_id) DO UPDATE SET plan_id = EXCLUDED.plan_id, assigned_by = EXCLUDED.assigned_by, assigned_at = now()
       RETURNING *`,
      [a.accountId, a.planId, a.by],
    );
    const x = r.rows[0] as Row;
    return {
      accountId: String(x.account_id),
      planId: String(x.plan_id),
      assignedAt: isoOfMs(x.assigned_at),
      assignedBy: String(x.assigned_by),
    };
  } catch (e) {
    if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23503') {
      throw new HostfleetError(
        'E_NOT_FOUND',
        `account ${a.accountId} or plan ${a.planId} does not exist; create the plan with PUT /v1/billing/plans/${a.planId} first`,
        { details: { account: a.accountId, plan: a.planId } },
      );
    }
    throw e;
  }
}

/** getAccountPlan returns an account's plan assignment, or null when it has none. */
export async function getAccountPlan(sql: Sql, accountId: string): Promise<AccountPlan | null> {
  const r = await sql.query<Row>('SELECT * FROM billing_account_plans WHERE account_id = $1', [accountId]);
  const x = r.rows[0];
  return x
    ? {
        accountId: String(x.account_id),
        planId: String(x.plan_id),
        assignedAt: isoOfMs(x.assigned_at),
        assignedBy: String(x.assigned_by),
      }
    : null;
}

/** listAccountPlans returns every account's plan assignment, optionally only those on plans of one kind. */
export async function listAccountPlans(sql: Sql, kind?: PlanKind): Promise<AccountPlan[]> {
  const r = await sql.query<Row>(
    `SELECT ap.* FROM billing_account_plans ap JOIN billing_plans p ON p.id = ap.plan_id WHERE ($1::text IS NULL OR p.kind = $1) ORDER BY ap.account_id`,
    [kind ?? null],
  );
  return r.rows.map((x) => ({
    accountId: String(x.account_id),
    planId: String(x.plan_id),
    assignedAt: isoOfMs(x.assigned_at),
    assignedBy: String(x.assigned_by),
  }));
}
