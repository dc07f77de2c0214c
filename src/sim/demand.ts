/**
 * demand builds each customer's rate (requests per second) per tick of a scenario, warm-up
 * history included: a trace slice shifted to the customer's time zone and scaled to its peak,
 * or a synthetic day curve with a slow wobble, weekends and spikes.
 */
import { isAbsolute, resolve } from 'node:path';
import { invalid } from '../core/errors.js';
import { Rng, seedOf } from './rng.js';
import { parseTime, ticksOf, warmupTicksOf, type Scenario } from './scenario-spec.js';
import { loadTrace, valueAt } from './traces.js';
import type { Trace } from './traces.js';

/** Demand is every customer's rate (requests/s) per tick, including the warm-up history at the front. */
export interface Demand {
  /** rates[c][warmup + t] is customer c's rate at tick t (t may be negative down to −warmup). */
  readonly rates: readonly Float64Array[];
  readonly warmup: number;
  readonly ticks: number;
}

function resolveTracePath(s: Scenario, file: string): string {
  return isAbsolute(file) ? file : resolve(s.baseDir, file);
}

/** utcDay is new Date(ms).getUTCDay() without a Date per call (demand generation asks it for every customer and tick): 1970-01-01 was a Thursday. */
export function utcDay(ms: number): number {
  const d = Math.floor(Math.trunc(ms) / 86_400_000);
  return (((d + 4) % 7) + 7) % 7;
}

/** buildDemand loads every trace once and generates each customer's rate series. */
export async function buildDemand(s: Scenario): Promise<Demand> {
  const ticks = ticksOf(s);
  const warmup = warmupTicksOf(s);
  const n = warmup + ticks;
  const traces = new Map<string, Trace>();
  const siteOffset = new Map(s.sites.map((x) => [x.id, x.utcOffsetHours]));
  const rates: Float64Array[] = [];
  const tickMs = s.tickSeconds * 1000;
  for (const [ci, c] of s.customers.entries()) {
    const out = new Float64Array(n);
    const d = c.demand;
    const off = siteOffset.get(c.site) ?? 0;
    if (d.kind === 'trace') {
      const key = `${d.file}#${String(d.column ?? '')}`;
      let tr = traces.get(key);
      if (tr === undefined) {
        tr = await loadTrace(resolveTracePath(s, d.file), {
          purpose: `for customer ${c.id}`,
          ...(d.column === undefined ? {} : { column: d.column }),
        });
        traces.set(key, tr);
      }
      const shiftMs = (d.shiftHours - (d.local ? off : 0)) * 3_600_000;
      const from = parseTime(d.from);
      let max = 0;
      for (let i = 0; i < n; i++) {
        const v = valueAt(tr, from + (i - warmup) * tickMs - shiftMs);
        if (!Number.isFinite(v)) {
          throw invalid([
            {
              field: `customer ${c.id}: trace ${d.file}`,
              problem: `has no data at ${new Date(from + (i - warmup) * tickMs - shiftMs).toISOString()}; choose 'from' so that ${s.warmupDays} warm-up and ${s.days} simulated days fit inside the trace`,
            },
          ]);
        }
        out[i] = v;
        if (i >= warmup && v > max) max = v;
      }
      const k = max > 0 ? d.peakRps / max : 0;
      for (let i = 0; i < n; i++) out[i] = Math.max(0, (out[i] as number) * k);
    } else {
      const rng = new Rng(seedOf(s.seed, `demand:${ci}:${c.id}`));
      let wobble = 0;
      const phi = Math.exp(-s.tickSeconds / 3600); // the wobble drifts over about an hour
      const spikeP = (d.spikesPerDay * s.tickSeconds) / 86_400;
      let spikeLeft = 0;
      for (let i = 0; i < n; i++) {
        const ms = s.start + (i - warmup) * tickMs;
        const localH = (((ms / 3_600_000 + off) % 24) + 24) % 24;
        const dow = utcDay(ms + off * 3_600_000);
        let shape: number;
        if (d.kind === 'flat') shape = 1;
        else {
          // a smooth day: cosine around the peak hour, flattened at night (trough 12 h away)
          const x = Math.cos(((localH - d.peakHour) / 24) * 2 * Math.PI);
          shape = ((1 + x) / 2) ** 1.5;
        }
        let v = d.baseRps + (d.peakRps - d.baseRps) * shape;
        if (dow === 0 || dow === 6) v *= d.weekendFactor;
        wobble = phi * wobble + Math.sqrt(1 - phi * phi) * rng.normal();
        v *= Math.max(0.05, 1 + d.noise * wobble);
        if (spikeLeft > 0) spikeLeft--;
        else if (spikeP > 0 && rng.next() < spikeP)
          spikeLeft = Math.max(1, Math.round((d.spikeMinutes * 60) / s.tickSeconds));
        if (spikeLeft > 0) v *= d.spikeMultiple;
        out[i] = v;
      }
    }
    rates.push(out);
  }
  return { rates, warmup, ticks };
}
