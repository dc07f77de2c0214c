/**
 * invariants checks a plan against its input: the promises the decision logic makes whatever
 * the fleet, the SLAs and the requests. The property tests run it on random inputs and the
 * decision component runs it on every live plan before acting (a violation is a bug: the plan
 * is dropped and logged, never carried out).
 */
import type { DecisionInput } from './input.js';
import type { Plan } from './plan.js';
import { floorOf } from './tiers.js';

/** PLAN_VIOLATIONS name the broken promises. */
export const PLAN_VIOLATIONS = [
  'server-twice',
  'server-not-there',
  'self-move',
  'unknown-group',
  'below-floor',
  'above-ceiling',
  'too-many-moves',
  'server-cooling',
  'reclaim-for-extended',
] as const;
/** PlanViolation is one of PLAN_VIOLATIONS. */
export type PlanViolation = (typeof PLAN_VIOLATIONS)[number];

/** Violation is one broken promise with what it concerns. */
export interface Violation {
  readonly code: PlanViolation;
  readonly server?: string;
  readonly group?: string;
}

/**
 * checkPlan returns every promise the plan breaks: each server moves at most once and from
 * where it is; no group loses servers below max(committed, minSize) (a group already below
 * loses none); no group gains beyond min(extended, maxSize) (a group already above gains none);
 * at most maxMovesPerTick moves; no server taken from a group within its cool-down; extended
 * demand never reclaims from a group (it may take a server a group offered).
 */
export function checkPlan(input: DecisionInput, plan: Plan): Violation[] {
  const out: Violation[] = [];
  const servers = new Map(input.servers.map((s) => [s.id, s]));
  const groups = new Map(input.groups.map((g) => [g.id, g]));
  const held = new Map<string, number>();
  for (const g of input.groups) held.set(g.id, g.joining);
  for (const s of input.servers)
    if (s.spot === 'group' && s.groupId !== null && held.has(s.groupId))
      held.set(s.groupId, (held.get(s.groupId) ?? 0) + 1);
  const lost = new Map<string, number>();
  const gained = new Map<string, number>();
  const seen = new Set<string>();
  if (plan.moves.length > input.settings.maxMovesPerTick) out.push({ code: 'too-many-moves' });
  for (const m of plan.moves) {
    if (seen.has(m.serverId)) out.push({ code: 'server-twice', server: m.serverId });
    seen.add(m.serverId);
    const s = servers.get(m.serverId);
    const fromOk =
      s !== undefined && (m.fromGroup === null ? s.spot === 'pool' : s.spot === 'group' && s.groupId === m.fromGroup);
    if (!fromOk) out.push({ code: 'server-not-there', server: m.serverId });
    if (m.fromGroup === m.toGroup) out.push({ code: 'self-move', server: m.serverId });
    for (const g of [m.fromGroup, m.toGroup])
      if (g !== null && !groups.has(g)) out.push({ code: 'unknown-group', group: g });
    if (m.fromGroup !== null) {
      lost.set(m.fromGroup, (lost.get(m.fromGroup) ?? 0) + 1);
      if (s?.movedAt != null && input.now - s.movedAt < input.settings.serverCooldownMs)
        out.push({ code: 'server-cooling', server: m.serverId });
      if (m.toGroup !== null && m.tier === 'extended' && m.source === 'donor')
        out.push({ code: 'reclaim-for-extended', server: m.serverId });
    }
    if (m.toGroup !== null) gained.set(m.toGroup, (gained.get(m.toGroup) ?? 0) + 1);
  }
  for (const g of input.groups) {
    const h = held.get(g.id) ?? 0;
    const after = h - (lost.get(g.id) ?? 0) + (gained.get(g.id) ?? 0);
    if ((lost.get(g.id) ?? 0) > 0 && after < Math.min(h, floorOf(g))) out.push({ code: 'below-floor', group: g.id });
    if ((gained.get(g.id) ?? 0) > 0 && after > Math.max(h, Math.min(g.extended, g.maxSize)))
      out.push({ code: 'above-ceiling', group: g.id });
  }
  return out;
}
