/**
 * defuzz turns the aggregated output fuzzy set, sampled at the points xs, into one number.
 * Definitions follow MATLAB's `defuzz`, except som/lom: here they are the smallest and largest
 * x of the maximum, where MATLAB picks the smallest and largest by absolute value.
 */
import type { DefuzzMethod } from './fis-spec.js';

/** DEFUZZ_CODES numbers the methods for the compiled engine (index in DEFUZZ_METHODS order). */
export const DEFUZZ_CODES: Readonly<Record<DefuzzMethod, number>> = {
  centroid: 0,
  bisector: 1,
  mom: 2,
  som: 3,
  lom: 4,
};

/** MAX_TIE is how close to the maximum a point must be to count as "of the maximum" (float noise). */
const MAX_TIE = 1e-12;

/**
 * defuzzCode defuzzifies mf[0..n) over xs[xOff..xOff+n) with method `code`. An all-zero set (no rule
 * fired) returns NaN; the engine replaces it by the middle of the range, as MATLAB does.
 */
export function defuzzCode(code: number, xs: ArrayLike<number>, mf: ArrayLike<number>, n: number, xOff = 0): number {
  if (code === 0) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      const m = mf[i] as number;
      num += (xs[xOff + i] as number) * m;
      den += m;
    }
    return den > 0 ? num / den : Number.NaN;
  }
  if (code === 1) {
    let total = 0;
    for (let i = 0; i < n; i++) total += mf[i] as number;
    if (!(total > 0)) return Number.NaN;
    const half = total / 2;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += mf[i] as number;
      if (acc >= half) return xs[xOff + i] as number;
    }
    return xs[xOff + n - 1] as number;
  }
  let max = 0;
  for (let i = 0; i < n; i++) if ((mf[i] as number) > max) max = mf[i] as number;
  if (!(max > 0)) return Number.NaN;
  const tie = max - MAX_TIE * max;
  if (code === 2) {
    let sum = 0;
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      if ((mf[i] as number) >= tie) {
        sum += xs[xOff + i] as number;
        cnt++;
      }
    }
    return sum / cnt;
  }
  if (code === 3) {
    for (let i = 0; i < n; i++) if ((mf[i] as number) >= tie) return xs[xOff + i] as number;
  }
  for (let i = n - 1; i >= 0; i--) if ((mf[i] as number) >= tie) return xs[xOff + i] as number;
  return Number.NaN;
}

/** defuzzify is defuzzCode by method name, for callers outside the hot path. */
export function defuzzify(method: DefuzzMethod, xs: ArrayLike<number>, mf: ArrayLike<number>): number {
  return defuzzCode(DEFUZZ_CODES[method], xs, mf, Math.min(xs.length, mf.length));
}

/** linspace returns n evenly spaced points from lo to hi inclusive (MATLAB's linspace). */
export function linspace(lo: number, hi: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = hi;
    return out;
  }
  const step = (hi - lo) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = lo + i * step;
  out[n - 1] = hi;
  return out;
}
