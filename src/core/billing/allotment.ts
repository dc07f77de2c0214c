/**
 * allotment holds the resource allotment plans of seed 003: a price for an allotment of
 * GB RAM-hours and/or GB of data transfer per period, projection of usage over the period,
 * daily overage billing at a price per unit, a cut-off threshold with its configured action,
 * counting of failed overage payments (three consecutive failures suspend), notification
 * near the allotment, and a plan recommendation when projected usage exceeds the plan.
 *
 * The daily process is a pure reducer: runAllotmentDay(plan, catalogue, state, day) returns
 * the next state, the day's charges and the actions for the manager to carry out. Running
 * the same day twice on the same state gives the same answer; the caller stores the state.
 * The plans themselves are allotment-plan.ts, projection and recommendation
 * allotment-projection.ts.
 */
import { HostfleetError } from '../errors.js';
import { type AllotmentPlan, type AllottedResource, type CutOffAction } from './allotment-plan.js';
import { nextLargerPlan } from './allotment-projection.js';
import { type InvoiceLine, feeLine, makeLine } from './line.js';
import { type Ratio, ZERO, add, cmp, isZero, max, mul, sub } from './ratio.js';

/** AllotmentState is what the daily process remembers between days of one period. */
export interface AllotmentState {
  readonly planId: string;
  /** used is the period's cumulative usage per resource. */
  readonly used: Readonly<Partial<Record<AllottedResource, Ratio>>>;
  /** overageBilled is the overage already charged per resource this period (never charged twice). */
  readonly overageBilled: Readonly<Partial<Record<AllottedResource, Ratio>>>;
  readonly consecutivePaymentFailures: number;
  /** restricted is the restriction in force ('suspend', 'throttle', 'lock-admin-only'), or null. */
  readonly restricted: Exclude<CutOffAction, 'upgrade'> | null;
  /** notified lists resources already warned about this period (warn once). */
  readonly notified: readonly AllottedResource[];
  /** lastDay is the last day processed (YYYY-MM-DD), so a day is never processed twice. */
  readonly lastDay: string | null;
}

/** initialAllotmentState is the state at the start of a period on a plan. */
export function initialAllotmentState(plan: AllotmentPlan): AllotmentState {
  return {
    planId: plan.id,
    used: {},
    overageBilled: {},
    consecutivePaymentFailures: 0,
    restricted: null,
    notified: [],
    lastDay: null,
  };
}

/** ALLOTMENT_ACTION_KINDS are the actions the daily process asks the manager to carry out. */
export const ALLOTMENT_ACTION_KINDS = ['notify', 'restrict', 'upgrade'] as const;

/** AllotmentAction is one action, with the structured reason behind it. */
export type AllotmentAction =
  | {
      readonly kind: 'notify';
      readonly reason: 'near-allotment' | 'over-allotment';
      readonly resource: AllottedResource;
      readonly used: Ratio;
      readonly included: Ratio;
    }
  | {
      readonly kind: 'restrict';
      readonly action: Exclude<CutOffAction, 'upgrade'>;
      readonly reason: 'cut-off-threshold' | 'payment-failures' | 'no-larger-plan';
      readonly resource: AllottedResource | null;
    }
  | { readonly kind: 'upgrade'; readonly from: string; readonly to: string; readonly resource: AllottedResource };

/** AllotmentDay is one day's metered usage per resource. */
export interface AllotmentDay {
  readonly date: string;
  readonly usage: Readonly<Partial<Record<AllottedResource, Ratio>>>;
}

/** AllotmentDayResult is the outcome of one day: next state (and plan), charges, actions. */
export interface AllotmentDayResult {
  readonly state: AllotmentState;
  readonly plan: AllotmentPlan;
  readonly charges: readonly InvoiceLine[];
  readonly actions: readonly AllotmentAction[];
}

const UNIT: Readonly<Record<AllottedResource, 'GB RAM-hour' | 'GB'>> = {
  'ram-gb-hours': 'GB RAM-hour',
  'transfer-gb': 'GB',
};
const WORD: Readonly<Record<AllottedResource, string>> = {
  'ram-gb-hours': 'RAM-hours',
  'transfer-gb': 'data transfer',
};

/**
 * runAllotmentDay is the daily overage process of seed 003. For each allotted resource:
 * add the day's usage; the day's overage is what lies beyond allotment + overage already
 * billed, charged at the overage rate (400 GB·h plan, 60 over on one day → 60.00, 40 the next
 * → 40.00); warn once near the allotment; and if usage reached the cut-off, carry out the
 * plan's cut-off action — restrict, or upgrade to the next larger plan (its larger allotment
 * applies from the next day; without one, suspend). The consumed overage of the cut-off day
 * is still charged: usage is never lost, the cut-off stops more from accruing.
 */
export function runAllotmentDay(
  plan: AllotmentPlan,
  catalogue: readonly AllotmentPlan[],
  state: AllotmentState,
  day: AllotmentDay,
): AllotmentDayResult {
  if (state.planId !== plan.id)
    throw new HostfleetError(
      'E_CONFLICT',
      `allotment state is for plan ${state.planId}, not ${plan.id}; pass the plan the state was saved with`,
    );
  if (state.lastDay !== null && day.date <= state.lastDay) {
    // Re-running a processed day (failover) changes nothing.
    return { state, plan, charges: [], actions: [] };
  }
  const used: Partial<Record<AllottedResource, Ratio>> = { ...state.used };
  const billed: Partial<Record<AllottedResource, Ratio>> = { ...state.overageBilled };
  const notified = [...state.notified];
  const charges: InvoiceLine[] = [];
  const actions: AllotmentAction[] = [];
  let restricted = state.restricted;
  let nextPlan = plan;
  for (const a of plan.allotments) {
    const r = a.resource;
    const u = add(used[r] ?? ZERO, day.usage[r] ?? ZERO);
    used[r] = u;
    const already = billed[r] ?? ZERO;
    const over = max(sub(u, add(a.included, already)), ZERO);
    if (!isZero(over)) {
      billed[r] = add(already, over);
      charges.push(
        makeLine(plan.currency, {
          kind: 'overage',
          description: `${WORD[r]} overage on ${day.date} beyond the ${plan.name} allotment`,
          resource: r,
          date: day.date,
          quantity: over,
          unit: UNIT[r],
          rate: a.overageRate,
        }),
      );
    }
    if (!notified.includes(r) && cmp(u, mul(a.included, plan.notifyAtFraction)) >= 0) {
      notified.push(r);
      actions.push({
        kind: 'notify',
        reason: cmp(u, a.included) > 0 ? 'over-allotment' : 'near-allotment',
        resource: r,
        used: u,
        included: a.included,
      });
    }
    if (a.cutOffAt !== null && restricted === null && nextPlan === plan && cmp(u, a.cutOffAt) >= 0) {
      if (plan.cutOffAction !== 'upgrade') {
        restricted = plan.cutOffAction;
        actions.push({ kind: 'restrict', action: plan.cutOffAction, reason: 'cut-off-threshold', resource: r });
      } else {
        const larger = nextLargerPlan(plan, r, catalogue);
        if (larger === null) {
          restricted = 'suspend';
          actions.push({ kind: 'restrict', action: 'suspend', reason: 'no-larger-plan', resource: r });
        } else {
          nextPlan = larger;
          actions.push({ kind: 'upgrade', from: plan.id, to: larger.id, resource: r });
        }
      }
    }
  }
  const next: AllotmentState = {
    planId: nextPlan.id,
    used,
    overageBilled: billed,
    consecutivePaymentFailures: state.consecutivePaymentFailures,
    restricted,
    notified,
    lastDay: day.date,
  };
  return { state: next, plan: nextPlan, charges, actions };
}

/** PAYMENT_OUTCOMES are the results of charging a day's overage. */
export const PAYMENT_OUTCOMES = ['paid', 'failed'] as const;
/** PaymentOutcome is one of PAYMENT_OUTCOMES. */
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];

/**
 * recordPayment counts failed overage charges: a success resets the count, a failure adds
 * one, and reaching the plan's limit of consecutive failures (three by default, seed 003:
 * "three consecutive days of nonpayment") suspends the configuration.
 */
export function recordPayment(
  plan: AllotmentPlan,
  state: AllotmentState,
  outcome: PaymentOutcome,
): { readonly state: AllotmentState; readonly actions: readonly AllotmentAction[] } {
  if (outcome === 'paid') return { state: { ...state, consecutivePaymentFailures: 0 }, actions: [] };
  const failures = state.consecutivePaymentFailures + 1;
  if (failures >= plan.maxConsecutivePaymentFailures && state.restricted !== 'suspend') {
    return {
      state: { ...state, consecutivePaymentFailures: failures, restricted: 'suspend' },
      actions: [{ kind: 'restrict', action: 'suspend', reason: 'payment-failures', resource: null }],
    };
  }
  return { state: { ...state, consecutivePaymentFailures: failures }, actions: [] };
}

/** AllotmentPeriodRating is a whole period run day by day: lines for the invoice, actions, final state. */
export interface AllotmentPeriodRating {
  readonly lines: readonly InvoiceLine[];
  readonly actions: readonly { readonly date: string; readonly action: AllotmentAction }[];
  readonly state: AllotmentState;
  /** plan is the plan in force at the end of the period (after any upgrade). */
  readonly plan: AllotmentPlan;
}

/**
 * rateAllotmentPeriod runs the daily process over every day of a period and returns the
 * invoice lines: the price of the plan in force at the end (an upgrade applies to the whole
 * period, as choosing a larger plan does in seed 003) and every daily overage charge.
 * payments gives the outcome of each day's overage charge, when known.
 */
export function rateAllotmentPeriod(
  plan: AllotmentPlan,
  catalogue: readonly AllotmentPlan[],
  days: readonly AllotmentDay[],
  payments: Readonly<Record<string, PaymentOutcome>> = {},
): AllotmentPeriodRating {
  let state = initialAllotmentState(plan);
  let current = plan;
  const overage: InvoiceLine[] = [];
  const actions: { date: string; action: AllotmentAction }[] = [];
  for (const d of days) {
    const r = runAllotmentDay(current, catalogue, state, d);
    state = r.state;
    current = r.plan;
    overage.push(...r.charges);
    for (const a of r.actions) actions.push({ date: d.date, action: a });
    const outcome = payments[d.date];
    if (outcome !== undefined && r.charges.length > 0) {
      const p = recordPayment(current, state, outcome);
      state = p.state;
      for (const a of p.actions) actions.push({ date: d.date, action: a });
    }
  }
  const lines = [feeLine('plan', `${current.name} plan`, current.price, { resource: current.id }), ...overage];
  return { lines, actions, state, plan: current };
}
