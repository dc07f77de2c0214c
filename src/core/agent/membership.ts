/**
 * membership holds the membership functions of the FIS, with parameters exactly as MATLAB's and
 * Octave's Fuzzy Logic Toolbox define them, so a rule base exported to a .fis file evaluates
 * the same in those tools.
 */

/** MF_TYPES are the membership function shapes the engine knows, with their parameter counts. */
export const MF_TYPES = ['trimf', 'trapmf', 'gaussmf', 'gauss2mf', 'sigmf', 'gbellmf'] as const;
/** MfType is one of MF_TYPES. */
export type MfType = (typeof MF_TYPES)[number];

/** MF_PARAM_COUNT is how many parameters each shape takes, and what they mean (MATLAB order). */
export const MF_PARAM_COUNT: Readonly<Record<MfType, { readonly n: number; readonly names: string }>> = {
  trimf: { n: 3, names: '[a b c]: feet a, c and peak b, a ≤ b ≤ c' },
  trapmf: { n: 4, names: '[a b c d]: feet a, d and shoulders b, c, a ≤ b ≤ c ≤ d' },
  gaussmf: { n: 2, names: '[sigma c]: width sigma ≠ 0 and centre c' },
  gauss2mf: { n: 4, names: '[sig1 c1 sig2 c2]: left Gaussian (sig1, c1), right Gaussian (sig2, c2)' },
  sigmf: { n: 2, names: '[a c]: slope a and crossover c' },
  gbellmf: { n: 3, names: '[a b c]: width a ≠ 0, slope b and centre c' },
};

/** MF_CODES numbers the shapes for the compiled engine's flat arrays (index in MF_TYPES). */
export const MF_CODES: Readonly<Record<MfType, number>> = Object.fromEntries(MF_TYPES.map((t, i) => [t, i])) as Record<
  MfType,
  number
>;

/** isMfType tells whether a string names a known shape. */
export function isMfType(s: string): s is MfType {
  return (MF_TYPES as readonly string[]).includes(s);
}

/** trimf is MATLAB's triangle: 0 outside (a, c), 1 at b, linear between; a = b or b = c make a shoulder. */
export function trimf(x: number, a: number, b: number, c: number): number {
  if (x === b) return 1;
  if (x <= a || x >= c) return 0;
  if (x < b) return a !== b ? (x - a) / (b - a) : 0;
  return b !== c ? (c - x) / (c - b) : 0;
}

/** trapmf is MATLAB's trapezoid: min of the rising edge a→b and the falling edge c→d. */
export function trapmf(x: number, a: number, b: number, c: number, d: number): number {
  let y1: number;
  if (x >= b) y1 = 1;
  else if (x < a) y1 = 0;
  else y1 = a !== b ? (x - a) / (b - a) : 0;
  let y2: number;
  if (x <= c) y2 = 1;
  else if (x > d) y2 = 0;
  else y2 = c !== d ? (d - x) / (d - c) : 0;
  return y1 < y2 ? y1 : y2;
}

/** gaussmf is MATLAB's Gaussian exp(−(x − c)² / (2σ²)). */
export function gaussmf(x: number, sigma: number, c: number): number {
  const d = x - c;
  return Math.exp((-d * d) / (2 * sigma * sigma));
}

/** gauss2mf is MATLAB's two-sided Gaussian: left Gaussian below c1, right Gaussian above c2, 1 between. */
export function gauss2mf(x: number, sig1: number, c1: number, sig2: number, c2: number): number {
  const y1 = x <= c1 ? gaussmf(x, sig1, c1) : 1;
  const y2 = x >= c2 ? gaussmf(x, sig2, c2) : 1;
  return y1 * y2;
}

/** sigmf is MATLAB's sigmoid 1 / (1 + e^(−a(x − c))). */
export function sigmf(x: number, a: number, c: number): number {
  return 1 / (1 + Math.exp(-a * (x - c)));
}

/** gbellmf is MATLAB's generalised bell 1 / (1 + |(x − c)/a|^(2b)). */
export function gbellmf(x: number, a: number, b: number, c: number): number {
  return 1 / (1 + Math.pow(Math.abs((x - c) / a), 2 * b));
}

/**
 * evalMfCode evaluates shape number `code` with parameters p[o..o+3]; the compiled engine calls it
 * with its flat parameter array, so no per-call arrays are made.
 */
export function evalMfCode(code: number, p: ArrayLike<number>, o: number, x: number): number {
  switch (code) {
    case 0:
      return trimf(x, p[o] as number, p[o + 1] as number, p[o + 2] as number);
    case 1:
      return trapmf(x, p[o] as number, p[o + 1] as number, p[o + 2] as number, p[o + 3] as number);
    case 2:
      return gaussmf(x, p[o] as number, p[o + 1] as number);
    case 3:
      return gauss2mf(x, p[o] as number, p[o + 1] as number, p[o + 2] as number, p[o + 3] as number);
    case 4:
      return sigmf(x, p[o] as number, p[o + 1] as number);
    case 5:
      return gbellmf(x, p[o] as number, p[o + 1] as number, p[o + 2] as number);
    default:
      return 0;
  }
}

/** evalMf evaluates a named shape with its parameter list. */
export function evalMf(type: MfType, params: readonly number[], x: number): number {
  return evalMfCode(MF_CODES[type], params, 0, x);
}

/** checkMfParams returns a problem text for a shape's parameters, or null when they are usable. */
export function checkMfParams(type: MfType, params: readonly number[]): string | null {
  const want = MF_PARAM_COUNT[type];
  if (params.length !== want.n) return `${type} takes ${want.n} parameters ${want.names}; got ${params.length}`;
  if (params.some((v) => !Number.isFinite(v))) return `${type} parameters must be finite numbers`;
  const [a, b, c, d] = params as [number, number, number, number];
  switch (type) {
    case 'trimf':
      return a <= b && b <= c ? null : `trimf needs a ≤ b ≤ c; got [${params.join(' ')}]`;
    case 'trapmf':
      return a <= b && b <= c && c <= d ? null : `trapmf needs a ≤ b ≤ c ≤ d; got [${params.join(' ')}]`;
    case 'gaussmf':
      return a !== 0 ? null : 'gaussmf needs sigma ≠ 0';
    case 'gauss2mf':
      return a !== 0 && c !== 0 ? null : 'gauss2mf needs sig1 ≠ 0 and sig2 ≠ 0';
    case 'gbellmf':
      return a !== 0 ? null : 'gbellmf needs a ≠ 0';
    case 'sigmf':
      return null;
  }
  void d;
  return null;
}
