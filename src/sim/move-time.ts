/**
 * move-time gives moves their durations under a server model, step by step of the move state
 * machine of src/core/dispatch.
 */
import { stepsFor } from '../core/dispatch/index.js';
import type { MoveStep } from '../core/dispatch/index.js';
import type { ServerModel } from './scenario.js';

/** stepSeconds gives every move step its duration under a server model; warm means the personality is already booted. */
export function stepSeconds(m: ServerModel, warm: boolean): Readonly<Record<MoveStep, number>> {
  return {
    drain: m.drainS,
    detach: 0,
    'set-boot-pointer': 0,
    'switch-volume': 0,
    reset: warm ? 0 : m.resetS,
    'wait-healthy': warm ? m.warmBootS : m.coldBootS,
    attach: 0,
    'power-off': m.powerOffS,
    done: 0,
  };
}

/** moveSeconds is the duration of a whole move from a group or the pool (null) to a group or the pool. */
export function moveSeconds(m: ServerModel, from: string | null, to: string | null, warm = false): number {
  const d = stepSeconds(m, warm);
  let s = 0;
  for (const step of stepsFor(from, to)) s += d[step];
  return s;
}
