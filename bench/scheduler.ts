// `npm run bench -- scheduler [--quick]`: placement throughput of the scheduler's pipeline on
// 1,000, 5,000 and 10,000 nodes, and its optimality gap against the exact optimum of the same
// objective (docs/SCHEDULER.md) found by glpsol on small instances. Prints one JSON line last.
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_SETTINGS,
  Fleet,
  R,
  commitPlan,
  componentsOf,
  newPipeline,
  objectiveValue,
  parseConfiguration,
  planPlacement,
  rngFromSeed,
  type Configuration,
  type HardwareNode,
  type OperatingSystem,
  type Rng,
  type SchedulerSettings,
} from '../src/core/scheduler/index.js';
import { glpsolAvailable, solveExact } from './lib/glpk.js';

const quick = process.argv.includes('--quick');
const nodesArg = process.argv.indexOf('--nodes');
const SIZES_N = nodesArg > 0 ? [Number(process.argv[nodesArg + 1])] : [1000, 5000, 10000];
const noGap = process.argv.includes('--no-gap');

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.next() * (hi - lo + 1));

/** NODE_TYPES are the hardware shapes of the synthetic grid (RAM MB, CPU cycles, disk GB, Mbps). */
const NODE_TYPES = [
  { ram: 65536, cpu: 6400, disk: 2000, bandwidth: 10000 },
  { ram: 131072, cpu: 12800, disk: 4000, bandwidth: 10000 },
  { ram: 262144, cpu: 25600, disk: 8000, bandwidth: 25000 },
] as const;

/** SIZES are component shapes, small to large. */
const SIZES = [
  { ram: 1024, cpu: 100, disk: 20, bandwidth: 100 },
  { ram: 2048, cpu: 200, disk: 40, bandwidth: 200 },
  { ram: 4096, cpu: 400, disk: 80, bandwidth: 300 },
  { ram: 8192, cpu: 800, disk: 160, bandwidth: 500 },
  { ram: 16384, cpu: 1600, disk: 500, bandwidth: 1000 },
] as const;

const OSES: readonly OperatingSystem[] = ['debian', 'debian', 'ubuntu', 'ubuntu', 'rhel', 'windows-server', 'freebsd'];

function makeNodes(n: number, rng: Rng, isolatedShare: number): HardwareNode[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `node-${i}`,
    capacity: pick(rng, NODE_TYPES),
    reserved: { ram: 2048, cpu: 100, disk: 50, bandwidth: 0 },
    isolated: rng.next() < isolatedShare,
    state: 'up' as const,
    hosted: [],
  }));
}

/** makeConfiguration draws a 003-style configuration: load balancers, web, application and database tiers. */
function makeConfiguration(id: string, rng: Rng, opts: { riskyShare: number; maxPerTier?: number }): Configuration {
  const m = opts.maxPerTier ?? 4;
  const tiers: unknown[] = [];
  const comp = (prefix: string, i: number, sizeLo: number, sizeHi: number) => ({
    id: `${prefix}-${i}`,
    resources: SIZES[int(rng, sizeLo, sizeHi)]!,
    os: pick(rng, OSES),
    behaviour: {
      traffic: pick(rng, ['light', 'normal', 'heavy'] as const),
      compression: rng.next() < 0.2,
      packetRate: rng.next() < 0.3 ? int(rng, 1000, 50000) : 0,
      packetSize: int(rng, 64, 1500),
    },
  });
  const tier = (name: string, role: string, lo: number, hi: number, sLo: number, sHi: number) => {
    const k = int(rng, lo, Math.min(hi, m));
    if (k > 0) tiers.push({ name, role, components: Array.from({ length: k }, (_, i) => comp(name, i + 1, sLo, sHi)) });
  };
  tier('lb', 'load-balancer', 1, 2, 0, 1);
  tier('web', 'web', 2, 4, 0, 3);
  tier('app', 'app', 0, 2, 1, 3);
  tier('db', 'db', 1, 2, 2, 4);
  const risky = rng.next() < opts.riskyShare;
  return parseConfiguration({
    id,
    account: `acct-${id}`,
    risk: risky ? { spam: 'high', hacking: 'low', fraud: 'none' } : undefined,
    tiers,
  });
}

/** prefill loads the grid to roughly `share` of its RAM with components placed at random, so the stream meets a used fleet. */
function prefill(fleet: Fleet, rng: Rng, share: number): void {
  const N = fleet.size;
  for (let i = 0; i < N; i++) {
    const target = fleet.cap[i * R + 0]! * share * (0.5 + rng.next());
    let j = 0;
    while (fleet.used[i * R + 0]! < target && j < 64) {
      const s = pick(rng, SIZES);
      if (
        fleet.used[i * R + 0]! + s.ram > fleet.cap[i * R + 0]! ||
        fleet.used[i * R + 1]! + s.cpu > fleet.cap[i * R + 1]!
      )
        break;
      fleet.host(i, {
        configuration: `pre-${i}`,
        component: `c-${j}`,
        tier: 'pre',
        resources: s,
        intensity: pick(rng, ['network', 'storage', 'neutral'] as const),
        os: pick(rng, OSES),
      });
      j++;
    }
  }
}

interface Throughput {
  readonly nodes: number;
  readonly components_per_s: number;
  /** components_per_cpu_s divides by the CPU time this process got: the machine is shared, so wall time alone overstates the cost. */
  readonly components_per_cpu_s: number;
  readonly configurations: number;
  readonly components: number;
  readonly unschedulable: number;
  readonly nodes_scored_per_component: number;
  readonly p99_ms_per_configuration: number;
}

function throughput(nodes: number, configurations: number, settings: SchedulerSettings): Throughput {
  const rng = rngFromSeed(nodes);
  const fleet = Fleet.from(makeNodes(nodes, rng, 0.05));
  prefill(fleet, rng, 0.4);
  const pipeline = newPipeline(settings);
  const stream = Array.from({ length: configurations }, (_, i) =>
    makeConfiguration(`cfg-${i}`, rng, { riskyShare: 0.03 }),
  );
  // Warm the JIT on a copy-free prefix that is not timed (the plans are not committed).
  for (let i = 0; i < Math.min(50, configurations); i++)
    planPlacement(fleet, stream[i]!, { decisionId: `warm-${i}`, pipeline });
  let placed = 0;
  let failed = 0;
  let scored = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < configurations; i++) {
    const a = performance.now();
    const plan = planPlacement(fleet, stream[i]!, { decisionId: `d-${i}`, pipeline });
    if (plan.status.code === 'ok') {
      if (commitPlan(fleet, plan).code !== 'ok') throw new Error(`fresh plan ${plan.decisionId} conflicted on commit`);
      placed += plan.assignments.length;
    } else failed++;
    for (const m of plan.metrics) scored += m.nodesFeasible;
    lat.push(performance.now() - a);
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  lat.sort((x, y) => x - y);
  return {
    nodes,
    components_per_s: Math.round(placed / secs),
    components_per_cpu_s: Math.round(placed / cpuSecs),
    configurations,
    components: placed,
    unschedulable: failed,
    nodes_scored_per_component: Math.round(scored / Math.max(1, placed)),
    p99_ms_per_configuration: Number(lat[Math.floor(lat.length * 0.99)]!.toFixed(3)),
  };
}

interface GapResult {
  readonly instances: number;
  readonly solved: number;
  readonly mean_gap_pct: number;
  readonly max_gap_pct: number;
  readonly greedy_unschedulable_where_feasible: number;
}

/**
 * gap compares the pipeline's plan with glpsol's optimum of the same objective on `count`
 * instances that the solver proves feasible and optimal (drawing up to 4·count instances).
 */
function gap(count: number, nodes: number, settings: SchedulerSettings, seed: number): GapResult {
  const pipeline = newPipeline(settings);
  const gaps: number[] = [];
  let missed = 0;
  let drawn = 0;
  for (let t = 0; gaps.length + missed < count && t < 4 * count; t++) {
    drawn++;
    const rng = rngFromSeed(seed + t);
    const fleet = Fleet.from(makeNodes(nodes, rng, 0));
    prefill(fleet, rng, 0.55);
    const config = makeConfiguration(`gap-${t}`, rng, { riskyShare: 0, maxPerTier: 4 });
    const before = fleet.snapshot();
    const plan = planPlacement(fleet, config, { decisionId: `gap-${t}`, pipeline });
    const exact = solveExact(before, config, settings);
    if (exact === null) continue; // infeasible, or not proven optimal in time: no gap to measure
    if (plan.status.code !== 'ok') {
      missed++;
      continue;
    }
    const byId = new Map(componentsOf(config).map((x) => [x.component.id, x.component]));
    const mine = objectiveValue({
      nodes: before,
      config,
      assignments: plan.assignments.map((a) => ({ component: byId.get(a.component)!, node: a.node })),
      settings,
    });
    if (Math.abs(mine - plan.objective) > 1e-6 * Math.max(1, mine))
      throw new Error(`pipeline objective ${plan.objective} differs from the evaluator's ${mine}`);
    // The MIP's optimum can never be below a feasible plan's value; if it is, the model is wrong.
    if (exact.objective < mine - 1e-6 * Math.max(1, mine))
      throw new Error(`glpsol optimum ${exact.objective} below the pipeline's ${mine} on instance ${t}`);
    gaps.push((100 * (exact.objective - mine)) / exact.objective);
  }
  const mean = gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length);
  return {
    instances: drawn,
    solved: gaps.length,
    mean_gap_pct: Number(mean.toFixed(3)),
    max_gap_pct: Number(Math.max(0, ...gaps).toFixed(3)),
    greedy_unschedulable_where_feasible: missed,
  };
}

const settings = DEFAULT_SETTINGS;
const results: Throughput[] = [];
for (const n of SIZES_N) {
  // The stream grows with the fleet (each adds ~9% of the fleet's RAM to the 40% prefill), so
  // every size is measured at the same load rather than a small fleet running full.
  const r = throughput(n, Math.round(n / (quick ? 25 : 5)), settings);
  results.push(r);
  console.log(`throughput ${JSON.stringify(r)}`);
}
let gapSmall: GapResult | null = null;
let gapSampled: GapResult | null = null;
if (!noGap && glpsolAvailable()) {
  gapSmall = gap(quick ? 10 : 40, 12, settings, 1000);
  console.log(`gap (12 nodes, every feasible node scored) ${JSON.stringify(gapSmall)}`);
  gapSampled = gap(quick ? 3 : 10, 400, settings, 5000);
  console.log(
    `gap (400 nodes, limit samples ${Math.max(100, Math.ceil((400 * Math.max(5, 50 - 400 / 125)) / 100))} feasible nodes) ${JSON.stringify(gapSampled)}`,
  );
} else {
  console.log('glpsol not found: install glpk-utils (apt-get install -y glpk-utils) to measure the optimality gap');
}
console.log(
  JSON.stringify({
    bench: 'scheduler',
    results: results.map((r) => ({
      nodes: r.nodes,
      components_per_s: r.components_per_s,
      components_per_cpu_s: r.components_per_cpu_s,
      unschedulable: r.unschedulable,
      nodes_scored_per_component: r.nodes_scored_per_component,
    })),
    optimality_gap_pct: gapSmall ? gapSmall.mean_gap_pct : null,
    optimality_gap_max_pct: gapSmall ? gapSmall.max_gap_pct : null,
    optimality_gap_sampled_pct: gapSampled ? gapSampled.mean_gap_pct : null,
    gap_instances_solved: gapSmall ? gapSmall.solved : 0,
    gap_greedy_unschedulable_where_feasible:
      gapSmall && gapSampled
        ? gapSmall.greedy_unschedulable_where_feasible + gapSampled.greedy_unschedulable_where_feasible
        : null,
  }),
);
