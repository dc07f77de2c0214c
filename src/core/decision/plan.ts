/**
 * plan is the master decision logic of one tick: it balances every add and release request
 * against the resource snapshot and the SLA levels and returns the moves to start, in order,
 * each with its reason trace. It only decides; the manager's decision component hands the
 * moves to the dispatcher.
 *
 * The tick is a pipeline, like a scheduler's:
 *   1. demand   — merge the tick's requests per group (agents of one group speak for it once;
 *                 failure replacements add on top);
 *   2. rank     — serve demand one server at a time from a heap keyed by the fairness rule:
 *                 tier (committed < burst < extended), then SLA priority, then urgency, then the
 *                 share the group already holds of its committed level, then the group id;
 *   3. source   — for the chosen group, take the cheapest eligible source: a server warm with the
 *                 group's own personality, another warm server, a cold one, a server of a group
 *                 that offered a release, then a donor above its committed level (only for the
 *                 committed and burst tiers; see donorEligible) — quiet donors before donors
 *                 that are asking themselves, lowest priority first;
 *   4. release  — groups that offered a release and were not drawn on return servers to the pool;
 *   5. limit    — at most maxMovesPerTick moves in all (the rank stage stops there).
 * Every rejected candidate is counted under a SkipCode so the plan can explain itself. The
 * input is sorted by snapshot.ts, demand merged by demand.ts, the level rules are tiers.ts and
 * the rank stage's heap group-heap.ts.
 */
import type { DecisionInput, DecisionServer } from './input.js';
import { mergeRequests } from './demand.js';
import { GroupHeap } from './group-heap.js';
import type { Reason, SkipCode, SourceKind, Tier } from './reasons.js';
import { type GroupState, takeSnapshot } from './snapshot.js';
import { TIER_RANK, donorEligible, floorOf, tierOf } from './tiers.js';

/** PlannedMove is one move of the plan: a server from a group or the pool to a group or the pool. */
export interface PlannedMove {
  /** order is the move's position in the plan (0 first): the dispatcher starts them in this order. */
  readonly order: number;
  readonly serverId: string;
  readonly fromGroup: string | null;
  readonly toGroup: string | null;
  readonly source: SourceKind;
  readonly tier: Tier;
  readonly reasons: readonly Reason[];
}

/** Unmet is demand the tick could not serve, with the reason it stopped at. */
export interface Unmet {
  readonly groupId: string;
  readonly wanted: number;
  readonly granted: number;
  readonly code: SkipCode;
}

/** Plan is a tick's decision. */
export interface Plan {
  readonly tickId: string;
  readonly at: number;
  readonly moves: readonly PlannedMove[];
  readonly unmet: readonly Unmet[];
  /** skipped counts the candidates each rule turned away (for the explain view). */
  readonly skipped: Readonly<Partial<Record<SkipCode, number>>>;
}

/** decide runs one tick: see the module comment for the stages and docs/DECISION.md for the rules. */
export function decide(input: DecisionInput): Plan {
  const { now, settings } = input;
  const skipped: Partial<Record<SkipCode, number>> = {};
  const skip = (code: SkipCode, n = 1) => {
    skipped[code] = (skipped[code] ?? 0) + n;
  };

  // ---- snapshot ---------------------------------------------------------------------------
  const { groups, warmSame, warmOther, cold, recentPairs } = takeSnapshot(input);

  // ---- demand -----------------------------------------------------------------------------
  const demands = mergeRequests(input.requests);
  const unmet: Unmet[] = [];
  for (const d of demands) {
    const st = groups.get(d.groupId);
    if (!st) {
      skip('unknown-group');
      continue;
    }
    st.wanted = d.add;
    st.offered = d.release;
    st.urgency = d.urgency;
    st.requestIds = d.requestIds;
    st.source = d.source;
    st.asking = d.add > 0;
  }
  const states = [...groups.values()];
  const offering = states.filter((s) => s.offered > 0);

  const moves: PlannedMove[] = [];
  const taken = new Set<string>();
  const room = () => moves.length < settings.maxMovesPerTick;

  const less = (x: GroupState, y: GroupState): boolean => {
    const tx = TIER_RANK[tierOf(x.g, x.held + 1) ?? 'release'];
    const ty = TIER_RANK[tierOf(y.g, y.held + 1) ?? 'release'];
    if (tx !== ty) return tx < ty;
    if (x.g.priority !== y.g.priority) return x.g.priority > y.g.priority;
    if (x.urgency !== y.urgency) return x.urgency > y.urgency;
    const sx = x.held / Math.max(1, x.g.committed);
    const sy = y.held / Math.max(1, y.g.committed);
    if (sx !== sy) return sx < sy;
    return x.g.id < y.g.id;
  };
  const heap = new GroupHeap(less);
  for (const st of states) if (st.wanted > 0) heap.push(st);

  const takeFirst = (l: DecisionServer[] | undefined): DecisionServer | undefined => {
    if (!l) return undefined;
    while (l.length > 0) {
      const s = l.shift() as DecisionServer;
      if (!taken.has(s.id)) return s;
    }
    return undefined;
  };

  /** fromGroup finds a server of donor d that may leave now, or the code that stops it. */
  const serverOf = (d: GroupState, receiver: GroupState): DecisionServer | SkipCode => {
    if (now - d.lastReceived < settings.groupCooldownMs) return 'donor-cooling';
    const pair = recentPairs.get(`${receiver.g.id}\u0000${d.g.id}`);
    if (pair !== undefined && now - pair < settings.reverseCooldownMs) return 'reverse-cooling';
    for (const s of d.members) {
      if (taken.has(s.id)) continue;
      if (s.movedAt !== null && now - s.movedAt < settings.serverCooldownMs) return 'server-cooling';
      return s;
    }
    return 'no-supply';
  };

  const grant = (
    r: GroupState,
    s: DecisionServer,
    from: GroupState | null,
    source: SourceKind,
    tier: Tier,
    donor?: Reason,
  ): void => {
    const reasons: Reason[] = [
      { kind: 'request', requestIds: r.requestIds, source: r.source, urgency: r.urgency, wanted: r.wanted },
      {
        kind: 'tier',
        tier,
        held: r.held,
        committed: r.g.committed,
        burst: r.g.burst,
        extended: r.g.extended,
        priority: r.g.priority,
      },
      { kind: 'source', source, group: from?.g.id ?? null },
    ];
    if (donor) reasons.push(donor);
    moves.push({
      order: moves.length,
      serverId: s.id,
      fromGroup: from?.g.id ?? null,
      toGroup: r.g.id,
      source,
      tier,
      reasons,
    });
    taken.add(s.id);
    r.held++;
    r.granted++;
    r.lastReceived = now;
    if (from) {
      from.held--;
      from.members = from.members.filter((m) => m.id !== s.id);
      if (from.offered > 0) from.offered--;
    }
  };

  // ---- rank and source --------------------------------------------------------------------
  while (heap.size > 0) {
    const r = heap.pop() as GroupState;
    if (!room()) {
      r.blocked = 'tick-limit';
      continue;
    }
    const tier = tierOf(r.g, r.held + 1);
    if (tier === null) {
      r.blocked = r.held + 1 > r.g.maxSize ? 'at-max-size' : 'at-ceiling';
      continue;
    }
    let s = takeFirst(warmSame.get(r.g.id));
    let source: SourceKind | null = s ? 'warm-pool-same' : null;
    if (!s) {
      s = takeFirst(warmOther);
      if (!s) {
        // Another group's warm server: cheaper than a cold boot only by the power-on; still pool.
        for (const [gid, l] of warmSame) {
          if (gid === r.g.id) continue;
          s = takeFirst(l);
          if (s) break;
        }
      }
      if (s) source = 'warm-pool';
    }
    if (!s) {
      s = takeFirst(cold);
      if (s) source = 'cold-pool';
    }
    let from: GroupState | null = null;
    let donorReason: Reason | undefined;
    // The unmet reason is the best-ranked candidate's: the one the group was closest to getting.
    let firstCode: SkipCode | null = tier === 'extended' ? 'extended-pool-only' : null;
    if (!s) {
      // Offered releases first (lowest priority first), then reclaim from donors.
      const candidates: { st: GroupState; offered: boolean }[] = [];
      for (const d of offering) if (d.offered > 0 && d !== r) candidates.push({ st: d, offered: true });
      if (tier === 'committed' || tier === 'burst') {
        for (const d of states) {
          if (d === r || d.offered > 0 || d.held === 0) continue;
          candidates.push({ st: d, offered: false });
        }
      }
      candidates.sort((a, b) => {
        if (a.offered !== b.offered) return a.offered ? -1 : 1;
        const ea = a.st.held > a.st.g.burst ? 0 : 1;
        const eb = b.st.held > b.st.g.burst ? 0 : 1;
        if (ea !== eb) return ea - eb;
        // A donor that is itself asking yields only when no quiet donor can.
        if (a.st.asking !== b.st.asking) return a.st.asking ? 1 : -1;
        if (a.st.g.priority !== b.st.g.priority) return a.st.g.priority - b.st.g.priority;
        const ra = a.st.held / Math.max(1, a.st.g.committed);
        const rb = b.st.held / Math.max(1, b.st.g.committed);
        if (ra !== rb) return rb - ra;
        return a.st.g.id < b.st.g.id ? -1 : 1;
      });
      for (const c of candidates) {
        const d = c.st;
        const code = c.offered
          ? d.held - 1 < floorOf(d.g)
            ? d.held - 1 < d.g.committed
              ? 'donor-at-committed'
              : 'donor-at-min-size'
            : null
          : donorEligible(d.g, d.held, r.g, tier);
        if (code !== null) {
          skip(code);
          firstCode ??= code;
          continue;
        }
        const got = serverOf(d, r);
        if (typeof got === 'string') {
          skip(got);
          firstCode ??= got;
          continue;
        }
        s = got;
        from = d;
        source = c.offered ? 'offered-release' : 'donor';
        donorReason = {
          kind: 'donor',
          group: d.g.id,
          held: d.held,
          committed: d.g.committed,
          priority: d.g.priority,
          offered: c.offered,
        };
        break;
      }
    }
    if (!s || source === null) {
      r.blocked = firstCode ?? 'no-supply';
      skip(r.blocked);
      continue;
    }
    grant(r, s, from, source, tier, donorReason);
    if (r.granted < r.wanted) heap.push(r);
  }
  for (const st of states) {
    if (st.wanted > st.granted)
      unmet.push({ groupId: st.g.id, wanted: st.wanted, granted: st.granted, code: st.blocked ?? 'tick-limit' });
  }

  // ---- release ----------------------------------------------------------------------------
  for (const d of offering) {
    let n = d.offered;
    while (n > 0 && room()) {
      if (d.held - 1 < floorOf(d.g)) {
        skip('release-below-floor');
        break;
      }
      if (now - d.lastReceived < settings.groupCooldownMs) {
        skip('release-cooling');
        break;
      }
      const s = d.members.find(
        (m) => !taken.has(m.id) && (m.movedAt === null || now - m.movedAt >= settings.serverCooldownMs),
      );
      if (!s) {
        skip('server-cooling');
        break;
      }
      moves.push({
        order: moves.length,
        serverId: s.id,
        fromGroup: d.g.id,
        toGroup: null,
        source: 'group',
        tier: 'release',
        reasons: [
          { kind: 'request', requestIds: d.requestIds, source: d.source, urgency: d.urgency, wanted: d.offered },
          {
            kind: 'tier',
            tier: 'release',
            held: d.held,
            committed: d.g.committed,
            burst: d.g.burst,
            extended: d.g.extended,
            priority: d.g.priority,
          },
          { kind: 'source', source: 'group', group: d.g.id },
        ],
      });
      taken.add(s.id);
      d.held--;
      d.members = d.members.filter((m) => m.id !== s.id);
      n--;
    }
    if (n > 0 && !room()) skip('tick-limit');
  }

  return { tickId: input.tickId, at: now, moves, unmet, skipped };
}
