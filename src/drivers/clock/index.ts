/**
 * clock is the one place the product reads wall-clock time and sleeps; everything else takes
 * a Clock, so tests and the simulator can drive time themselves.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes, randomUUID } from 'node:crypto';

/** Clock gives the current time and waits. */
export interface Clock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** systemClock is the machine's wall clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined),
};

/** newId returns a random UUID (for moves, tokens and other records). */
export function newId(): string {
  return randomUUID();
}

/** newSecret returns n random bytes as base64url text: unguessable tokens and passwords. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
