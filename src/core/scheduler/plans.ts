/**
 * plans holds what the scheduler decides, as values: a placement of a new configuration, the
 * re-placement of a failed node's components, and a change to one component, each with the
 * actions that committing it makes to the fleet's records (commit.ts).
 */
import type { HostedComponent, ResourceVector } from './model.js';
import type { ComponentMetrics, ComponentTrace, Pipeline } from './pipeline.js';
import type { Status } from './reasons.js';
import type { Rng } from './rng.js';
import type { ScorePluginName } from './settings.js';

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
  readonly unplaced: readonly {
    readonly configuration: string;
    readonly components: readonly string[];
    readonly status: Status;
  }[];
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
  | {
      readonly kind: 'resize-in-place';
      readonly node: string;
      readonly component: string;
      readonly from: ResourceVector;
      readonly to: ResourceVector;
    }
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
