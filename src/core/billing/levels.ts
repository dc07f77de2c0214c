/**
 * levels splits metered server counts over an SLA's levels (Figure 12, seed 001): committed up
 * to the committed level, burst up to the burst ceiling, extended beyond, and integrates them
 * over time.
 */
import type { Level } from './events.js';
import type { UsageSegment } from './meter.js';
import { MINUTE_MS } from './period.js';

/** LevelCeilings are an SLA's levels in servers: committed, burst ceiling, extended ceiling. */
export interface LevelCeilings {
  readonly committed: number;
  readonly burst: number;
  readonly extended: number;
}

/**
 * splitLevels splits an amount n held for one minute into its levels (Figure 12, seed 001):
 * up to committed is committed, above it up to the burst ceiling is burst, beyond is
 * extended. Amounts above the extended ceiling are still extended (never lose a minute);
 * overCeiling reports them so the operator sees the SLA was exceeded.
 */
export function splitLevels(
  n: number,
  c: LevelCeilings,
): Readonly<Record<Level, number>> & { readonly overCeiling: number } {
  const burstTop = Math.max(c.burst, c.committed);
  return {
    committed: Math.min(n, c.committed),
    burst: Math.min(Math.max(n - c.committed, 0), burstTop - c.committed),
    extended: Math.max(n - burstTop, 0),
    overCeiling: Math.max(n - Math.max(c.extended, burstTop), 0),
  };
}

/** LevelMinutes are a role's server-minutes per level in a window, and when levels were entered. */
export interface LevelMinutes {
  readonly committed: number;
  readonly burst: number;
  readonly extended: number;
  readonly overCeiling: number;
  /** minutesAboveCommitted counts minutes (not server-minutes) with more servers than committed. */
  readonly minutesAboveCommitted: number;
  readonly peakServers: number;
  /** firstBurstMs and firstExtendedMs are the first minutes at each level, or null. */
  readonly firstBurstMs: number | null;
  readonly firstExtendedMs: number | null;
}

/** levelMinutes integrates a role's segments over its SLA levels. */
export function levelMinutes(segments: readonly UsageSegment[], c: LevelCeilings): LevelMinutes {
  let committed = 0;
  let burst = 0;
  let extended = 0;
  let overCeiling = 0;
  let above = 0;
  let peak = 0;
  let firstBurstMs: number | null = null;
  let firstExtendedMs: number | null = null;
  for (const s of segments) {
    const minutes = (s.toMs - s.fromMs) / MINUTE_MS;
    const l = splitLevels(s.servers, c);
    committed += l.committed * minutes;
    burst += l.burst * minutes;
    extended += l.extended * minutes;
    overCeiling += l.overCeiling * minutes;
    if (s.servers > c.committed) above += minutes;
    if (s.servers > peak) peak = s.servers;
    if (l.burst > 0 && firstBurstMs === null) firstBurstMs = s.fromMs;
    if (l.extended > 0 && firstExtendedMs === null) firstExtendedMs = s.fromMs;
  }
  return {
    committed,
    burst,
    extended,
    overCeiling,
    minutesAboveCommitted: above,
    peakServers: peak,
    firstBurstMs,
    firstExtendedMs,
  };
}
