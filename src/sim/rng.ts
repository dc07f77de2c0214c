/**
 * rng is the simulator's seeded random source (mulberry32): the same seed gives the same run,
 * which the determinism test relies on. Every random draw of a run goes through one of these,
 * never Math.random().
 */

/** Rng draws uniform numbers in [0, 1) from a 32-bit state. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = (seed >>> 0) ^ 0x9e3779b9;
  }

  /** next is a uniform number in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** int is a uniform whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** between is a uniform number in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** exponential draws an exponential variate with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** poisson draws a Poisson count with mean m (Knuth's method; the simulator uses small m). */
  poisson(m: number): number {
    if (m <= 0) return 0;
    if (m > 30) return Math.max(0, Math.round(m + Math.sqrt(m) * this.normal()));
    const l = Math.exp(-m);
    let k = 0;
    let p = this.next();
    while (p > l && k < 1000) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** normal draws a standard normal variate (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** seedOf mixes a base seed with a label so streams for different purposes do not correlate. */
export function seedOf(seed: number, label: string): number {
  let h = (seed >>> 0) ^ 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
