/**
 * stats keeps the runtime's counters and a window of recent response times, which the agent's
 * probes read from /_runtime/stats to measure the server the way its customers see it.
 */

/** REQUEST_KINDS are the kinds of request the runtime counts separately. */
export const REQUEST_KINDS = ['app', 'static', 'health', 'stats', 'other'] as const;
/** RequestKind is one of REQUEST_KINDS. */
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Percentiles summarises a window of response times in milliseconds. */
export interface Percentiles {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** percentiles computes nearest-rank percentiles of values (which it sorts in place). */
export function percentiles(values: number[]): Percentiles {
  const n = values.length;
  if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  values.sort((a, b) => a - b);
  const at = (q: number): number => values[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] ?? 0;
  let sum = 0;
  for (const v of values) sum += v;
  const r = (x: number): number => Math.round(x * 100) / 100;
  return {
    count: n,
    mean: r(sum / n),
    p50: r(at(0.5)),
    p90: r(at(0.9)),
    p95: r(at(0.95)),
    p99: r(at(0.99)),
    max: r(values[n - 1] ?? 0),
  };
}

/** LatencyWindow keeps the last `capacity` samples with their times, to report recent percentiles. */
export class LatencyWindow {
  private readonly at: Float64Array;
  private readonly ms: Float64Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.ms = new Float64Array(capacity);
  }

  /** add records one response time ms finished at time now. */
  add(now: number, ms: number): void {
    this.at[this.next] = now;
    this.ms[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** summary reports percentiles of the samples newer than now - windowMs. */
  summary(now: number, windowMs: number): Percentiles {
    const vals: number[] = [];
    for (let i = 0; i < this.size; i++) {
      if (now - (this.at[i] ?? 0) <= windowMs) vals.push(this.ms[i] ?? 0);
    }
    return percentiles(vals);
  }
}
