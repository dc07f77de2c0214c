/**
 * meter turns the durable allocation history and usage samples into usage per account, role
 * and minute. The rules that make it safe to re-run after a manager failover:
 *
 * 1. Facts are keyed by id. A fact delivered twice counts once; two different facts under one
 *    id are a writer bug and stop metering with E_CONFLICT rather than guess.
 * 2. Every server has one holder at every instant (it is in one place at a time), found by
 *    replaying its facts in (at, released-before-allocated, id) order — an order that does not
 *    depend on delivery order.
 * 3. Minutes are half-open intervals [t, t + 60 s) on UTC minute boundaries, and a
 *    server-minute belongs to whoever holds the server at its first instant t. So each
 *    server-minute has exactly one holder (never billed twice) and every minute in which a
 *    server is held at its start is billed (none lost); a server that changes hands mid-minute
 *    is billed to the new holder from the next boundary on.
 *
 * The result is a compact step function per (account, role): segments of constant server
 * count and RAM, from which per-minute usage, level minutes and RAM-hours are read.
 */
import { HostfleetError } from '../errors.js';
import type { Role } from '../model/names.js';
import type { AllocationEvent, Level, Metric, MetricSample } from './events.js';
import { METRIC_KIND } from './events.js';
import { type BillingDay, MINUTE_MS, minuteCeil } from './period.js';
import { type Ratio, ratio } from './ratio.js';

/** UsageWindow is the half-open interval being metered; bounds lie on minute boundaries. */
export interface UsageWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** UsageSegment is a run of minutes [fromMs, toMs) with a constant server count and RAM. */
export interface UsageSegment {
  readonly fromMs: number;
  readonly toMs: number;
  readonly servers: number;
  /** ramMb is the summed memory of those servers. */
  readonly ramMb: number;
}

/** RoleUsage is the metered step function of one account in one role (only minutes with servers). */
export interface RoleUsage {
  readonly account: string;
  readonly role: Role;
  readonly segments: readonly UsageSegment[];
}

/** AllocationUsage is the metered allocation history of a window, with delivery statistics. */
export interface AllocationUsage {
  readonly window: UsageWindow;
  readonly roles: readonly RoleUsage[];
  /** facts counts distinct facts; duplicates counts re-deliveries that were ignored. */
  readonly facts: number;
  readonly duplicates: number;
  /** staleReleases counts releases of a server its account no longer held (changed nothing). */
  readonly staleReleases: number;
}

function sameFact(a: AllocationEvent, b: AllocationEvent): boolean {
  return (
    a.kind === b.kind && a.at === b.at && a.server === b.server && a.account === b.account && a.role === b.role &&
    (a.kind === 'allocated' && b.kind === 'allocated' ? a.ramMb === b.ramMb : true) && (a.moveId ?? null) === (b.moveId ?? null)
  );
}

/** dedupeById keeps one copy of each id and throws E_CONFLICT when one id names two different facts. */
export function dedupeById<T extends { readonly id: string }>(items: readonly T[], same: (a: T, b: T) => boolean): { readonly unique: T[]; readonly duplicates: number } {
  const byId = new Map<string, T>();
  let duplicates = 0;
  for (const it of items) {
    const prev = byId.get(it.id);
    if (prev === undefined) byId.set(it.id, it);
    else if (same(prev, it)) duplicates++;
    else throw new HostfleetError('E_CONFLICT', `billing fact ${it.id} was recorded twice with different contents; fix the writer and the record before billing`, { details: { id: it.id, first: prev, second: it } });
  }
  return { unique: [...byId.values()], duplicates };
}

const KIND_ORDER = { released: 0, allocated: 1 } as const;

function factOrder(a: AllocationEvent, b: AllocationEvent): number {
  return a.at - b.at || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface Holding {
  readonly account: string;
  readonly role: Role;
  readonly ramMb: number;
}

interface Delta {
  servers: number;
  ramMb: number;
}

/**
 * meterAllocations meters the allocation history over a window. Pass every fact from before
 * the window that may still be in force (at least since the oldest open allocation); facts at
 * or after the window's end are ignored. The answer is the same for any delivery order and
 * any number of re-deliveries.
 */
export function meterAllocations(events: readonly AllocationEvent[], window: UsageWindow): AllocationUsage {
  const { unique, duplicates } = dedupeById(events, sameFact);
  const byServer = new Map<string, AllocationEvent[]>();
  for (const e of unique) {
    const list = byServer.get(e.server);
    if (list === undefined) byServer.set(e.server, [e]);
    else list.push(e);
  }
  const deltas = new Map<string, Map<number, Delta>>();
  const addDelta = (h: Holding, fromMs: number, toMs: number): void => {
    const from = Math.max(fromMs, window.startMs);
    const to = Math.min(toMs, window.endMs);
    if (from >= to) return;
    const key = `${h.role}\u0000${h.account}`;
    let m = deltas.get(key);
    if (m === undefined) deltas.set(key, (m = new Map()));
    for (const [t, sign] of [[from, 1], [to, -1]] as const) {
      const d = m.get(t) ?? { servers: 0, ramMb: 0 };
      d.servers += sign;
      d.ramMb += sign * h.ramMb;
      m.set(t, d);
    }
  };
  let staleReleases = 0;
  for (const list of byServer.values()) {
    list.sort(factOrder);
    let holder: Holding | null = null;
    let since = 0;
    for (const e of list) {
      if (e.at >= window.endMs) break;
      const boundary = minuteCeil(e.at);
      if (e.kind === 'released') {
        if (holder === null || holder.account !== e.account || holder.role !== e.role) {
          staleReleases++;
          continue;
        }
        addDelta(holder, since, boundary);
        holder = null;
      } else {
        if (holder !== null) addDelta(holder, since, boundary);
        holder = { account: e.account, role: e.role, ramMb: e.ramMb };
        since = boundary;
      }
    }
    if (holder !== null) addDelta(holder, since, window.endMs);
  }
  const roles: RoleUsage[] = [];
  for (const [key, m] of deltas) {
    const [role, account] = key.split('\u0000') as [Role, string];
    const times = [...m.keys()].sort((a, b) => a - b);
    const segments: UsageSegment[] = [];
    let servers = 0;
    let ramMb = 0;
    for (let i = 0; i < times.length; i++) {
      const t = times[i] as number;
      const d = m.get(t) as Delta;
      servers += d.servers;
      ramMb += d.ramMb;
      const next = times[i + 1];
      if (next === undefined || servers === 0) continue;
      const last = segments[segments.length - 1];
      // Merge runs that only differ by a cancelled-out change so segments stay minimal.
      if (last !== undefined && last.toMs === t && last.servers === servers && last.ramMb === ramMb) segments[segments.length - 1] = { ...last, toMs: next };
      else segments.push({ fromMs: t, toMs: next, servers, ramMb });
    }
    if (segments.length > 0) roles.push({ account, role, segments });
  }
  roles.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  return { window, roles, facts: unique.length, duplicates, staleReleases };
}

/** countAt returns the number of servers of a role usage in the minute starting at (or containing) ms. */
export function countAt(usage: Pick<RoleUsage, 'segments'>, ms: number): number {
  const t = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
  let lo = 0;
  let hi = usage.segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = usage.segments[mid] as UsageSegment;
    if (t < s.fromMs) hi = mid - 1;
    else if (t >= s.toMs) lo = mid + 1;
    else return s.servers;
  }
  return 0;
}

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
export function splitLevels(n: number, c: LevelCeilings): Readonly<Record<Level, number>> & { readonly overCeiling: number } {
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
  return { committed, burst, extended, overCeiling, minutesAboveCommitted: above, peakServers: peak, firstBurstMs, firstExtendedMs };
}

/** MB_PER_GB is 1024: seed 003 counts 512 MB as half a gigabyte (2 GB × 360 h + 512 MB × 360 h = 900 GB RAM-hours). */
export const MB_PER_GB = 1024;

/** ramMbMinutes sums memory × minutes of segments within [fromMs, toMs) (exact, bigint). */
export function ramMbMinutes(segments: readonly UsageSegment[], fromMs = -Infinity, toMs = Infinity): bigint {
  let sum = 0n;
  for (const s of segments) {
    const a = Math.max(s.fromMs, fromMs);
    const b = Math.min(s.toMs, toMs);
    if (a < b) sum += BigInt(s.ramMb) * BigInt((b - a) / MINUTE_MS);
  }
  return sum;
}

/** gbHoursFromMbMinutes converts MB-minutes to exact GB RAM-hours. */
export function gbHoursFromMbMinutes(mbMinutes: bigint): Ratio {
  return ratio(mbMinutes, BigInt(MB_PER_GB * 60));
}

/** accountRamGbHoursByDay returns an account's RAM-hours (GB·h, exact) per billing day, all roles together. */
export function accountRamGbHoursByDay(usage: AllocationUsage, account: string, days: readonly BillingDay[]): { readonly date: string; readonly gbHours: Ratio }[] {
  const mine = usage.roles.filter((r) => r.account === account);
  return days.map((d) => {
    let mbMin = 0n;
    for (const r of mine) mbMin += ramMbMinutes(r.segments, d.startMs, d.endMs);
    return { date: d.date, gbHours: gbHoursFromMbMinutes(mbMin) };
  });
}

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
export function meterMetrics(samples: readonly MetricSample[], window: UsageWindow, days: readonly BillingDay[]): { readonly usage: readonly MetricUsage[]; readonly duplicates: number } {
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
  usage.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
  return { usage, duplicates };
}

/** UsageRow is one line of a usage report: an account's role over the window. */
export interface UsageRow {
  readonly account: string;
  readonly role: Role;
  readonly serverMinutes: number;
  readonly ramGbHours: Ratio;
  /** levels is the level split when the account's SLA for the role is known, else null. */
  readonly levels: LevelMinutes | null;
}

/**
 * usageReport summarises metered usage per account and role — what `hostfleet usage` shows.
 * levelsFor returns the SLA levels of an account's role, or undefined when it has none.
 */
export function usageReport(usage: AllocationUsage, levelsFor: (account: string, role: Role) => LevelCeilings | undefined = () => undefined): UsageRow[] {
  return usage.roles.map((r) => {
    const c = levelsFor(r.account, r.role);
    return {
      account: r.account,
      role: r.role,
      serverMinutes: r.segments.reduce((s, g) => s + g.servers * ((g.toMs - g.fromMs) / MINUTE_MS), 0),
      ramGbHours: gbHoursFromMbMinutes(ramMbMinutes(r.segments)),
      levels: c === undefined ? null : levelMinutes(r.segments, c),
    };
  });
}

/** MAX_SERIES_MINUTES bounds perMinute (a 31-day month) so a caller cannot ask for an unbounded array. */
export const MAX_SERIES_MINUTES = 31 * 24 * 60;

/**
 * perMinute returns the server count of a role usage for every minute in [fromMs, toMs)
 * (bounds rounded out to minutes, at most MAX_SERIES_MINUTES) — the per-minute usage series.
 */
export function perMinute(usage: Pick<RoleUsage, 'segments'>, fromMs: number, toMs: number): number[] {
  const start = Math.floor(fromMs / MINUTE_MS) * MINUTE_MS;
  const n = Math.min(Math.max(0, Math.ceil((toMs - start) / MINUTE_MS)), MAX_SERIES_MINUTES);
  const out = new Array<number>(n).fill(0);
  for (const s of usage.segments) {
    const a = Math.max(0, (s.fromMs - start) / MINUTE_MS);
    const b = Math.min(n, (s.toMs - start) / MINUTE_MS);
    for (let i = a; i < b; i++) out[i] = s.servers;
  }
  return out;
}
