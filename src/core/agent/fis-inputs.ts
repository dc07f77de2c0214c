/**
 * fisInputs builds the FIS's three inputs from the predictor's output and the aggregator's B_k,
 * and gives the group's need: the FIS runs once per request type and the most urgent type wins
 * (one starved type is reason enough to add a server; a release must suit every type).
 *
 * Where this runs: the aggregator runs on every server (B_k of its own probes); the predictor and
 * the FIS run once per group, on the group's decider — the lowest server id among its active
 * servers (groupDecider) — as in the seed's first embodiment. The predictor models the group's
 * arrivals and its c servers as one queue, so a per-server predictor would see 1/c of the
 * traffic and ask c times for the same server. If the decider fails, the next lowest id takes
 * over on the next status round (the manager should treat repeated requests of one group within
 * its cool-down as one).
 */
import { balancedRate, clampB } from './aggregator.js';
import { evaluateFis } from './fis-engine.js';
import type { CompiledFis } from './fis-engine.js';
import type { Prediction } from './predictor.js';

/** responseB places a response time on the B_k scale against the SLA target: min 0 ms, max 2 × target, clamped. */
export function responseB(responseMs: number, targetMs: number): number {
  if (!Number.isFinite(responseMs)) return responseMs > 0 ? 50 : Number.NaN;
  return clampB(balancedRate(responseMs, 0, 2 * targetMs));
}

/** fisInputsFor returns [priority, probability, response] for one prediction; measuredB (the worst response B_k now) raises response when the forecast lags. */
export function fisInputsFor(
  priority: number,
  p: Prediction,
  measuredB: number | null = null,
): [number, number, number] {
  return [priority, p.pMiss, responseInput(responseB(p.meanResponseMs, p.targetMs), measuredB)];
}

/** responseInput is the FIS's response input: the predicted response B_k, or the measured one when it is higher (or the prediction is NaN). */
export function responseInput(predictedB: number, measuredB: number | null): number {
  return measuredB !== null && (Number.isNaN(predictedB) || measuredB > predictedB) ? measuredB : predictedB;
}

/** GroupNeed is the need of the group and which request type set it. */
export interface GroupNeed {
  readonly need: number;
  readonly type: string | null;
  readonly inputs: readonly [number, number, number] | null;
}

/** groupNeed evaluates the FIS per request type and keeps the highest need; NaN inputs are skipped. */
export function groupNeed(
  fis: CompiledFis,
  priority: number,
  predictions: readonly Prediction[],
  measuredB: number | null = null,
): GroupNeed {
  let best: GroupNeed = { need: Number.NaN, type: null, inputs: null };
  for (const p of predictions) {
    const x = fisInputsFor(priority, p, measuredB);
    const need = evaluateFis(fis, x);
    if (Number.isNaN(need)) continue;
    if (Number.isNaN(best.need) || need > best.need) best = { need, type: p.type, inputs: x };
  }
  return best;
}

/** groupDecider names the server whose agent runs the predictor and FIS for its group: the lowest id, or null for an empty group. */
export function groupDecider(activeServerIds: readonly string[]): string | null {
  let best: string | null = null;
  for (const id of activeServerIds) if (best === null || id < best) best = id;
  return best;
}
