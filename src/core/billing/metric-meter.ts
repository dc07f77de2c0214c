/**
 * metric-meter meters usage samples (connections, hits, transfer, transactions, storage) by the
 * same rules as the allocation meter: samples are keyed by id and counted once, and a gauge's
 * value holds from the minute boundary at or after its sample.
 */
import type { Metric, MetricSample } from './events.js';
import { METRIC_KIND } from './events.js';
import { dedupeById, type UsageWindow } from './meter.js';
import { type BillingDay, MINUTE_MS, minuteCeil } from './period.js';

/** MetricUsage is one account's metered metric over a window. */
export interface MetricUsage {
  readonly account: string;
  readonly metric: Metric;
  readonly kind: 'counter' | 'gauge';
  /** total is the sum of a counter, or a gauge's integral in value-minutes. */
  readonly total: bigint;
  /** peak is the largest counter sample or the largest gauge value in force in the window. */
  readonly peak: number;
  /** byDay is the counter sum or the gauge integral (value-minutes) per day. */
  readonly byDay: readonly { readonly date: string; readonly total: bigint }[];
  /** segments is a gauge's step function within the window (empty for counters). */
  readonly segments: readonly GaugeSegment[];
}

/** GaugeSegment is a run of minutes [fromMs, toMs) during which a gauge held one value. */
export interface GaugeSegment {
  readonly fromMs: number;
  readonly toMs: number;
  readonly value: number;
}

function sameSample(a: MetricSample, b: MetricSample): boolean {
  return a.account === b.account && a.metric === b.metric && a.at === b.at && a.value === b.value;
}

/**
 * meterMetrics meters usage samples over a window split into days. Counters are summed by the
 * instant of their sample; gauges hold from the minute boundary at or after their sample
 * until the next one (the same minute rule as allocations) and are integrated. Pass a gauge's
 * last sample before the window so its value at the window's start is known.
 */
export function meterMetrics(
  samples: readonly MetricSample[],
  window: UsageWindow,
  days: readonly BillingDay[],
): { readonly usage: readonly MetricUsage[]; readonly duplicates: number } {
  const { unique, duplicates } = dedupeById(samples, sameSample);
  const groups = new Map<string, MetricSample[]>();
  for (const s of unique) {
    const key = `${s.account}\u0000${s.metric}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [s]);
    else g.push(s);
  }
  const usage: MetricUsage[] = [];
  for (const [key, list] of groups) {
    const [account, metric] = key.split('\u0000') as [string, Metric];
    const kind = METRIC_KIND[metric];
    list.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const byDay = days.map((d) => ({ date: d.date, total: 0n }));
    const dayIndex = (ms: number): number => days.findIndex((d) => ms >= d.startMs && ms < d.endMs);
    let total = 0n;
    let peak = 0;
    const segments: GaugeSegment[] = [];
    if (kind === 'counter') {
      for (const s of list) {
        if (s.at < window.startMs || s.at >= window.endMs) continue;
        total += BigInt(s.value);
        peak = Math.max(peak, s.value);
        const i = dayIndex(s.at);
        if (i >= 0) (byDay[i] as { total: bigint }).total += BigInt(s.value);
      }
    } else {
      // Step function: value v from boundary b_i until boundary b_{i+1}, clipped to the window.
      for (let i = 0; i < list.length; i++) {
        const s = list[i] as MetricSample;
        const from = Math.max(minuteCeil(s.at), window.startMs);
        const nextAt = list[i + 1]?.at;
        const to = Math.min(nextAt === undefined ? window.endMs : minuteCeil(nextAt), window.endMs);
        if (from >= to) continue;
        peak = Math.max(peak, s.value);
        segments.push({ fromMs: from, toMs: to, value: s.value });
        total += BigInt(s.value) * BigInt((to - from) / MINUTE_MS);
        for (let k = 0; k < days.length; k++) {
          const d = days[k] as BillingDay;
          const a = Math.max(from, d.startMs);
          const b = Math.min(to, d.endMs);
          if (a < b) (byDay[k] as { total: bigint }).total += BigInt(s.value) * BigInt((b - a) / MINUTE_MS);
        }
      }
    }
    usage.push({ account, metric, kind, total, peak, byDay, segments });
  }
  usage.sort((a, b) =>
    a.account < b.account ? -1 : a.account > b.account ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0,
  );
  return { usage, duplicates };
}
