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
 * count and RAM, from which per-minute usage, level minutes (levels.ts) and RAM-hours
 * (ram-hours.ts) are read. Usage samples are metered by metric-meter.ts.
 */
import { HostfleetError } from '../errors.js';
import type { Role } from '../model/names.js';
import type { AllocationEvent } from './events.js';
import { MINUTE_MS, minuteCeil } from './period.js';

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
    a.kind === b.kind &&
    a.at === b.at &&
    a.server === b.server &&
    a.account === b.account &&
    a.role === b.role &&
    (a.kind === 'allocated' && b.kind === 'allocated' ? a.ramMb === b.ramMb : true) &&
    (a.moveId ?? null) === (b.moveId ?? null)
  );
}

/** dedupeById keeps one copy of each id and throws E_CONFLICT when one id names two different facts. */
export function dedupeById<T extends { readonly id: string }>(
  items: readonly T[],
  same: (a: T, b: T) => boolean,
): { readonly unique: T[]; readonly duplicates: number } {
  const byId = new Map<string, T>();
  let duplicates = 0;
  for (const it of items) {
    const prev = byId.get(it.id);
    if (prev === undefined) byId.set(it.id, it);
    else if (same(prev, it)) duplicates++;
    else
      throw new HostfleetError(
        'E_CONFLICT',
        `billing fact ${it.id} was recorded twice with different contents; fix the writer and the record before billing`,
        { details: { id: it.id, first: prev, second: it } },
      );
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
    for (const [t, sign] of [
      [from, 1],
      [to, -1],
    ] as const) {
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
      if (last !== undefined && last.toMs === t && last.servers === servers && last.ramMb === ramMb)
        segments[segments.length - 1] = { ...last, toMs: next };
      else segments.push({ fromMs: t, toMs: next, servers, ramMb });
    }
    if (segments.length > 0) roles.push({ account, role, segments });
  }
  roles.sort((a, b) =>
    a.account < b.account ? -1 : a.account > b.account ? 1 : a.role < b.role ? -1 : a.role > b.role ? 1 : 0,
  );
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
