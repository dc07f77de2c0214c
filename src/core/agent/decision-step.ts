/**
 * decisionStep is one tick of the group decider's pipeline in one pure call — aggregate, predict,
 * infer, decide — so the agent service and the simulator wire it the same way and cannot put the
 * stages in a different order. Order matters: the aggregator's readings feed the FIS's response
 * input next to the forecast, and decideRequest must see every tick's need, even NaN, to keep
 * its streak honest.
 */
import { aggregate, worstResponseB } from './aggregator.js';
import type { Aggregator, Reading } from './aggregator.js';
import { decideRequest } from './decide.js';
import type { DecideState, Request, Thresholds } from './decide.js';
import type { CompiledFis } from './fis-engine.js';
import { groupNeed, responseB, responseInput } from './fis-inputs.js';
import type { GroupNeed } from './fis-inputs.js';
import { predict } from './predictor.js';
import type { Prediction, Predictor } from './predictor.js';

/** DecisionInput is what one tick needs; the aggregator and predictor are fed beforehand. */
export interface DecisionInput {
  readonly fis: CompiledFis;
  readonly aggregator: Aggregator;
  readonly predictor: Predictor;
  /** priority is the group's SLA priority in [0, 1]. */
  readonly priority: number;
  /** servers is the group's active server count (the c of M/M/c). */
  readonly servers: number;
  readonly state: DecideState;
  readonly thresholds: Thresholds;
  /**
   * memo, when given, lets the step reuse what it computed last time for the same group: the
   * predictions while the predictor has observed nothing new and the server count is the same,
   * and the FIS's output while its inputs are exactly the same. The outputs are those of the
   * uncached step, bit for bit; a memo belongs to one group (createStepMemo per agent).
   */
  readonly memo?: StepMemo;
}

/** StepMemo is decisionStep's per-group cache; make one with createStepMemo and pass it every tick. */
export interface StepMemo {
  predictor: Predictor | null;
  /** version is the predictor's observation count when `predictions` were made (it grows with every observation). */
  version: number;
  servers: number;
  predictions: readonly Prediction[];
  fis: CompiledFis | null;
  priority: number;
  /** measuredB is the last worst measured response B_k; NaN stands for none (kept a number so the field stays unboxed). */
  measuredB: number;
  need: GroupNeed | null;
  /** predictedB is the response B_k of predictedBOf, the prediction it was computed for. */
  predictedB: number;
  predictedBOf: Prediction | null;
}

/** createStepMemo makes an empty memo for decisionStep. */
export function createStepMemo(): StepMemo {
  return {
    predictor: null,
    version: -1,
    servers: -1,
    predictions: [],
    fis: null,
    priority: Number.NaN,
    measuredB: Number.NaN,
    need: null,
    predictedB: Number.NaN,
    predictedBOf: null,
  };
}

function predictorVersion(p: Predictor): number {
  const models = p.models;
  let v = 0;
  for (let i = 0; i < models.length; i++) v += (models[i] as Predictor['models'][number]).steps;
  return v;
}

/** sameNeedInputs tells whether the FIS would see exactly the inputs it saw for memo.need. */
function sameNeedInputs(
  m: StepMemo,
  predictions: readonly Prediction[],
  measuredB: number | null,
  priority: number,
): boolean {
  const need = m.need;
  if (need === null || (measuredB !== null && Number.isNaN(measuredB))) return false;
  if (predictions === m.predictions && Object.is(measuredB ?? Number.NaN, m.measuredB) && priority === m.priority)
    return true;
  // Same predictions, a different measured B_k: the FIS inputs are still the same when the
  // measured value neither was nor is the one that raised the response input.
  const y = need.inputs;
  if (predictions !== m.predictions || priority !== m.priority || predictions.length !== 1 || y === null) return false;
  // Priority and the prediction (so pMiss) are the same; only the response input can differ.
  const p = predictions[0] as Prediction;
  if (m.predictedBOf !== p) {
    m.predictedB = responseB(p.meanResponseMs, p.targetMs);
    m.predictedBOf = p;
  }
  return y[0] === priority && y[1] === p.pMiss && y[2] === responseInput(m.predictedB, measuredB);
}

/** DecisionOutput explains the tick: readings, predictions, need and the request. */
export interface DecisionOutput {
  readonly readings: readonly Reading[];
  readonly predictions: readonly Prediction[];
  readonly need: GroupNeed;
  readonly request: Request;
  readonly state: DecideState;
}

/** decisionStep runs aggregate → predict → FIS → decideRequest. */
export function decisionStep(x: DecisionInput): DecisionOutput {
  const readings = aggregate(x.aggregator);
  const measuredB = worstResponseB(readings);
  const m = x.memo;
  let predictions: readonly Prediction[];
  let need: GroupNeed;
  if (m === undefined) {
    predictions = predict(x.predictor, x.servers);
    need = groupNeed(x.fis, x.priority, predictions, measuredB);
  } else {
    const version = predictorVersion(x.predictor);
    if (m.predictor === x.predictor && m.version === version && m.servers === x.servers) {
      predictions = m.predictions;
    } else {
      predictions = predict(x.predictor, x.servers);
      m.predictor = x.predictor;
      m.version = version;
      m.servers = x.servers;
    }
    if (m.fis === x.fis && sameNeedInputs(m, predictions, measuredB, x.priority)) {
      need = m.need as GroupNeed;
    } else {
      need = groupNeed(x.fis, x.priority, predictions, measuredB);
      m.fis = x.fis;
      // A NaN measured B_k is stored as NaN like a missing one, so such a need is not kept for reuse.
      m.need = measuredB !== null && Number.isNaN(measuredB) ? null : need;
    }
    m.predictions = predictions;
    m.priority = x.priority;
    m.measuredB = measuredB ?? Number.NaN;
  }
  const d = decideRequest(need.need, x.state, x.thresholds);
  return { readings, predictions, need, request: d.request, state: d.state };
}
