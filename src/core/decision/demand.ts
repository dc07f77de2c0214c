/**
 * demand is the first stage of a tick: the tick's requests merged into one demand per group.
 * Agents of one group speak for it once; failure replacements add on top.
 */
import type { DecisionRequest, RequestSource } from './input.js';

/** Demand is a group's merged requests of the tick. */
export interface Demand {
  readonly groupId: string;
  readonly add: number;
  readonly release: number;
  readonly urgency: number;
  readonly requestIds: readonly string[];
  readonly source: RequestSource;
}

/** mergeRequests folds a tick's requests into one demand per group, in group-id order. */
export function mergeRequests(requests: readonly DecisionRequest[]): Demand[] {
  const by = new Map<
    string,
    { load: number; failure: number; release: number; urgency: number; ids: string[]; source: RequestSource }
  >();
  // Stream order must not matter: the same requests give the same plan, whatever their arrival.
  const sorted = [...requests].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const r of sorted) {
    const count = Math.max(0, Math.floor(r.count));
    if (count === 0) continue;
    let d = by.get(r.groupId);
    if (!d) {
      d = { load: 0, failure: 0, release: 0, urgency: 0, ids: [], source: r.source };
      by.set(r.groupId, d);
    }
    d.ids.push(r.id);
    if (r.kind === 'release') {
      // Every agent of the group may offer; the group offers the largest of them once.
      d.release = Math.max(d.release, count);
      continue;
    }
    // A replacement for a failed server is owed on top of whatever the load asks for.
    if (r.source === 'failure') d.failure += count;
    else d.load = Math.max(d.load, count);
    // The demand is labelled by its most urgent request; a failure replacement labels it anyway.
    if (d.ids.length === 1 || r.urgency > d.urgency) d.source = r.source;
    d.urgency = Math.max(d.urgency, Math.min(1, Math.max(0, r.urgency)));
  }
  return [...by.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([groupId, d]) => {
      const add = d.load + d.failure;
      // A group that asks for servers does not at the same time offer any.
      return {
        groupId,
        add,
        release: add > 0 ? 0 : d.release,
        urgency: d.urgency,
        requestIds: d.ids,
        source: d.failure > 0 ? 'failure' : d.source,
      };
    });
}
