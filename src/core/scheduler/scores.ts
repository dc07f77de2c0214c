/**
 * scores are the ranking stage: each plugin scores one feasible node for the component in the
 * fixed range 0–100, and the pipeline adds them up with the configured weights. Scores are
 * normalised absolutely (by the node's capacity, by fixed shares), never relative to the other
 * candidates, because a candidate-relative normalisation would make a placement's value depend
 * on which nodes the limit happened to sample, and the objective in docs/SCHEDULER.md could
 * then not be stated, let alone solved exactly.
 *
 * The node-state terms (availability, balance, behaviour) read the committed state: what the
 * node held before this decision, as 003 states it ("based on the nodes current state which
 * does not include the deployment of the current configuration"). The two intra-configuration
 * terms (licence, spread) read what this decision has already planned, and are defined as
 * marginal gains, so the sum of the recorded scores of a plan is exactly its objective value.
 */
import { R } from './fleet.js';
import { OS_STRIDE, type PlacementContext } from './context.js';
import type { ScorePluginName } from './settings.js';

// Module-local copies of imported constants (a live binding costs a getter call per read under tsx).
const NR = R;
const STRIDE = OS_STRIDE;

/** ScorePlugin is one ranking criterion (kube-scheduler's ScorePlugin); score is within 0–100. */
export interface ScorePlugin {
  readonly name: ScorePluginName;
  score(ctx: PlacementContext, n: number): number;
}

/**
 * availabilityScore is 003's first score, the quantity of free resources: the weighted mean,
 * over RAM, CPU, disk and bandwidth, of the share of the node's capacity still unallocated
 * after the component is added. A node with half its CPU and RAM free outranks one with a
 * tenth of its CPU and half its disk free (003's example).
 */
export const availabilityScore: ScorePlugin = {
  name: 'availability',
  score: (ctx, n) => {
    const f = ctx.fleet;
    const req = ctx.req;
    const w = ctx.availWeight;
    const cap = f.cap;
    const used = f.used;
    const inv = f.invCap;
    const base = n * NR;
    let s = 0;
    for (let k = 0; k < NR; k++) s += w[k]! * (cap[base + k]! - used[base + k]! - req[k]!) * inv[base + k]!;
    return s < 0 ? 0 : 100 * s;
  },
};

/**
 * balanceScore is 003's ratio of network-intensive to storage-intensive components: a
 * network-intensive component scores the node's share of storage-intensive components (and
 * vice versa), smoothed by one of each so an empty node scores 50. Web servers are drawn to
 * data-heavy nodes, so no node depends on network or storage throughput alone. Neutral
 * components score 50 everywhere.
 */
export const balanceScore: ScorePlugin = {
  name: 'balance',
  score: (ctx, n) => {
    if (ctx.intensity === 0) return 50;
    const net = ctx.fleet.net[n]!;
    const sto = ctx.fleet.sto[n]!;
    return (100 * ((ctx.intensity === 1 ? sto : net) + 1)) / (net + sto + 2);
  },
};

/**
 * behaviourScore is 003's customer-behaviour score: heavy traffic, compression and a large
 * packet rate × size raise a component's expected peak above its request; the score is the
 * mean, over the resources with such a surplus, of the share of that surplus the node can
 * still absorb (clamped to 0–1). A component with no surplus scores 100 on every node.
 */
export const behaviourScore: ScorePlugin = {
  name: 'behaviour',
  score: (ctx, n) => {
    if (ctx.surplusCount === 0) return 100;
    const f = ctx.fleet;
    const base = n * NR;
    let s = 0;
    for (let k = 0; k < NR; k++) {
      const sur = ctx.surplus[k]!;
      if (sur <= 0) continue;
      const room = (f.cap[base + k]! - f.used[base + k]! - ctx.req[k]!) / sur;
      s += room >= 1 ? 1 : room <= 0 ? 0 : room;
    }
    return (100 * s) / ctx.surplusCount;
  },
};

/**
 * licenceScore is 003's internal-cost score: a component whose operating system is licensed
 * per node scores 100 on a node that already runs that system (the licence is paid) and 0 on
 * one where it would open a new licence; unlicensed systems score 100 everywhere.
 */
export const licenceScore: ScorePlugin = {
  name: 'licence',
  score: (ctx, n) => {
    if (!ctx.licensed) return 100;
    const slot = n * STRIDE + ctx.osSlot;
    return ctx.fleet.osCount[slot]! > 0 || ctx.openedOs.has(slot) ? 100 : 0;
  },
};

/**
 * spreadScore is 003's fault tolerance: 100 on a node that holds no other component of the
 * configuration, 0 otherwise, so one node failure takes down as little of it as possible
 * (anti-affinity makes this hard within a tier; spread makes it soft across tiers).
 */
export const spreadScore: ScorePlugin = {
  name: 'spread',
  score: (ctx, n) => (ctx.configNodes.has(n) ? 0 : 100),
};

/** DEFAULT_SCORES is the ranking stage, in SCORE_PLUGINS order. */
export const DEFAULT_SCORES: readonly ScorePlugin[] = [
  availabilityScore,
  balanceScore,
  behaviourScore,
  licenceScore,
  spreadScore,
];
