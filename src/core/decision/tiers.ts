/**
 * tiers holds the SLA level rules the tick applies to one group: its floor, the tier of its
 * next server, and whether it may give a server to another group (the reclaim rule).
 */
import type { DecisionGroup } from './input.js';
import type { SkipCode, Tier } from './reasons.js';

/** floorOf is the size below which a group never gives servers away: its committed level and its minimum. */
export function floorOf(g: Pick<DecisionGroup, 'committed' | 'minSize'>): number {
  return Math.max(g.committed, g.minSize);
}

/** tierOf tells which tier the server that would make a group hold `next` servers belongs to, or null beyond every level. */
export function tierOf(
  g: Pick<DecisionGroup, 'committed' | 'burst' | 'extended' | 'maxSize'>,
  next: number,
): Tier | null {
  if (next > g.maxSize) return null;
  if (next <= g.committed) return 'committed';
  if (next <= g.burst) return 'burst';
  if (next <= g.extended) return 'extended';
  return null;
}

/** TIER_RANK orders the tiers for the fairness rule: committed demand first, releases last. */
export const TIER_RANK: Readonly<Record<Tier, number>> = { committed: 0, burst: 1, extended: 2, release: 3 };

/**
 * donorEligible is the reclaim rule. A donor never goes below its floor. Servers it holds above
 * its burst level are best effort and go to any committed or burst demand; servers between its
 * committed and burst levels go to a receiver restoring its committed level, or to a burst
 * receiver of strictly higher priority. Extended demand never takes from a group.
 */
export function donorEligible(
  donor: DecisionGroup,
  donorHeld: number,
  receiver: DecisionGroup,
  tier: Tier,
): SkipCode | null {
  if (tier === 'extended' || tier === 'release') return 'donor-priority';
  if (donorHeld - 1 < floorOf(donor))
    return donorHeld - 1 < donor.committed ? 'donor-at-committed' : 'donor-at-min-size';
  if (donorHeld > donor.burst) return null;
  if (tier === 'committed') return null;
  return donor.priority < receiver.priority ? null : 'donor-priority';
}
