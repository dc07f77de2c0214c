/**
 * reasons names every outcome the pipeline can record: why a node was rejected (with
 * structured data, never a formatted string), why a component could not be placed, and the
 * status of a decision (kube-scheduler's Status codes). The hot path records small integer
 * codes; these records are built from them only when a trace or a failure needs them.
 */
import type { NodeState, Resource } from './model.js';
import type { ScorePluginName } from './settings.js';

/** FILTER_REASONS are the reasons a filter rejects a node. */
export const FILTER_REASONS = [
  'node-not-up',
  'risk-needs-isolated-node',
  'isolated-node-reserved',
  'insufficient-resource',
  'tier-anti-affinity',
] as const;
/** FilterReason is one of FILTER_REASONS. */
export type FilterReason = (typeof FILTER_REASONS)[number];

/** REJECT is the integer code a filter returns (0 passes); FITS_BASE + resource index is an exhausted resource. */
export const REJECT = {
  pass: 0,
  notUp: 1,
  needsIsolated: 2,
  isolatedReserved: 3,
  fitsBase: 4,
  antiAffinity: 8,
  count: 9,
} as const;

/** reasonOfCode maps a reject code to its reason constant. */
export function reasonOfCode(code: number): FilterReason {
  if (code === REJECT.notUp) return 'node-not-up';
  if (code === REJECT.needsIsolated) return 'risk-needs-isolated-node';
  if (code === REJECT.isolatedReserved) return 'isolated-node-reserved';
  if (code === REJECT.antiAffinity) return 'tier-anti-affinity';
  return 'insufficient-resource';
}

/** ResourceShortfall is the structured reason of an exhausted resource on one node. */
export interface ResourceShortfall {
  readonly resource: Resource;
  readonly requested: number;
  /** used includes what earlier components of the same decision reserved on the node. */
  readonly used: number;
  readonly capacity: number;
}

/** Rejection records one node a filter turned down, tagged by reason. */
export type Rejection =
  | { readonly node: string; readonly filter: 'node-state'; readonly reason: 'node-not-up'; readonly state: NodeState }
  | {
      readonly node: string;
      readonly filter: 'isolation';
      readonly reason: 'risk-needs-isolated-node' | 'isolated-node-reserved';
    }
  | ({ readonly node: string; readonly filter: 'fits'; readonly reason: 'insufficient-resource' } & ResourceShortfall)
  | {
      readonly node: string;
      readonly filter: 'anti-affinity';
      readonly reason: 'tier-anti-affinity';
      readonly tier: string;
      readonly peer: string;
    };

/** ScoreRecord records one scored node: every plugin's 0–100 score and the weighted total. */
export interface ScoreRecord {
  readonly node: string;
  readonly scores: Readonly<Record<ScorePluginName, number>>;
  readonly total: number;
}

/** UNRESOLVABLE_REASONS are why a component can never be placed on this fleet, whatever is freed. */
export const UNRESOLVABLE_REASONS = ['exceeds-largest-node', 'no-eligible-nodes', 'tier-larger-than-fleet'] as const;
/** UnresolvableReason is one of UNRESOLVABLE_REASONS. */
export type UnresolvableReason = (typeof UNRESOLVABLE_REASONS)[number];

/** STATUS_CODES are the outcomes of a decision, as kube-scheduler's framework names them. */
export const STATUS_CODES = ['ok', 'unschedulable', 'unresolvable'] as const;
/** StatusCode is one of STATUS_CODES. */
export type StatusCode = (typeof STATUS_CODES)[number];

/** RejectionCounts counts rejected nodes per reason. */
export type RejectionCounts = Readonly<Record<FilterReason, number>>;

/**
 * Status is a decision's outcome. unschedulable means no node has room now (freeing or adding
 * capacity may help) and names the resource that turned most nodes away with the closest node;
 * unresolvable means no node of this fleet could ever take the component.
 */
export type Status =
  | { readonly code: 'ok' }
  | {
      readonly code: 'unschedulable';
      readonly component: string;
      readonly reason: FilterReason;
      /** resource is the resource most nodes lacked, when that was the main reason. */
      readonly resource: Resource | null;
      /** closest is the node with the most of that resource unallocated, and by how much it falls short. */
      readonly closest: ({ readonly node: string } & ResourceShortfall) | null;
      readonly rejected: RejectionCounts;
    }
  | {
      readonly code: 'unresolvable';
      readonly component: string;
      readonly reason: UnresolvableReason;
      readonly resource: Resource | null;
      readonly requested: number;
      readonly capacity: number;
    };
