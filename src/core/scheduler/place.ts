/**
 * place turns component selections into plans for whole configurations and for changes to
 * them: a new configuration (largest and most constrained components first, reserving as it
 * goes, all or nothing), one more component for a placed configuration, the re-placement of a
 * failed node's components (and only those), and a change to a component, in place when the
 * node can absorb it, otherwise as a duplicate followed by a switch-over. Plans are values; the
 * fleet changes only when commitPlan applies one (the deployer does that after it succeeds).
 */
import { HostfleetError } from '../errors.js';
import { EPSILON, R, STATE_UP, type Fleet } from './fleet.js';
import { RESOURCES, componentsOf, isRisky, type Component, type Configuration, type HostedComponent, type ResourceVector, type Tier } from './model.js';
import { OS_STRIDE, contextFor, newDecisionState, type DecisionState } from './context.js';
import { newPipeline, selectNode, type ComponentMetrics, type ComponentTrace, type Pipeline } from './pipeline.js';
import type { ResourceShortfall, Status } from './reasons.js';
import { rngFromDecisionId, type Rng } from './rng.js';
import { DEFAULT_SETTINGS, type ScorePluginName } from './settings.js';

/** PlaceOptions are a decision's inputs besides the fleet and the configuration. */
export interface PlaceOptions {
  /** decisionId names the decision; the Rng is seeded from it unless one is passed. */
  readonly decisionId: string;
  readonly rng?: Rng;
  readonly pipeline?: Pipeline;
  /** explain records every rejection and every score (for --explain); off in the hot path. */
  readonly explain?: boolean;
}

/** Assignment is one component's chosen node with its scores. */
export interface Assignment {
  readonly configuration: string;
  readonly component: string;
  readonly tier: string;
  readonly node: string;
  /** total is the weighted sum of the scores, this assignment's share of the objective. */
  readonly total: number;
  readonly scores: Readonly<Record<ScorePluginName, number>>;
}

/** PlanAction is one change to the fleet's records that committing a plan makes. */
export type PlanAction =
  | { readonly kind: 'host'; readonly node: string; readonly hosted: HostedComponent }
  | { readonly kind: 'unhost'; readonly node: string; readonly configuration: string; readonly component: string };

/** PlacementPlan places a configuration's unplaced components (all or nothing). */
export interface PlacementPlan {
  readonly kind: 'placement';
  readonly decisionId: string;
  readonly configuration: string;
  readonly status: Status;
  /** assignments are in placement order; empty unless status is ok. */
  readonly assignments: readonly Assignment[];
  /** objective is the sum of the assignments' totals (docs/SCHEDULER.md defines it). */
  readonly objective: number;
  readonly actions: readonly PlanAction[];
  readonly metrics: readonly ComponentMetrics[];
  readonly trace: readonly ComponentTrace[] | null;
}

/** Move is a component re-placed away from a failed node. */
export interface Move extends Assignment {
  readonly from: string;
}

/** FailurePlan re-places the components of a failed node, one configuration at a time (each all or nothing). */
export interface FailurePlan {
  readonly kind: 'failure';
  readonly decisionId: string;
  readonly node: string;
  readonly moves: readonly Move[];
  /** unplaced lists the configurations whose components could not be re-placed, with why. */
  readonly unplaced: readonly { readonly configuration: string; readonly components: readonly string[]; readonly status: Status }[];
  readonly objective: number;
  readonly actions: readonly PlanAction[];
  readonly metrics: readonly ComponentMetrics[];
}

/** CHANGE_MODES are how a component change is carried out. */
export const CHANGE_MODES = ['in-place', 'duplicate-then-switch-over'] as const;
/** ChangeMode is one of CHANGE_MODES. */
export type ChangeMode = (typeof CHANGE_MODES)[number];

/** ChangeStep is one step the deployer carries out, in order. */
export type ChangeStep =
  | { readonly kind: 'resize-in-place'; readonly node: string; readonly component: string; readonly from: ResourceVector; readonly to: ResourceVector }
  | { readonly kind: 'create-duplicate'; readonly node: string; readonly component: string }
  | { readonly kind: 'switch-over'; readonly component: string; readonly from: string; readonly to: string }
  | { readonly kind: 'remove-original'; readonly node: string; readonly component: string };

/** ChangePlan changes one placed component; a disruptive change runs a duplicate beside the original until the switch-over. */
export interface ChangePlan {
  readonly kind: 'change';
  readonly decisionId: string;
  readonly configuration: string;
  readonly component: string;
  readonly status: Status;
  readonly mode: ChangeMode | null;
  readonly steps: readonly ChangeStep[];
  readonly assignment: Assignment | null;
  readonly actions: readonly PlanAction[];
  readonly metrics: readonly ComponentMetrics[];
  readonly trace: readonly ComponentTrace[] | null;
}

/** Plan is any plan commitPlan applies. */
export type Plan = PlacementPlan | FailurePlan | ChangePlan;

interface Item {
  readonly tier: Tier;
  readonly component: Component;
}

const OK: Status = { code: 'ok' };

/** Scratch holds the pending reservations of one decision; it can roll back to a mark and clears exactly what it touched. */
class Scratch {
  private readonly log: { readonly n: number; readonly req: Float64Array }[] = [];
  constructor(private readonly fleet: Fleet) {}
  reserve(n: number, req: Float64Array): void {
    this.log.push({ n, req });
    for (let k = 0; k < R; k++) this.fleet.pending[n * R + k]! += req[k]!;
  }
  mark(): number {
    return this.log.length;
  }
  rollback(to: number): void {
    while (this.log.length > to) {
      const e = this.log.pop()!;
      for (let k = 0; k < R; k++) this.fleet.pending[e.n * R + k]! -= e.req[k]!;
    }
  }
  clear(): void {
    for (const e of this.log) for (let k = 0; k < R; k++) this.fleet.pending[e.n * R + k] = 0;
    this.log.length = 0;
  }
}

/**
 * placementOrder sorts components so the hardest go first: the largest dominant share of the
 * mean node (a component needing half a node is placed before the small ones fragment the
 * nodes), then the larger anti-affinity tier (it needs the most distinct nodes), then
 * declaration order (so the order is a pure function of the input).
 */
export function placementOrder(fleet: Fleet, items: readonly Item[]): Item[] {
  const mean = fleet.meanCapacity();
  const share = (c: Component): number => {
    let m = 0;
    RESOURCES.forEach((r, k) => {
      if (mean[k]! > 0) m = Math.max(m, c.resources[r] / mean[k]!);
    });
    return m;
  };
  return items
    .map((it, i) => ({ it, i, s: share(it.component), t: it.tier.antiAffinity ? it.tier.components.length : 0 }))
    .sort((a, b) => b.s - a.s || b.t - a.t || a.i - b.i)
    .map((x) => x.it);
}

/** unresolvable returns a status when no node of the fleet could ever take the item, else null. */
function unresolvable(fleet: Fleet, risky: boolean, it: Item): Status | null {
  const st = fleet.classStats(risky);
  const component = it.component.id;
  if (st.upNodes === 0) return { code: 'unresolvable', component, reason: 'no-eligible-nodes', resource: null, requested: 0, capacity: 0 };
  for (const r of RESOURCES) {
    if (it.component.resources[r] > st.maxCapacity[r]) return { code: 'unresolvable', component, reason: 'exceeds-largest-node', resource: r, requested: it.component.resources[r], capacity: st.maxCapacity[r] };
  }
  if (it.tier.antiAffinity && it.tier.components.length > st.upNodes) {
    return { code: 'unresolvable', component, reason: 'tier-larger-than-fleet', resource: null, requested: it.tier.components.length, capacity: st.upNodes };
  }
  return null;
}

function hostedOf(config: Configuration, it: Item): HostedComponent {
  const c = it.component;
  return { configuration: config.id, component: c.id, tier: it.tier.name, resources: c.resources, intensity: c.intensity, os: c.os };
}

interface Placed {
  readonly status: Status;
  readonly assignments: Assignment[];
  readonly metrics: ComponentMetrics[];
  readonly trace: ComponentTrace[] | null;
}

/** placeItems is the core loop: select, reserve, record; on the first failure it stops (the caller clears the scratch). */
function placeItems(fleet: Fleet, p: Pipeline, config: Configuration, items: readonly Item[], decision: DecisionState, scratch: Scratch, rng: Rng, explain: boolean): Placed {
  const risky = isRisky(config.risk, p.settings.riskThreshold);
  const assignments: Assignment[] = [];
  const metrics: ComponentMetrics[] = [];
  const trace: ComponentTrace[] | null = explain ? [] : null;
  for (const it of placementOrder(fleet, items)) {
    const bad = unresolvable(fleet, risky, it);
    if (bad) return { status: bad, assignments, metrics, trace };
    const ctx = contextFor(fleet, p.settings, p.availWeight, config, it.tier, it.component, decision);
    const t: ComponentTrace | null = trace ? { component: it.component.id, rejections: [], scores: [], chosen: null } : null;
    if (t) trace!.push(t);
    const sel = selectNode(p, ctx, rng, t);
    metrics.push(sel.metrics);
    if (!sel.ok) return { status: sel.status, assignments, metrics, trace };
    const n = sel.node;
    scratch.reserve(n, ctx.req);
    let tierMap = decision.tierNodes.get(it.tier.name);
    if (!tierMap) decision.tierNodes.set(it.tier.name, (tierMap = new Map()));
    tierMap.set(n, it.component.id);
    decision.configNodes.add(n);
    if (ctx.licensed) decision.openedOs.add(n * OS_STRIDE + ctx.osSlot);
    assignments.push({ configuration: config.id, component: it.component.id, tier: it.tier.name, node: fleet.ids[n]!, total: sel.total, scores: sel.scores });
  }
  return { status: OK, assignments, metrics, trace };
}

function sum(a: readonly Assignment[]): number {
  let s = 0;
  for (const x of a) s += x.total;
  return s;
}

/**
 * planPlacement places every component of the configuration that is not placed yet, all or
 * nothing: if one component finds no node, the plan places none and its status says which
 * component and why. Planning an already fully placed configuration returns an empty ok plan.
 */
export function planPlacement(fleet: Fleet, config: Configuration, opts: PlaceOptions): PlacementPlan {
  const placed = fleet.placementOf(config.id);
  const items = componentsOf(config).filter((x) => !placed.has(x.component.id));
  return placeNew(fleet, config, items, opts);
}

/** planAddComponent places one more component of an already placed configuration (003: the scheduler maps components as they are added). */
export function planAddComponent(fleet: Fleet, config: Configuration, componentId: string, opts: PlaceOptions): PlacementPlan {
  const it = componentsOf(config).find((x) => x.component.id === componentId);
  if (!it) throw new HostfleetError('E_NOT_FOUND', `configuration ${config.id} has no component ${componentId}; add it to a tier of the configuration first`, { details: { configuration: config.id, component: componentId } });
  if (fleet.placementOf(config.id).has(componentId)) throw new HostfleetError('E_CONFLICT', `component ${config.id}/${componentId} is already placed; use a change to modify it`, { details: { configuration: config.id, component: componentId } });
  return placeNew(fleet, config, [it], opts);
}

function placeNew(fleet: Fleet, config: Configuration, items: readonly Item[], opts: PlaceOptions): PlacementPlan {
  const p = opts.pipeline ?? newPipeline(DEFAULT_SETTINGS);
  const rng = opts.rng ?? rngFromDecisionId(opts.decisionId);
  const scratch = new Scratch(fleet);
  try {
    const r = placeItems(fleet, p, config, items, newDecisionState(fleet, config, new Set()), scratch, rng, opts.explain === true);
    const ok = r.status.code === 'ok';
    const assignments = ok ? r.assignments : [];
    const byId = new Map(items.map((it) => [it.component.id, it]));
    const actions: PlanAction[] = assignments.map((a) => ({ kind: 'host', node: a.node, hosted: hostedOf(config, byId.get(a.component)!) }));
    return { kind: 'placement', decisionId: opts.decisionId, configuration: config.id, status: r.status, assignments, objective: sum(assignments), actions, metrics: r.metrics, trace: r.trace };
  } finally {
    scratch.clear();
  }
}

/**
 * planNodeFailure re-places the components of a node that failed, and only those: every other
 * component stays where it is. The fleet must already record the node as down
 * (fleet.setNodeState). Configurations are handled in id order, each all or nothing, and
 * later ones see the reservations of earlier ones.
 */
export function planNodeFailure(fleet: Fleet, configurations: (id: string) => Configuration | undefined, nodeId: string, opts: PlaceOptions): FailurePlan {
  const i = fleet.indexOf(nodeId);
  if (fleet.state[i] === STATE_UP) throw new HostfleetError('E_CONFLICT', `node ${nodeId} is up; record the failure (state down) before planning its re-placement`, { details: { node: nodeId } });
  const p = opts.pipeline ?? newPipeline(DEFAULT_SETTINGS);
  const rng = opts.rng ?? rngFromDecisionId(opts.decisionId);
  const byConfig = new Map<string, string[]>();
  for (const h of fleet.hostedOn(i)) {
    const l = byConfig.get(h.configuration) ?? [];
    l.push(h.component);
    byConfig.set(h.configuration, l);
  }
  const scratch = new Scratch(fleet);
  const moves: Move[] = [];
  const unplaced: { configuration: string; components: string[]; status: Status }[] = [];
  const actions: PlanAction[] = [];
  const metrics: ComponentMetrics[] = [];
  try {
    for (const cid of [...byConfig.keys()].sort()) {
      const ids = byConfig.get(cid)!.sort();
      const config = configurations(cid);
      if (!config) throw new HostfleetError('E_NOT_FOUND', `configuration ${cid} hosted on node ${nodeId} is unknown to the caller; pass every configuration the fleet hosts`, { details: { configuration: cid } });
      const want = new Set(ids);
      const items = componentsOf(config).filter((x) => want.has(x.component.id));
      const decision = newDecisionState(fleet, config, want);
      const mark = scratch.mark();
      const r = placeItems(fleet, p, config, items, decision, scratch, rng, false);
      metrics.push(...r.metrics);
      if (r.status.code !== 'ok') {
        scratch.rollback(mark);
        unplaced.push({ configuration: cid, components: ids, status: r.status });
        continue;
      }
      const byId = new Map(items.map((it) => [it.component.id, it]));
      for (const a of r.assignments) {
        moves.push({ ...a, from: nodeId });
        actions.push({ kind: 'unhost', node: nodeId, configuration: cid, component: a.component });
        actions.push({ kind: 'host', node: a.node, hosted: hostedOf(config, byId.get(a.component)!) });
      }
    }
    return { kind: 'failure', decisionId: opts.decisionId, node: nodeId, moves, unplaced, objective: sum(moves), actions, metrics };
  } finally {
    scratch.clear();
  }
}

/**
 * planChange changes a placed component to `updated` (same id). When the operating system and
 * software stay the same and the component's node is up and can absorb the growth, the
 * change is made in place. Otherwise it is disruptive: a duplicate is placed while the original
 * keeps its resources (both are charged at once, so capacity holds during the overlap; an
 * anti-affine tier keeps the duplicate off the original's node), traffic switches over, and
 * the original is removed.
 */
export function planChange(fleet: Fleet, config: Configuration, updated: Component, opts: PlaceOptions): ChangePlan {
  const current = componentsOf(config).find((x) => x.component.id === updated.id);
  const at = fleet.placementOf(config.id).get(updated.id);
  if (!current || at === undefined) throw new HostfleetError('E_NOT_FOUND', `component ${config.id}/${updated.id} is not placed; place it before changing it`, { details: { configuration: config.id, component: updated.id } });
  const old = current.component;
  const nodeId = fleet.ids[at]!;
  const newHosted = hostedOf(config, { tier: current.tier, component: updated });
  const sameImage = old.os === updated.os && old.software.length === updated.software.length && old.software.every((s) => updated.software.includes(s));
  const fitsInPlace = fleet.state[at] === STATE_UP && RESOURCES.every((r, k) => fleet.used[at * R + k]! - old.resources[r] + updated.resources[r] <= fleet.cap[at * R + k]! + 1e-9);
  const base = { kind: 'change' as const, decisionId: opts.decisionId, configuration: config.id, component: updated.id };
  const swap: PlanAction[] = [
    { kind: 'unhost', node: nodeId, configuration: config.id, component: updated.id },
  ];
  if (sameImage && fitsInPlace) {
    return {
      ...base,
      status: OK,
      mode: 'in-place',
      steps: [{ kind: 'resize-in-place', node: nodeId, component: updated.id, from: old.resources, to: updated.resources }],
      assignment: null,
      actions: [...swap, { kind: 'host', node: nodeId, hosted: newHosted }],
      metrics: [],
      trace: null,
    };
  }
  const p = opts.pipeline ?? newPipeline(DEFAULT_SETTINGS);
  const rng = opts.rng ?? rngFromDecisionId(opts.decisionId);
  const scratch = new Scratch(fleet);
  try {
    // The original stays in the decision state: its node counts for anti-affinity and spread,
    // and its resources stay charged, because it keeps serving until the switch-over.
    const decision = newDecisionState(fleet, config, new Set());
    const r = placeItems(fleet, p, config, [{ tier: current.tier, component: updated }], decision, scratch, rng, opts.explain === true);
    const a = r.assignments[0];
    if (r.status.code !== 'ok' || !a) return { ...base, status: r.status, mode: null, steps: [], assignment: null, actions: [], metrics: r.metrics, trace: r.trace };
    return {
      ...base,
      status: OK,
      mode: 'duplicate-then-switch-over',
      steps: [
        { kind: 'create-duplicate', node: a.node, component: updated.id },
        { kind: 'switch-over', component: updated.id, from: nodeId, to: a.node },
        { kind: 'remove-original', node: nodeId, component: updated.id },
      ],
      assignment: a,
      actions: [...swap, { kind: 'host', node: a.node, hosted: newHosted }],
      metrics: r.metrics,
      trace: r.trace,
    };
  } finally {
    scratch.clear();
  }
}

/** CommitResult says whether a plan was applied, or which node no longer has room for it. */
export type CommitResult =
  | { readonly code: 'ok' }
  | { readonly code: 'conflict'; readonly node: string; readonly reason: 'node-not-up' | 'insufficient-resource'; readonly shortfall: ResourceShortfall | null };

/**
 * commitPlan applies a plan's actions to the fleet, in order, after the deployer carried them
 * out. It first checks the plan against the fleet as it is now: every node that receives a
 * component must be up and have room for the net change (003: the deployment verifies the
 * resources before allocating and returns the configuration to the scheduler when they are
 * gone). A stale plan is a conflict, returned as a value: re-plan and retry. Nothing is
 * applied unless everything fits.
 */
export function commitPlan(fleet: Fleet, plan: Plan): CommitResult {
  const delta = new Map<number, number[]>();
  const receiving = new Set<number>();
  const at = (n: number): number[] => {
    let d = delta.get(n);
    if (!d) delta.set(n, (d = RESOURCES.map(() => 0)));
    return d;
  };
  for (const a of plan.actions) {
    if (a.kind === 'host') {
      const n = fleet.indexOf(a.node);
      receiving.add(n);
      RESOURCES.forEach((r, k) => (at(n)[k]! += a.hosted.resources[r]));
    } else {
      const n = fleet.placementOf(a.configuration).get(a.component);
      if (n === undefined) continue;
      const h = fleet.hostedOn(n).find((x) => x.configuration === a.configuration && x.component === a.component)!;
      RESOURCES.forEach((r, k) => (at(n)[k]! -= h.resources[r]));
    }
  }
  for (const n of receiving) {
    if (fleet.state[n] !== STATE_UP) return { code: 'conflict', node: fleet.ids[n]!, reason: 'node-not-up', shortfall: null };
    const d = delta.get(n)!;
    for (let k = 0; k < R; k++) {
      const used = fleet.used[n * R + k]!;
      const cap = fleet.cap[n * R + k]!;
      if (d[k]! > 0 && used + d[k]! > cap + EPSILON) return { code: 'conflict', node: fleet.ids[n]!, reason: 'insufficient-resource', shortfall: { resource: RESOURCES[k]!, requested: d[k]!, used, capacity: cap } };
    }
  }
  for (const a of plan.actions) {
    if (a.kind === 'host') fleet.host(fleet.indexOf(a.node), a.hosted);
    else fleet.unhost(a.configuration, a.component);
  }
  return { code: 'ok' };
}
