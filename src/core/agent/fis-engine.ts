/**
 * fisEngine compiles a validated FisSpec into flat typed arrays and evaluates it without
 * allocating: the simulator calls it millions of times. Output membership functions are
 * tabulated once over the discretised output range, and every rule's firing strength is folded
 * into one strength per output term (for max aggregation, max_r min(s_r, mf) = min(max_r s_r, mf)
 * and likewise for prod), so an evaluation costs O(input terms + clauses + output terms × points).
 */
import { invalid } from '../errors.js';
import { defuzzCode, defuzzCodeOf, linspace } from './defuzz.js';
import type { CentroidRule } from './defuzz.js';
import { validateFis } from './fis-spec.js';
import type { FisSpec } from './fis-spec.js';
import { evalMf, evalMfCode, MF_CODES } from './membership.js';

/** DEFAULT_RESOLUTION is how many points discretise an output range: MATLAB's evalfis default. */
export const DEFAULT_RESOLUTION = 101;

/** CompileOptions tunes compilation. */
export interface CompileOptions {
  /** resolution is the number of points over each output range (≥ 3; default 101). */
  readonly resolution?: number;
  /**
   * centroid is how the centroid integrates the sampled output set: 'trapezoid' (default) as GNU
   * Octave's evalfis does, or 'sum', the plain Σ x·μ / Σ μ MATLAB documents (see defuzz.ts).
   */
  readonly centroid?: CentroidRule;
}

/** CompiledFis is a FIS ready for evaluation; it owns scratch buffers, so use one per thread of work. */
export interface CompiledFis {
  readonly spec: FisSpec;
  readonly resolution: number;
  readonly nIn: number;
  readonly nOut: number;
  readonly inLo: Float64Array;
  readonly inHi: Float64Array;
  /** inTermStart[i]..inTermStart[i+1] are input i's terms in the flat term arrays. */
  readonly inTermStart: Int32Array;
  readonly termCode: Uint8Array;
  readonly termParams: Float64Array;
  /** degrees is scratch: the membership degree of every input term for the current inputs. */
  readonly degrees: Float64Array;
  readonly nRules: number;
  /** clauseStart[r]..clauseStart[r+1] are rule r's clauses: a term index, negated when clauseNeg is 1. */
  readonly clauseStart: Int32Array;
  readonly clauseTerm: Int32Array;
  readonly clauseNeg: Uint8Array;
  readonly ruleWeight: Float64Array;
  readonly ruleOr: Uint8Array;
  /** ruleSlot[r * nOut + o] is the output slot rule r sets for output o, or −1. */
  readonly ruleSlot: Int32Array;
  /** slotStart[o]..slotStart[o+1] are output o's slots: its terms, then their negations. */
  readonly slotStart: Int32Array;
  /** slotTable[s * resolution + k] is slot s's membership at point k of its output's range. */
  readonly slotTable: Float64Array;
  /** strength is scratch: the folded firing strength of every slot. */
  readonly strength: Float64Array;
  /** xs[o * resolution + k] is point k of output o's range. */
  readonly xs: Float64Array;
  /** agg is scratch: the aggregated output set of the output being defuzzified. */
  readonly agg: Float64Array;
  readonly andProd: boolean;
  readonly orProbor: boolean;
  readonly impProd: boolean;
  readonly defuzz: number;
}

/** compileFis validates a spec and builds its flat evaluation form. */
export function compileFis(spec: FisSpec, opts: CompileOptions = {}): CompiledFis {
  validateFis(spec);
  const resolution = opts.resolution ?? DEFAULT_RESOLUTION;
  if (!Number.isInteger(resolution) || resolution < 3 || resolution > 100_001) {
    throw invalid([{ field: 'resolution', problem: 'must be a whole number of points from 3 to 100001' }]);
  }
  const centroid = opts.centroid ?? 'trapezoid';
  if (centroid !== 'trapezoid' && centroid !== 'sum')
    throw invalid([{ field: 'centroid', problem: `must be trapezoid or sum, got '${String(centroid)}'` }]);
  const nIn = spec.inputs.length;
  const nOut = spec.outputs.length;
  const inLo = new Float64Array(nIn);
  const inHi = new Float64Array(nIn);
  const inTermStart = new Int32Array(nIn + 1);
  let nTerms = 0;
  spec.inputs.forEach((v, i) => {
    inLo[i] = v.range[0];
    inHi[i] = v.range[1];
    inTermStart[i] = nTerms;
    nTerms += v.terms.length;
  });
  inTermStart[nIn] = nTerms;
  const termCode = new Uint8Array(nTerms);
  const termParams = new Float64Array(nTerms * 4);
  spec.inputs.forEach((v, i) => {
    v.terms.forEach((t, j) => {
      const k = (inTermStart[i] as number) + j;
      termCode[k] = MF_CODES[t.mf];
      t.params.forEach((p, q) => (termParams[k * 4 + q] = p));
    });
  });

  const slotStart = new Int32Array(nOut + 1);
  let nSlots = 0;
  spec.outputs.forEach((v, o) => {
    slotStart[o] = nSlots;
    nSlots += 2 * v.terms.length;
  });
  slotStart[nOut] = nSlots;
  const xs = new Float64Array(nOut * resolution);
  const slotTable = new Float64Array(nSlots * resolution);
  spec.outputs.forEach((v, o) => {
    const pts = linspace(v.range[0], v.range[1], resolution);
    xs.set(pts, o * resolution);
    const n = v.terms.length;
    v.terms.forEach((t, j) => {
      const s = (slotStart[o] as number) + j;
      for (let k = 0; k < resolution; k++) {
        const m = evalMf(t.mf, t.params, pts[k] as number);
        slotTable[s * resolution + k] = m;
        slotTable[(s + n) * resolution + k] = 1 - m;
      }
    });
  });

  const nRules = spec.rules.length;
  const clauseStart = new Int32Array(nRules + 1);
  const terms: number[] = [];
  const negs: number[] = [];
  const ruleWeight = new Float64Array(nRules);
  const ruleOr = new Uint8Array(nRules);
  const ruleSlot = new Int32Array(nRules * nOut).fill(-1);
  spec.rules.forEach((r, ri) => {
    clauseStart[ri] = terms.length;
    r.antecedent.forEach((a, i) => {
      if (a === 0) return;
      terms.push((inTermStart[i] as number) + Math.abs(a) - 1);
      negs.push(a < 0 ? 1 : 0);
    });
    ruleWeight[ri] = r.weight;
    ruleOr[ri] = r.connection === 'or' ? 1 : 0;
    r.consequent.forEach((c, o) => {
      if (c === 0) return;
      const n = spec.outputs[o]?.terms.length ?? 0;
      ruleSlot[ri * nOut + o] = (slotStart[o] as number) + (c > 0 ? c - 1 : n + (-c - 1));
    });
  });
  clauseStart[nRules] = terms.length;

  return {
    spec,
    resolution,
    nIn,
    nOut,
    inLo,
    inHi,
    inTermStart,
    termCode,
    termParams,
    degrees: new Float64Array(nTerms),
    nRules,
    clauseStart,
    clauseTerm: Int32Array.from(terms),
    clauseNeg: Uint8Array.from(negs),
    ruleWeight,
    ruleOr,
    ruleSlot,
    slotStart,
    slotTable,
    strength: new Float64Array(nSlots),
    xs,
    agg: new Float64Array(resolution),
    andProd: spec.andMethod === 'prod',
    orProbor: spec.orMethod === 'probor',
    impProd: spec.impMethod === 'prod',
    defuzz: defuzzCodeOf(spec.defuzzMethod, centroid),
  };
}

/**
 * fireRules computes the input term degrees and the folded slot strengths for `inputs` (clamped
 * to their ranges, as the aggregator clamps B_k). Returns false when an input is not a number.
 */
export function fireRules(f: CompiledFis, inputs: ArrayLike<number>): boolean {
  const { degrees, termCode, termParams, inTermStart, strength } = f;
  for (let i = 0; i < f.nIn; i++) {
    let x = inputs[i] as number;
    if (x !== x || x === undefined) return false;
    const lo = f.inLo[i] as number;
    const hi = f.inHi[i] as number;
    if (x < lo) x = lo;
    else if (x > hi) x = hi;
    const end = inTermStart[i + 1] as number;
    for (let t = inTermStart[i] as number; t < end; t++)
      degrees[t] = evalMfCode(termCode[t] as number, termParams, t * 4, x);
  }
  strength.fill(0);
  const { clauseStart, clauseTerm, clauseNeg, ruleWeight, ruleOr, ruleSlot, nOut } = f;
  for (let r = 0; r < f.nRules; r++) {
    const or = ruleOr[r] === 1;
    let s = or ? 0 : 1;
    const end = clauseStart[r + 1] as number;
    for (let c = clauseStart[r] as number; c < end; c++) {
      let d = degrees[clauseTerm[c] as number] as number;
      if (clauseNeg[c] === 1) d = 1 - d;
      if (or) s = f.orProbor ? s + d - s * d : d > s ? d : s;
      else s = f.andProd ? s * d : d < s ? d : s;
    }
    s *= ruleWeight[r] as number;
    if (s <= 0) continue;
    for (let o = 0; o < nOut; o++) {
      const slot = ruleSlot[r * nOut + o] as number;
      if (slot >= 0 && s > (strength[slot] as number)) strength[slot] = s;
    }
  }
  return true;
}

/** aggregateOutput fills f.agg with output o's aggregated set from the current slot strengths. */
export function aggregateOutput(f: CompiledFis, o: number): void {
  const { agg, strength, slotTable, resolution } = f;
  agg.fill(0);
  const end = f.slotStart[o + 1] as number;
  for (let s = f.slotStart[o] as number; s < end; s++) {
    const w = strength[s] as number;
    if (w <= 0) continue;
    const base = s * resolution;
    if (f.impProd) {
      for (let k = 0; k < resolution; k++) {
        const v = w * (slotTable[base + k] as number);
        if (v > (agg[k] as number)) agg[k] = v;
      }
    } else {
      for (let k = 0; k < resolution; k++) {
        const m = slotTable[base + k] as number;
        const v = m < w ? m : w;
        if (v > (agg[k] as number)) agg[k] = v;
      }
    }
  }
}

/**
 * evaluateFisInto evaluates every output into `out`. An output no rule fires for is the middle of
 * its range (MATLAB's choice: it says "no opinion" without favouring either end); a non-number
 * input gives NaN outputs.
 */
export function evaluateFisInto(f: CompiledFis, inputs: ArrayLike<number>, out: Float64Array | number[]): void {
  if (!fireRules(f, inputs)) {
    for (let o = 0; o < f.nOut; o++) out[o] = Number.NaN;
    return;
  }
  for (let o = 0; o < f.nOut; o++) {
    aggregateOutput(f, o);
    const off = o * f.resolution;
    let y = defuzzCode(f.defuzz, f.xs, f.agg, f.resolution, off);
    if (y !== y) y = ((f.xs[off] as number) + (f.xs[off + f.resolution - 1] as number)) / 2;
    out[o] = y;
  }
}

/** evaluateFis evaluates the first output without allocating: the simulator's hot path. */
export function evaluateFis(f: CompiledFis, inputs: ArrayLike<number>): number {
  if (!fireRules(f, inputs)) return Number.NaN;
  aggregateOutput(f, 0);
  let y = defuzzCode(f.defuzz, f.xs, f.agg, f.resolution);
  if (y !== y) y = ((f.xs[0] as number) + (f.xs[f.resolution - 1] as number)) / 2;
  return y;
}

/** ruleStrengths returns every rule's firing strength (weight applied) for `inputs`, to explain a decision. */
export function ruleStrengths(f: CompiledFis, inputs: ArrayLike<number>): number[] {
  if (!fireRules(f, inputs)) return new Array<number>(f.nRules).fill(Number.NaN);
  const out: number[] = [];
  for (let r = 0; r < f.nRules; r++) {
    const or = f.ruleOr[r] === 1;
    let s = or ? 0 : 1;
    for (let c = f.clauseStart[r] as number; c < (f.clauseStart[r + 1] as number); c++) {
      let d = f.degrees[f.clauseTerm[c] as number] as number;
      if (f.clauseNeg[c] === 1) d = 1 - d;
      if (or) s = f.orProbor ? s + d - s * d : Math.max(s, d);
      else s = f.andProd ? s * d : Math.min(s, d);
    }
    out.push(s * (f.ruleWeight[r] as number));
  }
  return out;
}
