/**
 * pipeline picks a node for one component, Nomad-style: feasibility (filters, in order, first
 * rejection wins) → rank (weighted score plugins) → limit (stop once enough feasible nodes are
 * scored) → select (maximum total, ties broken by the seeded Rng). The walk over the fleet is a
 * seeded stride permutation, so the limited sample is spread over the whole fleet and the same
 * decision id always visits the same nodes in the same order.
 */
import { EPSILON, OS_COUNT, R, STATE_UP } from './fleet.js';
import { RESOURCES, type Resource } from './model.js';
import type { PlacementContext } from './context.js';
import { availabilityWeights } from './context.js';
import { DEFAULT_FILTERS, type FilterPlugin } from './filters.js';
import { DEFAULT_SCORES, type ScorePlugin } from './scores.js';
import {
  FILTER_REASONS,
  REJECT,
  reasonOfCode,
  type FilterReason,
  type Rejection,
  type RejectionCounts,
  type ScoreRecord,
  type Status,
} from './reasons.js';
import type { Rng } from './rng.js';
import { SCORE_PLUGINS, limitFor, type ScorePluginName, type SchedulerSettings } from './settings.js';

/** Pipeline is a wired scheduler: its stages, weights and settings. */
export interface Pipeline {
  readonly settings: SchedulerSettings;
  readonly filters: readonly FilterPlugin[];
  readonly scores: readonly ScorePlugin[];
  /** weights[i] is the weight of scores[i]. */
  readonly weights: Float64Array;
  readonly availWeight: Float64Array;
  /** fused is true when the stages are exactly the defaults, so selectNode may run its fused kernel. */
  readonly fused: boolean;
}

/**
 * newPipeline wires the stages. Filters run cheapest and most selective first; the limit is
 * applied after feasibility (only feasible nodes count towards it, as in Nomad), and selection
 * comes last. A plugin with weight 0 is never called.
 */
export function newPipeline(
  settings: SchedulerSettings,
  filters: readonly FilterPlugin[] = DEFAULT_FILTERS,
  scores: readonly ScorePlugin[] = DEFAULT_SCORES,
): Pipeline {
  const weights = new Float64Array(scores.map((s) => settings.weights[s.name]));
  const fused =
    filters.length === DEFAULT_FILTERS.length &&
    filters.every((f, i) => f === DEFAULT_FILTERS[i]) &&
    scores.length === DEFAULT_SCORES.length &&
    scores.every((x, i) => x === DEFAULT_SCORES[i]);
  return { settings, filters, scores, weights, availWeight: availabilityWeights(settings), fused };
}

/** ComponentMetrics are the counters of one component's selection (Nomad's AllocMetric), recorded on every decision. */
export interface ComponentMetrics {
  readonly component: string;
  readonly nodesEvaluated: number;
  readonly nodesFeasible: number;
  readonly limit: number;
  readonly rejected: RejectionCounts;
  /** exhausted counts, per resource, the nodes the fits filter rejected for lacking it. */
  readonly exhausted: Readonly<Record<Resource, number>>;
}

/** ComponentTrace is the full explanation of one component's selection: every rejection and every score (recorded with explain on). */
export interface ComponentTrace {
  readonly component: string;
  readonly rejections: Rejection[];
  readonly scores: ScoreRecord[];
  chosen: string | null;
}

/** Selection is the outcome of one component's selection. */
export type Selection =
  | {
      readonly ok: true;
      readonly node: number;
      readonly total: number;
      readonly scores: Readonly<Record<ScorePluginName, number>>;
      readonly metrics: ComponentMetrics;
    }
  | { readonly ok: false; readonly status: Status; readonly metrics: ComponentMetrics };

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** strideFor picks a step coprime with n, so start + k·step (mod n) visits every node exactly once. */
export function strideFor(n: number, rng: Rng): number {
  if (n <= 2) return 1;
  let s = 1 + Math.floor(rng.next() * (n - 1));
  for (let i = 0; i < 64 && gcd(s, n) !== 1; i++) s = 1 + Math.floor(rng.next() * (n - 1));
  return gcd(s, n) === 1 ? s : 1;
}

/** breakdown scores node n with every plugin, for the record of the chosen node or a trace. */
export function breakdown(
  p: Pipeline,
  ctx: PlacementContext,
  n: number,
): { total: number; scores: Record<ScorePluginName, number> } {
  const scores = Object.fromEntries(SCORE_PLUGINS.map((s) => [s, 0])) as Record<ScorePluginName, number>;
  let total = 0;
  for (let s = 0; s < p.scores.length; s++) {
    const w = p.weights[s]!;
    const plugin = p.scores[s]!;
    const v = plugin.score(ctx, n);
    scores[plugin.name] = v;
    if (w !== 0) total += w * v;
  }
  return { total, scores };
}

/** selectNode runs the pipeline for one component; trace, when given, receives every rejection and score. */
export function selectNode(p: Pipeline, ctx: PlacementContext, rng: Rng, trace: ComponentTrace | null): Selection {
  const fleet = ctx.fleet;
  const N = fleet.size;
  const limit = limitFor(p.settings.limit, N);
  const counts = new Int32Array(REJECT.count);
  const filters = p.filters;
  const scores = p.scores;
  const weights = p.weights;
  const nf = filters.length;
  const ns = scores.length;
  const fusedKernel = p.fused && trace === null;
  const wA = weights[0]!;
  const wB = weights[1]!;
  const wH = weights[2]!;
  const wL = weights[3]!;
  const wS = weights[4]!;
  let start = Math.floor(rng.next() * N);
  const stride = strideFor(N, rng);
  let evaluated = 0;
  let feasible = 0;
  let best = -Infinity;
  let bestN = -1;
  let ties = 0;
  for (let k = 0; k < N; k++) {
    const n = start;
    start += stride;
    if (start >= N) start -= N;
    evaluated++;
    let code = 0;
    if (fusedKernel) {
      const total = fusedScore(ctx, n, wA, wB, wH, wL, wS);
      if (total < 0) {
        counts[-total]!++;
        continue;
      }
      feasible++;
      if (total > best) {
        best = total;
        bestN = n;
        ties = 1;
      } else if (total === best) {
        ties++;
        if (rng.next() * ties < 1) bestN = n;
      }
      if (feasible >= limit) break;
      continue;
    }
    for (let f = 0; f < nf; f++) {
      code = filters[f]!.check(ctx, n);
      if (code !== 0) {
        if (trace) trace.rejections.push(filters[f]!.explain(ctx, n, code));
        break;
      }
    }
    if (code !== 0) {
      counts[code]!++;
      continue;
    }
    feasible++;
    let total = 0;
    if (trace) {
      const b = breakdown(p, ctx, n);
      total = b.total;
      trace.scores.push({ node: fleet.ids[n]!, scores: b.scores, total });
    } else {
      for (let s = 0; s < ns; s++) {
        const w = weights[s]!;
        if (w !== 0) total += w * scores[s]!.score(ctx, n);
      }
    }
    if (total > best) {
      best = total;
      bestN = n;
      ties = 1;
    } else if (total === best) {
      // Reservoir sampling over equal maxima: each tied node wins with equal probability.
      ties++;
      if (rng.next() * ties < 1) bestN = n;
    }
    if (feasible >= limit) break;
  }
  const metrics = metricsOf(ctx.component, evaluated, feasible, limit, counts);
  if (bestN < 0) return { ok: false, status: unschedulable(p, ctx, counts, metrics.rejected), metrics };
  if (trace) trace.chosen = fleet.ids[bestN]!;
  const b = breakdown(p, ctx, bestN);
  return { ok: true, node: bestN, total: b.total, scores: b.scores, metrics };
}

// Module-local copies of imported constants (a live binding costs a getter call per read under tsx).
const NR = R;
const UP = STATE_UP;
const EPS = EPSILON;
const OS_N = OS_COUNT;
const C_NOT_UP = REJECT.notUp;
const C_NEEDS_ISOLATED = REJECT.needsIsolated;
const C_ISOLATED_RESERVED = REJECT.isolatedReserved;
const C_FITS_BASE = REJECT.fitsBase;
const C_ANTI_AFFINITY = REJECT.antiAffinity;

/**
 * fusedScore is DEFAULT_FILTERS followed by DEFAULT_SCORES written out as one function: the
 * same checks in the same order and the same arithmetic in the same order, without the nine
 * indirect calls per node that cost most of the time on a large fleet. It returns the
 * weighted total, or minus the reject code. A property test holds it to the plugin path.
 */
function fusedScore(
  ctx: PlacementContext,
  n: number,
  wA: number,
  wB: number,
  wH: number,
  wL: number,
  wS: number,
): number {
  const f = ctx.fleet;
  if (f.state[n] !== UP) return -C_NOT_UP;
  const iso = f.isolated[n] === 1;
  if (ctx.risky) {
    if (!iso) return -C_NEEDS_ISOLATED;
  } else if (iso) return -C_ISOLATED_RESERVED;
  const req = ctx.req;
  const cap = f.cap;
  const used = f.used;
  const pending = f.pending;
  const base = n * NR;
  for (let k = 0; k < NR; k++) {
    if (used[base + k]! + pending[base + k]! + req[k]! > cap[base + k]! + EPS) return -(C_FITS_BASE + k);
  }
  if (ctx.antiAffinity && ctx.tierNodes.has(n)) return -C_ANTI_AFFINITY;
  let total = 0;
  if (wA !== 0) {
    const w = ctx.availWeight;
    const inv = f.invCap;
    let s = 0;
    for (let k = 0; k < NR; k++) s += w[k]! * (cap[base + k]! - used[base + k]! - req[k]!) * inv[base + k]!;
    total += wA * (s < 0 ? 0 : 100 * s);
  }
  if (wB !== 0) {
    let b = 50;
    if (ctx.intensity !== 0) {
      const net = f.net[n]!;
      const sto = f.sto[n]!;
      b = (100 * ((ctx.intensity === 1 ? sto : net) + 1)) / (net + sto + 2);
    }
    total += wB * b;
  }
  if (wH !== 0) {
    let h = 100;
    if (ctx.surplusCount !== 0) {
      let s = 0;
      for (let k = 0; k < NR; k++) {
        const sur = ctx.surplus[k]!;
        if (sur <= 0) continue;
        const room = (cap[base + k]! - used[base + k]! - req[k]!) / sur;
        s += room >= 1 ? 1 : room <= 0 ? 0 : room;
      }
      h = (100 * s) / ctx.surplusCount;
    }
    total += wH * h;
  }
  if (wL !== 0) {
    let l = 100;
    if (ctx.licensed) {
      const slot = n * OS_N + ctx.osSlot;
      l = f.osCount[slot]! > 0 || ctx.openedOs.has(slot) ? 100 : 0;
    }
    total += wL * l;
  }
  if (wS !== 0) total += wS * (ctx.configNodes.has(n) ? 0 : 100);
  return total;
}

function metricsOf(
  component: string,
  evaluated: number,
  feasible: number,
  limit: number,
  counts: Int32Array,
): ComponentMetrics {
  const rejected = Object.fromEntries(FILTER_REASONS.map((r) => [r, 0])) as Record<FilterReason, number>;
  for (let c = 1; c < REJECT.count; c++) rejected[reasonOfCode(c)] += counts[c]!;
  const exhausted = Object.fromEntries(RESOURCES.map((r, k) => [r, counts[REJECT.fitsBase + k]!])) as Record<
    Resource,
    number
  >;
  return { component, nodesEvaluated: evaluated, nodesFeasible: feasible, limit, rejected, exhausted };
}

/**
 * unschedulable names why nothing fits: the reason that turned most candidate nodes away and, when that
 * is a resource, the resource most nodes lacked and the eligible node with the most of it
 * unallocated. It costs one more pass over the fleet, paid only on failure.
 */
function unschedulable(p: Pipeline, ctx: PlacementContext, counts: Int32Array, rejected: RejectionCounts): Status {
  // Structural reasons (node down, wrong isolation class) say which nodes were never
  // candidates; the actionable ones (a resource, anti-affinity) say why the candidates failed,
  // so they are named whenever any candidate got that far.
  const actionable: FilterReason[] = ['insufficient-resource', 'tier-anti-affinity'];
  const pool = actionable.some((r) => rejected[r] > 0) ? actionable : FILTER_REASONS;
  let reason: FilterReason = pool[0]!;
  for (const r of pool) if (rejected[r] > rejected[reason]) reason = r;
  let resource: Resource | null = null;
  let closest: (Status & { code: 'unschedulable' })['closest'] = null;
  if (reason === 'insufficient-resource') {
    let k = 0;
    for (let j = 1; j < R; j++) if (counts[REJECT.fitsBase + j]! > counts[REJECT.fitsBase + k]!) k = j;
    resource = RESOURCES[k]!;
    const f = ctx.fleet;
    const others = p.filters.filter((x) => x.name !== 'fits');
    let bestFree = -Infinity;
    for (let n = 0; n < f.size; n++) {
      if (others.some((x) => x.check(ctx, n) !== 0)) continue;
      const used = f.used[n * R + k]! + f.pending[n * R + k]!;
      const free = f.cap[n * R + k]! - used;
      if (free > bestFree) {
        bestFree = free;
        closest = { node: f.ids[n]!, resource, requested: ctx.req[k]!, used, capacity: f.cap[n * R + k]! };
      }
    }
  }
  return { code: 'unschedulable', component: ctx.component, reason, resource, closest, rejected };
}
