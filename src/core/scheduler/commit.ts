/**
 * commit applies a plan to the fleet's records once the deployer has carried it out, after
 * checking that the plan still fits the fleet as it is now.
 */
import { EPSILON, R, STATE_UP, type Fleet } from './fleet.js';
import { RESOURCES } from './model.js';
import type { Plan } from './plans.js';
import type { ResourceShortfall } from './reasons.js';

/** CommitResult says whether a plan was applied, or which node no longer has room for it. */
export type CommitResult =
  | { readonly code: 'ok' }
  | {
      readonly code: 'conflict';
      readonly node: string;
      readonly reason: 'node-not-up' | 'insufficient-resource';
      readonly shortfall: ResourceShortfall | null;
    };

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
    if (fleet.state[n] !== STATE_UP)
      return { code: 'conflict', node: fleet.ids[n]!, reason: 'node-not-up', shortfall: null };
    const d = delta.get(n)!;
    for (let k = 0; k < R; k++) {
      const used = fleet.used[n * R + k]!;
      const cap = fleet.cap[n * R + k]!;
      if (d[k]! > 0 && used + d[k]! > cap + EPSILON)
        return {
          code: 'conflict',
          node: fleet.ids[n]!,
          reason: 'insufficient-resource',
          shortfall: { resource: RESOURCES[k]!, requested: d[k]!, used, capacity: cap },
        };
    }
  }
  for (const a of plan.actions) {
    if (a.kind === 'host') fleet.host(fleet.indexOf(a.node), a.hosted);
    else fleet.unhost(a.configuration, a.component);
  }
  return { code: 'ok' };
}
