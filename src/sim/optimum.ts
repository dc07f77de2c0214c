/**
 * optimum is the clairvoyant lower bound: it knows every customer's future demand and holds, at
 * every tick, exactly the servers the next `lead` ticks will need, where lead is the shortest
 * join a server can make (a warm boot) — so it still pays a boot delay before each server it
 * adds. It ignores the fleet's size, failures and SLA floors, and never violates the SLA.
 *
 * Why it is a bound: if a policy meets a customer's SLA at every tick of [t, t + lead], every
 * server active in that window was already held at t (a join takes at least `lead` ticks), so
 * the policy held at least max(need over the window) servers at t — what the optimum holds.
 */
import { serversNeeded } from './capacity.js';
import type { CapacityTable } from './capacity.js';
import type { SimContext } from './context.js';
import { moveSeconds } from './move-time.js';
import type { CustomerMetrics, PolicyResult } from './run.js';

/** optimumLeadTicks is the optimum's look-ahead: the warm join in ticks (at least 1). */
export function optimumLeadTicks(ctx: SimContext): number {
  const s = ctx.scenario;
  return Math.max(1, Math.ceil(moveSeconds(s.server, null, 'g', true) / s.tickSeconds - 1e-9));
}

/** optimumAllocation computes the optimum's per-tick holdings and figures. */
export function optimumAllocation(ctx: SimContext, charts: readonly number[]): PolicyResult {
  const t0 = performance.now();
  const s = ctx.scenario;
  const ticks = ctx.ticks;
  const lead = optimumLeadTicks(ctx);
  const powered = new Float32Array(ticks);
  const chart = charts.map(() => new Float32Array(ticks));
  const need = new Int32Array(ticks + lead);
  const customers: CustomerMetrics[] = [];
  let moves = 0;
  const hours = s.tickSeconds / 3600;
  for (let c = 0; c < s.customers.length; c++) {
    const rates = ctx.demand.rates[c] as Float64Array;
    const table = ctx.tables[c] as CapacityTable;
    for (let t = 0; t < ticks + lead; t++)
      need[t] = t < ticks ? serversNeeded(table, rates[ctx.demand.warmup + t] as number) : 0;
    let sum = 0;
    let prev = 0;
    for (let t = 0; t < ticks; t++) {
      let h = 0;
      for (let k = 0; k <= lead && t + k < ticks; k++) if ((need[t + k] as number) > h) h = need[t + k] as number;
      sum += h;
      powered[t] = (powered[t] as number) + h;
      if (t > 0 && h > prev) moves += h - prev;
      prev = h;
      const ci = charts.indexOf(c);
      if (ci >= 0) (chart[ci] as Float32Array)[t] = need[t] as number;
    }
    customers.push({
      id: (s.customers[c] as (typeof s.customers)[number]).id,
      serverHours: sum * hours,
      violationMinutes: 0,
      revenue: null,
    });
  }
  let sh = 0;
  let peak = 0;
  for (let t = 0; t < ticks; t++) {
    sh += powered[t] as number;
    if ((powered[t] as number) > peak) peak = powered[t] as number;
  }
  return {
    policy: 'optimum',
    serverHours: sh * hours,
    violationMinutes: 0,
    moves,
    crossSiteMoves: 0,
    releases: 0,
    failures: 0,
    revenue: null,
    peakPowered: peak,
    customers,
    powered,
    pool: new Float32Array(ticks),
    violating: new Float32Array(ticks),
    chart,
    conservationErrors: [],
    wallMs: performance.now() - t0,
  };
}
