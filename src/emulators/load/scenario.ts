/**
 * scenario replays load shapes against the edge — ramps, spikes, diurnal load from a real trace,
 * and failure injections — so an operator (or `hostfleet up`) can watch the decision loop move
 * servers. A scenario is a rate per customer as a function of time plus timed failure actions;
 * the open-loop sender here follows the rate as it changes (steady.ts keeps one fixed rate).
 * Every run is bounded by its duration and its abort signal.
 */
import { loadTrace, scaleToPeak } from '../../sim/traces.js';
import { createLoadClient, emptyStats } from './steady.js';
import type { LoadStats } from './steady.js';

/** SCENARIOS are the built-in scenarios `hostfleet load` knows. */
export const SCENARIOS = ['steady', 'ramp', 'spike', 'diurnal', 'failure'] as const;
/** ScenarioName is one of SCENARIOS. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** ShapedTarget is one customer domain whose rate follows rate(t) (t in ms since the start). */
export interface ShapedTarget {
  readonly domain: string;
  readonly paths: readonly string[];
  rate(tMs: number): number;
}

/** Injection is a failure to inject at a time: power a serving server of a group off through its BMC. */
export interface Injection {
  readonly atMs: number;
  readonly kind: 'power-off';
  /** group is the group one of whose serving servers fails. */
  readonly group: string;
}

/** Scenario is a load shape per target and the failures to inject. */
export interface Scenario {
  readonly name: ScenarioName;
  readonly durationMs: number;
  readonly targets: readonly ShapedTarget[];
  readonly injections: readonly Injection[];
  /** describe says in one line what happens, for the console. */
  readonly describe: string;
}

/** ScenarioCustomer is a customer the scenario drives: its group and one domain. */
export interface ScenarioCustomer {
  readonly group: string;
  readonly domain: string;
}

/** ScenarioOptions size a scenario. */
export interface ScenarioOptions {
  readonly customers: readonly ScenarioCustomer[];
  /** baseRps is each customer's base rate. */
  readonly baseRps: number;
  readonly durationMs: number;
  /** factor is how many times the base a ramp or spike reaches (default 4). */
  readonly factor?: number;
  /** paths are requested in turn (default the dynamic /app/… path and the static home page). */
  readonly paths?: readonly string[];
  /** trace is the diurnal scenario's trace file (`;`-separated `time;value`). */
  readonly trace?: string;
  /** shiftHours puts every customer of the diurnal scenario in one time zone (default: spread round the clock). */
  readonly shiftHours?: number;
}

/** DEFAULT_TRACE is the diurnal scenario's trace: hourly English Wikipedia requests. */
export const DEFAULT_TRACE = 'wikipedia_en_hourly/traces_en_wikipedia.csv';

/** rampRate rises linearly from base to base × factor over the duration, then holds. */
export function rampRate(base: number, factor: number, durationMs: number): (t: number) => number {
  return (t) => base * (1 + (factor - 1) * Math.min(1, Math.max(0, t / durationMs)));
}

/** spikeRate is base, then base × factor from 20 % to 70 % of the duration, then base again. */
export function spikeRate(base: number, factor: number, durationMs: number): (t: number) => number {
  return (t) => (t >= 0.2 * durationMs && t < 0.7 * durationMs ? base * factor : base);
}

/**
 * traceRate replays one day of a trace compressed into the duration, scaled so the day's peak is
 * base × factor, shifted by `shiftHours` (customers in other time zones peak at other times).
 */
export function traceRate(
  values: Float64Array,
  stepSeconds: number,
  base: number,
  factor: number,
  durationMs: number,
  shiftHours: number,
): (t: number) => number {
  const perDay = Math.max(1, Math.round(86_400 / stepSeconds));
  const day = Array.from(values.subarray(0, Math.min(values.length, perDay)), (v) => (Number.isFinite(v) ? v : 0));
  const peak = Math.max(...day, 1e-9);
  const shift = Math.round((shiftHours * 3600) / stepSeconds);
  return (t) => {
    // A site west of Greenwich has a negative shift: wrap it into the day.
    const x =
      (((Math.min(1, Math.max(0, t / durationMs)) * day.length + shift) % day.length) + day.length) % day.length;
    const i = Math.floor(x);
    const a = day[i] as number;
    const b = day[(i + 1) % day.length] as number;
    const v = a + (b - a) * (x - i);
    return (base * factor * v) / peak;
  };
}

/** buildScenario builds a named scenario; the diurnal one reads its trace from tracesDir. */
export async function buildScenario(name: ScenarioName, o: ScenarioOptions, tracesDir: string): Promise<Scenario> {
  const factor = o.factor ?? 4;
  const paths = o.paths ?? ['/app/load', '/'];
  const steady = (c: ScenarioCustomer): ShapedTarget => ({ domain: c.domain, paths, rate: () => o.baseRps });
  const [first, ...rest] = o.customers;
  if (!first) throw new Error('a scenario needs at least one customer');
  switch (name) {
    case 'steady':
      return {
        name,
        durationMs: o.durationMs,
        targets: o.customers.map(steady),
        injections: [],
        describe: `every customer at ${o.baseRps} requests/s`,
      };
    case 'ramp':
      return {
        name,
        durationMs: o.durationMs,
        targets: [
          { domain: first.domain, paths, rate: rampRate(o.baseRps, factor, o.durationMs) },
          ...rest.map(steady),
        ],
        injections: [],
        describe: `${first.domain} ramps from ${o.baseRps} to ${o.baseRps * factor} requests/s; the others steady`,
      };
    case 'spike':
      return {
        name,
        durationMs: o.durationMs,
        targets: [
          { domain: first.domain, paths, rate: spikeRate(o.baseRps, factor, o.durationMs) },
          ...rest.map(steady),
        ],
        injections: [],
        describe: `${first.domain} spikes to ${o.baseRps * factor} requests/s from 20 % to 70 % of the run; the others steady`,
      };
    case 'diurnal': {
      const t = await loadTrace(`${tracesDir.replace(/\/+$/, '')}/${o.trace ?? DEFAULT_TRACE}`, {
        gapFill: 'linear',
        purpose:
          'for the diurnal scenario; --trace names a file under data/traces, or under HOSTFLEET_TRACES_DIR when set',
      });
      const scaled = scaleToPeak(t, 1);
      const targets = o.customers.map((c, i) => ({
        domain: c.domain,
        paths,
        rate: traceRate(
          scaled.values,
          scaled.stepSeconds,
          o.baseRps,
          factor,
          o.durationMs,
          o.shiftHours ?? (i * 24) / o.customers.length,
        ),
      }));
      return {
        name,
        durationMs: o.durationMs,
        targets,
        injections: [],
        describe: `one day of ${t.name} per run, peak ${o.baseRps * factor} requests/s, each customer in its own time zone`,
      };
    }
    case 'failure':
      return {
        name,
        durationMs: o.durationMs,
        targets: o.customers.map(steady),
        injections: [
          { atMs: 0.3 * o.durationMs, kind: 'power-off', group: first.group },
          { atMs: 0.6 * o.durationMs, kind: 'power-off', group: (rest[0] ?? first).group },
        ],
        describe: `steady load; a serving server of ${first.group} is powered off at 30 % and one of ${(rest[0] ?? first).group} at 60 %`,
      };
  }
}

/** runShapedLoad sends open-loop load following each target's rate until the duration ends or signal aborts. */
export async function runShapedLoad(opts: {
  edgeUrl: string;
  targets: readonly ShapedTarget[];
  durationMs: number;
  signal: AbortSignal;
  stats?: LoadStats;
  maxInFlight?: number;
  onTick?: (tMs: number) => void;
}): Promise<LoadStats> {
  const stats: LoadStats = opts.stats ?? emptyStats();
  const client = createLoadClient(opts.edgeUrl, stats);
  const t0 = performance.now();
  const maxInFlight = opts.maxInFlight ?? 512;
  const next = opts.targets.map(() => 0);
  const turn = opts.targets.map(() => 0);
  let lastTick = -1;
  while (!opts.signal.aborted) {
    const t = performance.now() - t0;
    if (t >= opts.durationMs) break;
    if (opts.onTick && Math.floor(t / 1000) !== lastTick) {
      lastTick = Math.floor(t / 1000);
      opts.onTick(t);
    }
    let soonest = t + 100;
    opts.targets.forEach((tg, i) => {
      const rate = tg.rate(t);
      if (!(rate > 0)) {
        next[i] = t + 100;
        return;
      }
      // Bounded catch-up: a stalled loop sends at most one second's worth at once.
      let sent = 0;
      while ((next[i] as number) <= t && client.inFlight < maxInFlight && sent < rate) {
        const path = tg.paths[(turn[i] as number) % tg.paths.length] as string;
        turn[i] = (turn[i] as number) + 1;
        sent++;
        client.send(tg.domain, path);
        next[i] = (next[i] as number) + 1000 / rate;
      }
      if ((next[i] as number) < t - 1000) next[i] = t;
      soonest = Math.min(soonest, next[i] as number);
    });
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, soonest - (performance.now() - t0)))));
  }
  await client.close();
  return stats;
}

/** InjectFn carries out a failure injection (the CLI powers a server off through its BMC). */
export type InjectFn = (inj: Injection) => Promise<string>;

/**
 * runScenario runs a scenario once: the shaped load, and each injection at its time. It
 * resolves with the load's stats once the duration is over (or signal aborted).
 */
export async function runScenario(opts: {
  edgeUrl: string;
  scenario: Scenario;
  signal: AbortSignal;
  stats?: LoadStats;
  inject?: InjectFn;
  log?: (line: string) => void;
}): Promise<LoadStats> {
  const timers = opts.scenario.injections.map((inj) =>
    setTimeout(() => {
      if (opts.signal.aborted || !opts.inject) return;
      opts.inject(inj).then(
        (what) => opts.log?.(`injected: ${what}`),
        (e: unknown) => opts.log?.(`injection failed: ${(e as Error).message}`),
      );
    }, inj.atMs),
  );
  try {
    return await runShapedLoad({
      edgeUrl: opts.edgeUrl,
      targets: opts.scenario.targets,
      durationMs: opts.scenario.durationMs,
      signal: opts.signal,
      ...(opts.stats ? { stats: opts.stats } : {}),
    });
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

/** runScenarioForever repeats a scenario until signal aborts (hostfleet up's demo load). */
export async function runScenarioForever(opts: {
  edgeUrl: string;
  build: () => Promise<Scenario>;
  signal: AbortSignal;
  stats: LoadStats;
  inject?: InjectFn;
  log?: (line: string) => void;
}): Promise<LoadStats> {
  for (let round = 0; round < 1_000_000 && !opts.signal.aborted; round++) {
    const scenario = await opts.build();
    await runScenario({
      edgeUrl: opts.edgeUrl,
      scenario,
      signal: opts.signal,
      stats: opts.stats,
      ...(opts.inject ? { inject: opts.inject } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
  }
  return opts.stats;
}
