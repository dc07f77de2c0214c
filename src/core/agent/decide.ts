/**
 * decide turns the FIS's need into a request to the manager — 'add', 'release' or 'none' — with
 * hysteresis, so a need that hovers at a threshold does not make the agent flap. A request needs
 * the need past its threshold for `confirm` consecutive ticks; the count survives a dip into the
 * hold band (between hold and threshold) and resets below it; after any request the agent waits
 * `cooldown` ticks, about the time a server needs to join, before it asks again.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';

/** REQUESTS are the agent's possible requests. */
export const REQUESTS = ['add', 'release', 'none'] as const;
/** Request is one of REQUESTS. */
export type Request = (typeof REQUESTS)[number];

/** Thresholds configure decideRequest; validate with checkThresholds. */
export interface Thresholds {
  /** add: need at or above it counts towards an 'add'. */
  readonly add: number;
  /** addHold: need in [addHold, add) keeps the count; below it the count resets. */
  readonly addHold: number;
  /** release: need at or below it counts towards a 'release'. */
  readonly release: number;
  /** releaseHold: need in (release, releaseHold] keeps the count. */
  readonly releaseHold: number;
  /** confirm: consecutive ticks needed before a request. */
  readonly confirm: number;
  /** cooldown: ticks after a request during which no other request is made. */
  readonly cooldown: number;
}

/** DEFAULT_THRESHOLDS suit the default rule base (need of a fully "add" set ≈ +0.63). */
export const DEFAULT_THRESHOLDS: Thresholds = {
  add: 0.3,
  addHold: 0.15,
  release: -0.3,
  releaseHold: -0.15,
  confirm: 3,
  cooldown: 60,
};

/** DecideState is what decideRequest remembers between ticks. */
export interface DecideState {
  readonly leaning: Request;
  readonly streak: number;
  readonly cooldown: number;
}

/** INITIAL_DECIDE_STATE is the state of a fresh agent. */
export const INITIAL_DECIDE_STATE: DecideState = { leaning: 'none', streak: 0, cooldown: 0 };

/** checkThresholds throws E_VALIDATION unless release < releaseHold ≤ 0 ≤ addHold < add and the counts are whole. */
export function checkThresholds(t: Thresholds, prefix = 'thresholds'): Thresholds {
  const p: FieldProblem[] = [];
  const fin = (k: keyof Thresholds): boolean => typeof t[k] === 'number' && Number.isFinite(t[k]);
  for (const k of ['add', 'addHold', 'release', 'releaseHold'] as const)
    if (!fin(k)) p.push({ field: `${prefix}.${k}`, problem: 'must be a finite number' });
  if (p.length === 0) {
    if (!(t.add > t.addHold))
      p.push({ field: `${prefix}.add`, problem: `must be greater than addHold (${t.addHold})` });
    if (!(t.addHold >= 0)) p.push({ field: `${prefix}.addHold`, problem: 'must be ≥ 0' });
    if (!(t.release < t.releaseHold))
      p.push({ field: `${prefix}.release`, problem: `must be less than releaseHold (${t.releaseHold})` });
    if (!(t.releaseHold <= 0)) p.push({ field: `${prefix}.releaseHold`, problem: 'must be ≤ 0' });
  }
  if (!Number.isInteger(t.confirm) || t.confirm < 1)
    p.push({ field: `${prefix}.confirm`, problem: 'must be a whole number of ticks ≥ 1' });
  if (!Number.isInteger(t.cooldown) || t.cooldown < 0)
    p.push({ field: `${prefix}.cooldown`, problem: 'must be a whole number of ticks ≥ 0' });
  if (p.length > 0) throw invalid(p);
  return t;
}

/** DecideResult is the request of this tick and the state for the next. */
export interface DecideResult {
  readonly request: Request;
  readonly state: DecideState;
}

/** decideRequest is one tick of the hysteresis; a NaN need counts as 'none' and resets the streak. */
export function decideRequest(need: number, state: DecideState, t: Thresholds = DEFAULT_THRESHOLDS): DecideResult {
  const cooling = state.cooldown > 0;
  const cooldown = cooling ? state.cooldown - 1 : 0;
  let leaning: Request = 'none';
  let streak = 0;
  if (need >= t.add) {
    leaning = 'add';
    streak = state.leaning === 'add' ? state.streak + 1 : 1;
  } else if (need <= t.release) {
    leaning = 'release';
    streak = state.leaning === 'release' ? state.streak + 1 : 1;
  } else if (state.leaning === 'add' && need >= t.addHold) {
    leaning = 'add';
    streak = state.streak;
  } else if (state.leaning === 'release' && need <= t.releaseHold) {
    leaning = 'release';
    streak = state.streak;
  }
  if (leaning !== 'none' && streak >= t.confirm && !cooling) {
    return { request: leaning, state: { leaning: 'none', streak: 0, cooldown: t.cooldown } };
  }
  if (leaning === 'none' && streak === 0 && cooldown === 0) return IDLE;
  return { request: 'none', state: { leaning, streak, cooldown } };
}

/** IDLE is the result of a tick that leaves an agent at rest: shared, since most ticks of most agents end there. */
const IDLE: DecideResult = Object.freeze({ request: 'none', state: INITIAL_DECIDE_STATE });
