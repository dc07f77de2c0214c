/**
 * sites holds the Sites view's arithmetic, apart from its drawing: each site's local clock from
 * its UTC offset and the browser's clock, whether it still reports, the replication lag in words,
 * and who lends how many servers to whom, read from the sites' own reports.
 */
import type { SiteReport } from '../api.js';

/** SILENT_MS is the age past which a site's last report counts as silent (sites report every few seconds). */
export const SILENT_MS = 10_000;

/** MAX_LAG_MS is the coordinator's default maxLagMs: a replica older than this cannot serve its account. */
export const MAX_LAG_MS = 300_000;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const pad = (n: number) => String(n).padStart(2, '0');

/** LocalClock is a site's wall clock now. */
export interface LocalClock {
  /** text is the weekday and time of day: "Tue 14:05". */
  readonly text: string;
  /** hour is the time of day in hours, 0 ≤ hour < 24 (where the site sits on the strip). */
  readonly hour: number;
}

/** localClock is the wall clock of a site `offsetMinutes` east of UTC at the instant nowMs. */
export function localClock(offsetMinutes: number, nowMs: number): LocalClock {
  const d = new Date(nowMs + offsetMinutes * 60_000);
  return {
    text: `${DAYS[d.getUTCDay()] ?? ''} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`,
    hour: d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600,
  };
}

/** offsetText writes a UTC offset in minutes as "UTC+08:00", "UTC−05:30" or "UTC". */
export function offsetText(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'UTC';
  const m = Math.abs(offsetMinutes);
  return `UTC${offsetMinutes < 0 ? '−' : '+'}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/** spanText writes a span of time for the eye: "4 s", "12 min", "3 h 20 min". */
export function spanText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min`;
  return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

/** lagLevel colours a replica: ok while it could serve, high past MAX_LAG_MS or never copied. */
export function lagLevel(lagMs: number | null): 'ok' | 'high' {
  return lagMs !== null && lagMs <= MAX_LAG_MS ? 'ok' : 'high';
}

/** isSilent tells whether a site's last report is too old to count on (a lost site, or no bus). */
export function isSilent(r: SiteReport, nowMs: number): boolean {
  return nowMs - r.at > SILENT_MS;
}

/** lentOut counts the servers a site serves for other sites and that are ready to serve. */
export function lentOut(r: SiteReport): number {
  return r.guests.reduce((n, g) => n + g.ready.length, 0);
}

/** borrowed counts the servers of other sites a site's edge sends traffic to. */
export function borrowed(r: SiteReport): number {
  return r.attached.reduce((n, a) => n + a.servers.length, 0);
}

/** Lending is what one site lends another now: servers ready to serve, and servers moving into or out of its guest groups. */
export interface Lending {
  readonly lender: string;
  readonly borrower: string;
  readonly ready: number;
  readonly moving: number;
}

/** lendings sums each lender's guest groups per borrowing site, by the lenders' own reports. */
export function lendings(sites: readonly SiteReport[]): Lending[] {
  const out = new Map<string, { lender: string; borrower: string; ready: number; moving: number }>();
  for (const r of sites)
    for (const g of r.guests) {
      if (g.ready.length === 0 && g.busy === 0) continue;
      const k = `${r.site}\u0000${g.home}`;
      const e = out.get(k) ?? { lender: r.site, borrower: g.home, ready: 0, moving: 0 };
      e.ready += g.ready.length;
      e.moving += g.busy;
      out.set(k, e);
    }
  return [...out.values()];
}
