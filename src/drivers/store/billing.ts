/**
 * billing is the billing database on top of a Store (migration 005): facts derived from the
 * allocation history, usage samples and the counters they are differences of, price plans and
 * each account's plan, the daily allotment process, payments and restrictions. Every function
 * takes a Sql so callers compose them in one transaction, and every write is idempotent: a
 * manager that fails over and repeats what it was doing never bills anything twice.
 */
import { HostfleetError } from '../../core/errors.js';
import {
  type AllocationEvent, type AllotmentAction, type AllotmentState, type AllottedResource, type CutOffAction, type InvoiceLine, type Metric, type MetricSample,
  type PaymentOutcome, type Ratio, ALLOTTED_RESOURCES, METRIC_KIND, parseAllocationEvent, ratio, toPlainDecimal,
} from '../../core/billing/index.js';
import { isUniqueViolation } from './resources.js';
import type { Sql } from './store.js';

type Row = Record<string, unknown>;

const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
const iso = (v: unknown): string => new Date(ms(v)).toISOString();

// ---- facts from the allocation history ---------------------------------------------------

/**
 * syncAllocationFacts turns the allocation history (table `allocations`, written by the
 * dispatcher) into billing facts: `alloc:<id>:start` when a stretch opened and `alloc:<id>:end`
 * once it closed, stamped with the row's own instants (not the time of syncing), so running it
 * late, twice, or from two managers at once writes each fact exactly once with the same content.
 * ramMb is the memory recorded for servers whose stretch starts now (RAM-hours).
 */
export async function syncAllocationFacts(sql: Sql, opts: { readonly ramMb: number }): Promise<{ readonly inserted: number }> {
  const started = await sql.query(
    `INSERT INTO billing_facts (id, kind, at, server_id, account_id, role, ram_mb, allocation_id)
     SELECT 'alloc:' || a.id || ':start', 'allocated', a.started_at, a.server_id, a.account_id, a.role, $1, a.id
       FROM allocations a
      WHERE NOT EXISTS (SELECT 1 FROM billing_facts f WHERE f.id = 'alloc:' || a.id || ':start')
     ON CONFLICT (id) DO NOTHING`,
    [opts.ramMb],
  );
  const ended = await sql.query(
    `INSERT INTO billing_facts (id, kind, at, server_id, account_id, role, ram_mb, allocation_id)
     SELECT 'alloc:' || a.id || ':end', 'released', a.ended_at, a.server_id, a.account_id, a.role, 0, a.id
       FROM allocations a
      WHERE a.ended_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM billing_facts f WHERE f.id = 'alloc:' || a.id || ':end')
     ON CONFLICT (id) DO NOTHING`,
  );
  return { inserted: started.rowCount + ended.rowCount };
}

const factOf = (x: Row): AllocationEvent =>
  parseAllocationEvent({
    kind: x.kind,
    id: x.id,
    at: ms(x.at),
    server: x.server_id,
    account: x.account_id,
    role: x.role,
    ...(x.kind === 'allocated' ? { ramMb: Number(x.ram_mb) } : {}),
  }, `billing_facts[${String(x.id)}]`);

/**
 * loadAllocationFacts returns the facts of every stretch that may hold minutes in
 * [startMs, endMs): opened before the end and not closed before the start — both facts of each
 * stretch, so the meter sees its whole extent. account narrows to one account.
 */
export async function loadAllocationFacts(sql: Sql, q: { readonly account?: string | null; readonly startMs: number; readonly endMs: number }): Promise<AllocationEvent[]> {
  const r = await sql.query<Row>(
    `SELECT f.* FROM billing_facts f
      WHERE f.allocation_id IN (
        SELECT s.allocation_id FROM billing_facts s
         WHERE s.kind = 'allocated' AND s.at < $3 AND ($1::text IS NULL OR s.account_id = $1)
           AND NOT EXISTS (SELECT 1 FROM billing_facts e WHERE e.allocation_id = s.allocation_id AND e.kind = 'released' AND e.at < $2))
      ORDER BY f.at, f.id`,
    [q.account ?? null, new Date(q.startMs).toISOString(), new Date(q.endMs).toISOString()],
  );
  return r.rows.map(factOf);
}

/**
 * factsAsOf returns the history as it stands at instant atMs: facts from atMs on are dropped and
 * every stretch still open at atMs is closed there by a synthetic release (id `draft:…`, never
 * stored). A draft invoice of the running period is metered from it, so open stretches are
 * billed up to atMs rather than to the end of the period. An atMs in the future projects the
 * open stretches forward to it.
 */
export function factsAsOf(facts: readonly AllocationEvent[], atMs: number): AllocationEvent[] {
  const kept = facts.filter((f) => f.at < atMs);
  const released = new Set(kept.filter((f) => f.kind === 'released').map((f) => f.id.replace(/:end$/, '')));
  const out: AllocationEvent[] = [...kept];
  for (const f of kept) {
    if (f.kind !== 'allocated') continue;
    const stretch = f.id.replace(/:start$/, '');
    if (released.has(stretch)) continue;
    out.push({ kind: 'released', id: `draft:${stretch}`, at: atMs, server: f.server, account: f.account, role: f.role });
  }
  return out;
}

/** countFacts returns how many facts the store holds per kind (for the metering status). */
export async function countFacts(sql: Sql): Promise<{ readonly allocated: number; readonly released: number }> {
  const r = await sql.query<Row>(`SELECT kind, count(*)::int AS n FROM billing_facts GROUP BY kind`);
  const get = (k: string): number => Number(r.rows.find((x) => x.kind === k)?.n ?? 0);
  return { allocated: get('allocated'), released: get('released') };
}

// ---- usage samples and counters ------------------------------------------------------------

/** insertSamples stores usage samples; a sample id already stored is left as it was. */
export async function insertSamples(sql: Sql, samples: readonly MetricSample[]): Promise<number> {
  let n = 0;
  for (const s of samples) {
    const r = await sql.query(
      `INSERT INTO billing_samples (id, account_id, metric, at, value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [s.id, s.account, s.metric, new Date(s.at).toISOString(), s.value],
    );
    n += r.rowCount;
  }
  return n;
}

/**
 * loadSamples returns the samples of [startMs, endMs), plus for each gauge the last sample
 * before the window (its value at the window's start). account narrows to one account.
 */
export async function loadSamples(sql: Sql, q: { readonly account?: string | null; readonly startMs: number; readonly endMs: number }): Promise<MetricSample[]> {
  const gauges = Object.entries(METRIC_KIND).filter(([, k]) => k === 'gauge').map(([m]) => m);
  const r = await sql.query<Row>(
    `(SELECT * FROM billing_samples WHERE ($1::text IS NULL OR account_id = $1) AND at >= $2 AND at < $3)
     UNION ALL
     (SELECT DISTINCT ON (account_id, metric) * FROM billing_samples
       WHERE ($1::text IS NULL OR account_id = $1) AND at < $2 AND metric = ANY($4::text[])
       ORDER BY account_id, metric, at DESC)
     ORDER BY 4, 1`,
    [q.account ?? null, new Date(q.startMs).toISOString(), new Date(q.endMs).toISOString(), gauges],
  );
  return r.rows.map((x) => ({ id: String(x.id), account: String(x.account_id), metric: String(x.metric) as Metric, at: ms(x.at), value: Number(x.value) }));
}

/**
 * counterDeltas records new readings of cumulative counters (e.g. the edge's served count per
 * server) and returns how much each grew since the previous reading, whichever manager took it
 * (the rows are locked for the transaction). A counter that went down was reset (a restarted
 * edge, a server attached afresh) and counts from zero. Keys of the source that are absent from
 * the readings are forgotten, so a counter that reappears later starts from zero too.
 */
export async function counterDeltas(tx: Sql, source: string, readings: readonly { readonly key: string; readonly value: number }[], atMs: number): Promise<Map<string, number>> {
  const prev = await tx.query<Row>('SELECT key, value FROM billing_counters WHERE source = $1 FOR UPDATE', [source]);
  const before = new Map(prev.rows.map((x) => [String(x.key), Number(x.value)]));
  const out = new Map<string, number>();
  const at = new Date(atMs).toISOString();
  for (const { key, value } of readings) {
    const p = before.get(key);
    out.set(key, p === undefined || value < p ? value : value - p);
    await tx.query(
      `INSERT INTO billing_counters (source, key, value, read_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source, key) DO UPDATE SET value = EXCLUDED.value, read_at = EXCLUDED.read_at`,
      [source, key, value, at],
    );
  }
  const gone = [...before.keys()].filter((k) => !readings.some((r) => r.key === k));
  if (gone.length > 0) await tx.query('DELETE FROM billing_counters WHERE source = $1 AND key = ANY($2::text[])', [source, gone]);
  return out;
}

// ---- plans -----------------------------------------------------------------------------------

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

const planOf = (x: Row): StoredPlan => ({ id: String(x.id), kind: String(x.kind) as PlanKind, body: x.body as Record<string, unknown>, createdAt: iso(x.created_at), updatedAt: iso(x.updated_at) });

/** putPlan creates a plan or replaces it (same id); the body must already be validated. */
export async function putPlan(sql: Sql, p: { readonly id: string; readonly kind: PlanKind; readonly body: unknown }): Promise<{ readonly plan: StoredPlan; readonly created: boolean }> {
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
  const r = await sql.query<Row>('SELECT * FROM billing_plans WHERE ($1::text IS NULL OR kind = $1) ORDER BY id', [kind ?? null]);
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
export async function assignPlan(sql: Sql, a: { readonly accountId: string; readonly planId: string; readonly by: string }): Promise<AccountPlan> {
  try {
    const r = await sql.query<Row>(
      `INSERT INTO billing_account_plans (account_id, plan_id, assigned_by) VALUES ($1, $2, $3)
       ON CONFLICT (account_id) DO UPDATE SET plan_id = EXCLUDED.plan_id, assigned_by = EXCLUDED.assigned_by, assigned_at = now()
       RETURNING *`,
      [a.accountId, a.planId, a.by],
    );
    const x = r.rows[0] as Row;
    return { accountId: String(x.account_id), planId: String(x.plan_id), assignedAt: iso(x.assigned_at), assignedBy: String(x.assigned_by) };
  } catch (e) {
    if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23503') {
      throw new HostfleetError('E_NOT_FOUND', `account ${a.accountId} or plan ${a.planId} does not exist; create the plan with PUT /v1/billing/plans/${a.planId} first`, { details: { account: a.accountId, plan: a.planId } });
    }
    throw e;
  }
}

/** getAccountPlan returns an account's plan assignment, or null when it has none. */
export async function getAccountPlan(sql: Sql, accountId: string): Promise<AccountPlan | null> {
  const r = await sql.query<Row>('SELECT * FROM billing_account_plans WHERE account_id = $1', [accountId]);
  const x = r.rows[0];
  return x ? { accountId: String(x.account_id), planId: String(x.plan_id), assignedAt: iso(x.assigned_at), assignedBy: String(x.assigned_by) } : null;
}

/** listAccountPlans returns every account's plan assignment, optionally only those on plans of one kind. */
export async function listAccountPlans(sql: Sql, kind?: PlanKind): Promise<AccountPlan[]> {
  const r = await sql.query<Row>(
    `SELECT ap.* FROM billing_account_plans ap JOIN billing_plans p ON p.id = ap.plan_id WHERE ($1::text IS NULL OR p.kind = $1) ORDER BY ap.account_id`,
    [kind ?? null],
  );
  return r.rows.map((x) => ({ accountId: String(x.account_id), planId: String(x.plan_id), assignedAt: iso(x.assigned_at), assignedBy: String(x.assigned_by) }));
}

// ---- the daily allotment process -----------------------------------------------------------

const ratioText = (r: Ratio): string => `${r.n}/${r.d}`;
const ratioFrom = (s: unknown): Ratio => {
  const m = /^(-?\d+)\/(\d+)$/.exec(String(s));
  if (m === null) throw new HostfleetError('E_STORE', `stored billing state holds ${JSON.stringify(s)} where an exact ratio n/d belongs`);
  return ratio(BigInt(m[1] as string), BigInt(m[2] as string));
};
const ratios = (o: Readonly<Partial<Record<AllottedResource, Ratio>>>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, ratioText(v)]));
const ratiosFrom = (o: unknown): Partial<Record<AllottedResource, Ratio>> =>
  Object.fromEntries(Object.entries((o ?? {}) as Record<string, unknown>).filter(([k]) => ALLOTTED_RESOURCES.includes(k as AllottedResource)).map(([k, v]) => [k, ratioFrom(v)]));

/** allotmentStateToJSON encodes the daily process's state for the store (exact ratios as "n/d"). */
export function allotmentStateToJSON(s: AllotmentState): Record<string, unknown> {
  return { planId: s.planId, used: ratios(s.used), overageBilled: ratios(s.overageBilled), consecutivePaymentFailures: s.consecutivePaymentFailures, restricted: s.restricted, notified: s.notified, lastDay: s.lastDay };
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
  return a.kind === 'notify' ? { ...a, used: toPlainDecimal(a.used, 6), included: toPlainDecimal(a.included, 6) } : { ...a };
}

/** lineToJSON renders an invoice line compactly for the store and the API. */
export function lineToJSON(l: InvoiceLine): Record<string, unknown> {
  return { kind: l.kind, description: l.description, resource: l.resource, date: l.date, quantity: toPlainDecimal(l.quantity, 6), unit: l.unit, rate: toPlainDecimal(l.rate, 6), amountMinor: Number(l.amount.amountMinor), currency: l.amount.currency };
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
export async function getAllotmentState(sql: Sql, accountId: string, period: string, lock = false): Promise<StoredAllotmentState | null> {
  const r = await sql.query<Row>(`SELECT * FROM billing_allotment_state WHERE account_id = $1 AND period = $2${lock ? ' FOR UPDATE' : ''}`, [accountId, period]);
  const x = r.rows[0];
  return x ? { accountId, period, planId: String(x.plan_id), state: allotmentStateFromJSON(x.state as Record<string, unknown>), updatedAt: iso(x.updated_at) } : null;
}

/**
 * saveAllotmentState writes the state after a day or a payment, but only if the stored state is
 * still the one the caller read (`expectedLastDay`, and whether a row existed): two managers
 * processing the same day race here, and the loser gets false and must not act on its result.
 */
export async function saveAllotmentState(tx: Sql, s: { readonly accountId: string; readonly period: string; readonly state: AllotmentState; readonly existed: boolean; readonly expectedLastDay: string | null; readonly expectedFailures: number }): Promise<boolean> {
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
export async function insertAllotmentDay(tx: Sql, d: { readonly accountId: string; readonly day: string; readonly period: string; readonly planId: string; readonly charges: readonly InvoiceLine[]; readonly actions: readonly AllotmentAction[] }): Promise<boolean> {
  const r = await tx.query(
    `INSERT INTO billing_allotment_days (account_id, day, period, plan_id, charges, actions) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [d.accountId, d.day, d.period, d.planId, JSON.stringify(d.charges.map(lineToJSON)), JSON.stringify(d.actions.map(actionToJSON))],
  );
  return r.rowCount === 1;
}

/** listAllotmentDays returns the processed days of an account's period, in order. */
export async function listAllotmentDays(sql: Sql, accountId: string, period: string): Promise<AllotmentDayRecord[]> {
  const r = await sql.query<Row>('SELECT * FROM billing_allotment_days WHERE account_id = $1 AND period = $2 ORDER BY day', [accountId, period]);
  return r.rows.map((x) => ({ day: String(x.day), period: String(x.period), planId: String(x.plan_id), charges: x.charges as Record<string, unknown>[], actions: x.actions as Record<string, unknown>[], processedAt: iso(x.processed_at) }));
}

// ---- payments and restrictions ---------------------------------------------------------------

/** insertPayment records the outcome of a day's overage charge once; false when that day already has one. */
export async function insertPayment(tx: Sql, p: { readonly accountId: string; readonly day: string; readonly outcome: PaymentOutcome }): Promise<boolean> {
  const r = await tx.query('INSERT INTO billing_payments (account_id, day, outcome) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [p.accountId, p.day, p.outcome]);
  return r.rowCount === 1;
}

/** listPayments returns an account's payment outcomes by day (YYYY-MM-DD) between two days inclusive. */
export async function listPayments(sql: Sql, accountId: string, fromDay: string, toDay: string): Promise<Record<string, PaymentOutcome>> {
  const r = await sql.query<Row>('SELECT day, outcome FROM billing_payments WHERE account_id = $1 AND day >= $2 AND day <= $3', [accountId, fromDay, toDay]);
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

const restrictionOf = (x: Row): Restriction => ({ accountId: String(x.account_id), action: String(x.action) as Restriction['action'], reason: String(x.reason), resource: x.resource === null ? null : String(x.resource), day: String(x.day), since: iso(x.since) });

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
