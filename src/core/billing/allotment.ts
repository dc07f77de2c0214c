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
 */
import { type FieldProblem, HostfleetError, invalid } from '../errors.js';
import { type InvoiceLine, feeLine, makeLine } from './line.js';
import { MB_PER_GB } from './meter.js';
import { type Currency, type Money, moneyFromMajor } from './money.js';
import { decimalField, type DecimalInput, planHeader } from './plan.js';
import { type Ratio, ZERO, add, cmp, div, isZero, max, mul, ratio, sub } from './ratio.js';

/** ALLOTTED_RESOURCES are what a plan allots: memory over time, and data transferred. */
export const ALLOTTED_RESOURCES = ['ram-gb-hours', 'transfer-gb'] as const;
/** AllottedResource is one of ALLOTTED_RESOURCES. */
export type AllottedResource = (typeof ALLOTTED_RESOURCES)[number];

/**
 * CUT_OFF_ACTIONS are what the cut-off does (seed 003): suspend the configuration, throttle
 * it to a minimum set of resources, lock the administrative controls only (it keeps
 * running), or upgrade to the next larger plan instead of billing more overage.
 */
export const CUT_OFF_ACTIONS = ['suspend', 'throttle', 'lock-admin-only', 'upgrade'] as const;
/** CutOffAction is one of CUT_OFF_ACTIONS. */
export type CutOffAction = (typeof CUT_OFF_ACTIONS)[number];

/** Allotment is one allotted resource of a plan. */
export interface Allotment {
  readonly resource: AllottedResource;
  /** included is the allotment per period (GB RAM-hours or GB). */
  readonly included: Ratio;
  /** overageRate is the price per unit beyond the allotment, in major units. */
  readonly overageRate: Ratio;
  /** cutOffAt is the period usage at which the cut-off action fires, or null for none. */
  readonly cutOffAt: Ratio | null;
}

/** AllotmentPlan is a validated resource allotment plan. */
export interface AllotmentPlan {
  readonly kind: 'allotment';
  readonly id: string;
  readonly name: string;
  readonly currency: Currency;
  readonly price: Money;
  readonly allotments: readonly Allotment[];
  readonly cutOffAction: CutOffAction;
  /** maxConsecutivePaymentFailures suspends at this many failed overage charges in a row (3). */
  readonly maxConsecutivePaymentFailures: number;
  /** notifyAtFraction warns once when usage reaches this fraction of an allotment (e.g. 0.9). */
  readonly notifyAtFraction: Ratio;
}

/** AllotmentPlanInput is the raw form of AllotmentPlan. */
export interface AllotmentPlanInput {
  readonly id: string;
  readonly name?: string;
  readonly currency: string;
  readonly price: DecimalInput;
  readonly allotments: readonly { readonly resource: string; readonly included: DecimalInput; readonly overageRate: DecimalInput; readonly cutOffAt?: DecimalInput | null }[];
  readonly cutOffAction?: string;
  readonly maxConsecutivePaymentFailures?: number;
  readonly notifyAtFraction?: DecimalInput;
}

/** parseAllotmentPlan validates a raw plan, or throws E_VALIDATION naming every bad field. */
export function parseAllotmentPlan(raw: unknown): AllotmentPlan {
  const out: FieldProblem[] = [];
  const { p, id, name, currency } = planHeader(raw, out);
  const price = decimalField(out, 'price', p['price'], { min: ZERO });
  const allotments: Allotment[] = [];
  const rawA = p['allotments'];
  if (!Array.isArray(rawA) || rawA.length === 0) out.push({ field: 'allotments', problem: `must be a non-empty list of { resource, included, overageRate, cutOffAt }; resources are ${ALLOTTED_RESOURCES.join(', ')}` });
  else {
    const seen = new Set<string>();
    rawA.forEach((a: unknown, i) => {
      const f = `allotments[${i}]`;
      if (typeof a !== 'object' || a === null) {
        out.push({ field: f, problem: 'must be an object { resource, included, overageRate, cutOffAt }' });
        return;
      }
      const r = a as Record<string, unknown>;
      const resource = r['resource'] as AllottedResource;
      if (!ALLOTTED_RESOURCES.includes(resource)) out.push({ field: `${f}.resource`, problem: `must be one of ${ALLOTTED_RESOURCES.join(', ')}` });
      else if (seen.has(resource)) out.push({ field: `${f}.resource`, problem: `${resource} is allotted twice; give each resource once` });
      seen.add(resource);
      const included = decimalField(out, `${f}.included`, r['included'], { min: ZERO });
      const overageRate = decimalField(out, `${f}.overageRate`, r['overageRate'], { min: ZERO });
      let cutOffAt: Ratio | null = null;
      if (r['cutOffAt'] !== undefined && r['cutOffAt'] !== null) {
        cutOffAt = decimalField(out, `${f}.cutOffAt`, r['cutOffAt'], { min: ZERO });
        if (cmp(cutOffAt, included) <= 0) out.push({ field: `${f}.cutOffAt`, problem: 'must be above the allotment (it limits how much overage can accrue)' });
      }
      allotments.push({ resource, included, overageRate, cutOffAt });
    });
  }
  const cutOffAction = (p['cutOffAction'] ?? 'suspend') as CutOffAction;
  if (!CUT_OFF_ACTIONS.includes(cutOffAction)) out.push({ field: 'cutOffAction', problem: `must be one of ${CUT_OFF_ACTIONS.join(', ')}` });
  const maxFail = p['maxConsecutivePaymentFailures'] ?? 3;
  if (typeof maxFail !== 'number' || !Number.isSafeInteger(maxFail) || maxFail < 1 || maxFail > 31) out.push({ field: 'maxConsecutivePaymentFailures', problem: 'must be a whole number of days from 1 to 31' });
  const notifyAtFraction = decimalField(out, 'notifyAtFraction', p['notifyAtFraction'] ?? '0.9', { min: ZERO, minExclusive: true });
  if (cmp(notifyAtFraction, ratio(1)) > 0) out.push({ field: 'notifyAtFraction', problem: 'must be at most 1' });
  if (out.length > 0) throw invalid(out);
  return { kind: 'allotment', id: id as string, name: name as string, currency, price: moneyFromMajor(price, currency), allotments, cutOffAction, maxConsecutivePaymentFailures: maxFail as number, notifyAtFraction };
}

/** allotmentOf returns the plan's allotment of a resource, or undefined. */
export function allotmentOf(plan: AllotmentPlan, resource: AllottedResource): Allotment | undefined {
  return plan.allotments.find((a) => a.resource === resource);
}

/**
 * projectRamGbHours projects RAM-hours over a period from the memory configured for each
 * component: Σ ramMb / 1024 × hours. Seed 003: web servers of 512 MB, 1 GB and 1.5 GB make
 * 3 GB, × 720 hours of a month = 2160 GB RAM-hours.
 */
export function projectRamGbHours(componentsRamMb: readonly number[], hours: number | Ratio): Ratio {
  const mb = componentsRamMb.reduce((s, v) => s + BigInt(v), 0n);
  return mul(ratio(mb, MB_PER_GB), typeof hours === 'number' ? ratio(hours) : hours);
}

/**
 * projectRemaining re-projects the period after a change of plan or configuration (seed 003):
 * what was used so far plus the current rate (units per hour) over the hours that remain.
 */
export function projectRemaining(usedSoFar: Ratio, ratePerHour: Ratio, hoursRemaining: number | Ratio): Ratio {
  return add(usedSoFar, mul(ratePerHour, typeof hoursRemaining === 'number' ? ratio(hoursRemaining) : hoursRemaining));
}

/** PlanRecommendation is the outcome of comparing projected usage with a plan. */
export interface PlanRecommendation {
  /** exceeds lists each resource whose projection is above the current plan's allotment. */
  readonly exceeds: readonly { readonly resource: AllottedResource; readonly projected: Ratio; readonly included: Ratio }[];
  /** recommended is the cheapest catalogue plan that covers every projection, or null. */
  readonly recommended: AllotmentPlan | null;
}

function covers(plan: AllotmentPlan, projected: Partial<Record<AllottedResource, Ratio>>): boolean {
  return ALLOTTED_RESOURCES.every((r) => {
    const need = projected[r];
    if (need === undefined || isZero(need)) return true;
    const a = allotmentOf(plan, r);
    return a !== undefined && cmp(a.included, need) >= 0;
  });
}

/**
 * recommendAllotmentPlan compares projected usage with the plan and, when it exceeds it,
 * names the cheapest plan of the catalogue whose allotments cover the projection (seed 003:
 * "recommends that the user select a resource allotment plan that more effectively meets the
 * user's desired capacity"; "if the projected usage for data transfer is about 10 GB … a plan
 * that includes at least 10 GB").
 */
export function recommendAllotmentPlan(plan: AllotmentPlan, projected: Partial<Record<AllottedResource, Ratio>>, catalogue: readonly AllotmentPlan[]): PlanRecommendation {
  const exceeds = [];
  for (const r of ALLOTTED_RESOURCES) {
    const need = projected[r];
    if (need === undefined) continue;
    const included = allotmentOf(plan, r)?.included ?? ZERO;
    if (cmp(need, included) > 0) exceeds.push({ resource: r, projected: need, included });
  }
  if (exceeds.length === 0) return { exceeds, recommended: null };
  const fits = catalogue.filter((p) => p.currency === plan.currency && covers(p, projected));
  fits.sort((a, b) => (a.price.amountMinor < b.price.amountMinor ? -1 : a.price.amountMinor > b.price.amountMinor ? 1 : a.id < b.id ? -1 : 1));
  return { exceeds, recommended: fits[0] ?? null };
}

/**
 * nextLargerPlan returns the catalogue plan that allots the least more of `resource` than the
 * current plan (ties: cheaper first), or null — the target of the 'upgrade' cut-off action.
 */
export function nextLargerPlan(plan: AllotmentPlan, resource: AllottedResource, catalogue: readonly AllotmentPlan[]): AllotmentPlan | null {
  const mine = allotmentOf(plan, resource)?.included ?? ZERO;
  const larger = catalogue.filter((p) => p.currency === plan.currency && p.id !== plan.id && cmp(allotmentOf(p, resource)?.included ?? ZERO, mine) > 0);
  larger.sort((a, b) => cmp(allotmentOf(a, resource)?.included ?? ZERO, allotmentOf(b, resource)?.included ?? ZERO) || (a.price.amountMinor < b.price.amountMinor ? -1 : a.price.amountMinor > b.price.amountMinor ? 1 : 0));
  return larger[0] ?? null;
}

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
  return { planId: plan.id, used: {}, overageBilled: {}, consecutivePaymentFailures: 0, restricted: null, notified: [], lastDay: null };
}

/** ALLOTMENT_ACTION_KINDS are the actions the daily process asks the manager to carry out. */
export const ALLOTMENT_ACTION_KINDS = ['notify', 'restrict', 'upgrade'] as const;

/** AllotmentAction is one action, with the structured reason behind it. */
export type AllotmentAction =
  | { readonly kind: 'notify'; readonly reason: 'near-allotment' | 'over-allotment'; readonly resource: AllottedResource; readonly used: Ratio; readonly included: Ratio }
  | { readonly kind: 'restrict'; readonly action: Exclude<CutOffAction, 'upgrade'>; readonly reason: 'cut-off-threshold' | 'payment-failures' | 'no-larger-plan'; readonly resource: AllottedResource | null }
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

const UNIT: Readonly<Record<AllottedResource, 'GB RAM-hour' | 'GB'>> = { 'ram-gb-hours': 'GB RAM-hour', 'transfer-gb': 'GB' };
const WORD: Readonly<Record<AllottedResource, string>> = { 'ram-gb-hours': 'RAM-hours', 'transfer-gb': 'data transfer' };

/**
 * runAllotmentDay is the daily overage process of seed 003. For each allotted resource:
 * add the day's usage; the day's overage is what lies beyond allotment + overage already
 * billed, charged at the overage rate (400 GB·h plan, 60 over on one day → 60.00, 40 the next
 * → 40.00); warn once near the allotment; and if usage reached the cut-off, carry out the
 * plan's cut-off action — restrict, or upgrade to the next larger plan (its larger allotment
 * applies from the next day; without one, suspend). The consumed overage of the cut-off day
 * is still charged: usage is never lost, the cut-off stops more from accruing.
 */
export function runAllotmentDay(plan: AllotmentPlan, catalogue: readonly AllotmentPlan[], state: AllotmentState, day: AllotmentDay): AllotmentDayResult {
  if (state.planId !== plan.id) throw new HostfleetError('E_CONFLICT', `allotment state is for plan ${state.planId}, not ${plan.id}; pass the plan the state was saved with`);
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
      charges.push(makeLine(plan.currency, { kind: 'overage', description: `${WORD[r]} overage on ${day.date} beyond the ${plan.name} allotment`, resource: r, date: day.date, quantity: over, unit: UNIT[r], rate: a.overageRate }));
    }
    if (!notified.includes(r) && cmp(u, mul(a.included, plan.notifyAtFraction)) >= 0) {
      notified.push(r);
      actions.push({ kind: 'notify', reason: cmp(u, a.included) > 0 ? 'over-allotment' : 'near-allotment', resource: r, used: u, included: a.included });
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
  const next: AllotmentState = { planId: nextPlan.id, used, overageBilled: billed, consecutivePaymentFailures: state.consecutivePaymentFailures, restricted, notified, lastDay: day.date };
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
export function recordPayment(plan: AllotmentPlan, state: AllotmentState, outcome: PaymentOutcome): { readonly state: AllotmentState; readonly actions: readonly AllotmentAction[] } {
  if (outcome === 'paid') return { state: { ...state, consecutivePaymentFailures: 0 }, actions: [] };
  const failures = state.consecutivePaymentFailures + 1;
  if (failures >= plan.maxConsecutivePaymentFailures && state.restricted !== 'suspend') {
    return { state: { ...state, consecutivePaymentFailures: failures, restricted: 'suspend' }, actions: [{ kind: 'restrict', action: 'suspend', reason: 'payment-failures', resource: null }] };
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
export function rateAllotmentPeriod(plan: AllotmentPlan, catalogue: readonly AllotmentPlan[], days: readonly AllotmentDay[], payments: Readonly<Record<string, PaymentOutcome>> = {}): AllotmentPeriodRating {
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

/** averagePerHour returns usage ÷ hours, the current rate used to re-project a period. */
export function averagePerHour(used: Ratio, hoursElapsed: number): Ratio {
  return hoursElapsed > 0 ? div(used, ratio(hoursElapsed)) : ZERO;
}
