/**
 * defuzz turns the aggregated output fuzzy set, sampled at the points xs, into one number.
 *
 * centroid integrates with the trapezoid rule over the sample points, ∫x·μ / ∫μ with each integral
 * Σ (x_{i+1} − x_i)(f_i + f_{i+1})/2: that is the arithmetic of GNU Octave's fuzzy-logic-toolkit
 * (`evalfis` → `defuzz`), so a rule base exported with `hostfleet fis export` evaluates to the same
 * numbers there (test/fixtures/fis/evalfis-default.json, within ~1e-15). It is also the better
 * estimate of the integral: a plain Σ x·μ / Σ μ gives the two end points a whole step's weight
 * where they cover half a step, which moves the default system's answer by up to 5.5e-3 at 101
 * points. MATLAB's documentation gives that plain sum as its centroid, so it stays available as
 * CENTROID_SUM (compile option `centroid: 'sum'`) for agreeing with MATLAB instead.
 *
 * The other methods follow MATLAB's `defuzz`, except som/lom: here they are the smallest and
 * largest x of the maximum, where MATLAB picks the smallest and largest by absolute value.
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

/** CENTROID_SUM is the code of the plain-sum centroid Σ x·μ / Σ μ (MATLAB's documented formula). */
export const CENTROID_SUM = 5;

/** CentroidRule names the two centroids: trapezoid (Octave's evalfis, the default) or sum (MATLAB's). */
export type CentroidRule = 'trapezoid' | 'sum';

/** MAX_TIE is how close to the maximum a point must be to count as "of the maximum" (float noise). */
const MAX_TIE = 1e-12;

/**
 * defuzzCode defuzzifies mf[0..n) over xs[xOff..xOff+n) with method `code`. An all-zero set (no rule
 * fired) returns NaN; the engine replaces it by the middle of the range, as MATLAB does.
 */
export function defuzzCode(code: number, xs: ArrayLike<number>, mf: ArrayLike<number>, n: number, xOff = 0): number {
  if (code === 0) {
    // Trapezoid rule for both integrals; their common factor 1/2 cancels in the ratio.
    let num = 0;
    let den = 0;
    let px = xs[xOff] as number;
    let pm = mf[0] as number;
    let pxm = px * pm;
    for (let i = 1; i < n; i++) {
      const x = xs[xOff + i] as number;
      const m = mf[i] as number;
      const xm = x * m;
      const dx = x - px;
      num += dx * (pxm + xm);
      den += dx * (pm + m);
      px = x;
      pm = m;
      pxm = xm;
    }
    return den > 0 ? num / den : Number.NaN;
  }
  if (code === CENTROID_SUM) {
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

/** defuzzCodeOf is the engine's code for a method, with the centroid rule chosen. */
export function defuzzCodeOf(method: DefuzzMethod, centroid: CentroidRule = 'trapezoid'): number {
  return method === 'centroid' && centroid === 'sum' ? CENTROID_SUM : DEFUZZ_CODES[method];
}

/** defuzzify is defuzzCode by method name, for callers outside the hot path. */
export function defuzzify(
  method: DefuzzMethod,
  xs: ArrayLike<number>,
  mf: ArrayLike<number>,
  centroid: CentroidRule = 'trapezoid',
): number {
  return defuzzCode(defuzzCodeOf(method, centroid), xs, mf, Math.min(xs.length, mf.length));
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
