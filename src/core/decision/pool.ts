/**
 * pool manages the pool's warm and cold mix (claims 6 and 23): which cold servers to pre-boot
 * with which group's personality, so the groups most likely to need a server next get one
 * without a cold boot, and which warm servers to switch off when the pool holds more warm
 * servers than it should.
 */
import type { DecisionInput } from './input.js';
import type { Plan } from './plan.js';
import { mergeRequests } from './demand.js';
import { tierOf } from './tiers.js';

/** WarmAction pre-boots a cold server for a group ('warm') or switches a warm one off ('cool'). */
export interface WarmAction {
  readonly kind: 'warm' | 'cool';
  readonly serverId: string;
  /** groupId is the group whose personality a warmed server takes (null for 'cool'). */
  readonly groupId: string | null;
  /** score is the group's likelihood rank key (higher needs sooner). */
  readonly score: number;
}

/**
 * likelyNeed scores every group with headroom by how soon it will want a server: demand the
 * tick left unmet counts most, then the urgency of its add requests (the predictor's horizon
 * among them), then its SLA priority as the tie-break.
 */
export function likelyNeed(input: DecisionInput, plan: Plan): { groupId: string; score: number }[] {
  const unmet = new Map(plan.unmet.map((u) => [u.groupId, u.wanted - u.granted]));
  const urgency = new Map(
    mergeRequests(input.requests)
      .filter((d) => d.add > 0)
      .map((d) => [d.groupId, d.urgency]),
  );
  const held = new Map<string, number>();
  for (const s of input.servers)
    if (s.spot === 'group' && s.groupId !== null) held.set(s.groupId, (held.get(s.groupId) ?? 0) + 1);
  for (const m of plan.moves) {
    if (m.toGroup !== null) held.set(m.toGroup, (held.get(m.toGroup) ?? 0) + 1);
    if (m.fromGroup !== null) held.set(m.fromGroup, (held.get(m.fromGroup) ?? 0) - 1);
  }
  const out: { groupId: string; score: number }[] = [];
  for (const g of input.groups) {
    if (tierOf(g, (held.get(g.id) ?? 0) + g.joining + 1) === null) continue;
    out.push({ groupId: g.id, score: 2 * (unmet.get(g.id) ?? 0) + (urgency.get(g.id) ?? 0) + g.priority / 100 });
  }
  return out.sort((a, b) => b.score - a.score || (a.groupId < b.groupId ? -1 : 1));
}

/**
 * planWarmPool keeps settings.warmPoolSize pool servers warm, each for one of the groups most
 * likely to need a server next, using pool servers the plan did not take. It warms at most
 * what is missing and cools only what is beyond the target, so it does not churn.
 */
export function planWarmPool(input: DecisionInput, plan: Plan): WarmAction[] {
  const taken = new Set(plan.moves.map((m) => m.serverId));
  // A server moving with a warm temperature is being warmed up: it counts towards the target
  // (and covers its group), or every tick would start another warm-up until the first ends.
  const warming = input.servers.filter((s) => s.spot === 'moving' && s.temp === 'warm');
  const warm = input.servers.filter((s) => s.spot === 'pool' && s.temp === 'warm' && !taken.has(s.id));
  const target = input.settings.warmPoolSize;
  const out: WarmAction[] = [];
  // Ranking the groups and sorting the cold pool are the costly parts; a pool already at its target needs neither.
  const have = warm.length + warming.length;
  if (have === target) return out;
  const cold = input.servers
    .filter((s) => s.spot === 'pool' && s.temp !== 'warm' && !taken.has(s.id))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const ranked = likelyNeed(input, plan);
  if (have < target) {
    const covered = new Set([...warm, ...warming].map((s) => s.groupId));
    const want = ranked.filter((r) => !covered.has(r.groupId)).slice(0, target - have);
    for (const r of want) {
      const s = cold.shift();
      if (!s) break;
      out.push({ kind: 'warm', serverId: s.id, groupId: r.groupId, score: r.score });
    }
  } else if (warm.length > target) {
    // Only servers already warm are cooled; one still warming up is left to finish.
    const rank = new Map(ranked.map((r, i) => [r.groupId, i]));
    const worst = [...warm].sort(
      (a, b) =>
        (rank.get(b.groupId ?? '') ?? Infinity) - (rank.get(a.groupId ?? '') ?? Infinity) || (a.id < b.id ? -1 : 1),
    );
    for (const s of worst.slice(0, warm.length - target))
      out.push({ kind: 'cool', serverId: s.id, groupId: null, score: 0 });
  }
  return out;
}
