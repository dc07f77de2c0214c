/**
 * run replays one scenario under every policy it names, each on its own fleet with the same
 * seed, and measures per policy and per customer: server-hours (powered servers: warm pool,
 * joining, active, leaving), SLA-violating minutes (p95 above target, from the capacity
 * table), moves, moves between sites, failures and revenue under SLA billing (src/core/billing
 * over the allocation history the run produced). The bounds (optimum, optimum-cold) are computed
 * rather than simulated (see optimum.ts).
 */
import {
  amountDecimal,
  customPeriod,
  meterAllocations,
  parseSlaPlan,
  rateSla,
  sumMoney,
} from '../core/billing/index.js';
import type { AllocationEvent, Currency, SlaPlan } from '../core/billing/index.js';
import { capacityTable, serversNeeded, violates } from './capacity.js';
import type { CapacityTable } from './capacity.js';
import type { Policy, SimContext } from './context.js';
import { Fleet } from './fleet.js';
import { boundAllocation, isBound } from './optimum.js';
import type { BoundName } from './optimum.js';
import { hostfleetPolicy } from './policies/hostfleet.js';
import type { HostfleetStats } from './policies/hostfleet.js';
import { hpaPolicy } from './policies/hpa.js';
import { staticPeakPolicy } from './policies/static.js';
import { Rng, seedOf } from './rng.js';
import { buildDemand } from './scenario.js';
import type { Demand, PolicyName, Scenario } from './scenario.js';

/** CustomerMetrics are one customer's figures under one policy. */
export interface CustomerMetrics {
  readonly id: string;
  /** serverHours counts the servers the customer held (active + joining). */
  readonly serverHours: number;
  readonly violationMinutes: number;
  readonly revenue: number | null;
}

/** PolicyResult is one policy's figures and its time series (one point per tick). */
export interface PolicyResult {
  readonly policy: PolicyName;
  readonly serverHours: number;
  readonly violationMinutes: number;
  readonly moves: number;
  readonly crossSiteMoves: number;
  readonly releases: number;
  readonly failures: number;
  readonly revenue: number | null;
  readonly peakPowered: number;
  readonly customers: readonly CustomerMetrics[];
  /** powered, pool and violating are per tick: powered servers, pool servers (cold + warm), customers in violation. */
  readonly powered: Float32Array;
  readonly pool: Float32Array;
  readonly violating: Float32Array;
  /** chart[k] is the active servers of chart customer k per tick. */
  readonly chart: readonly Float32Array[];
  /** conservationErrors lists what the fleet check found (only with check: true). */
  readonly conservationErrors: readonly string[];
  readonly hostfleet?: HostfleetStats;
  readonly wallMs: number;
}

/** SimResult is a whole run. */
export interface SimResult {
  readonly scenario: Scenario;
  readonly ticks: number;
  readonly fleetSize: number;
  readonly chartCustomers: readonly string[];
  /** demandServers[k] is the servers chart customer k needs per tick (the optimum without lead). */
  readonly demandServers: readonly Float32Array[];
  readonly demandRps: readonly Float32Array[];
  readonly policies: readonly PolicyResult[];
  readonly wallMs: number;
}

/** RunOptions tune a run. */
export interface RunOptions {
  /** seed overrides the scenario's. */
  readonly seed?: number;
  /** check runs the fleet's conservation check every `checkEvery` ticks (tests). */
  readonly check?: boolean;
  readonly checkEvery?: number;
  /** billing computes revenue through src/core/billing (default true). */
  readonly billing?: boolean;
  /** onProgress is called with (done, total) ticks summed over the simulated policies. */
  readonly onProgress?: (done: number, total: number) => void;
  /** policies overrides the scenario's list. */
  readonly policies?: readonly PolicyName[];
}

/** buildContext loads the demand and computes each customer's capacity table. */
export async function buildContext(scenario: Scenario): Promise<SimContext> {
  const demand: Demand = await buildDemand(scenario);
  const n = scenario.customers.length;
  const siteIndex = new Map(scenario.sites.map((s, i) => [s.id, i]));
  const tables: CapacityTable[] = [];
  const cache = new Map<string, CapacityTable>();
  const peakNeed = new Int32Array(n);
  const committed = new Int32Array(n);
  const burst = new Int32Array(n);
  const extended = new Int32Array(n);
  const priority = new Float64Array(n);
  const customerSite = new Int32Array(n);
  const mu = (1000 / scenario.server.serviceMs) * scenario.server.workers;
  scenario.customers.forEach((c, i) => {
    const rates = demand.rates[i] as Float64Array;
    let peak = 0;
    for (let k = 0; k < rates.length; k++) if ((rates[k] as number) > peak) peak = rates[k] as number;
    const size = Math.max(c.sla.extended, Math.ceil(peak / mu) * 2 + 8);
    const key = `${c.sla.targetMs}`;
    let t = cache.get(key);
    if (t === undefined || t.lamMax.length <= size) {
      t = capacityTable(
        {
          serviceMs: scenario.server.serviceMs,
          workers: scenario.server.workers,
          targetMs: c.sla.targetMs,
          percentile: scenario.percentile,
        },
        Math.max(size, (t?.lamMax.length ?? 0) * 2),
      );
      cache.set(key, t);
    }
    tables.push(t);
    let peakRun = 0;
    for (let k = demand.warmup; k < rates.length; k++) if ((rates[k] as number) > peakRun) peakRun = rates[k] as number;
    peakNeed[i] = serversNeeded(t, peakRun);
    committed[i] = c.sla.committed;
    burst[i] = c.sla.burst;
    extended[i] = c.sla.extended;
    priority[i] = c.sla.priority;
    customerSite[i] = siteIndex.get(c.site) ?? 0;
  });
  // A customer whose table was replaced by a larger one later still points at a valid (smaller) table: re-point at the final one.
  scenario.customers.forEach((c, i) => (tables[i] = cache.get(`${c.sla.targetMs}`) as CapacityTable));
  return {
    scenario,
    demand,
    ticks: demand.ticks,
    tables,
    customerSite,
    committed,
    burst,
    extended,
    priority,
    peakNeed,
  };
}

function makePolicy(name: Exclude<PolicyName, BoundName>, ctx: SimContext): Policy {
  switch (name) {
    case 'static':
      return staticPeakPolicy(ctx);
    case 'hpa':
      return hpaPolicy(ctx);
    case 'hostfleet':
      return hostfleetPolicy(ctx);
  }
}

function chartIndexes(ctx: SimContext): number[] {
  const s = ctx.scenario;
  if (s.chartCustomers.length > 0) return s.chartCustomers.map((id) => s.customers.findIndex((c) => c.id === id));
  const order = s.customers
    .map((_, i) => i)
    .sort((a, b) => (ctx.peakNeed[b] as number) - (ctx.peakNeed[a] as number) || a - b);
  // the largest customer of each site first, then the next largest overall
  const out: number[] = [];
  for (let site = 0; site < s.sites.length; site++) {
    const c = order.find((i) => ctx.customerSite[i] === site);
    if (c !== undefined) out.push(c);
  }
  for (const c of order) if (out.length < 6 && !out.includes(c)) out.push(c);
  return out.slice(0, 6);
}

function planFor(s: Scenario, c: number): SlaPlan {
  const sla = (s.customers[c] as Scenario['customers'][number]).sla;
  return parseSlaPlan({
    id: 'sim',
    currency: s.billing.currency,
    burstMultiple: s.billing.burstMultiple,
    extendedMultiple: s.billing.extendedMultiple,
    committedBilling: 'reserved',
    servers: {
      'front-end': {
        committed: sla.committed,
        burst: sla.burst,
        extended: Math.max(sla.extended, sla.burst),
        rate: sla.rate,
      },
    },
  });
}

/** revenueOf rates each customer's allocation history under its SLA plan; returns per-customer totals in major units. */
function revenueOf(s: Scenario, ticks: number, events: readonly AllocationEvent[][]): number[] {
  const startMs = Math.floor(s.start / 60_000) * 60_000;
  const endMs = startMs + Math.ceil((ticks * s.tickSeconds) / 60) * 60_000;
  const period = customPeriod('sim', startMs, endMs);
  return events.map((ev, c) => {
    const account = (s.customers[c] as Scenario['customers'][number]).id;
    const usage = meterAllocations(ev, { startMs, endMs });
    const rating = rateSla(planFor(s, c), account, period, usage);
    return Number(
      amountDecimal(
        sumMoney(
          s.billing.currency as Currency,
          rating.lines.map((l) => l.amount),
        ),
      ),
    );
  });
}

function simulate(
  ctx: SimContext,
  policy: Policy,
  charts: readonly number[],
  opts: RunOptions,
  progress: (k: number) => void,
): PolicyResult {
  const t0 = performance.now();
  const s = ctx.scenario;
  const n = s.customers.length;
  const ticks = ctx.ticks;
  const seed = s.seed;
  const fleet = new Fleet(
    s.server,
    s.sites.map((x) => x.servers),
    Array.from(ctx.customerSite),
    ticks,
    s.tickSeconds,
    new Rng(seedOf(seed, 'failures')),
  );
  policy.init(fleet);
  const held = new Float64Array(n);
  const viol = new Int32Array(n);
  const powered = new Float32Array(ticks);
  const pool = new Float32Array(ticks);
  const violating = new Float32Array(ticks);
  const chart = charts.map(() => new Float32Array(ticks));
  const billing = opts.billing ?? true;
  const events: AllocationEvent[][] = billing ? Array.from({ length: n }, () => []) : [];
  const lastActive = new Int32Array(n);
  const tickMs = s.tickSeconds * 1000;
  const account = s.customers.map((c) => c.id);
  let seq = 0;
  const record = (c: number, t: number) => {
    const now = fleet.active[c] as number;
    let was = lastActive[c] as number;
    if (now === was) return;
    const at = Math.round((s.start + t * tickMs) / 60_000) * 60_000;
    const ev = events[c] as AllocationEvent[];
    // The meter only counts servers, so slot numbers stand in for server ids.
    while (was < now)
      ev.push({
        kind: 'allocated',
        id: `e${seq++}`,
        at,
        server: `slot${was++}`,
        account: account[c] as string,
        role: 'front-end',
        ramMb: 0,
      });
    while (was > now)
      ev.push({
        kind: 'released',
        id: `e${seq++}`,
        at,
        server: `slot${--was}`,
        account: account[c] as string,
        role: 'front-end',
      });
    lastActive[c] = now;
  };
  if (billing) for (let c = 0; c < n; c++) record(c, 0);
  const errors: string[] = [];
  const every = Math.max(1, opts.checkEvery ?? 1);
  const hit: number[] = [];
  const nSites = s.sites.length;
  let peak = 0;
  let step = 0;
  for (let t = 0; t < ticks; t++) {
    fleet.advance(t, hit);
    policy.tick(fleet, t, hit);
    let v = 0;
    for (let c = 0; c < n; c++) {
      held[c] = (held[c] as number) + (fleet.active[c] as number) + (fleet.joining[c] as number);
      if (
        violates(
          ctx.tables[c] as CapacityTable,
          (ctx.demand.rates[c] as Float64Array)[ctx.demand.warmup + t] as number,
          fleet.active[c] as number,
        )
      ) {
        viol[c] = (viol[c] as number) + 1;
        v++;
      }
      if (billing) record(c, t);
    }
    const p = fleet.powered();
    if (p > peak) peak = p;
    powered[t] = p;
    let pl = 0;
    for (let site = 0; site < nSites; site++) pl += fleet.poolCold(site) + fleet.poolWarm(site);
    pool[t] = pl;
    violating[t] = v;
    for (let k = 0; k < charts.length; k++) (chart[k] as Float32Array)[t] = fleet.active[charts[k] as number] as number;
    if (opts.check === true && t % every === 0)
      for (const e of fleet.check()) if (errors.length < 20) errors.push(`tick ${t}: ${e}`);
    if (++step === 64) {
      progress(step);
      step = 0;
    }
  }
  progress(step);
  const hours = s.tickSeconds / 3600;
  let sh = 0;
  for (let t = 0; t < ticks; t++) sh += powered[t] as number;
  const rev = billing ? revenueOf(s, ticks, events) : null;
  const customers: CustomerMetrics[] = s.customers.map((c, i) => ({
    id: c.id,
    serverHours: (held[i] as number) * hours,
    violationMinutes: ((viol[i] as number) * s.tickSeconds) / 60,
    revenue: rev ? (rev[i] as number) : null,
  }));
  let vm = 0;
  for (const c of customers) vm += c.violationMinutes;
  const stats = (policy as Partial<{ stats: HostfleetStats }>).stats;
  return {
    policy: policy.name,
    serverHours: sh * hours,
    violationMinutes: vm,
    moves: fleet.moves,
    crossSiteMoves: fleet.crossSiteMoves,
    releases: fleet.releases,
    failures: fleet.failures,
    revenue: rev ? rev.reduce((a, b) => a + b, 0) : null,
    peakPowered: peak,
    customers,
    powered,
    pool,
    violating,
    chart,
    conservationErrors: errors,
    ...(stats ? { hostfleet: stats } : {}),
    wallMs: performance.now() - t0,
  };
}

/** runScenario runs every policy of a scenario and returns the figures. */
export async function runScenario(given: Scenario, opts: RunOptions = {}): Promise<SimResult> {
  const t0 = performance.now();
  // A seed override re-draws demand noise, spikes and failures; customers' drawn parameters stay those of the file.
  const scenario = opts.seed === undefined ? given : { ...given, seed: opts.seed };
  const ctx = await buildContext(scenario);
  const charts = chartIndexes(ctx);
  const names = opts.policies ?? scenario.policies;
  const simulated = names.filter((p) => !isBound(p));
  const total = simulated.length * ctx.ticks;
  let done = 0;
  const progress = (k: number) => {
    done += k;
    opts.onProgress?.(done, total);
  };
  const results: PolicyResult[] = [];
  for (const name of names) {
    results.push(
      isBound(name) ? boundAllocation(name, ctx, charts) : simulate(ctx, makePolicy(name, ctx), charts, opts, progress),
    );
  }
  const demandServers = charts.map((c) => {
    const out = new Float32Array(ctx.ticks);
    for (let t = 0; t < ctx.ticks; t++)
      out[t] = serversNeeded(
        ctx.tables[c] as CapacityTable,
        (ctx.demand.rates[c] as Float64Array)[ctx.demand.warmup + t] as number,
      );
    return out;
  });
  const demandRps = charts.map((c) =>
    Float32Array.from((ctx.demand.rates[c] as Float64Array).subarray(ctx.demand.warmup)),
  );
  return {
    scenario,
    ticks: ctx.ticks,
    fleetSize: scenario.sites.reduce((a, x) => a + x.servers, 0),
    chartCustomers: charts.map((c) => (scenario.customers[c] as Scenario['customers'][number]).id),
    demandServers,
    demandRps,
    policies: results,
    wallMs: performance.now() - t0,
  };
}
