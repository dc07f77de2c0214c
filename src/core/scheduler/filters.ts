/**
 * filters are the feasibility stage: each plugin answers one question about one node and
 * returns 0 (pass) or a reject code, so the hot path allocates nothing; explain turns a code
 * back into a structured Rejection only when a trace or a failure report needs it.
 */
import { EPSILON, R, STATE_UP } from './fleet.js';
import { RESOURCES } from './model.js';
import type { PlacementContext } from './context.js';
import { REJECT, type Rejection } from './reasons.js';
import type { FilterPluginName } from './settings.js';

// Module-local copies: imported bindings are live (a getter call per read under tsx), and
// these are read on every node of every decision.
const NR = R;
const EPS = EPSILON;
const UP = STATE_UP;
const PASS = REJECT.pass;
const NOT_UP = REJECT.notUp;
const NEEDS_ISOLATED = REJECT.needsIsolated;
const ISOLATED_RESERVED = REJECT.isolatedReserved;
const FITS_BASE = REJECT.fitsBase;
const ANTI_AFFINITY = REJECT.antiAffinity;

/** FilterPlugin is one feasibility check (kube-scheduler's FilterPlugin). */
export interface FilterPlugin {
  readonly name: FilterPluginName;
  /** check returns PASS (0) when node n can take the component, else a reject code. */
  check(ctx: PlacementContext, n: number): number;
  /** explain builds the structured rejection for a code check returned on node n. */
  explain(ctx: PlacementContext, n: number, code: number): Rejection;
}

/** nodeStateFilter rejects nodes that are draining or down: nothing new lands on them. */
export const nodeStateFilter: FilterPlugin = {
  name: 'node-state',
  check: (ctx, n) => (ctx.fleet.state[n] === UP ? PASS : NOT_UP),
  explain: (ctx, n) => ({
    node: ctx.fleet.ids[n]!,
    filter: 'node-state',
    reason: 'node-not-up',
    state: ctx.fleet.nodeState(n),
  }),
};

/** isolationFilter keeps risky configurations on isolated nodes and everyone else off them (003: an attack on one cannot take others down). */
export const isolationFilter: FilterPlugin = {
  name: 'isolation',
  check: (ctx, n) => {
    const iso = ctx.fleet.isolated[n] === 1;
    if (ctx.risky) return iso ? PASS : NEEDS_ISOLATED;
    return iso ? ISOLATED_RESERVED : PASS;
  },
  explain: (ctx, n, code) => ({
    node: ctx.fleet.ids[n]!,
    filter: 'isolation',
    reason: code === NEEDS_ISOLATED ? 'risk-needs-isolated-node' : 'isolated-node-reserved',
  }),
};

/** fitsFilter rejects a node without the unallocated RAM, CPU, disk or bandwidth, counting what this decision already reserved there. */
export const fitsFilter: FilterPlugin = {
  name: 'fits',
  check: (ctx, n) => {
    const f = ctx.fleet;
    const req = ctx.req;
    const used = f.used;
    const pending = f.pending;
    const cap = f.cap;
    const base = n * NR;
    for (let k = 0; k < NR; k++) {
      if (used[base + k]! + pending[base + k]! + req[k]! > cap[base + k]! + EPS) return FITS_BASE + k;
    }
    return PASS;
  },
  explain: (ctx, n, code) => {
    const k = code - FITS_BASE;
    const f = ctx.fleet;
    return {
      node: f.ids[n]!,
      filter: 'fits',
      reason: 'insufficient-resource',
      resource: RESOURCES[k]!,
      requested: ctx.req[k]!,
      used: f.used[n * NR + k]! + f.pending[n * NR + k]!,
      capacity: f.cap[n * NR + k]!,
    };
  },
};

/** antiAffinityFilter keeps the components of one tier on distinct nodes, so one node failure takes at most one of them. */
export const antiAffinityFilter: FilterPlugin = {
  name: 'anti-affinity',
  check: (ctx, n) => (ctx.antiAffinity && ctx.tierNodes.has(n) ? ANTI_AFFINITY : PASS),
  explain: (ctx, n) => ({
    node: ctx.fleet.ids[n]!,
    filter: 'anti-affinity',
    reason: 'tier-anti-affinity',
    tier: ctx.tier,
    peer: ctx.tierNodes.get(n) ?? '',
  }),
};

/**
 * DEFAULT_FILTERS is the feasibility stage in order. node-state and isolation come first
 * because they are one byte read each and remove whole classes of nodes; fits reads eight
 * numbers; anti-affinity does a map lookup and so runs last.
 */
export const DEFAULT_FILTERS: readonly FilterPlugin[] = [
  nodeStateFilter,
  isolationFilter,
  fitsFilter,
  antiAffinityFilter,
];
