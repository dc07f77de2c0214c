/**
 * allotment-projection projects usage over a period (seed 003) and compares the projection
 * with the plan: when it exceeds the plan, it names the cheapest plan of the catalogue that
 * covers it; the 'upgrade' cut-off action takes the next larger plan.
 */
import { type AllotmentPlan, type AllottedResource, ALLOTTED_RESOURCES, allotmentOf } from './allotment-plan.js';
import { MB_PER_GB } from './ram-hours.js';
import { type Ratio, ZERO, add, cmp, div, isZero, mul, ratio } from './ratio.js';

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
  readonly exceeds: readonly {
    readonly resource: AllottedResource;
    readonly projected: Ratio;
    readonly included: Ratio;
  }[];
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
export function recommendAllotmentPlan(
  plan: AllotmentPlan,
  projected: Partial<Record<AllottedResource, Ratio>>,
  catalogue: readonly AllotmentPlan[],
): PlanRecommendation {
  const exceeds = [];
  for (const r of ALLOTTED_RESOURCES) {
    const need = projected[r];
    if (need === undefined) continue;
    const included = allotmentOf(plan, r)?.included ?? ZERO;
    if (cmp(need, included) > 0) exceeds.push({ resource: r, projected: need, included });
  }
  if (exceeds.length === 0) return { exceeds, recommended: null };
  const fits = catalogue.filter((p) => p.currency === plan.currency && covers(p, projected));
  fits.sort((a, b) =>
    a.price.amountMinor < b.price.amountMinor
      ? -1
      : a.price.amountMinor > b.price.amountMinor
        ? 1
        : a.id < b.id
          ? -1
          : 1,
  );
  return { exceeds, recommended: fits[0] ?? null };
}

/**
 * nextLargerPlan returns the catalogue plan that allots the least more of `resource` than the
 * current plan (ties: cheaper first), or null — the target of the 'upgrade' cut-off action.
 */
export function nextLargerPlan(
  plan: AllotmentPlan,
  resource: AllottedResource,
  catalogue: readonly AllotmentPlan[],
): AllotmentPlan | null {
  const mine = allotmentOf(plan, resource)?.included ?? ZERO;
  const larger = catalogue.filter(
    (p) =>
      p.currency === plan.currency && p.id !== plan.id && cmp(allotmentOf(p, resource)?.included ?? ZERO, mine) > 0,
  );
  larger.sort(
    (a, b) =>
      cmp(allotmentOf(a, resource)?.included ?? ZERO, allotmentOf(b, resource)?.included ?? ZERO) ||
      (a.price.amountMinor < b.price.amountMinor ? -1 : a.price.amountMinor > b.price.amountMinor ? 1 : 0),
  );
  return larger[0] ?? null;
}

/** averagePerHour returns usage ÷ hours, the current rate used to re-project a period. */
export function averagePerHour(used: Ratio, hoursElapsed: number): Ratio {
  return hoursElapsed > 0 ? div(used, ratio(hoursElapsed)) : ZERO;
}
