/**
 * holtWinters forecasts a request rate with additive Holt-Winters: a level, a damped trend and
 * one seasonal index per step of the day, each updated online as every new observation arrives,
 * so the agent never refits over history.
 *
 * Robust start: before one whole season is known there is nothing to deseasonalise with, so the
 * model runs as damped Holt (level + trend, season 0) and remembers the raw values; when the
 * season completes, its indices start as the values minus their mean, the level as that mean and
 * the trend at 0 (a trend guessed from less than a day would mostly be the daily swing).
 *
 * Robust updates: a one-step error larger than `clip` × the running mean absolute error is cut
 * to that size before it updates the state (a Huber-type filter), so one burst does not drag the
 * level and the season; a lasting change raises the running error and is followed after all.
 * A missing observation (NaN) advances time without updating anything.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';

/** HoltWintersParams are the smoothing parameters and the season length. */
export interface HoltWintersParams {
  /** alpha smooths the level (0..1). */
  readonly alpha: number;
  /** beta smooths the trend (0..1). */
  readonly beta: number;
  /** gamma smooths the seasonal indices (0..1). */
  readonly gamma: number;
  /** phi damps the trend per step (0..1; 1 is the undamped classic). */
  readonly phi: number;
  /** period is the season length in steps (288 for a day of 5-minute steps). */
  readonly period: number;
  /** clip bounds an error to clip × running mean absolute error; Infinity turns it off. */
  readonly clip: number;
  /**
   * smooth averages the seasonal index over ±smooth neighbouring positions when it is used.
   * With short steps each position is learnt from one noisy sample a day; neighbours share the
   * shape of the day, so averaging them removes noise that would otherwise be forecast. 0 = off.
   */
  readonly smooth: number;
}

/**
 * DEFAULT_HW_PARAMS suit 5-minute steps (the predictor bench's back-tests on the ISP and Twitter
 * traces): a middling level, a slow damped trend, bursts clipped at 3 × the usual error, and the
 * seasonal shape averaged over ±40 minutes.
 * For other steps scale `smooth` to about 40 minutes' worth of steps.
 */
export const DEFAULT_HW_PARAMS: Omit<HoltWintersParams, 'period'> = {
  alpha: 0.5,
  beta: 0.02,
  gamma: 0.3,
  phi: 0.9,
  clip: 3,
  smooth: 8,
};

/** checkHoltWintersParams throws E_VALIDATION naming each bad parameter. */
export function checkHoltWintersParams(p: HoltWintersParams, prefix = 'predictor'): HoltWintersParams {
  const problems: FieldProblem[] = [];
  for (const k of ['alpha', 'beta', 'gamma', 'phi'] as const) {
    if (!(typeof p[k] === 'number' && p[k] >= 0 && p[k] <= 1))
      problems.push({ field: `${prefix}.${k}`, problem: 'must be a number from 0 to 1' });
  }
  if (!Number.isInteger(p.period) || p.period < 2 || p.period > 100_000)
    problems.push({ field: `${prefix}.period`, problem: 'must be a whole number of steps from 2 to 100000' });
  if (!Number.isInteger(p.smooth) || p.smooth < 0 || 2 * p.smooth + 1 > p.period)
    problems.push({
      field: `${prefix}.smooth`,
      problem: 'must be a whole number of steps ≥ 0 with 2 × smooth + 1 ≤ period',
    });
  if (!(typeof p.clip === 'number' && p.clip > 0))
    problems.push({ field: `${prefix}.clip`, problem: 'must be a number > 0 (Infinity turns clipping off)' });
  if (problems.length > 0) throw invalid(problems);
  return p;
}

/** HoltWinters is one series' online model. */
export class HoltWinters {
  readonly params: HoltWintersParams;
  private level = Number.NaN;
  private trend = 0;
  private readonly season: Float64Array;
  private readonly first: Float64Array;
  /** pos is the seasonal position of the next observation. */
  private pos = 0;
  /** seen counts steps observed, NaN steps included. */
  private seen = 0;
  private seasonal = false;
  /** mae is the running mean absolute one-step error, the scale the clip is measured in. */
  private mae = Number.NaN;

  constructor(params: HoltWintersParams) {
    this.params = checkHoltWintersParams(params);
    this.season = new Float64Array(params.period);
    this.first = new Float64Array(params.period).fill(Number.NaN);
  }

  /** steps is how many steps have been observed (gaps included). */
  get steps(): number {
    return this.seen;
  }

  /** warm tells whether a whole season has been seen (seasonal indices are in use). */
  get warm(): boolean {
    return this.seasonal;
  }

  /** observe feeds the value of the next step (NaN for a missing one). */
  observe(y: number): void {
    const { alpha, beta, gamma, phi, period, clip } = this.params;
    const pos = this.pos;
    if (!this.seasonal) this.first[pos] = y;
    if (Number.isFinite(y)) {
      if (Number.isNaN(this.level)) {
        this.level = y;
      } else {
        const s = this.seasonal ? this.seasonAt(pos) : 0;
        const base = this.level + phi * this.trend;
        const raw = y - (base + s);
        let e = raw;
        if (this.mae > 0 && Number.isFinite(clip)) {
          const lim = clip * this.mae;
          if (e > lim) e = lim;
          else if (e < -lim) e = -lim;
        }
        this.mae = Number.isNaN(this.mae) ? Math.abs(raw) : 0.95 * this.mae + 0.05 * Math.abs(e);
        const yc = base + s + e;
        const level = alpha * (yc - s) + (1 - alpha) * base;
        this.trend = beta * (level - this.level) + (1 - beta) * phi * this.trend;
        if (this.seasonal) this.season[pos] = gamma * (yc - level) + (1 - gamma) * (this.season[pos] as number);
        this.level = level;
      }
    } else if (!Number.isNaN(this.level)) {
      this.level += phi * this.trend;
      this.trend *= phi;
    }
    this.seen++;
    this.pos = (pos + 1) % period;
    if (!this.seasonal && this.seen >= period) this.startSeason();
  }

  private startSeason(): void {
    let sum = 0;
    let n = 0;
    for (const v of this.first) {
      if (Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    if (n < this.params.period / 2) return; // too little of the day seen: keep running as Holt, try again next season
    const mean = sum / n;
    for (let i = 0; i < this.params.period; i++) {
      const v = this.first[i] as number;
      this.season[i] = Number.isFinite(v) ? v - mean : 0;
    }
    this.level = mean;
    this.trend = 0;
    this.seasonal = true;
  }

  private seasonAt(pos: number): number {
    const k = this.params.smooth;
    if (k === 0) return this.season[pos] as number;
    const m = this.params.period;
    const season = this.season;
    // Positions pos − k … pos + k round the day, summed in that order; the index wraps by a
    // comparison instead of a modulo per position (this runs on every observation and forecast).
    let i = pos - k < 0 ? pos - k + m : pos - k;
    let sum = 0;
    for (let j = -k; j <= k; j++) {
      sum += season[i] as number;
      i = i + 1 === m ? 0 : i + 1;
    }
    return sum / (2 * k + 1);
  }

  /** forecast predicts the value h ≥ 1 steps after the last observation; NaN before any data. */
  forecast(h: number): number {
    if (Number.isNaN(this.level)) return Number.NaN;
    const { phi, period } = this.params;
    let damp = 0;
    let f = 1;
    for (let j = 1; j <= h; j++) {
      f *= phi;
      damp += f;
    }
    const s = this.seasonal ? this.seasonAt((this.pos + h - 1) % period) : 0;
    return this.level + damp * this.trend + s;
  }
}
