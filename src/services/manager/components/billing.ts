/**
 * billing wires the pure billing core (src/core/billing, docs/BILLING.md) into the manager:
 *
 * - metering: every billing.meterIntervalMs the active manager turns the durable allocation
 *   history into billing facts (idempotent, ids derived from the allocation rows) and samples
 *   the edge's counters (hits per server, connections in flight) into usage samples;
 * - the daily allotment process of seed 003 for accounts on allotment plans, once per account
 *   and day: overage charges, notifications, the cut-off action (recorded as a restriction, or
 *   an upgrade to the next larger plan) and failed-payment counting;
 * - the API: price plans and each account's plan (operators), usage, invoices as JSON and as a
 *   printable page (customers their own, resellers their customers', operators all).
 *
 * Invoices are computed on request from the stored facts, never stored: the facts are the
 * record, so an invoice read after a failover is the same invoice.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError, isHostfleetError } from '../../../core/errors.js';
import {
  type AllotmentPlan,
  type BillingPeriod,
  type PaymentOutcome,
  type Invoice,
  type LevelCeilings,
  type MetricSample,
  type SlaPlan,
  DAY_MS,
  MINUTE_MS,
  PAYMENT_OUTCOMES,
  allotmentDaysFromUsage,
  gbHoursFromMbMinutes,
  invoiceAllotment,
  invoiceSla,
  invoiceToJSON,
  meterAllocations,
  meterMetrics,
  monthOf,
  monthPeriod,
  initialAllotmentState,
  parseAllotmentPlan,
  parseSlaPlan,
  periodDays,
  recordPayment,
  renderInvoiceHtml,
  runAllotmentDay,
  toPlainDecimal,
  usageReport,
  ramMbMinutes,
} from '../../../core/billing/index.js';
import type { Role } from '../../../core/model/names.js';
import * as bdb from '../../../drivers/store/billing.js';
import * as db from '../../../drivers/store/resources.js';
import type { Sql, Store } from '../../../drivers/store/index.js';
import { principalOf } from '../principal.js';
import { canSee, requireRole, visibleAccounts } from '../auth.js';
import type { Component, ManagerContext } from '../context.js';
import { IdParam } from '../schemas.js';

/** Plan is a parsed price plan of either kind. */
export type Plan = SlaPlan | AllotmentPlan;

/** PutPlanBody is the body of PUT /v1/billing/plans/{id}: the kind and the plan's fields (docs/BILLING.md §3–4). */
export const PutPlanBody = Type.Object(
  {
    kind: Type.Unsafe<bdb.PlanKind>({
      type: 'string',
      enum: [...bdb.PLAN_KINDS],
      description: `one of ${bdb.PLAN_KINDS.join(', ')}`,
    }),
  },
  { additionalProperties: true },
);

/** AssignPlanBody is the body of PUT /v1/accounts/{id}/plan. */
export const AssignPlanBody = Type.Object(
  { planId: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'the id of a stored plan' }) },
  { additionalProperties: false },
);

/** PaymentBody is the body of POST /v1/accounts/{id}/payments. */
export const PaymentBody = Type.Object(
  {
    day: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'the day whose overage charge this is, YYYY-MM-DD',
    }),
    outcome: Type.Unsafe<(typeof PAYMENT_OUTCOMES)[number]>({
      type: 'string',
      enum: [...PAYMENT_OUTCOMES],
      description: `one of ${PAYMENT_OUTCOMES.join(', ')}`,
    }),
  },
  { additionalProperties: false },
);

/** BillingQuery is the query of the usage and invoice routes. */
export const BillingQuery = Type.Object(
  {
    period: Type.Optional(
      Type.String({
        pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$',
        description: 'a month YYYY-MM (default: the current month)',
      }),
    ),
    at: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'meter up to this instant (default: now); stretches still open then are billed up to it',
      }),
    ),
  },
  { additionalProperties: false },
);

/** parsePlan validates a stored or submitted plan of either kind; field problems name body fields when `prefix` is given. */
export function parsePlan(kind: bdb.PlanKind, body: unknown, prefix = ''): Plan {
  try {
    return kind === 'sla' ? parseSlaPlan(body) : parseAllotmentPlan(body);
  } catch (e) {
    if (isHostfleetError(e) && e.code === 'E_VALIDATION' && e.fields !== undefined && prefix !== '') {
      const fields = e.fields.map((f) => ({ field: `${prefix}${f.field}`, problem: f.problem }));
      throw new HostfleetError(
        'E_VALIDATION',
        `invalid plan: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`,
        { fields },
      );
    }
    throw e;
  }
}

/** loadPlans reads and parses every stored plan. */
export async function loadPlans(sql: Sql): Promise<Map<string, Plan>> {
  const out = new Map<string, Plan>();
  for (const p of await bdb.listPlans(sql)) out.set(p.id, parsePlan(p.kind, p.body));
  return out;
}

function catalogueOf(plans: Map<string, Plan>): AllotmentPlan[] {
  return [...plans.values()].filter((p): p is AllotmentPlan => p.kind === 'allotment');
}

/** accountPlan returns an account's parsed plan, or throws E_NOT_FOUND saying how to assign one. */
async function accountPlan(sql: Sql, account: string, plans: Map<string, Plan>): Promise<Plan> {
  const a = await bdb.getAccountPlan(sql, account);
  const plan = a === null ? undefined : plans.get(a.planId);
  if (plan === undefined)
    throw new HostfleetError(
      'E_NOT_FOUND',
      `account ${account} has no price plan; an operator assigns one with PUT /v1/accounts/${account}/plan {"planId": …}`,
      { details: { account } },
    );
  return plan;
}

/** Metered is one account's usage over a period as of an instant. */
export interface Metered {
  readonly period: BillingPeriod;
  readonly asOfMs: number;
  /** draft is true while the period is not over at asOfMs (open stretches billed up to asOfMs). */
  readonly draft: boolean;
  readonly usage: ReturnType<typeof meterAllocations>;
  readonly metrics: ReturnType<typeof meterMetrics>['usage'];
}

/**
 * meterAccount meters an account's facts and samples over a period as they stand at asOfMs
 * (the period's end when asOfMs is later). Facts are synced from the allocation history
 * first, so a stretch closed a moment ago is already billed to its minute.
 */
export async function meterAccount(
  ctx: Pick<ManagerContext, 'store' | 'cfg'>,
  account: string,
  period: BillingPeriod,
  asOfMs: number,
): Promise<Metered> {
  await bdb.syncAllocationFacts(ctx.store, { ramMb: ctx.cfg.billing.serverRamMb });
  const until = Math.min(asOfMs, period.endMs);
  const facts = bdb.factsAsOf(
    await bdb.loadAllocationFacts(ctx.store, { account, startMs: period.startMs, endMs: period.endMs }),
    until,
  );
  const usage = meterAllocations(facts, { startMs: period.startMs, endMs: period.endMs });
  const samples = (await bdb.loadSamples(ctx.store, { account, startMs: period.startMs, endMs: until })).filter(
    (s) => s.at < until,
  );
  const { usage: metrics } = meterMetrics(samples, { startMs: period.startMs, endMs: until }, periodDays(period));
  return { period, asOfMs: until, draft: until < period.endMs, usage, metrics };
}

/** computeInvoice bills an account for a period as of an instant, under its current plan. */
export async function computeInvoice(
  ctx: Pick<ManagerContext, 'store' | 'cfg'>,
  account: string,
  periodLabel: string,
  asOfMs: number,
  nowMs: number,
): Promise<{ readonly invoice: Invoice; readonly draft: boolean; readonly asOfMs: number }> {
  const plans = await loadPlans(ctx.store);
  const plan = await accountPlan(ctx.store, account, plans);
  const m = await meterAccount(ctx, account, monthPeriod(periodLabel), asOfMs);
  if (plan.kind === 'sla')
    return {
      invoice: invoiceSla(plan, account, m.period, m.usage, m.metrics, { issuedAtMs: nowMs }).invoice,
      draft: m.draft,
      asOfMs: m.asOfMs,
    };
  const days = periodDays(m.period);
  const payments = await bdb.listPayments(
    ctx.store,
    account,
    (days[0] as { date: string }).date,
    (days[days.length - 1] as { date: string }).date,
  );
  // The period is replayed from the plan its first day was processed on: an upgrade at a
  // cut-off changed the account's assignment, and the core replays the upgrade itself.
  const firstDay = (await bdb.listAllotmentDays(ctx.store, account, m.period.label))[0];
  const opening = plans.get(firstDay?.planId ?? plan.id);
  const start = opening?.kind === 'allotment' ? opening : plan;
  return {
    invoice: invoiceAllotment(start, account, m.period, m.usage, m.metrics, {
      issuedAtMs: nowMs,
      catalogue: catalogueOf(plans),
      payments,
    }).invoice,
    draft: m.draft,
    asOfMs: m.asOfMs,
  };
}

/** usageJSON renders an account's metered usage for the API and `hostfleet usage`. */
export function usageJSON(account: string, m: Metered, plan: Plan | null): Record<string, unknown> {
  const levelsFor = (_a: string, role: Role): LevelCeilings | undefined =>
    plan?.kind === 'sla' ? plan.servers[role] : undefined;
  const rows = usageReport(m.usage, levelsFor).filter((r) => r.account === account);
  return {
    kind: 'hostfleet.usage/v1',
    account,
    period: m.period.label,
    asOf: new Date(m.asOfMs).toISOString(),
    draft: m.draft,
    plan: plan === null ? null : { kind: plan.kind, id: plan.id, name: plan.name },
    roles: rows.map((r) => ({
      role: r.role,
      serverMinutes: r.serverMinutes,
      serverHours: toPlainDecimal({ n: BigInt(r.serverMinutes), d: 60n }, 4),
      ramGbHours: toPlainDecimal(r.ramGbHours, 4),
      levels:
        r.levels === null
          ? null
          : {
              committed: r.levels.committed,
              burst: r.levels.burst,
              extended: r.levels.extended,
              overCeiling: r.levels.overCeiling,
              minutesAboveCommitted: r.levels.minutesAboveCommitted,
              peakServers: r.levels.peakServers,
            },
    })),
    ramGbHours: toPlainDecimal(
      gbHoursFromMbMinutes(
        m.usage.roles.filter((r) => r.account === account).reduce((s, r) => s + ramMbMinutes(r.segments), 0n),
      ),
      4,
    ),
    metrics: m.metrics
      .filter((x) => x.account === account)
      .map((x) => ({ metric: x.metric, kind: x.kind, total: x.total.toString(), peak: x.peak })),
  };
}

async function visibleAccount(ctx: Pick<ManagerContext, 'store'>, req: FastifyRequest, id: string): Promise<void> {
  const a = await db.getAccount(ctx.store, id);
  if (a === null || !canSee(await visibleAccounts(ctx.store, principalOf(req)), a.id))
    throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
}

function queryOf(
  ctx: Pick<ManagerContext, 'clock'>,
  req: FastifyRequest,
): { period: string; atMs: number; nowMs: number } {
  const q = req.query as typeof BillingQuery.static;
  const nowMs = ctx.clock.now().getTime();
  const atMs = q.at === undefined ? nowMs : Date.parse(q.at);
  if (!Number.isFinite(atMs))
    throw new HostfleetError('E_VALIDATION', `at ${q.at} is not an instant`, {
      fields: [{ field: 'querystring.at', problem: 'must be an ISO 8601 instant such as 2026-11-30T12:00:00Z' }],
    });
  // Minutes are the grain: an instant inside a minute meters up to that minute's start.
  return { period: q.period ?? monthOf(nowMs), atMs: Math.floor(atMs / MINUTE_MS) * MINUTE_MS, nowMs };
}

/** MeterPass is what one metering pass did. */
export interface MeterPass {
  readonly facts: number;
  readonly samples: number;
  readonly days: number;
  readonly edge: 'sampled' | 'unavailable';
}

/** sampleEdge reads the edge's per-server counters and stores the hits since the last reading and the connections in flight. */
export async function sampleEdge(ctx: Pick<ManagerContext, 'store' | 'edge'>, nowMs: number): Promise<number> {
  const pools = await ctx.edge.status();
  const groups = new Map((await db.listGroups(ctx.store)).map((g) => [g.id, g.accountId]));
  const readings: { key: string; value: number }[] = [];
  const accountOfKey = new Map<string, string>();
  const inflight = new Map<string, number>();
  for (const p of pools) {
    const account = groups.get(p.id);
    if (account === undefined) continue;
    inflight.set(account, (inflight.get(account) ?? 0) + p.servers.reduce((s, x) => s + x.outstanding, 0));
    for (const s of p.servers) {
      const key = `${p.id}/${s.id}`;
      readings.push({ key, value: s.served });
      accountOfKey.set(key, account);
    }
  }
  const minute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  return ctx.store.transaction(async (tx) => {
    const deltas = await bdb.counterDeltas(tx, 'edge-served', readings, nowMs);
    const samples: MetricSample[] = [];
    for (const [key, d] of deltas) {
      if (d > 0)
        samples.push({
          id: `edge:hits:${key}:${nowMs}`,
          account: accountOfKey.get(key) as string,
          metric: 'hits',
          at: nowMs,
          value: d,
        });
    }
    for (const [account, n] of inflight)
      samples.push({
        id: `edge:connections:${account}:${minute}`,
        account,
        metric: 'connections',
        at: minute,
        value: n,
      });
    return bdb.insertSamples(tx, samples);
  });
}

/**
 * runDailyAllotments runs seed 003's daily process for every account on an allotment plan and
 * every whole day (this month's and the last month's) not yet processed. Each day is one
 * transaction guarded by the stored state, so two managers, or one repeating itself after a
 * crash, process each day once: its overage charged once, its cut-off acted on once.
 */
export async function runDailyAllotments(
  ctx: Pick<ManagerContext, 'store' | 'cfg' | 'log'>,
  nowMs: number,
): Promise<number> {
  const plans = await loadPlans(ctx.store);
  const catalogue = catalogueOf(plans);
  let processed = 0;
  const periods = [...new Set([monthOf(nowMs - DAY_MS), monthOf(nowMs)])].map((l) => monthPeriod(l));
  for (const a of await bdb.listAccountPlans(ctx.store, 'allotment')) {
    for (const period of periods) {
      const done = periodDays(period).filter((d) => d.endMs <= nowMs);
      if (done.length === 0) continue;
      const stored = await bdb.getAllotmentState(ctx.store, a.accountId, period.label);
      const lastDone = (done[done.length - 1] as { date: string }).date;
      if (stored?.state.lastDay != null && stored.state.lastDay >= lastDone) continue;
      const m = await meterAccount(ctx, a.accountId, period, nowMs);
      const days = allotmentDaysFromUsage(a.accountId, period, m.usage, m.metrics).filter((d) => d.date <= lastDone);
      for (const day of days) {
        const did = await ctx.store.transaction(async (tx) => {
          const cur = await bdb.getAllotmentState(tx, a.accountId, period.label, true);
          if (cur?.state.lastDay != null && day.date <= cur.state.lastDay) return false;
          const plan = plans.get(cur?.state.planId ?? a.planId);
          if (plan === undefined || plan.kind !== 'allotment') return false;
          const state = cur?.state ?? initialAllotmentState(plan);
          const r = runAllotmentDay(plan, catalogue, state, day);
          if (
            !(await bdb.insertAllotmentDay(tx, {
              accountId: a.accountId,
              day: day.date,
              period: period.label,
              planId: plan.id,
              charges: r.charges,
              actions: r.actions,
            }))
          )
            return false;
          if (
            !(await bdb.saveAllotmentState(tx, {
              accountId: a.accountId,
              period: period.label,
              state: r.state,
              existed: cur !== null,
              expectedLastDay: state.lastDay,
              expectedFailures: state.consecutivePaymentFailures,
            }))
          ) {
            throw new HostfleetError(
              'E_CONFLICT',
              `allotment state of ${a.accountId} ${period.label} changed while processing ${day.date}; retrying next pass`,
            );
          }
          for (const act of r.actions) {
            if (act.kind === 'restrict')
              await bdb.setRestriction(tx, {
                accountId: a.accountId,
                action: act.action,
                reason: act.reason,
                resource: act.resource,
                day: day.date,
              });
            if (act.kind === 'upgrade')
              await bdb.assignPlan(tx, {
                accountId: a.accountId,
                planId: act.to,
                by: `billing: cut-off on ${act.resource} ${day.date}`,
              });
          }
          return true;
        });
        if (did) processed++;
      }
    }
  }
  return processed;
}

/**
 * recordPaymentOutcome records the outcome of a day's overage charge once per day and counts
 * it in the period's daily state (seed 003's failed-payment handling): a success resets the
 * count, and the plan's limit of consecutive failures (three by default) records a suspension.
 * Only a day that was charged overage can fail; other outcomes are recorded but not counted.
 */
export async function recordPaymentOutcome(
  store: Store,
  account: string,
  day: string,
  outcome: PaymentOutcome,
): Promise<{
  readonly recorded: boolean;
  readonly counted: boolean;
  readonly consecutivePaymentFailures: number;
  readonly restriction: bdb.Restriction | null;
}> {
  const plans = await loadPlans(store);
  const period = day.slice(0, 7);
  return store.transaction(async (tx) => {
    const recorded = await bdb.insertPayment(tx, { accountId: account, day, outcome });
    const st = await bdb.getAllotmentState(tx, account, period, true);
    const charged = (await bdb.listAllotmentDays(tx, account, period)).some(
      (d) => d.day === day && d.charges.length > 0,
    );
    const plan = st === null ? undefined : plans.get(st.state.planId);
    let counted = false;
    if (recorded && charged && st !== null && plan?.kind === 'allotment') {
      const r = recordPayment(plan, st.state, outcome);
      await bdb.saveAllotmentState(tx, {
        accountId: account,
        period,
        state: r.state,
        existed: true,
        expectedLastDay: st.state.lastDay,
        expectedFailures: st.state.consecutivePaymentFailures,
      });
      for (const act of r.actions)
        if (act.kind === 'restrict')
          await bdb.setRestriction(tx, {
            accountId: account,
            action: act.action,
            reason: act.reason,
            resource: act.resource,
            day,
          });
      counted = true;
    }
    const now = await bdb.getAllotmentState(tx, account, period);
    return {
      recorded,
      counted,
      consecutivePaymentFailures: now?.state.consecutivePaymentFailures ?? 0,
      restriction: await bdb.getRestriction(tx, account),
    };
  });
}

/** meterOnce is one metering pass: facts from the allocation history, edge samples, then the daily process. */
export async function meterOnce(
  ctx: Pick<ManagerContext, 'store' | 'cfg' | 'clock' | 'edge' | 'log'>,
): Promise<MeterPass> {
  const nowMs = ctx.clock.now().getTime();
  const { inserted } = await bdb.syncAllocationFacts(ctx.store, { ramMb: ctx.cfg.billing.serverRamMb });
  let samples = 0;
  let edge: MeterPass['edge'] = 'sampled';
  try {
    samples = await sampleEdge(ctx, nowMs);
  } catch (e) {
    // Without the edge's counters there are no hits this pass; allocation minutes do not depend on it.
    edge = 'unavailable';
    ctx.log.warn({ err: e }, 'billing could not sample the edge counters');
  }
  const days = await runDailyAllotments(ctx, nowMs);
  return { facts: inserted, samples, days, edge };
}

/** BillingDeps are what billing meters, bills and restricts through. */
export type BillingDeps = Pick<ManagerContext, 'store' | 'cfg' | 'clock' | 'edge' | 'log' | 'isLeader'>;

/** createBilling returns the component of the billing routes and the metering loop. */
export function createBilling(ctx: BillingDeps): Component {
  let busy: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'billing',
    async routes(app: FastifyInstance) {
      app.get(
        '/v1/billing/plans',
        { schema: { tags: ['billing'], summary: 'Price plans (SLA and allotment)' } },
        async () => {
          const plans = await bdb.listPlans(ctx.store);
          return { plans: plans.map((p) => ({ ...p.body, id: p.id, kind: p.kind })) };
        },
      );
      app.get('/v1/billing/plans/:id', { schema: { tags: ['billing'], params: IdParam } }, async (req) => {
        const id = (req.params as { id: string }).id;
        const p = await bdb.getPlan(ctx.store, id);
        if (p === null) throw new HostfleetError('E_NOT_FOUND', `plan ${id} does not exist`);
        return { plan: { ...p.body, id: p.id, kind: p.kind }, updatedAt: p.updatedAt };
      });
      app.put(
        '/v1/billing/plans/:id',
        {
          schema: { tags: ['billing'], summary: 'Create or replace a price plan', params: IdParam, body: PutPlanBody },
        },
        async (req, reply) => {
          requireRole(principalOf(req), ['operator']);
          const id = (req.params as { id: string }).id;
          const { kind, ...rest } = req.body as Record<string, unknown> & { kind: bdb.PlanKind };
          if (rest.id !== undefined && rest.id !== id)
            throw new HostfleetError(
              'E_VALIDATION',
              `the body names plan ${String(rest.id)} but the path names ${id}`,
              { fields: [{ field: 'body.id', problem: `must be ${id} (the plan id in the path) or left out` }] },
            );
          const body = { ...rest, id };
          parsePlan(kind, body, 'body.');
          const { plan, created } = await bdb.putPlan(ctx.store, { id, kind, body });
          void reply.code(created ? 201 : 200);
          return { plan: { ...plan.body, id: plan.id, kind: plan.kind }, created };
        },
      );
      app.get(
        '/v1/accounts/:id/plan',
        {
          schema: {
            tags: ['billing'],
            summary: 'An account’s plan, its daily allotment state and any restriction',
            params: IdParam,
          },
        },
        async (req) => {
          const id = (req.params as { id: string }).id;
          await visibleAccount(ctx, req, id);
          const a = await bdb.getAccountPlan(ctx.store, id);
          const plan = a === null ? null : await bdb.getPlan(ctx.store, a.planId);
          const period = monthOf(ctx.clock.now().getTime());
          const st = await bdb.getAllotmentState(ctx.store, id, period);
          return {
            account: id,
            assignment: a,
            plan: plan === null ? null : { ...plan.body, id: plan.id, kind: plan.kind },
            allotment:
              st === null
                ? null
                : {
                    period,
                    ...bdb.allotmentStateToJSON(st.state),
                    days: await bdb.listAllotmentDays(ctx.store, id, period),
                  },
            restriction: await bdb.getRestriction(ctx.store, id),
          };
        },
      );
      app.put(
        '/v1/accounts/:id/plan',
        { schema: { tags: ['billing'], summary: 'Put an account on a plan', params: IdParam, body: AssignPlanBody } },
        async (req) => {
          const p = principalOf(req);
          requireRole(p, ['operator']);
          const id = (req.params as { id: string }).id;
          const { planId } = req.body as typeof AssignPlanBody.static;
          if ((await db.getAccount(ctx.store, id)) === null)
            throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
          if ((await bdb.getPlan(ctx.store, planId)) === null)
            throw new HostfleetError('E_VALIDATION', `plan ${planId} does not exist`, {
              fields: [
                {
                  field: 'body.planId',
                  problem: `names no stored plan; create it with PUT /v1/billing/plans/${planId}`,
                },
              ],
            });
          return { assignment: await bdb.assignPlan(ctx.store, { accountId: id, planId, by: p.name }) };
        },
      );
      app.get(
        '/v1/accounts/:id/usage',
        {
          schema: {
            tags: ['billing'],
            summary: 'Metered usage of a period: server-minutes per role and level, RAM-hours, hits, connections',
            params: IdParam,
            querystring: BillingQuery,
          },
        },
        async (req) => {
          const id = (req.params as { id: string }).id;
          await visibleAccount(ctx, req, id);
          const q = queryOf(ctx, req);
          const plans = await loadPlans(ctx.store);
          const a = await bdb.getAccountPlan(ctx.store, id);
          const m = await meterAccount(ctx, id, monthPeriod(q.period, 'querystring.period'), q.atMs);
          return {
            ...usageJSON(id, m, a === null ? null : (plans.get(a.planId) ?? null)),
            restriction: await bdb.getRestriction(ctx.store, id),
          };
        },
      );
      app.get(
        '/v1/accounts/:id/invoice',
        {
          schema: {
            tags: ['billing'],
            summary: 'The invoice of a period (a draft while the period runs)',
            params: IdParam,
            querystring: BillingQuery,
          },
        },
        async (req) => {
          const id = (req.params as { id: string }).id;
          await visibleAccount(ctx, req, id);
          const q = queryOf(ctx, req);
          monthPeriod(q.period, 'querystring.period');
          const r = await computeInvoice(ctx, id, q.period, q.atMs, q.nowMs);
          return { ...invoiceToJSON(r.invoice), draft: r.draft, asOf: new Date(r.asOfMs).toISOString() };
        },
      );
      app.get(
        '/v1/accounts/:id/invoice.html',
        {
          schema: {
            tags: ['billing'],
            summary: 'The invoice of a period as a printable page',
            params: IdParam,
            querystring: BillingQuery,
          },
        },
        async (req, reply) => {
          const id = (req.params as { id: string }).id;
          await visibleAccount(ctx, req, id);
          const q = queryOf(ctx, req);
          monthPeriod(q.period, 'querystring.period');
          const r = await computeInvoice(ctx, id, q.period, q.atMs, q.nowMs);
          const html = renderInvoiceHtml(
            r.draft
              ? {
                  ...r.invoice,
                  notes: [
                    `Draft: usage up to ${new Date(r.asOfMs).toISOString()}; the period is not over.`,
                    ...r.invoice.notes,
                  ],
                }
              : r.invoice,
            { provider: ctx.cfg.billing.provider },
          );
          return reply
            .type('text/html; charset=utf-8')
            .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
            .send(html);
        },
      );
      app.post(
        '/v1/accounts/:id/payments',
        {
          schema: {
            tags: ['billing'],
            summary: 'Record the outcome of a day’s overage charge',
            params: IdParam,
            body: PaymentBody,
          },
        },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          const id = (req.params as { id: string }).id;
          const b = req.body as typeof PaymentBody.static;
          if (Number.isNaN(Date.parse(`${b.day}T00:00:00Z`)))
            throw new HostfleetError('E_VALIDATION', `day ${b.day} is not a date`, {
              fields: [{ field: 'body.day', problem: 'must be a calendar date YYYY-MM-DD' }],
            });
          if ((await db.getAccount(ctx.store, id)) === null)
            throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
          return recordPaymentOutcome(ctx.store, id, b.day, b.outcome);
        },
      );
      app.delete(
        '/v1/accounts/:id/restriction',
        { schema: { tags: ['billing'], summary: 'Lift a billing restriction', params: IdParam } },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          const id = (req.params as { id: string }).id;
          return { lifted: await bdb.clearRestriction(ctx.store, id) };
        },
      );
      app.get(
        '/v1/billing/restrictions',
        { schema: { tags: ['billing'], summary: 'Restrictions in force (cut-offs, failed payments)' } },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          return { restrictions: await bdb.listRestrictions(ctx.store) };
        },
      );
      app.post(
        '/v1/billing/meter',
        { schema: { tags: ['billing'], summary: 'Run one metering pass now' } },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          if (!ctx.isLeader())
            throw new HostfleetError('E_NOT_LEADER', 'this manager is a standby; meter on the active manager');
          return { pass: await meterOnce(ctx) };
        },
      );
    },

    async start() {
      const tick = (): void => {
        if (!ctx.isLeader()) return;
        busy = meterOnce(ctx).catch((e: unknown) =>
          ctx.log.warn({ err: e }, 'billing metering pass failed; the next pass repeats it'),
        );
      };
      timer = setInterval(tick, ctx.cfg.billing.meterIntervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await busy;
    },
  };
}
