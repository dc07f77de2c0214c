/**
 * allotment-plan holds the resource allotment plans of seed 003 and their validation: a price
 * for an allotment of GB RAM-hours and/or GB of data transfer per period, an overage rate per
 * unit, a cut-off threshold with its configured action, the limit of consecutive failed
 * overage payments and the fraction of an allotment at which the customer is warned.
 */
import { type FieldProblem, invalid } from '../errors.js';
import { type Currency, type Money, moneyFromMajor } from './money.js';
import { decimalField, type DecimalInput, planHeader } from './plan.js';
import { type Ratio, ZERO, cmp, ratio } from './ratio.js';

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
  readonly allotments: readonly {
    readonly resource: string;
    readonly included: DecimalInput;
    readonly overageRate: DecimalInput;
    readonly cutOffAt?: DecimalInput | null;
  }[];
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
  if (!Array.isArray(rawA) || rawA.length === 0)
    out.push({
      field: 'allotments',
      problem: `must be a non-empty list of { resource, included, overageRate, cutOffAt }; resources are ${ALLOTTED_RESOURCES.join(', ')}`,
    });
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
      if (!ALLOTTED_RESOURCES.includes(resource))
        out.push({ field: `${f}.resource`, problem: `must be one of ${ALLOTTED_RESOURCES.join(', ')}` });
      else if (seen.has(resource))
        out.push({ field: `${f}.resource`, problem: `${resource} is allotted twice; give each resource once` });
      seen.add(resource);
      const included = decimalField(out, `${f}.included`, r['included'], { min: ZERO });
      const overageRate = decimalField(out, `${f}.overageRate`, r['overageRate'], { min: ZERO });
      let cutOffAt: Ratio | null = null;
      if (r['cutOffAt'] !== undefined && r['cutOffAt'] !== null) {
        cutOffAt = decimalField(out, `${f}.cutOffAt`, r['cutOffAt'], { min: ZERO });
        if (cmp(cutOffAt, included) <= 0)
          out.push({
            field: `${f}.cutOffAt`,
            problem: 'must be above the allotment (it limits how much overage can accrue)',
          });
      }
      allotments.push({ resource, included, overageRate, cutOffAt });
    });
  }
  const cutOffAction = (p['cutOffAction'] ?? 'suspend') as CutOffAction;
  if (!CUT_OFF_ACTIONS.includes(cutOffAction))
    out.push({ field: 'cutOffAction', problem: `must be one of ${CUT_OFF_ACTIONS.join(', ')}` });
  const maxFail = p['maxConsecutivePaymentFailures'] ?? 3;
  if (typeof maxFail !== 'number' || !Number.isSafeInteger(maxFail) || maxFail < 1 || maxFail > 31)
    out.push({ field: 'maxConsecutivePaymentFailures', problem: 'must be a whole number of days from 1 to 31' });
  const notifyAtFraction = decimalField(out, 'notifyAtFraction', p['notifyAtFraction'] ?? '0.9', {
    min: ZERO,
    minExclusive: true,
  });
  if (cmp(notifyAtFraction, ratio(1)) > 0) out.push({ field: 'notifyAtFraction', problem: 'must be at most 1' });
  if (out.length > 0) throw invalid(out);
  return {
    kind: 'allotment',
    id: id as string,
    name: name as string,
    currency,
    price: moneyFromMajor(price, currency),
    allotments,
    cutOffAction,
    maxConsecutivePaymentFailures: maxFail as number,
    notifyAtFraction,
  };
}

/** allotmentOf returns the plan's allotment of a resource, or undefined. */
export function allotmentOf(plan: AllotmentPlan, resource: AllottedResource): Allotment | undefined {
  return plan.allotments.find((a) => a.resource === resource);
}
