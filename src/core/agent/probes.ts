/**
 * probes describes what an agent measures on its server: the seed's measurement modules
 * (Figure 15, modules 180–184). Each measurement type has a window w_k and the bounds min_k
 * (the value expected when the server is idle) and max_k (the most the customer tolerates);
 * the aggregator turns the last w_k samples into the balanced rate B_k with them.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';

/** MEASUREMENT_TYPES are the kinds of samples the agent's probes produce. */
export const MEASUREMENT_TYPES = [
  'static_rt_ms',
  'dynamic_rt_ms',
  'queue_wait_ms',
  'cpu_pct',
  'mem_pct',
  'error_rate',
] as const;
/** MeasurementType is one of MEASUREMENT_TYPES. */
export type MeasurementType = (typeof MEASUREMENT_TYPES)[number];

/** ProbeSpec is the window and the bounds of one measurement type. */
export interface ProbeSpec {
  readonly type: MeasurementType;
  /** window is w_k: how many of the latest samples the aggregator averages. */
  readonly window: number;
  /** min is min_k: the value expected on an idle, healthy server (B_k = −50 there). */
  readonly min: number;
  /** max is max_k: the most that is tolerated (B_k = +50 there). */
  readonly max: number;
}

/** ProbeSpecs holds one ProbeSpec per measurement type. */
export type ProbeSpecs = Readonly<Record<MeasurementType, ProbeSpec>>;

/** ProbeOverrides is what a personality may change: any field of any type's spec. */
export type ProbeOverrides = Partial<Record<MeasurementType, Partial<Omit<ProbeSpec, 'type'>>>>;

/** MAX_WINDOW bounds w_k so a misconfigured personality cannot make the agent hold huge buffers. */
export const MAX_WINDOW = 10_000;

/**
 * DEFAULT_PROBE_SPECS are the bounds for the demo runtime (50 ms per dynamic request). Response
 * windows are 30 samples (30 s at the 1 s tick): long enough to smooth single slow requests,
 * short enough to react within a minute. Error rate is a fraction (0.05 = 5 % of requests).
 */
export const DEFAULT_PROBE_SPECS: ProbeSpecs = {
  static_rt_ms: { type: 'static_rt_ms', window: 30, min: 1, max: 200 },
  dynamic_rt_ms: { type: 'dynamic_rt_ms', window: 30, min: 50, max: 1000 },
  queue_wait_ms: { type: 'queue_wait_ms', window: 30, min: 0, max: 500 },
  cpu_pct: { type: 'cpu_pct', window: 10, min: 10, max: 90 },
  mem_pct: { type: 'mem_pct', window: 10, min: 20, max: 90 },
  error_rate: { type: 'error_rate', window: 60, min: 0, max: 0.05 },
};

/** isMeasurementType tells whether a string names a measurement type. */
export function isMeasurementType(s: string): s is MeasurementType {
  return (MEASUREMENT_TYPES as readonly string[]).includes(s);
}

/**
 * resolveProbeSpecs merges a personality's overrides onto the defaults and validates the result,
 * so bad configuration fails when the personality is loaded, not at the first tick. Fields are
 * named `<prefix>.<type>.<field>` in the error.
 */
export function resolveProbeSpecs(
  overrides: ProbeOverrides | undefined = undefined,
  prefix = 'probes',
  base: ProbeSpecs = DEFAULT_PROBE_SPECS,
): ProbeSpecs {
  const problems: FieldProblem[] = [];
  const out = {} as Record<MeasurementType, ProbeSpec>;
  const given = (overrides ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!isMeasurementType(key))
      problems.push({
        field: `${prefix}.${key}`,
        problem: `unknown measurement type; allowed: ${MEASUREMENT_TYPES.join(', ')}`,
      });
  }
  for (const type of MEASUREMENT_TYPES) {
    const o = (given[type] ?? {}) as Record<string, unknown>;
    if (typeof o !== 'object' || o === null) {
      problems.push({ field: `${prefix}.${type}`, problem: 'must be an object with window, min and/or max' });
      out[type] = base[type];
      continue;
    }
    for (const k of Object.keys(o)) {
      if (k !== 'window' && k !== 'min' && k !== 'max')
        problems.push({ field: `${prefix}.${type}.${k}`, problem: 'unknown field; allowed: window, min, max' });
    }
    const spec = {
      type,
      window: o.window ?? base[type].window,
      min: o.min ?? base[type].min,
      max: o.max ?? base[type].max,
    };
    problems.push(...checkProbeSpec(spec, `${prefix}.${type}`));
    out[type] = spec as ProbeSpec;
  }
  if (problems.length > 0) throw invalid(problems);
  return out;
}

/** checkProbeSpec returns the problems of one spec (empty when valid). */
export function checkProbeSpec(spec: { window: unknown; min: unknown; max: unknown }, field: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (
    typeof spec.window !== 'number' ||
    !Number.isInteger(spec.window) ||
    spec.window < 1 ||
    spec.window > MAX_WINDOW
  ) {
    problems.push({ field: `${field}.window`, problem: `must be a whole number of samples from 1 to ${MAX_WINDOW}` });
  }
  const minOk = typeof spec.min === 'number' && Number.isFinite(spec.min);
  const maxOk = typeof spec.max === 'number' && Number.isFinite(spec.max);
  if (!minOk)
    problems.push({ field: `${field}.min`, problem: 'must be a finite number (the value expected on an idle server)' });
  if (!maxOk) problems.push({ field: `${field}.max`, problem: 'must be a finite number (the most that is tolerated)' });
  if (minOk && maxOk && (spec.max as number) <= (spec.min as number)) {
    problems.push({
      field: `${field}.max`,
      problem: `must be greater than min (${String(spec.min)}); B_k divides by max − min`,
    });
  }
  return problems;
}
