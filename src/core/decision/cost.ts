/**
 * cost is the decision tick's price list: what an SLA-violating minute costs against a
 * server-hour. The operator states one price (violationCost, in server-hours per violating
 * minute, for a group of priority 0.5); each group's SLA priority scales it. From the price
 * the tick derives how sure it must be that a group has enough servers — the quantile level of
 * the group's demand it sizes for.
 *
 * Why a quantile: holding one more server for a minute costs 1/60 server-hour for certain;
 * holding one too few costs the violation price only if demand turns out above what the others
 * carry. Sizing to the level L = v / (v + 1/60), where v is the price of the minute, balances
 * the two at the margin (the newsvendor's critical fractile): a dearer minute asks for a higher
 * quantile and more servers, a cheaper one for fewer.
 */
/** CostModel is the operator's price of an SLA-violating minute. */
export interface CostModel {
  /** violationCost is the price of one SLA-violating minute in server-hours, for a group of priority 0.5. */
  readonly violationCost: number;
}

/**
 * DEFAULT_COST prices a violating minute at two server-hours: a group would rather hold two
 * extra servers for an hour than miss its SLA for a minute. Chosen on the early weeks of the
 * shipped traces (scenarios/traces.yaml), judged on the later ones (docs/DECISION.md).
 */
export const DEFAULT_COST: CostModel = { violationCost: 2 };

/** MAX_LEVEL bounds the level: past it the few errors a window holds cannot tell quantiles apart. */
export const MAX_LEVEL = 0.9999;

/** minutePrice is what one violating minute of a group of this priority costs, in server-hours. */
export function minutePrice(cost: CostModel, priority: number): number {
  return cost.violationCost * (0.5 + Math.min(1, Math.max(0, priority)));
}

/** levelFor is the quantile of demand a group of this priority is sized for: v / (v + 1/60), at most MAX_LEVEL. */
export function levelFor(cost: CostModel, priority: number): number {
  const v = minutePrice(cost, priority);
  return Math.min(MAX_LEVEL, v / (v + 1 / 60));
}
