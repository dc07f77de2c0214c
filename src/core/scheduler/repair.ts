/**
 * repair plans the re-placement of a failed node's components, and only those: every other
 * component stays where it is.
 */
import { HostfleetError } from '../errors.js';
import { STATE_UP, type Fleet } from './fleet.js';
import { componentsOf, type Configuration } from './model.js';
import { newDecisionState } from './context.js';
import { newPipeline, type ComponentMetrics } from './pipeline.js';
import { Scratch, hostedOf, placeItems, totalOf } from './place-items.js';
import type { FailurePlan, Move, PlaceOptions, PlanAction } from './plans.js';
import type { Status } from './reasons.js';
import { rngFromDecisionId } from './rng.js';
import { DEFAULT_SETTINGS } from './settings.js';

/**
 * planNodeFailure re-places the components of a node that failed, and only those: every other
 * component stays where it is. The fleet must already record the node as down
 * (fleet.setNodeState). Configurations are handled in id order, each all or nothing, and
 * later ones see the reservations of earlier ones.
 */
export function planNodeFailure(
  fleet: Fleet,
  configurations: (id: string) => Configuration | undefined,
  nodeId: string,
  opts: PlaceOptions,
): FailurePlan {
  const i = fleet.indexOf(nodeId);
  if (fleet.state[i] === STATE_UP)
    throw new HostfleetError(
      'E_CONFLICT',
      `node ${nodeId} is up; record the failure (state down) before planning its re-placement`,
      { details: { node: nodeId } },
    );
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
      if (!config)
        throw new HostfleetError(
          'E_NOT_FOUND',
          `configuration ${cid} hosted on node ${nodeId} is unknown to the caller; pass every configuration the fleet hosts`,
          { details: { configuration: cid } },
        );
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
    return {
      kind: 'failure',
      decisionId: opts.decisionId,
      node: nodeId,
      moves,
      unplaced,
      objective: totalOf(moves),
      actions,
      metrics,
    };
  } finally {
    scratch.clear();
  }
}
