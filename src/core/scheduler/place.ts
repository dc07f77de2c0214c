/**
 * place plans new configurations and new components: the largest and most constrained
 * components first, reserving as it goes, all or nothing. The re-placement of a failed node's
 * components is repair.ts, the change of a component change.ts; plans are values (plans.ts),
 * and the fleet changes only when commitPlan (commit.ts) applies one, which the deployer does
 * after it succeeds.
 */
import { HostfleetError } from '../errors.js';
import type { Fleet } from './fleet.js';
import { componentsOf, type Configuration } from './model.js';
import { newDecisionState } from './context.js';
import { newPipeline } from './pipeline.js';
import { Scratch, hostedOf, placeItems, totalOf, type Item } from './place-items.js';
import type { PlaceOptions, PlacementPlan, PlanAction } from './plans.js';
import { rngFromDecisionId } from './rng.js';
import { DEFAULT_SETTINGS } from './settings.js';

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
export function planAddComponent(
  fleet: Fleet,
  config: Configuration,
  componentId: string,
  opts: PlaceOptions,
): PlacementPlan {
  const it = componentsOf(config).find((x) => x.component.id === componentId);
  if (!it)
    throw new HostfleetError(
      'E_NOT_FOUND',
      `configuration ${config.id} has no component ${componentId}; add it to a tier of the configuration first`,
      { details: { configuration: config.id, component: componentId } },
    );
  if (fleet.placementOf(config.id).has(componentId))
    throw new HostfleetError(
      'E_CONFLICT',
      `component ${config.id}/${componentId} is already placed; use a change to modify it`,
      { details: { configuration: config.id, component: componentId } },
    );
  return placeNew(fleet, config, [it], opts);
}

function placeNew(fleet: Fleet, config: Configuration, items: readonly Item[], opts: PlaceOptions): PlacementPlan {
  const p = opts.pipeline ?? newPipeline(DEFAULT_SETTINGS);
  const rng = opts.rng ?? rngFromDecisionId(opts.decisionId);
  const scratch = new Scratch(fleet);
  try {
    const r = placeItems(
      fleet,
      p,
      config,
      items,
      newDecisionState(fleet, config, new Set()),
      scratch,
      rng,
      opts.explain === true,
    );
    const ok = r.status.code === 'ok';
    const assignments = ok ? r.assignments : [];
    const byId = new Map(items.map((it) => [it.component.id, it]));
    const actions: PlanAction[] = assignments.map((a) => ({
      kind: 'host',
      node: a.node,
      hosted: hostedOf(config, byId.get(a.component)!),
    }));
    return {
      kind: 'placement',
      decisionId: opts.decisionId,
      configuration: config.id,
      status: r.status,
      assignments,
      objective: totalOf(assignments),
      actions,
      metrics: r.metrics,
      trace: r.trace,
    };
  } finally {
    scratch.clear();
  }
}
