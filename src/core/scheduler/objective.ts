/**
 * objective states, on plain records and independently of the typed-array pipeline, the value
 * both the pipeline and the exact solver maximise (docs/SCHEDULER.md gives the formula):
 *
 *   O(x) = Σ_(c,n) x_cn · (w_a·A_cn + w_b·B_cn + w_h·H_cn + w_l·100)
 *          − w_l · 100 · |{(n, o) : o licensed, n ran no o before, some new c with os o on n}|
 *          + w_s · 100 · |{n : n held no component of the configuration before, some new c on n}|
 *
 * A, B and H (availability, balance, behaviour) are read against the state before the
 * decision, so they are constants per (component, node) pair and the objective is linear in
 * x plus two set-counting terms that a MIP linearises with one variable per (node, os) and
 * per node. The pipeline's recorded scores add up to exactly this value (a test checks it).
 */
import { RESOURCES, type Component, type Configuration, type HardwareNode } from './model.js';
import { peakSurplus } from './context.js';
import type { SchedulerSettings } from './settings.js';

/** PairTerms are the node-state scores of one component on one node, each 0–100. */
export interface PairTerms {
  readonly availability: number;
  readonly balance: number;
  readonly behaviour: number;
}

/** usedOf sums what a node record has allocated: its reserved share and every hosted component. */
export function usedOf(node: HardwareNode): Record<(typeof RESOURCES)[number], number> {
  const u = { ...node.reserved };
  for (const h of node.hosted) for (const r of RESOURCES) u[r] += h.resources[r];
  return u;
}

/** pairTerms computes availability, balance and behaviour of component c on a node record, by the formulas of scores.ts. */
export function pairTerms(node: HardwareNode, c: Component, settings: SchedulerSettings): PairTerms {
  const used = usedOf(node);
  let wsum = 0;
  for (const r of RESOURCES) wsum += settings.availabilityWeights[r];
  let a = 0;
  for (const r of RESOURCES) {
    const cap = node.capacity[r];
    if (cap > 0) a += (settings.availabilityWeights[r] / wsum) * ((cap - used[r] - c.resources[r]) / cap);
  }
  const net = node.hosted.filter((h) => h.intensity === 'network').length;
  const sto = node.hosted.filter((h) => h.intensity === 'storage').length;
  const balance =
    c.intensity === 'neutral' ? 50 : (100 * ((c.intensity === 'network' ? sto : net) + 1)) / (net + sto + 2);
  const sur = peakSurplus(c);
  let behaviour = 100;
  const withSurplus = RESOURCES.map((r, k) => ({ r, s: sur[k]! })).filter((x) => x.s > 0);
  if (withSurplus.length > 0) {
    let s = 0;
    for (const { r, s: need } of withSurplus)
      s += Math.min(1, Math.max(0, (node.capacity[r] - used[r] - c.resources[r]) / need));
    behaviour = (100 * s) / withSurplus.length;
  }
  return { availability: Math.max(0, 100 * a), balance, behaviour };
}

/** pairValue is the per-pair part of the objective: the weighted node-state terms plus the licence credit w_l·100. */
export function pairValue(node: HardwareNode, c: Component, settings: SchedulerSettings): number {
  const t = pairTerms(node, c, settings);
  const w = settings.weights;
  return w.availability * t.availability + w.balance * t.balance + w.behaviour * t.behaviour + w.licence * 100;
}

/** ObjectiveInput is a decision to evaluate: the nodes before it, the configuration, and where its new components went. */
export interface ObjectiveInput {
  readonly nodes: readonly HardwareNode[];
  readonly config: Configuration;
  readonly assignments: readonly { readonly component: Component; readonly node: string }[];
  /** moving are components of the configuration being re-placed: their old nodes do not count as holding the configuration. */
  readonly moving?: ReadonlySet<string>;
  readonly settings: SchedulerSettings;
}

/** objectiveValue evaluates O(x) for a decision (see the file comment). */
export function objectiveValue(input: ObjectiveInput): number {
  const { nodes, config, assignments, settings } = input;
  const moving = input.moving ?? new Set<string>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const w = settings.weights;
  let total = 0;
  const opened = new Set<string>();
  const newNodes = new Set<string>();
  for (const a of assignments) {
    const node = byId.get(a.node);
    if (!node) throw new Error(`objectiveValue: unknown node ${a.node}`);
    total += pairValue(node, a.component, settings);
    if (settings.licensedOs.includes(a.component.os) && !node.hosted.some((h) => h.os === a.component.os))
      opened.add(`${a.node}\u0000${a.component.os}`);
    if (!node.hosted.some((h) => h.configuration === config.id && !moving.has(h.component))) newNodes.add(a.node);
  }
  return total - w.licence * 100 * opened.size + w.spread * 100 * newNodes.size;
}
