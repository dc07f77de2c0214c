/**
 * optimum holds the simulator's two clairvoyant references, computed rather than simulated.
 * Both know every customer's future demand, ignore the fleet's size, failures and SLA floors,
 * and never violate the SLA.
 *
 * `optimum` holds, at every tick, exactly the servers the next `lead` ticks will need, where
 * lead is the shortest join a server can make (a warm boot) — so it still pays a boot delay
 * before each server it adds, but nothing for a server it lets go. Why it is a bound: if a
 * policy meets a customer's SLA at every tick of [t, t + lead], every server active in that
 * window was already held at t (a join takes at least `lead` ticks), so the policy held at
 * least max(need over the window) servers at t — what the optimum holds.
 *
 * `optimum-cold` adds every server from the cold pool: it starts each join a cold join
 * (reset + cold boot) ahead and counts the server powered while it boots, and counts a released
 * server powered while it drains and powers off, as the fleet counts leaving servers. So an idle
 * spell is worth bridging when it is no longer than a join plus a release, and it chooses,
 * level by level, the cheaper of the two (see clairvoyantActive). Why it is a bound for a policy
 * whose servers join from the cold pool and go back to it by release (static, HPA), in a fleet
 * without failures: count that policy's powered servers by customer. Each rise of a customer's
 * active count is a join that was powered for at least a cold join before it served, each fall
 * a release powered for a release after, and its active count never falls below the need (it
 * meets the SLA); so it pays at least the cost of some active profile above the need, and
 * optimum-cold pays the least of those. A failure ends a server's powered time without a
 * release, and a warm join (from a warm pool) or a move straight from one group to another
 * (no power-off between) is cheaper than a release plus a cold join: hostfleet does both, so
 * it can come in below optimum-cold; `optimum` still bounds it.
 */
import { serversNeeded } from './capacity.js';
import type { CapacityTable } from './capacity.js';
import type { SimContext } from './context.js';
import { moveSeconds } from './move-time.js';
import type { CustomerMetrics, PolicyResult } from './run.js';
import type { PolicyName, Scenario } from './scenario.js';

/** BOUNDS are the computed references among the policies, tightest last. */
export const BOUNDS = ['optimum', 'optimum-cold'] as const satisfies readonly PolicyName[];
/** BoundName is one of BOUNDS. */
export type BoundName = (typeof BOUNDS)[number];

/** BOUND_NOTES are each bound's label and one-line explanation, as the summary and report show them. */
export const BOUND_NOTES: Readonly<Record<BoundName, { readonly label: string; readonly note: string }>> = {
  optimum: {
    label: 'clairvoyant, warm boots',
    note: 'knows the future; holds what the next warm-boot interval needs; releases cost nothing; bounds every policy that meets the SLA',
  },
  'optimum-cold': {
    label: 'clairvoyant, cold boots',
    note: 'knows the future; every server joins from the cold pool (powered while it boots) and is powered while it drains and powers off; bounds every policy that joins from the cold pool and releases to it',
  },
};

/** isBound says whether a policy is computed (a bound) rather than simulated. */
export function isBound(p: PolicyName): p is BoundName {
  return (BOUNDS as readonly PolicyName[]).includes(p);
}

const ticksOfSeconds = (seconds: number, tickSeconds: number) => Math.max(1, Math.ceil(seconds / tickSeconds - 1e-9));

/** optimumLeadTicks is the optimum's look-ahead: the warm join in ticks (at least 1). */
export function optimumLeadTicks(ctx: SimContext): number {
  const s = ctx.scenario;
  return ticksOfSeconds(moveSeconds(s.server, null, 'g', true), s.tickSeconds);
}

/** coldTicks are optimum-cold's join from the cold pool and release to it, in ticks, as the fleet times them. */
export function coldTicks(s: Pick<Scenario, 'server' | 'tickSeconds'>): {
  readonly join: number;
  readonly release: number;
} {
  return {
    join: ticksOfSeconds(moveSeconds(s.server, null, 'g'), s.tickSeconds),
    release: ticksOfSeconds(moveSeconds(s.server, 'a', null), s.tickSeconds),
  };
}

/** Holdings are one customer's figures under a bound, per tick. */
export interface Holdings {
  /** held is active + joining (a customer's server-hours); powered adds the leaving servers. */
  readonly held: Int32Array;
  readonly powered: Int32Array;
  /** active is what serves; never below the need. */
  readonly active: Int32Array;
  readonly joins: number;
  readonly releases: number;
}

/** warmHoldings are the optimum's: at t, the most the ticks t … t + lead need. */
export function warmHoldings(need: ArrayLike<number>, lead: number): Holdings {
  const ticks = need.length;
  const held = new Int32Array(ticks);
  let joins = 0;
  let prev = 0;
  for (let t = 0; t < ticks; t++) {
    let h = 0;
    for (let k = 0; k <= lead && t + k < ticks; k++) if ((need[t + k] as number) > h) h = need[t + k] as number;
    held[t] = h;
    if (t > 0 && h > prev) joins += h - prev;
    prev = h;
  }
  return { held, powered: held, active: Int32Array.from(need), joins, releases: 0 };
}

/**
 * clairvoyantActive is the cheapest active profile a(t) ≥ need(t) when each server added costs
 * `join` powered ticks before it serves and each one released `release` powered ticks after.
 * Cost adds up level by level (a(t) ≥ j for each j), so each level is chosen alone: a gap
 * between two ticks that need level j is bridged (idle but active) when it lasts at most
 * join + release ticks, else released and joined again; a level first needed within `join`
 * ticks of the start is placed at tick 0, as the policies place their first servers (it could
 * not join in time, or joining costs as much as waiting). After its last need a level is
 * released. Bridged gaps at level j + 1 lie within bridged gaps at level j, so the levels stack.
 */
export function clairvoyantActive(need: ArrayLike<number>, join: number, release: number): Int32Array {
  const ticks = need.length;
  const span = join + release;
  const a = new Int32Array(ticks);
  for (let t = 0; t < ticks; t++) {
    let h = need[t] as number;
    // the start: what any tick up to `join` needs is already placed
    if (t < join) for (let q = t + 1; q <= join && q < ticks; q++) if ((need[q] as number) > h) h = need[q] as number;
    // a gap (p, q) around t with q − p − 1 ≤ span bridges min(need p, need q); right grows as p moves away
    let right = 0;
    for (let i = span; i >= 1; i--) {
      const q = t + span + 1 - i;
      if (q < ticks && (need[q] as number) > right) right = need[q] as number;
      const p = t - i;
      if (p >= 0) {
        const m = Math.min(need[p] as number, right);
        if (m > h) h = m;
      }
    }
    a[t] = h;
  }
  return a;
}

/** coldHoldings are optimum-cold's: the active profile, the joins booting before it rises and the releases after it falls. */
export function coldHoldings(need: ArrayLike<number>, join: number, release: number): Holdings {
  const ticks = need.length;
  const active = clairvoyantActive(need, join, release);
  const held = Int32Array.from(active);
  const powered = Int32Array.from(active);
  let joins = 0;
  let releases = 0;
  for (let t = 1; t < ticks; t++) {
    const d = (active[t] as number) - (active[t - 1] as number);
    // a rise at t joined at t − join (≥ 0: clairvoyantActive places what cannot join in time at tick 0)
    if (d > 0) {
      joins += d;
      for (let k = t - join; k < t; k++) {
        held[k] = (held[k] as number) + d;
        powered[k] = (powered[k] as number) + d;
      }
    } else if (d < 0) {
      releases -= d;
      for (let k = t; k < t + release && k < ticks; k++) powered[k] = (powered[k] as number) - d;
    }
  }
  return { held, powered, active, joins, releases };
}

/** boundAllocation computes a bound's per-tick holdings and figures. */
export function boundAllocation(name: BoundName, ctx: SimContext, charts: readonly number[]): PolicyResult {
  const t0 = performance.now();
  const s = ctx.scenario;
  const ticks = ctx.ticks;
  const lead = optimumLeadTicks(ctx);
  const cold = coldTicks(s);
  const powered = new Float32Array(ticks);
  const chart = charts.map(() => new Float32Array(ticks));
  const need = new Int32Array(ticks);
  const customers: CustomerMetrics[] = [];
  let moves = 0;
  let releases = 0;
  const hours = s.tickSeconds / 3600;
  for (let c = 0; c < s.customers.length; c++) {
    const rates = ctx.demand.rates[c] as Float64Array;
    const table = ctx.tables[c] as CapacityTable;
    for (let t = 0; t < ticks; t++) need[t] = serversNeeded(table, rates[ctx.demand.warmup + t] as number);
    const h = name === 'optimum' ? warmHoldings(need, lead) : coldHoldings(need, cold.join, cold.release);
    let sum = 0;
    for (let t = 0; t < ticks; t++) {
      sum += h.held[t] as number;
      powered[t] = (powered[t] as number) + (h.powered[t] as number);
    }
    moves += h.joins;
    releases += h.releases;
    const ci = charts.indexOf(c);
    if (ci >= 0) (chart[ci] as Float32Array).set(h.active);
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
    policy: name,
    serverHours: sh * hours,
    violationMinutes: 0,
    moves,
    crossSiteMoves: 0,
    releases,
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
