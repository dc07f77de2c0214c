/**
 * context is what every policy sees of a run: the scenario, the demand, each customer's
 * ground-truth capacity table and SLA in flat arrays, and the policy's fleet.
 */
import type { CapacityTable } from './capacity.js';
import type { Fleet } from './fleet.js';
import type { Demand, PolicyName, Scenario } from './scenario.js';

/** SimContext is shared, read-only data of one run. */
export interface SimContext {
  readonly scenario: Scenario;
  readonly demand: Demand;
  readonly ticks: number;
  readonly tables: readonly CapacityTable[];
  readonly customerSite: Int32Array;
  readonly committed: Int32Array;
  readonly burst: Int32Array;
  readonly extended: Int32Array;
  readonly priority: Float64Array;
  /** peakNeed is the servers each customer needs at its peak rate over the run (static peak's size). */
  readonly peakNeed: Int32Array;
}

/** rateAt is customer c's rate at tick t (t ≥ −warmup). */
export function rateAt(ctx: SimContext, c: number, t: number): number {
  return (ctx.demand.rates[c] as Float64Array)[ctx.demand.warmup + t] as number;
}

/** Policy is one way of allocating servers, run tick by tick against its own fleet. */
export interface Policy {
  readonly name: PolicyName;
  /** init places the servers each customer holds before tick 0. */
  init(fleet: Fleet): void;
  /** tick decides at the start of tick t from what was measured up to t − 1; `hit` lists customers that lost a server this tick. */
  tick(fleet: Fleet, t: number, hit: readonly number[]): void;
}
