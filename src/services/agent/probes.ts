/**
 * probes are the agent's measurement modules (the seed's Figure 15, 180–184) on a live server:
 * the workload process's CPU and memory from /proc, and the workload's own counters from
 * /_runtime/stats. `measure` turns two consecutive readings into one tick's samples (one per
 * measurement type, or NaN when there is nothing to measure, which the aggregator skips) and
 * the load figures the status carries.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import type { MeasurementType } from '../../core/agent/index.js';
import type { AgentLoad } from '../../core/agent/messages.js';

/** ProcSample is what /proc says about one process at one moment. */
export interface ProcSample {
  /** cpuTicks is utime + stime in clock ticks (the process's own CPU time). */
  readonly cpuTicks: number;
  /** rssBytes is the resident set size. */
  readonly rssBytes: number;
}

/** CLOCK_TICKS_PER_SECOND is USER_HZ, 100 on every Linux architecture hostfleet runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * parseProcStat reads utime, stime and rss (pages) from the text of /proc/<pid>/stat. The
 * command name (field 2) may hold spaces and parentheses, so fields are counted after the last ')'.
 */
export function parseProcStat(text: string, pageSize = 4096): ProcSample | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After ')' come field 3 (state) onwards; utime is field 14, stime 15, rss 24.
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(f[14 - 3]);
  const stime = Number(f[15 - 3]);
  const rss = Number(f[24 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(rss)) return null;
  return { cpuTicks: utime + stime, rssBytes: rss * pageSize };
}

/** parseMemTotal reads MemTotal (bytes) from the text of /proc/meminfo. */
export function parseMemTotal(text: string): number | null {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** readProcSample reads /proc/<pid>/stat; null when the process is gone or unreadable. */
export async function readProcSample(pid: number, procRoot = '/proc'): Promise<ProcSample | null> {
  try {
    return parseProcStat(await readFile(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** readMemTotal reads the machine's memory size; null when unreadable. */
export async function readMemTotal(procRoot = '/proc'): Promise<number | null> {
  try {
    return parseMemTotal(await readFile(`${procRoot}/meminfo`, 'utf8'));
  } catch {
    return null;
  }
}

/** cpuPercent is the CPU use between two samples taken dtMs apart (100 = one core busy). */
export function cpuPercent(
  prev: ProcSample,
  cur: ProcSample,
  dtMs: number,
  hz = CLOCK_TICKS_PER_SECOND,
): number | null {
  if (!(dtMs > 0) || cur.cpuTicks < prev.cpuTicks) return null;
  return ((cur.cpuTicks - prev.cpuTicks) / hz / (dtMs / 1000)) * 100;
}

/** StatsPercentiles is the part of the runtime's percentile summary the agent reads. */
export interface StatsPercentiles {
  readonly count: number;
  readonly mean: number;
  readonly p95: number;
}

/** WorkloadStats is the part of the runtime's /_runtime/stats the agent reads. */
export interface WorkloadStats {
  readonly pid: number;
  readonly requests: { readonly app: number; readonly static: number };
  readonly errors: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly concurrency: number;
  readonly serviceTimeMs: number;
  readonly responseTimeMs: { readonly app: StatsPercentiles; readonly static: StatsPercentiles };
}

function isPct(x: unknown): x is StatsPercentiles {
  const o = x as Record<string, unknown> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.count === 'number' &&
    typeof o.mean === 'number' &&
    typeof o.p95 === 'number'
  );
}

/** parseWorkloadStats checks a /_runtime/stats body; null when it is not one. */
export function parseWorkloadStats(x: unknown): WorkloadStats | null {
  const o = x as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return null;
  const req = o.requests as Record<string, unknown> | null;
  const rt = o.responseTimeMs as Record<string, unknown> | null;
  const n = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
  if (typeof req !== 'object' || req === null || !n(req.app) || !n(req.static)) return null;
  if (typeof rt !== 'object' || rt === null || !isPct(rt.app) || !isPct(rt.static)) return null;
  if (!n(o.pid) || !n(o.errors) || !n(o.inFlight) || !n(o.queued) || !n(o.concurrency) || !n(o.serviceTimeMs))
    return null;
  return o as unknown as WorkloadStats;
}

/** fetchWorkloadStats reads the workload's /_runtime/stats; null when it does not answer in time or answers nonsense. */
export async function fetchWorkloadStats(baseUrl: string, timeoutMs: number): Promise<WorkloadStats | null> {
  try {
    const res = await request(`${baseUrl}/_runtime/stats`, {
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return null;
    }
    return parseWorkloadStats(await res.body.json());
  } catch {
    return null;
  }
}

/** Observation is one reading of everything the probes look at, with the time it was taken. */
export interface Observation {
  /** atMs is a monotonic time in milliseconds. */
  readonly atMs: number;
  readonly stats: WorkloadStats | null;
  readonly proc: ProcSample | null;
  readonly memTotalBytes: number | null;
}

/** Measured is one tick's measurement: a sample per type (NaN = none) and the load figures. */
export interface Measured {
  readonly samples: Readonly<Record<MeasurementType, number>>;
  readonly load: AgentLoad;
  /** rates are arrivals per second in the predictor's request-type order: dynamic, static. */
  readonly rates: readonly [number, number];
  readonly healthy: boolean;
}

/**
 * measure derives one tick from the previous and the current observation. Rates are counter
 * differences over the elapsed time (arrivals: the runtime counts a request when it arrives, so
 * refused ones count too). Response-time samples are the runtime's recent p95 of each kind, the
 * percentile the SLA is written in; the queue-wait sample is the wait a request arriving now
 * can expect, queued × service time / workers (instantaneous, so a queue shows before the
 * windows do). Error rate is new 5xx over new requests.
 */
export function measure(prev: Observation | null, cur: Observation): Measured {
  const s = cur.stats;
  const p = prev?.stats ?? null;
  const dtMs = prev ? cur.atMs - prev.atMs : 0;
  const dt = dtMs / 1000;
  const delta = (a: number, b: number): number => Math.max(0, a - b);
  let dynamicRps = 0;
  let staticRps = 0;
  let errorRate = 0;
  let haveRates = false;
  if (s && p && dt > 0 && s.pid === p.pid) {
    haveRates = true;
    const dApp = delta(s.requests.app, p.requests.app);
    const dStatic = delta(s.requests.static, p.requests.static);
    dynamicRps = dApp / dt;
    staticRps = dStatic / dt;
    errorRate = dApp + dStatic > 0 ? Math.min(1, delta(s.errors, p.errors) / (dApp + dStatic)) : 0;
  }
  const cpu = prev?.proc && cur.proc ? cpuPercent(prev.proc, cur.proc, dtMs) : null;
  const rss = cur.proc?.rssBytes ?? null;
  const memPct = rss !== null && cur.memTotalBytes ? (rss / cur.memTotalBytes) * 100 : null;
  const queueWait = s ? (s.queued * s.serviceTimeMs) / Math.max(1, s.concurrency) : Number.NaN;
  const p95 = s
    ? s.responseTimeMs.app.count > 0
      ? s.responseTimeMs.app.p95
      : s.responseTimeMs.static.count > 0
        ? s.responseTimeMs.static.p95
        : null
    : null;
  const samples: Record<MeasurementType, number> = {
    static_rt_ms: s && s.responseTimeMs.static.count > 0 ? s.responseTimeMs.static.p95 : Number.NaN,
    dynamic_rt_ms: s && s.responseTimeMs.app.count > 0 ? s.responseTimeMs.app.p95 : Number.NaN,
    queue_wait_ms: queueWait,
    cpu_pct: cpu ?? Number.NaN,
    mem_pct: memPct ?? Number.NaN,
    error_rate: haveRates ? errorRate : Number.NaN,
  };
  return {
    samples,
    load: {
      rps: dynamicRps + staticRps,
      staticRps,
      dynamicRps,
      p95Ms: p95,
      inFlight: s?.inFlight ?? 0,
      queued: s?.queued ?? 0,
      errorRate,
      cpuPct: cpu,
      rssBytes: rss,
    },
    rates: haveRates ? [dynamicRps, staticRps] : [Number.NaN, Number.NaN],
    healthy: s !== null,
  };
}
