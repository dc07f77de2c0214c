/**
 * random is the one place the product draws unseeded random numbers; everything else takes a
 * RandomSource, so a test or the simulator can pass a seeded one and replay a run (the
 * simulator's Rng in src/sim/rng.ts and the scheduler's in src/core/scheduler/rng.ts have this
 * shape).
 */

/** RandomSource yields uniform numbers in [0, 1). */
export interface RandomSource {
  next(): number;
}

/** systemRandom is the machine's unseeded source, for choices no one needs to replay (such as which free port to try first). */
export const systemRandom: RandomSource = {
  next: () => Math.random(),
};
