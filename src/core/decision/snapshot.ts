/**
 * snapshot sorts a tick's input into what the stages work on: each group's standing and
 * members (in the order they give servers away), the warm pool by personality, the cold pool,
 * and when each pair of groups last exchanged a server (for the cool-downs).
 */
import type { DecisionGroup, DecisionInput, DecisionServer, RecentMove, RequestSource } from './input.js';
import type { SkipCode } from './reasons.js';

/** GroupState is a group's standing during the tick: what it holds, wants, was granted and offers. */
export interface GroupState {
  readonly g: DecisionGroup;
  held: number;
  members: DecisionServer[];
  wanted: number;
  granted: number;
  offered: number;
  urgency: number;
  requestIds: readonly string[];
  source: RequestSource;
  asking: boolean;
  lastReceived: number;
  blocked: SkipCode | null;
}

/** byId orders records by id, so every choice is independent of input order. */
export const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/**
 * pickOrder orders a group's servers for giving away: servers whose agent asked go last (the
 * asker carries the group decider's history and cool-down; moving it would reset them), then
 * the one that moved longest ago first.
 */
const pickOrder = (askers: ReadonlySet<string>) => (x: DecisionServer, y: DecisionServer) =>
  Number(askers.has(x.id)) - Number(askers.has(y.id)) ||
  (x.movedAt ?? -Infinity) - (y.movedAt ?? -Infinity) ||
  byId(x, y);

/** Snapshot is the tick's input sorted for the stages. */
export interface Snapshot {
  readonly groups: Map<string, GroupState>;
  /** warmSame holds the warm pool servers of each group's personality, warmOther the generic ones. */
  readonly warmSame: Map<string, DecisionServer[]>;
  readonly warmOther: DecisionServer[];
  readonly cold: DecisionServer[];
  /** recentPairs is when a server last went from one group to another (key: from, NUL, to). */
  readonly recentPairs: Map<string, number>;
}

/** takeSnapshot sorts the input once, so every later choice is independent of its order. */
export function takeSnapshot(input: DecisionInput): Snapshot {
  const groups = new Map<string, GroupState>();
  for (const g of [...input.groups].sort(byId)) {
    groups.set(g.id, {
      g,
      held: g.joining,
      members: [],
      wanted: 0,
      granted: 0,
      offered: 0,
      urgency: 0,
      requestIds: [],
      source: 'agent',
      asking: false,
      lastReceived: -Infinity,
      blocked: null,
    });
  }
  const warmSame = new Map<string, DecisionServer[]>();
  const warmOther: DecisionServer[] = [];
  const cold: DecisionServer[] = [];
  // Sorted once so every later choice (and the warm lists' order) is independent of input order.
  for (const s of [...input.servers].sort(byId)) {
    if (s.spot === 'group' && s.groupId !== null) {
      const st = groups.get(s.groupId);
      if (st) {
        st.held++;
        st.members.push(s);
      }
    } else if (s.spot === 'pool') {
      if (s.temp === 'warm') {
        if (s.groupId !== null && groups.has(s.groupId)) {
          const l = warmSame.get(s.groupId) ?? [];
          l.push(s);
          warmSame.set(s.groupId, l);
        } else warmOther.push(s);
      } else cold.push(s);
    }
  }
  const askers = new Set<string>();
  for (const r of input.requests) if (r.serverId) askers.add(r.serverId);
  for (const st of groups.values()) st.members.sort(pickOrder(askers));
  for (const l of warmSame.values()) l.sort(byId);
  warmOther.sort(byId);
  cold.sort(byId);
  const recentPairs = new Map<string, number>();
  for (const m of input.recent) {
    if (m.toGroup !== null) {
      const st = groups.get(m.toGroup);
      if (st && m.at > st.lastReceived) st.lastReceived = m.at;
    }
    if (m.fromGroup !== null && m.toGroup !== null) {
      const k = pairKey(m);
      recentPairs.set(k, Math.max(recentPairs.get(k) ?? -Infinity, m.at));
    }
  }
  return { groups, warmSame, warmOther, cold, recentPairs };
}

function pairKey(m: RecentMove): string {
  return `${m.fromGroup ?? ''}\u0000${m.toGroup ?? ''}`;
}
