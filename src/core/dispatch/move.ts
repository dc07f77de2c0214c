/**
 * move is the workflow that moves one server between groups (or between the pool and a group)
 * as a state machine. The dispatcher records every step before and after it runs, so a manager
 * that dies mid-move resumes from the record; every step is idempotent, so running one twice
 * does nothing twice. This file only decides; src/services/manager/dispatcher.ts acts.
 */
import type { ServerState } from '../model/server.js';

/** MOVE_STEPS are all steps a move can take, in the order they run. */
export const MOVE_STEPS = [
  'drain', // the edge sends no new requests; in-flight ones finish (bounded wait)
  'detach', // the server leaves its group at the edge and in the resource database
  'set-boot-pointer', // the BMC's one-time HTTP boot URI points at the new personality
  'switch-volume', // the new account's volume is exported to the machine (or none, to the pool)
  'reset', // the BMC restarts the machine; it boots the new personality, wiped clean
  'wait-healthy', // the workload answers its health check as the new group's server
  'attach', // the edge routes the new group's traffic to it
  'power-off', // a server returning to the pool is switched off (cold pool)
  'done',
] as const;
/** MoveStep is one of MOVE_STEPS. */
export type MoveStep = (typeof MOVE_STEPS)[number];

/**
 * MOVE_KINDS are the workflows built from MOVE_STEPS:
 * - 'move': a server goes from a group or the pool to a group or the pool (the original move);
 * - 'warm-up': a cold pool server boots a group's personality and stays in the pool, warm, not
 *   attached at the edge (from and to are both the pool; the group is the server's warmFor);
 * - 'warm-join': a server warm for the group it is moved to joins it without a boot: a health
 *   check, then the attach;
 * - 'cool-down': a warm server no longer wanted is switched off and its volume withdrawn.
 */
export const MOVE_KINDS = ['move', 'warm-up', 'warm-join', 'cool-down'] as const;
/** MoveKind is one of MOVE_KINDS. */
export type MoveKind = (typeof MOVE_KINDS)[number];

/** stepsFor returns the steps of a move from a group or the pool (null) to a group or the pool (null). */
export function stepsFor(from: string | null, to: string | null, kind: MoveKind = 'move'): readonly MoveStep[] {
  switch (kind) {
    case 'warm-up':
      return ['set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy', 'done'];
    case 'warm-join':
      // The machine already runs the group's personality: checking it still answers as the
      // group's server costs one HTTP round trip, against a boot of seconds.
      return ['wait-healthy', 'attach', 'done'];
    case 'cool-down':
      // Off first: a machine still running must not keep the customer's volume.
      return ['power-off', 'switch-volume', 'done'];
    case 'move': {
      const leave: MoveStep[] = from === null ? [] : ['drain', 'detach'];
      const join: MoveStep[] =
        to === null
          ? ['switch-volume', 'power-off']
          : ['set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy', 'attach'];
      return [...leave, ...join, 'done'];
    }
  }
}

/** moveKindFor is the kind of a move of a pool-warm server warm for `warmFor` to `to` (a group): a warm join when they match, else an ordinary move (a boot). */
export function moveKindFor(state: ServerState, warmFor: string | null, to: string | null): MoveKind {
  return state === 'pool-warm' && to !== null && warmFor === to ? 'warm-join' : 'move';
}

/** firstStep is the step a new move starts at. */
export function firstStep(from: string | null, to: string | null, kind: MoveKind = 'move'): MoveStep {
  return stepsFor(from, to, kind)[0] ?? 'done';
}

/** nextStep is the step after `step` in a move from `from` to `to`. */
export function nextStep(from: string | null, to: string | null, step: MoveStep, kind: MoveKind = 'move'): MoveStep {
  const steps = stepsFor(from, to, kind);
  const i = steps.indexOf(step);
  if (i < 0) throw new Error(`step ${step} is not part of a ${kind} from ${from ?? 'pool'} to ${to ?? 'pool'}`);
  return steps[Math.min(i + 1, steps.length - 1)] ?? 'done';
}

/** ServerPosition is a server's state and group, as a step leaves them. */
export interface ServerPosition {
  readonly state: ServerState;
  readonly groupId: string | null;
}

/**
 * positionAfter gives the server's state and group once `step` has completed. The server's
 * move id stays set until 'done', so its place is 'moving' throughout.
 */
export function positionAfter(
  step: MoveStep,
  from: string | null,
  to: string | null,
  before: ServerPosition,
  kind: MoveKind = 'move',
): ServerPosition {
  if (kind === 'warm-up') {
    // A warm server boots but joins no group: its group is remembered as warmFor, not groupId.
    if (step === 'reset') return { state: 'booting', groupId: null };
    if (step === 'wait-healthy') return { state: 'pool-warm', groupId: null };
  }
  if (kind === 'warm-join' && step === 'wait-healthy') return { state: 'moving', groupId: null };
  if (kind === 'cool-down' && (step === 'power-off' || step === 'switch-volume'))
    return { state: 'pool-cold', groupId: null };
  switch (step) {
    case 'drain':
      return { state: 'draining', groupId: from };
    case 'detach':
    case 'set-boot-pointer':
    case 'switch-volume':
      return { state: 'moving', groupId: null };
    case 'reset':
    case 'wait-healthy':
      return { state: 'booting', groupId: to };
    case 'attach':
      return { state: 'active', groupId: to };
    case 'power-off':
      return { state: 'pool-cold', groupId: null };
    case 'done':
      return before;
  }
}

/** FailureAction is what the dispatcher does when a step fails. */
export type FailureAction =
  { readonly kind: 'retry'; readonly delayMs: number } | { readonly kind: 'rollback' } | { readonly kind: 'fail' };

/** MovePolicy bounds retries of a failing step. */
export interface MovePolicy {
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
}

/** DEFAULT_MOVE_POLICY retries a step three times with doubling delays. */
export const DEFAULT_MOVE_POLICY: MovePolicy = { maxAttempts: 3, retryBaseMs: 200 };

/**
 * onStepFailure decides what follows a failed step. Before the reset the machine still runs
 * its old personality, so a move that cannot go on rolls back (the server returns to where it
 * was); from the reset on, the old personality is gone and the server is marked failed, to be
 * recovered by a power cycle and replaced by the decision loop.
 */
export function onStepFailure(
  step: MoveStep,
  attempts: number,
  policy: MovePolicy = DEFAULT_MOVE_POLICY,
): FailureAction {
  if (attempts < policy.maxAttempts) return { kind: 'retry', delayMs: policy.retryBaseMs * 2 ** (attempts - 1) };
  const afterReset = step === 'reset' || step === 'wait-healthy' || step === 'attach' || step === 'power-off';
  return afterReset ? { kind: 'fail' } : { kind: 'rollback' };
}

/**
 * rollbackPosition is where a rolled-back server ends up: back in its group, or the pool (cold:
 * the rollback clears the boot pointer and withdraws the volume, so a warm-up rolled back before
 * its reset never ran the personality).
 */
export function rollbackPosition(from: string | null): ServerPosition {
  return from === null ? { state: 'pool-cold', groupId: null } : { state: 'active', groupId: from };
}
