/**
 * rng is the scheduler's source of randomness: a small deterministic generator seeded from a
 * decision id, so any placement decision can be replayed exactly (Nomad seeds its node
 * shuffle the same way). The pipeline takes an Rng as an argument; nothing here reads a clock
 * or Math.random().
 */

/** Rng yields uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

/** hashSeed folds a string into 32 bits (FNV-1a followed by a murmur3 finaliser, so nearby ids diverge). */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** rngFromSeed returns a mulberry32 generator: tiny, fast and good enough for tie-breaks and sampling offsets. */
export function rngFromSeed(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** rngFromDecisionId seeds a generator from a decision id: same id, same draws, same plan. */
export function rngFromDecisionId(decisionId: string): Rng {
  return rngFromSeed(hashSeed(decisionId));
}
