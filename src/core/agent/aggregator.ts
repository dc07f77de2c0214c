/**
 * aggregator is the seed's aggregator module (Figure 15, 190): per measurement type k it turns
 * the last w_k samples T_ki into the balanced rate
 *
 *   B_k = [(Σ_{i=1..w_k} T_ki / w_k) − min_k] × 100 / (max_k − min_k) − 50
 *
 * so every type, whatever its unit, lands on one scale: −50 at the expected minimum, 0 half-way,
 * +50 at the tolerated maximum.
 *
 * Values outside [min_k, max_k]: `raw` keeps the formula's value unclamped (a B_k of +130 tells
 * the operator and the manager how far past the limit a server is), while `b` is clamped to
 * [−50, 50] and is what the FIS receives. The FIS input ranges are [−50, 50]; membership
 * functions past the range would be extrapolated by shapes nobody designed, and "at or past the
 * tolerated maximum" is all the rule base needs to know to ask for a server.
 *
 * Fewer samples than w_k (a server that just booted): the mean is over what there is, and
 * `partial` says so, so the caller can give such readings less weight or wait.
 */
import { MEASUREMENT_TYPES } from './probes.js';
import type { MeasurementType, ProbeSpec, ProbeSpecs } from './probes.js';
import { RingWindow } from './ring-window.js';

/** B_MIN and B_MAX bound the clamped balanced rate passed to the FIS. */
export const B_MIN = -50;
/** B_MAX is the clamped balanced rate at or past the tolerated maximum. */
export const B_MAX = 50;

/** balancedRate applies the seed's formula to a mean: unclamped. */
export function balancedRate(mean: number, min: number, max: number): number {
  return ((mean - min) * 100) / (max - min) - 50;
}

/** clampB clamps a balanced rate to [B_MIN, B_MAX]; NaN stays NaN. */
export function clampB(b: number): number {
  return b < B_MIN ? B_MIN : b > B_MAX ? B_MAX : b;
}

/** Reading is the aggregator's output for one measurement type. */
export interface Reading {
  readonly type: MeasurementType;
  /** samples is how many samples the mean is over (≤ window). */
  readonly samples: number;
  readonly window: number;
  /** partial is true while fewer than w_k samples are known. */
  readonly partial: boolean;
  /** mean of the samples; null when there are none. */
  readonly mean: number | null;
  /** raw is B_k as the formula gives it, unclamped; null without samples. */
  readonly raw: number | null;
  /** b is B_k clamped to [−50, 50], the FIS input; null without samples. */
  readonly b: number | null;
}

/** Aggregator holds one ring window per measurement type. */
export interface Aggregator {
  readonly specs: ProbeSpecs;
  readonly windows: Readonly<Record<MeasurementType, RingWindow>>;
  /**
   * slots lists each type's spec and window in MEASUREMENT_TYPES order with the reading of its
   * empty window, so aggregate walks an array instead of looking six names up every tick
   * (createAggregator fills it; an aggregator built by hand without it works the same, slower).
   */
  readonly slots?: readonly AggregatorSlot[];
}

/** AggregatorSlot is one measurement type's spec, window and empty-window reading. */
export interface AggregatorSlot {
  readonly spec: ProbeSpec;
  readonly window: RingWindow;
  readonly empty: Reading;
}

function emptyReading(spec: ProbeSpec): Reading {
  return Object.freeze({
    type: spec.type,
    samples: 0,
    window: spec.window,
    partial: true,
    mean: null,
    raw: null,
    b: null,
  });
}

/** createAggregator makes empty windows sized by the specs (validate them with resolveProbeSpecs first). */
export function createAggregator(specs: ProbeSpecs): Aggregator {
  const windows = {} as Record<MeasurementType, RingWindow>;
  for (const t of MEASUREMENT_TYPES) windows[t] = new RingWindow(specs[t].window);
  const slots = MEASUREMENT_TYPES.map((t) => ({ spec: specs[t], window: windows[t], empty: emptyReading(specs[t]) }));
  return { specs, windows, slots };
}

/** addSample records one sample of a type; returns false (and records nothing) for a non-finite value. */
export function addSample(agg: Aggregator, type: MeasurementType, value: number): boolean {
  return agg.windows[type].push(value);
}

/** readingOf computes the reading of one window against its spec. */
export function readingOf(spec: ProbeSpec, window: RingWindow): Reading {
  const n = window.count;
  if (n === 0)
    return { type: spec.type, samples: 0, window: spec.window, partial: true, mean: null, raw: null, b: null };
  const mean = window.mean();
  const raw = balancedRate(mean, spec.min, spec.max);
  return { type: spec.type, samples: n, window: spec.window, partial: n < spec.window, mean, raw, b: clampB(raw) };
}

/** aggregate returns one reading per measurement type, in MEASUREMENT_TYPES order. */
export function aggregate(agg: Aggregator): Reading[] {
  // A plain loop: agents call this every tick, the simulator a thousand times per simulated minute.
  const out: Reading[] = [];
  const slots = agg.slots;
  if (slots !== undefined) {
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as AggregatorSlot;
      // An empty window's reading never changes: share the one made with the slot.
      out.push(s.window.count === 0 ? s.empty : readingOf(s.spec, s.window));
    }
    return out;
  }
  for (let i = 0; i < MEASUREMENT_TYPES.length; i++) {
    const t = MEASUREMENT_TYPES[i] as MeasurementType;
    out.push(readingOf(agg.specs[t], agg.windows[t]));
  }
  return out;
}

/** RESPONSE_TYPES are the measurement types that are times a request waits; they feed the FIS response input. */
export const RESPONSE_TYPES = [
  'static_rt_ms',
  'dynamic_rt_ms',
  'queue_wait_ms',
] as const satisfies readonly MeasurementType[];

/**
 * worstResponseB is the highest clamped B_k among the response-time types that have samples,
 * or null. The agent compares it with the predicted response so that a sudden overload the
 * predictor has not yet seen still raises the FIS's response input.
 */
export function worstResponseB(readings: readonly Reading[]): number | null {
  let worst: number | null = null;
  for (const r of readings) {
    if (r.b === null || !(RESPONSE_TYPES as readonly string[]).includes(r.type)) continue;
    if (worst === null || r.b > worst) worst = r.b;
  }
  return worst;
}
