/**
 * recommend suggests the next period's committed level (seed 001, Figure 12: "suggestions
 * being presented to the customer for recommended changes to the service level agreement for
 * the upcoming billing period"; the figure raises the agreement by 50 percent after a period
 * of higher-than-anticipated peaks). Recommendations are structured values; text is rendered
 * from them (describeRecommendation) so the console, CLI and invoice say the same thing.
 */
import { invalid } from '../errors.js';
import type { Role } from '../model/names.js';
import type { LevelCeilings } from './levels.js';
import type { AllottedResource } from './allotment-plan.js';
import type { BillingPeriod } from './period.js';
import { periodMinutes } from './period.js';
import { type DecimalInput, decimalField } from './plan.js';
import type { SlaRating } from './rate.js';
import { type Ratio, add, ceilRatio, cmp, mul, ratio, toPlainDecimal, ZERO } from './ratio.js';

/** RecommendationPolicy says when to suggest a change and by how much. */
export interface RecommendationPolicy {
  /** raiseWhenAboveFraction: raise when more than this fraction of the period's minutes were above committed. */
  readonly raiseWhenAboveFraction: Ratio;
  /** raiseBy is the step of a raise: 0.5 = +50 % (Figure 12). */
  readonly raiseBy: Ratio;
  /** lowerWhenPeakAtMostFraction: suggest lowering when the peak never exceeded this fraction of committed. */
  readonly lowerWhenPeakAtMostFraction: Ratio;
}

/**
 * DEFAULT_POLICY raises by 50 % when a role spent more than a tenth of the period (three days
 * of a month) above committed — "frequent bursts" — and suggests lowering when the peak
 * stayed at or below half the commitment all period.
 */
export const DEFAULT_POLICY: RecommendationPolicy = {
  raiseWhenAboveFraction: ratio(1, 10),
  raiseBy: ratio(1, 2),
  lowerWhenPeakAtMostFraction: ratio(1, 2),
};

/** parseRecommendationPolicy validates a raw policy (decimals), or throws E_VALIDATION. */
export function parseRecommendationPolicy(raw: {
  readonly raiseWhenAboveFraction?: DecimalInput;
  readonly raiseBy?: DecimalInput;
  readonly lowerWhenPeakAtMostFraction?: DecimalInput;
}): RecommendationPolicy {
  const out: { field: string; problem: string }[] = [];
  const one = ratio(1);
  const p = {
    raiseWhenAboveFraction: decimalField(out, 'raiseWhenAboveFraction', raw.raiseWhenAboveFraction ?? '0.1', {
      min: ZERO,
    }),
    raiseBy: decimalField(out, 'raiseBy', raw.raiseBy ?? '0.5', { min: ZERO, minExclusive: true }),
    lowerWhenPeakAtMostFraction: decimalField(
      out,
      'lowerWhenPeakAtMostFraction',
      raw.lowerWhenPeakAtMostFraction ?? '0.5',
      { min: ZERO },
    ),
  };
  if (cmp(p.raiseWhenAboveFraction, one) > 0)
    out.push({ field: 'raiseWhenAboveFraction', problem: 'must be at most 1' });
  if (cmp(p.lowerWhenPeakAtMostFraction, one) >= 0)
    out.push({ field: 'lowerWhenPeakAtMostFraction', problem: 'must be below 1' });
  if (out.length > 0) throw invalid(out);
  return p;
}

/** Recommendation is one suggested change for the next period, tagged by kind. */
export type Recommendation =
  | {
      readonly kind: 'raise-committed' | 'lower-committed';
      readonly role: Role;
      readonly from: LevelCeilings;
      readonly to: LevelCeilings;
      /** evidence: minutes above committed out of the period's minutes, and the peak. */
      readonly minutesAboveCommitted: number;
      readonly periodMinutes: number;
      readonly peakServers: number;
    }
  | {
      readonly kind: 'change-plan';
      readonly from: string;
      /** to is the cheapest plan covering the projection, or null when none does. */
      readonly to: string | null;
      readonly exceeds: readonly {
        readonly resource: AllottedResource;
        readonly projected: Ratio;
        readonly included: Ratio;
      }[];
    };

/**
 * scaleLevels multiplies every level by (1 + step), rounding up, keeping the SLA's shape:
 * 16 / 32 / 64 servers raised by 50 % become 24 / 48 / 96.
 */
export function scaleLevels(l: LevelCeilings, factor: Ratio): LevelCeilings {
  const f = (n: number): number => Number(ceilRatio(mul(ratio(n), factor)));
  return { committed: f(l.committed), burst: f(l.burst), extended: f(l.extended) };
}

/**
 * raiseMeasure returns a measure-stated commitment raised by a step, rounded up
 * (Figure 12: 640,000 simultaneous connections + 50 % = 960,000).
 */
export function raiseMeasure(committed: number, raiseBy: Ratio): number {
  return Number(ceilRatio(mul(ratio(committed), add(ratio(1), raiseBy))));
}

/**
 * recommendCommitted suggests, per role of a rated period, raising the committed level by the
 * policy's step after frequent bursts, or lowering it to the observed peak when it was far
 * from used. Roles with neither get no recommendation.
 */
export function recommendCommitted(
  plan: { readonly servers: Readonly<Partial<Record<Role, LevelCeilings>>> },
  rating: Pick<SlaRating, 'roles'>,
  period: BillingPeriod,
  policy: RecommendationPolicy = DEFAULT_POLICY,
): Recommendation[] {
  const out: Recommendation[] = [];
  const total = periodMinutes(period);
  for (const r of rating.roles) {
    const levels = plan.servers[r.role];
    if (levels === undefined) continue;
    const from: LevelCeilings = { committed: levels.committed, burst: levels.burst, extended: levels.extended };
    const evidence = {
      minutesAboveCommitted: r.minutes.minutesAboveCommitted,
      periodMinutes: total,
      peakServers: r.minutes.peakServers,
    };
    if (
      r.minutes.minutesAboveCommitted > 0 &&
      cmp(ratio(r.minutes.minutesAboveCommitted, total), policy.raiseWhenAboveFraction) > 0
    ) {
      out.push({
        kind: 'raise-committed',
        role: r.role,
        from,
        to: scaleLevels(from, add(ratio(1), policy.raiseBy)),
        ...evidence,
      });
    } else if (
      from.committed > 0 &&
      r.minutes.peakServers < from.committed &&
      cmp(ratio(r.minutes.peakServers, from.committed), policy.lowerWhenPeakAtMostFraction) <= 0
    ) {
      const peak = Math.max(1, r.minutes.peakServers);
      const factor = ratio(peak, from.committed);
      out.push({
        kind: 'lower-committed',
        role: r.role,
        from,
        to: { ...scaleLevels(from, factor), committed: peak },
        ...evidence,
      });
    }
  }
  return out;
}

/** describeRecommendation renders a recommendation as one sentence for people. */
export function describeRecommendation(r: Recommendation): string {
  if (r.kind === 'change-plan') {
    const what = r.exceeds
      .map(
        (e) =>
          `${e.resource} projected ${toPlainDecimal(e.projected, 2)} over an allotment of ${toPlainDecimal(e.included, 2)}`,
      )
      .join('; ');
    return r.to === null
      ? `Projected usage exceeds plan ${r.from} (${what}) and no plan covers it; contact us for a custom plan.`
      : `Switch from plan ${r.from} to ${r.to}: ${what}.`;
  }
  const pct = toPlainDecimal(mul(ratio(r.minutesAboveCommitted * 100, r.periodMinutes), ratio(1)), 1);
  if (r.kind === 'raise-committed') {
    return `Raise committed ${r.role} servers from ${r.from.committed} to ${r.to.committed} (burst ${r.to.burst}, extended ${r.to.extended}): ${pct}% of the period was above the commitment, peak ${r.peakServers}.`;
  }
  return `Lower committed ${r.role} servers from ${r.from.committed} to ${r.to.committed}: the peak was ${r.peakServers}.`;
}
