/**
 * billing-allotment holds the daily allotment process of seed 003: each account's state for the
 * period (exact ratios stored as "n/d") and the record of every processed day. Writes are
 * idempotent and guarded, so two managers processing the same day cannot both act on it.
 */
import { HostfleetError } from '../../core/errors.js';
import {
  type AllotmentAction,
  type AllotmentState,
  type AllottedResource,
  type CutOffAction,
  type InvoiceLine,
  type Ratio,
  ALLOTTED_RESOURCES,
  ratio,
  toPlainDecimal,
} from '../../core/billing/index.js';
import { isoOfMs, isUniqueViolation, type Row } from './rows.js';
import type { Sql } from './store.js';

const ratioText = (r: Ratio): string => `${r.n}/${r.d}`;
const ratioFrom = (s: unknown): Ratio => {
  const m = /^(-?\d+)\/(\d+)$/.exec(String(s));
  if (m === null)
    throw new HostfleetError(
      'E_STORE',
      `stored billing state holds ${JSON.stringify(s)} where an exact ratio n/d belongs`,
    );
  return ratio(BigInt(m[1] as string), BigInt(m[2] as string));
};
const ratios = (o: Readonly<Partial<Record<AllottedResource, Ratio>>>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, ratioText(v)]));
const ratiosFrom = (o: unknown): Partial<Record<AllottedResource, Ratio>> =>
  Object.fromEntries(
    Object.entries((o ?? {}) as Record<string, unknown>)
      .filter(([k]) => ALLOTTED_RESOURCES.includes(k as AllottedResource))
      .map(([k, v]) => [k, ratioFrom(v)]),
  );

/** allotmentStateToJSON encodes the daily process's state for the store (exact ratios as "n/d"). */
export function allotmentStateToJSON(s: AllotmentState): Record<string, unknown> {
  return {
    planId: s.planId,
    used: ratios(s.used),
    overageBilled: ratios(s.overageBilled),
    consecutivePaymentFailures: s.consecutivePaymentFailures,
    restricted: s.restricted,
    notified: s.notified,
    lastDay: s.lastDay,
  };
}

/** allotmentStateFromJSON decodes what allotmentStateToJSON wrote. */
export function allotmentStateFromJSON(j: Readonly<Record<string, unknown>>): AllotmentState {
  return {
    planId: String(j.planId),
    used: ratiosFrom(j.used),
    overageBilled: ratiosFrom(j.overageBilled),
    consecutivePaymentFailures: Number(j.consecutivePaymentFailures ?? 0),
    restricted: (j.restricted ?? null) as Exclude<CutOffAction, 'upgrade'> | null,
    notified: ((j.notified ?? []) as AllottedResource[]).filter((r) => ALLOTTED_RESOURCES.includes(r)),
    lastDay: j.lastDay === null || j.lastDay === undefined ? null : String(j.lastDay),
  };
}

/** actionToJSON renders an allotment action with its ratios as decimals, for the store and the API. */
export function actionToJSON(a: AllotmentAction): Record<string, unknown> {
  return a.kind === 'notify'
    ? { ...a, used: toPlainDecimal(a.used, 6), included: toPlainDecimal(a.included, 6) }
    : { ...a };
}

/** lineToJSON renders an invoice line compactly for the store and the API. */
export function lineToJSON(l: InvoiceLine): Record<string, unknown> {
  return {
    kind: l.kind,
    description: l.description,
    resource: l.resource,
    date: l.date,
    quantity: toPlainDecimal(l.quantity, 6),
    unit: l.unit,
    rate: toPlainDecimal(l.rate, 6),
    amountMinor: Number(l.amount.amountMinor),
    currency: l.amount.currency,
  };
}

/** StoredAllotmentState is the stored state of one account's period. */
export interface StoredAllotmentState {
  readonly accountId: string;
  readonly period: string;
  readonly planId: string;
  readonly state: AllotmentState;
  readonly updatedAt: string;
}

/** getAllotmentState returns the daily process's state of an account's period, or null before its first day. */
export async function getAllotmentState(
  sql: Sql,
  accountId: string,
  period: string,
  lock = false,
): Promise<StoredAllotmentState | null> {
  const r = await sql.query<Row>(
    `SELECT * FROM billing_allotment_state WHERE account_id = $1 AND period = $2${lock ? ' FOR UPDATE' : ''}`,
    [accountId, period],
  );
  const x = r.rows[0];
  return x
    ? {
        accountId,
        period,
        planId: String(x.plan_id),
        state: allotmentStateFromJSON(x.state as Record<string, unknown>),
        updatedAt: isoOfMs(x.updated_at),
      }
    : null;
}

/**
 * saveAllotmentState writes the state after a day or a payment, but only if the stored state is
 * still the one the caller read (`expectedLastDay`, and whether a row existed): two managers
 * processing the same day race here, and the loser gets false and must not act on its result.
 */
export async function saveAllotmentState(
  tx: Sql,
  s: {
    readonly accountId: string;
    readonly period: string;
    readonly state: AllotmentState;
    readonly existed: boolean;
    readonly expectedLastDay: string | null;
    readonly expectedFailures: number;
  },
): Promise<boolean> {
  const j = JSON.stringify(allotmentStateToJSON(s.state));
  if (!s.existed) {
    try {
      const r = await tx.query(
        `INSERT INTO billing_allotment_state (account_id, period, plan_id, state, last_day) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [s.accountId, s.period, s.state.planId, j, s.state.lastDay],
      );
      return r.rowCount === 1;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }
  const r = await tx.query(
    `UPDATE billing_allotment_state SET plan_id = $3, state = $4, last_day = $5, updated_at = now()
      WHERE account_id = $1 AND period = $2 AND last_day IS NOT DISTINCT FROM $6 AND (state->>'consecutivePaymentFailures')::int = $7`,
    [s.accountId, s.period, s.state.planId, j, s.state.lastDay, s.expectedLastDay, s.expectedFailures],
  );
  return r.rowCount === 1;
}

/** AllotmentDayRecord is one processed day: its charges and actions. */
export interface AllotmentDayRecord {
  readonly day: string;
  readonly period: string;
  readonly planId: string;
  readonly charges: readonly Record<string, unknown>[];
  readonly actions: readonly Record<string, unknown>[];
  readonly processedAt: string;
}

/** insertAllotmentDay records a processed day once; false when the day was already recorded. */
export async function insertAllotmentDay(
  tx: Sql,
  d: {
    readonly accountId: string;
    readonly day: string;
    readonly period: string;
    readonly planId: string;
    readonly charges: readonly InvoiceLine[];
    readonly actions: readonly AllotmentAction[];
  },
): Promise<boolean> {
  const r = await tx.query(
    `INSERT INTO billing_allotment_days (account_id, day, period, plan_id, charges, actions) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [
      d.accountId,
      d.day,
      d.period,
      d.planId,
      JSON.stringify(d.charges.map(lineToJSON)),
      JSON.stringify(d.actions.map(actionToJSON)),
    ],
  );
  return r.rowCount === 1;
}

/** listAllotmentDays returns the processed days of an account's period, in order. */
export async function listAllotmentDays(sql: Sql, accountId: string, period: string): Promise<AllotmentDayRecord[]> {
  const r = await sql.query<Row>(
    'SELECT * FROM billing_allotment_days WHERE account_id = $1 AND period = $2 ORDER BY day',
    [accountId, period],
  );
  return r.rows.map((x) => ({
    day: String(x.day),
    period: String(x.period),
    planId: String(x.plan_id),
    charges: x.charges as Record<string, unknown>[],
    actions: x.actions as Record<string, unknown>[],
    processedAt: isoOfMs(x.processed_at),
  }));
}
