/**
 * predictor is the seed's predictor module (Figure 15, 192): for every request type it forecasts
 * the arrival rate over the horizon with Holt-Winters, then turns the rate into the expected
 * response time, and the probability of meeting the SLA target, for the group's capacity with an
 * M/M/c queue.
 *
 * Horizon: by default the time a cold server needs to join (boot + health + attach), because a
 * server asked for now serves nobody before then; the forecast is the rate at that moment.
 *
 * Several request types share the same servers. Each type k is modelled as its own M/M/c whose
 * per-server rate μ_k is reduced to the capacity share the other types leave:
 * μ_k' = μ_k × (1 − Σ_{j≠k} λ_j / (c μ_j)). This is an approximation (exact only for one type);
 * it keeps the total utilisation right, which is what decides whether a server is needed.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';
import { mmc, responseCdfWith } from './erlang.js';
import { DEFAULT_HW_PARAMS, HoltWinters } from './holt-winters.js';
import type { HoltWintersParams } from './holt-winters.js';

/** RequestTypeSpec is one kind of request a group serves. */
export interface RequestTypeSpec {
  readonly name: string;
  /** serviceRate is μ: requests per second one server completes of this type alone. */
  readonly serviceRate: number;
  /** targetMs is the SLA response-time target for this type. */
  readonly targetMs: number;
}

/** PredictorConfig configures a group's predictor. */
export interface PredictorConfig {
  /** stepSeconds is the interval rates are observed at (the agent sums arrivals per step). */
  readonly stepSeconds: number;
  /** seasonSeconds is the season length: a day. */
  readonly seasonSeconds: number;
  /** horizonSeconds is how far ahead to predict; default: a cold server's join time. */
  readonly horizonSeconds: number;
  readonly hw: Omit<HoltWintersParams, 'period'>;
  readonly requestTypes: readonly RequestTypeSpec[];
}

/** DEFAULT_PREDICTOR_CONFIG suits the demo runtime: 5-minute steps, 15-minute cold join, one dynamic type (50 ms, 8 workers). */
export const DEFAULT_PREDICTOR_CONFIG: PredictorConfig = {
  stepSeconds: 300,
  seasonSeconds: 86_400,
  horizonSeconds: 900,
  hw: DEFAULT_HW_PARAMS,
  requestTypes: [{ name: 'dynamic', serviceRate: 160, targetMs: 200 }],
};

/** checkPredictorConfig validates a config, naming bad fields under `prefix`. */
export function checkPredictorConfig(c: PredictorConfig, prefix = 'predictor'): PredictorConfig {
  const p: FieldProblem[] = [];
  const pos = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (!pos(c.stepSeconds)) p.push({ field: `${prefix}.stepSeconds`, problem: 'must be a number of seconds > 0' });
  if (!pos(c.seasonSeconds)) p.push({ field: `${prefix}.seasonSeconds`, problem: 'must be a number of seconds > 0' });
  else if (
    pos(c.stepSeconds) &&
    (!Number.isInteger(c.seasonSeconds / c.stepSeconds) || c.seasonSeconds / c.stepSeconds < 2)
  ) {
    p.push({
      field: `${prefix}.seasonSeconds`,
      problem: `must be a whole multiple (≥ 2) of stepSeconds (${c.stepSeconds})`,
    });
  }
  if (!(typeof c.horizonSeconds === 'number' && c.horizonSeconds >= 0 && Number.isFinite(c.horizonSeconds)))
    p.push({ field: `${prefix}.horizonSeconds`, problem: 'must be a number of seconds ≥ 0' });
  if (c.requestTypes.length === 0)
    p.push({ field: `${prefix}.requestTypes`, problem: 'needs at least one request type' });
  const names = new Set<string>();
  c.requestTypes.forEach((t, i) => {
    const f = `${prefix}.requestTypes[${i}]`;
    if (typeof t.name !== 'string' || t.name === '' || names.has(t.name))
      p.push({ field: `${f}.name`, problem: 'must be a unique, non-empty name' });
    names.add(t.name);
    if (!pos(t.serviceRate)) p.push({ field: `${f}.serviceRate`, problem: 'must be requests per second > 0' });
    if (!pos(t.targetMs)) p.push({ field: `${f}.targetMs`, problem: 'must be milliseconds > 0' });
  });
  if (p.length > 0) throw invalid(p);
  return c;
}

/** Predictor holds one Holt-Winters model per request type. */
export interface Predictor {
  readonly config: PredictorConfig;
  readonly models: readonly HoltWinters[];
}

/** createPredictor validates the config and makes fresh models. */
export function createPredictor(config: PredictorConfig = DEFAULT_PREDICTOR_CONFIG): Predictor {
  checkPredictorConfig(config);
  const period = Math.round(config.seasonSeconds / config.stepSeconds);
  return { config, models: config.requestTypes.map(() => new HoltWinters({ ...config.hw, period })) };
}

/** observeRates feeds one step's arrival rate (requests/s) per request type, in config order; NaN for a missing step. */
export function observeRates(p: Predictor, rates: ArrayLike<number>): void {
  p.models.forEach((m, i) => m.observe(rates[i] ?? Number.NaN));
}

/** horizonSteps is the horizon in whole steps (at least 1). */
export function horizonSteps(config: PredictorConfig): number {
  return Math.max(1, Math.round(config.horizonSeconds / config.stepSeconds));
}

/** Prediction is what the predictor says about one request type at the horizon. */
export interface Prediction {
  readonly type: string;
  readonly horizonSeconds: number;
  /** lambda is the forecast arrival rate (requests/s, ≥ 0); NaN before any observation. */
  readonly lambda: number;
  readonly servers: number;
  readonly utilisation: number;
  readonly stable: boolean;
  readonly pWait: number;
  readonly meanWaitMs: number;
  /** meanResponseMs is the expected response time (Infinity when the queue is unstable). */
  readonly meanResponseMs: number;
  /** pWithinTarget is P(response ≤ SLA target). */
  readonly pWithinTarget: number;
  /** pMiss is 1 − pWithinTarget: the FIS's probability input. */
  readonly pMiss: number;
  readonly targetMs: number;
}

/** predictQueue applies the M/M/c model to given rates (the predictor's second half, usable on its own). */
export function predictQueue(
  types: readonly RequestTypeSpec[],
  lambdas: readonly number[],
  servers: number,
  horizonSeconds = 0,
): Prediction[] {
  const c = Math.max(0, Math.floor(servers));
  const loads = types.map((t, i) =>
    c > 0 ? Math.max(0, lambdas[i] ?? 0) / (c * t.serviceRate) : Number.POSITIVE_INFINITY,
  );
  const total = loads.reduce((a, b) => a + b, 0);
  return types.map((t, i) => {
    const lambda = Math.max(0, lambdas[i] ?? Number.NaN);
    const share = 1 - (total - (loads[i] as number));
    const mu = t.serviceRate * share;
    if (c === 0 || !(share > 0) || Number.isNaN(lambda)) {
      return {
        type: t.name,
        horizonSeconds,
        lambda,
        servers: c,
        utilisation: Number.isNaN(lambda) ? Number.NaN : Number.POSITIVE_INFINITY,
        stable: false,
        pWait: 1,
        meanWaitMs: Number.POSITIVE_INFINITY,
        meanResponseMs: Number.POSITIVE_INFINITY,
        pWithinTarget: 0,
        pMiss: 1,
        targetMs: t.targetMs,
      };
    }
    const q = mmc(lambda, mu, c);
    const pWithinTarget = q.stable ? responseCdfWith(t.targetMs / 1000, lambda, mu, c, q.pWait) : 0;
    return {
      type: t.name,
      horizonSeconds,
      lambda,
      servers: c,
      utilisation: total,
      stable: q.stable,
      pWait: q.pWait,
      meanWaitMs: q.meanWait * 1000,
      meanResponseMs: q.meanResponse * 1000,
      pWithinTarget,
      pMiss: 1 - pWithinTarget,
      targetMs: t.targetMs,
    };
  });
}

/** forecastRates returns each type's forecast rate h steps ahead (clamped at 0). */
export function forecastRates(p: Predictor, h: number = horizonSteps(p.config)): number[] {
  return p.models.map((m) => {
    const f = m.forecast(h);
    return Number.isNaN(f) ? f : Math.max(0, f);
  });
}

/** predict forecasts each request type at the horizon for a group of `servers` servers. */
export function predict(p: Predictor, servers: number): Prediction[] {
  const h = horizonSteps(p.config);
  return predictQueue(p.config.requestTypes, forecastRates(p, h), servers, h * p.config.stepSeconds);
}
