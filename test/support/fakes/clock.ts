/**
 * clock is the fake of the clock driver: time moves only when someone sleeps (or the test
 * advances it), so a dispatcher that waits out a 30 s boot timeout or a doubling retry delay
 * does it at once, and a test reads the times it recorded as exact numbers.
 */
import type { Clock } from '../../../src/drivers/clock/index.js';

/** FakeClock is a Clock whose time the test controls. */
export interface FakeClock extends Clock {
  /** advance moves the time forward by ms. */
  advance(ms: number): void;
  /** slept is the total time every sleeper asked for, so a test can tell that a step waited. */
  readonly slept: number;
}

/**
 * fakeClock starts at `start`. sleep(ms) moves the time to at least its own wake-up time and
 * resolves on the next turn of the event loop (so other work interleaves as it would); an
 * aborted signal rejects it as the system clock's would.
 */
export function fakeClock(start = new Date('2026-01-05T09:00:00Z')): FakeClock {
  let now = start.getTime();
  let slept = 0;
  return {
    now: () => new Date(now),
    advance(ms) {
      now += ms;
    },
    get slept() {
      return slept;
    },
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      const wake = now + ms;
      slept += ms;
      return new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          if (signal?.aborted) return reject(signal.reason as Error);
          now = Math.max(now, wake);
          resolve();
        });
      });
    },
  };
}
