/**
 * explain renders a plan's records as lines for `--explain` and the console: why each node was
 * rejected and how each chosen node scored. Formatting happens here, after the decision, never
 * in the hot path.
 */
import { RESOURCE_UNITS } from './model.js';
import type { ComponentTrace } from './pipeline.js';
import type { PlacementPlan } from './plans.js';
import type { Rejection, Status } from './reasons.js';
import { SCORE_PLUGINS } from './settings.js';

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** describeRejection says in words why a node was rejected. */
export function describeRejection(r: Rejection): string {
  switch (r.reason) {
    case 'node-not-up':
      return `${r.node}: node is ${r.state}`;
    case 'risk-needs-isolated-node':
      return `${r.node}: risky configuration needs an isolated node`;
    case 'isolated-node-reserved':
      return `${r.node}: isolated node is reserved for risky configurations`;
    case 'insufficient-resource':
      return `${r.node}: needs ${fmt(r.requested)} ${RESOURCE_UNITS[r.resource]} ${r.resource}, ${fmt(r.capacity - r.used)} of ${fmt(r.capacity)} unallocated`;
    case 'tier-anti-affinity':
      return `${r.node}: already holds ${r.peer} of tier ${r.tier}`;
  }
}

/** describeStatus says in words what a decision's status means and what to do. */
export function describeStatus(s: Status): string {
  switch (s.code) {
    case 'ok':
      return 'placed';
    case 'unschedulable': {
      const c = s.closest;
      const why =
        s.resource && c
          ? `not enough ${s.resource}: needs ${fmt(c.requested)} ${RESOURCE_UNITS[s.resource]}, the best node ${c.node} has ${fmt(c.capacity - c.used)} unallocated`
          : `nodes rejected mostly for ${s.reason}`;
      return `component ${s.component} is unschedulable (${why}); free capacity, add nodes, or shrink the component`;
    }
    case 'unresolvable':
      if (s.reason === 'exceeds-largest-node')
        return `component ${s.component} needs ${fmt(s.requested)} ${RESOURCE_UNITS[s.resource!]} ${s.resource}, more than the largest eligible node has (${fmt(s.capacity)}); shrink it or add a larger node`;
      if (s.reason === 'tier-larger-than-fleet')
        return `component ${s.component}'s tier needs ${s.requested} distinct nodes but only ${s.capacity} eligible nodes are up; turn off antiAffinity or add nodes`;
      return `component ${s.component} has no eligible node (no up node of the right isolation class); add isolated nodes for risky configurations`;
  }
}

/** explainTrace renders one component's trace: its rejections grouped by reason, then its top-scored nodes. */
export function explainTrace(t: ComponentTrace, top = 5): string[] {
  const lines = [`component ${t.component} → ${t.chosen ?? 'no node'}`];
  for (const r of t.rejections) lines.push(`  rejected ${describeRejection(r)}`);
  const best = [...t.scores].sort((a, b) => b.total - a.total).slice(0, top);
  for (const s of best)
    lines.push(
      `  scored ${s.node}: total ${fmt(s.total)} (${SCORE_PLUGINS.map((p) => `${p} ${fmt(s.scores[p])}`).join(', ')})`,
    );
  return lines;
}

/** explainPlan renders a placement plan for `--explain`. */
export function explainPlan(plan: PlacementPlan): string[] {
  const lines = [
    `decision ${plan.decisionId}: configuration ${plan.configuration}: ${describeStatus(plan.status)}; objective ${fmt(plan.objective)}`,
  ];
  for (const a of plan.assignments) lines.push(`  ${a.component} (${a.tier}) → ${a.node} score ${fmt(a.total)}`);
  for (const t of plan.trace ?? []) lines.push(...explainTrace(t));
  return lines;
}
