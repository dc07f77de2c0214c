/**
 * place-items is the scheduler's core loop, shared by every kind of plan: order the components
 * hardest first, give up early on one no node could ever take, and for each select a node
 * through the pipeline and reserve its resources in a scratch that can roll back, so later
 * components of the same decision see the earlier ones.
 */
import { R, type Fleet } from './fleet.js';
import { RESOURCES, isRisky, type Component, type Configuration, type HostedComponent, type Tier } from './model.js';
import { OS_STRIDE, contextFor, type DecisionState } from './context.js';
import { selectNode, type ComponentMetrics, type ComponentTrace, type Pipeline } from './pipeline.js';
import type { Assignment } from './plans.js';
import type { Status } from './reasons.js';
import type { Rng } from './rng.js';

/** Item is one component to place, with its tier. */
export interface Item {
  readonly tier: Tier;
  readonly component: Component;
}

/** OK is the status of a plan that succeeded. */
export const OK: Status = { code: 'ok' };

/** Scratch holds the pending reservations of one decision; it can roll back to a mark and clears exactly what it touched. */
export class Scratch {
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
  if (st.upNodes === 0)
    return { code: 'unresolvable', component, reason: 'no-eligible-nodes', resource: null, requested: 0, capacity: 0 };
  for (const r of RESOURCES) {
    if (it.component.resources[r] > st.maxCapacity[r])
      return {
        code: 'unresolvable',
        component,
        reason: 'exceeds-largest-node',
        resource: r,
        requested: it.component.resources[r],
        capacity: st.maxCapacity[r],
      };
  }
  if (it.tier.antiAffinity && it.tier.components.length > st.upNodes) {
    return {
      code: 'unresolvable',
      component,
      reason: 'tier-larger-than-fleet',
      resource: null,
      requested: it.tier.components.length,
      capacity: st.upNodes,
    };
  }
  return null;
}

/** hostedOf is the record of a component once it is hosted. */
export function hostedOf(config: Configuration, it: Item): HostedComponent {
  const c = it.component;
  return {
    configuration: config.id,
    component: c.id,
    tier: it.tier.name,
    resources: c.resources,
    intensity: c.intensity,
    os: c.os,
  };
}

/** Placed is what placeItems placed before it finished or stopped. */
export interface Placed {
  readonly status: Status;
  readonly assignments: Assignment[];
  readonly metrics: ComponentMetrics[];
  readonly trace: ComponentTrace[] | null;
}

/** placeItems is the core loop: select, reserve, record; on the first failure it stops (the caller clears the scratch). */
export function placeItems(
  fleet: Fleet,
  p: Pipeline,
  config: Configuration,
  items: readonly Item[],
  decision: DecisionState,
  scratch: Scratch,
  rng: Rng,
  explain: boolean,
): Placed {
  const risky = isRisky(config.risk, p.settings.riskThreshold);
  const assignments: Assignment[] = [];
  const metrics: ComponentMetrics[] = [];
  const trace: ComponentTrace[] | null = explain ? [] : null;
  for (const it of placementOrder(fleet, items)) {
    const bad = unresolvable(fleet, risky, it);
    if (bad) return { status: bad, assignments, metrics, trace };
    const ctx = contextFor(fleet, p.settings, p.availWeight, config, it.tier, it.component, decision);
    const t: ComponentTrace | null = trace
      ? { component: it.component.id, rejections: [], scores: [], chosen: null }
      : null;
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
    assignments.push({
      configuration: config.id,
      component: it.component.id,
      tier: it.tier.name,
      node: fleet.ids[n]!,
      total: sel.total,
      scores: sel.scores,
    });
  }
  return { status: OK, assignments, metrics, trace };
}

/** totalOf is the objective of a list of assignments: the sum of their totals. */
export function totalOf(a: readonly Assignment[]): number {
  let s = 0;
  for (const x of a) s += x.total;
  return s;
}
