/**
 * reasons are the structured traces a plan carries: why each move was chosen (the request it
 * serves, its tier, the source it came from, the donor's standing) and why a demand was left
 * unmet or a candidate skipped. They are data, not formatted strings, so the tick stays cheap
 * and the API, the console and `hostfleet explain` can render them as they like.
 */

/** TIERS are the fairness tiers in the order they are served (see docs/DECISION.md). */
export const TIERS = ['committed', 'burst', 'extended', 'release'] as const;
/** Tier is one of TIERS: committed restores a promise, burst is guaranteed, extended is best effort, release returns to the pool. */
export type Tier = (typeof TIERS)[number];

/** SOURCE_KINDS are where a server comes from, cheapest first. */
export const SOURCE_KINDS = ['warm-pool-same', 'warm-pool', 'cold-pool', 'offered-release', 'donor', 'group'] as const;
/** SourceKind is one of SOURCE_KINDS ('group' is the source of a release to the pool). */
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** SKIP_CODES name why a demand or a candidate was not served. */
export const SKIP_CODES = [
  'no-supply',
  'tick-limit',
  'at-ceiling',
  'at-max-size',
  'donor-at-committed',
  'donor-at-min-size',
  'donor-cooling',
  'donor-priority',
  'extended-pool-only',
  'server-cooling',
  'reverse-cooling',
  'release-below-floor',
  'release-cooling',
  'unknown-group',
] as const;
/** SkipCode is one of SKIP_CODES. */
export type SkipCode = (typeof SKIP_CODES)[number];

/** Reason is one line of a move's trace. */
export type Reason =
  | {
      readonly kind: 'request';
      readonly requestIds: readonly string[];
      readonly source: string;
      readonly urgency: number;
      readonly wanted: number;
    }
  | {
      readonly kind: 'tier';
      readonly tier: Tier;
      readonly held: number;
      readonly committed: number;
      readonly burst: number;
      readonly extended: number;
      readonly priority: number;
    }
  | { readonly kind: 'source'; readonly source: SourceKind; readonly group: string | null }
  | {
      readonly kind: 'donor';
      readonly group: string;
      readonly held: number;
      readonly committed: number;
      readonly priority: number;
      readonly offered: boolean;
    }
  | { readonly kind: 'skipped'; readonly code: SkipCode; readonly group: string | null; readonly count: number };
