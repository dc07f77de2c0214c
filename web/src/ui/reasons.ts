/**
 * reasons turns the decision loop's structured traces (src/core/decision/reasons.ts) into words
 * with units for the Decisions view. The codes are repeated here, not imported, because the page
 * speaks only to the API; a code this list does not know is shown as it is.
 */
import type { DecisionRequest, PlanReason } from '../api.js';

/** SKIP_TEXT says why demand went unmet or a candidate server was passed over, per skip code. */
export const SKIP_TEXT: Readonly<Record<string, string>> = {
  'no-supply': 'no free server in the pool, in releases or at donors',
  'tick-limit': 'the moves per tick were used up',
  'at-ceiling': 'the group is at its SLA extended level',
  'at-max-size': 'the group is at its maximum size',
  'donor-at-committed': 'the donor is at its committed level',
  'donor-at-min-size': 'the donor is at its minimum size',
  'donor-cooling': 'the donor received a server within the group cool-down',
  'donor-priority': 'the donor has the same or a higher priority',
  'extended-pool-only': 'extended demand takes pool servers only',
  'server-cooling': 'the server moved within the server cool-down',
  'reverse-cooling': 'a server went the other way within the reverse cool-down',
  'release-below-floor': 'a release would go below committed or the minimum size',
  'release-cooling': 'the group received a server within the group cool-down',
  'unknown-group': 'the group is not known',
};

/** SOURCE_TEXT names where a planned move takes its server from, per source kind. */
export const SOURCE_TEXT: Readonly<Record<string, string>> = {
  'warm-pool-same': 'warm pool, same personality',
  'warm-pool': 'warm pool',
  'cold-pool': 'cold pool',
  'offered-release': 'an offered release',
  donor: 'a donor group',
  group: 'its group',
};

/** ASKER_TEXT names who asked for a change, per request source. */
export const ASKER_TEXT: Readonly<Record<string, string>> = {
  agent: "the group's agents",
  predicted: 'the predictor',
  failure: 'failure replacement',
  sla: 'SLA restoration',
  operator: 'an operator',
};

/** servers writes a count of servers with its unit: "1 server", "3 servers". */
export function servers(n: number): string {
  return `${n} ${n === 1 ? 'server' : 'servers'}`;
}

/** ReasonRow is one reason as the Decisions view's table shows it. */
export interface ReasonRow {
  readonly reason: string;
  readonly detail: string;
}

/** reasonRow turns one recorded reason of a planned move into words and figures with units. */
export function reasonRow(r: PlanReason): ReasonRow {
  switch (r.kind) {
    case 'request':
      return {
        reason: `asked by ${ASKER_TEXT[r.source] ?? r.source}`,
        detail: `${servers(r.wanted)} wanted, urgency ${r.urgency.toFixed(2)} of 1`,
      };
    case 'tier':
      return {
        reason: `${r.tier} tier`,
        detail: `held ${servers(r.held)}; SLA levels ${r.committed} / ${r.burst} / ${servers(r.extended)} (committed / burst / extended); priority ${r.priority.toFixed(2)}`,
      };
    case 'source':
      return {
        reason: `from ${SOURCE_TEXT[r.source] ?? r.source}`,
        detail: r.group === null ? '' : `group ${r.group}`,
      };
    case 'donor':
      return {
        reason: `donor ${r.group}`,
        detail: `held ${servers(r.held)}, committed ${servers(r.committed)}; priority ${r.priority.toFixed(2)}${r.offered ? '; it offered a release' : ''}`,
      };
    case 'skipped':
      return {
        reason: `skipped: ${SKIP_TEXT[r.code] ?? r.code}`,
        detail: `${r.count} ${r.count === 1 ? 'candidate' : 'candidates'}${r.group === null ? '' : ` of ${r.group}`}`,
      };
  }
}

/** unmetRow says what a group asked for and did not get, and why. */
export function unmetRow(u: { readonly wanted: number; readonly granted: number; readonly code: string }): ReasonRow {
  return {
    reason: `unmet: ${SKIP_TEXT[u.code] ?? u.code}`,
    detail: `${servers(u.wanted)} wanted, ${servers(u.granted)} granted`,
  };
}

/** requestText says what a request asks for: "add 2 servers", "release 1 server". */
export function requestText(r: Pick<DecisionRequest, 'kind' | 'count'>): string {
  return `${r.kind} ${servers(r.count)}`;
}
