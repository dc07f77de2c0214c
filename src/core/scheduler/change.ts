/**
 * change plans a change to a placed component: in place when its node can absorb it, otherwise
 * as a duplicate placed beside the original, followed by a switch-over.
 */
import { HostfleetError } from '../errors.js';
import { R, STATE_UP, type Fleet } from './fleet.js';
import { RESOURCES, componentsOf, type Component, type Configuration } from './model.js';
import { newDecisionState } from './context.js';
import { newPipeline } from './pipeline.js';
import { OK, Scratch, hostedOf, placeItems } from './place-items.js';
import type { ChangePlan, PlaceOptions, PlanAction } from './plans.js';
import { rngFromDecisionId } from './rng.js';
import { DEFAULT_SETTINGS } from './settings.js';

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
  if (!current || at === undefined)
    throw new HostfleetError(
      'E_NOT_FOUND',
      `component ${config.id}/${updated.id} is not placed; place it before changing it`,
      { details: { configuration: config.id, component: updated.id } },
    );
  const old = current.component;
  const nodeId = fleet.ids[at]!;
  const newHosted = hostedOf(config, { tier: current.tier, component: updated });
  const sameImage =
    old.os === updated.os &&
    old.software.length === updated.software.length &&
    old.software.every((s) => updated.software.includes(s));
  const fitsInPlace =
    fleet.state[at] === STATE_UP &&
    RESOURCES.every(
      (r, k) => fleet.used[at * R + k]! - old.resources[r] + updated.resources[r] <= fleet.cap[at * R + k]! + 1e-9,
    );
  const base = {
    kind: 'change' as const,
    decisionId: opts.decisionId,
    configuration: config.id,
    component: updated.id,
  };
  const swap: PlanAction[] = [{ kind: 'unhost', node: nodeId, configuration: config.id, component: updated.id }];
  if (sameImage && fitsInPlace) {
    return {
      ...base,
      status: OK,
      mode: 'in-place',
      steps: [
        { kind: 'resize-in-place', node: nodeId, component: updated.id, from: old.resources, to: updated.resources },
      ],
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
    const r = placeItems(
      fleet,
      p,
      config,
      [{ tier: current.tier, component: updated }],
      decision,
      scratch,
      rng,
      opts.explain === true,
    );
    const a = r.assignments[0];
    if (r.status.code !== 'ok' || !a)
      return {
        ...base,
        status: r.status,
        mode: null,
        steps: [],
        assignment: null,
        actions: [],
        metrics: r.metrics,
        trace: r.trace,
      };
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
