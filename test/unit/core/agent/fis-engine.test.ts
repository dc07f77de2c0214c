import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_FIS,
  compileFis,
  evaluateFis,
  evaluateFisInto,
  parseRules,
  ruleStrengths,
} from '../../../../src/core/agent/index.js';
import type { FisSpec, VariableSpec } from '../../../../src/core/agent/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

// Output y over [0, 1]: 'left' is 1 on [0, 0.5], 'right' is 1 on [0.5, 1]. With 101 points,
// left holds points 0..50 and right 50..100, so clipping left at a and right at b gives, by hand,
// with the plain sum (MATLAB's formula, centroid: 'sum')
// centroid = (max(a,b)·0.5 + a·Σ_{i<50} i/100 + b·Σ_{i>50} i/100) / (a·50 + max(a,b) + b·50),
// and with the trapezoid rule (the default, Octave's evalfis) the same sums with the end points
// 0 and 100 at half weight: (max(a,b)·0.5 + a·12.25 + b·37.25) / (a·49.5 + max(a,b) + b·49.5).
// The two differ by < 5e-3 here: only the end points' weight changed.
function expected(a: number, b: number, rule: 'trapezoid' | 'sum' = 'trapezoid'): number {
  const mid = Math.max(a, b);
  if (rule === 'sum') return (a * 12.25 + mid * 0.5 + b * 37.75) / (a * 50 + mid + b * 50);
  return (a * 12.25 + mid * 0.5 + b * 37.25) / (a * 49.5 + mid + b * 49.5);
}
const OUT: VariableSpec[] = [
  {
    name: 'y',
    range: [0, 1],
    terms: [
      { name: 'left', mf: 'trapmf', params: [-1, -1, 0.5, 0.5] },
      { name: 'right', mf: 'trapmf', params: [0.5, 0.5, 2, 2] },
    ],
  },
];
const IN: VariableSpec[] = [
  {
    name: 'x',
    range: [0, 1],
    terms: [
      { name: 'lo', mf: 'trimf', params: [-1, 0, 1] },
      { name: 'hi', mf: 'trimf', params: [0, 1, 2] },
    ],
  },
  {
    name: 'z',
    range: [0, 1],
    terms: [
      { name: 'lo', mf: 'trimf', params: [-1, 0, 1] },
      { name: 'hi', mf: 'trimf', params: [0, 1, 2] },
    ],
  },
];
function sys(rules: string, over: Partial<FisSpec> = {}): FisSpec {
  return {
    name: 't',
    type: 'mamdani',
    andMethod: 'min',
    orMethod: 'max',
    impMethod: 'min',
    aggMethod: 'max',
    defuzzMethod: 'centroid',
    inputs: IN,
    outputs: OUT,
    rules: parseRules(rules, IN, OUT),
    ...over,
  };
}

test('Mamdani evaluation matches hand-computed centroids', () => {
  const cases = [
    {
      name: 'two rules, min/max',
      spec: sys('if x is lo then y is left\nif x is hi then y is right'),
      in: [0.2, 0],
      a: 0.8,
      b: 0.2,
    },
    {
      name: 'and = min',
      spec: sys('if x is hi and z is hi then y is right\nif x is lo then y is left'),
      in: [0.7, 0.4],
      a: 0.3,
      b: 0.4,
    },
    {
      name: 'and = prod',
      spec: sys('if x is hi and z is hi then y is right\nif x is lo then y is left', { andMethod: 'prod' }),
      in: [0.7, 0.4],
      a: 0.3,
      b: 0.28,
    },
    {
      name: 'or = max',
      spec: sys('if x is hi or z is hi then y is right\nif x is lo then y is left'),
      in: [0.5, 0.5],
      a: 0.5,
      b: 0.5,
    },
    {
      name: 'or = probor',
      spec: sys('if x is hi or z is hi then y is right\nif x is lo then y is left', { orMethod: 'probor' }),
      in: [0.5, 0.5],
      a: 0.5,
      b: 0.75,
    },
    {
      name: 'not',
      spec: sys('if x is not hi then y is right\nif x is hi then y is left'),
      in: [0.9, 0],
      a: 0.9,
      b: 0.1,
    },
    {
      name: 'weight',
      spec: sys('if x is lo then y is left (0.5)\nif x is hi then y is right'),
      in: [0.2, 0],
      a: 0.4,
      b: 0.2,
    },
    {
      name: 'same consequent twice takes the max',
      spec: sys('if x is lo then y is left\nif z is lo then y is left\nif x is hi then y is right'),
      in: [0.4, 0.1],
      a: 0.9,
      b: 0.4,
    },
    {
      name: 'inputs past the range are clamped',
      spec: sys('if x is lo then y is left\nif x is hi then y is right'),
      in: [7, 0],
      a: 0,
      b: 1,
    },
  ];
  for (const c of cases) {
    for (const rule of ['trapezoid', 'sum'] as const) {
      const got = evaluateFis(compileFis(c.spec, { centroid: rule }), c.in);
      const want = expected(c.a, c.b, rule);
      assert.ok(Math.abs(got - want) < 1e-12, `${c.name} (${rule}): got ${got}, want ${want}`);
    }
    assert.equal(
      evaluateFis(compileFis(c.spec), c.in),
      evaluateFis(compileFis(c.spec, { centroid: 'trapezoid' }), c.in),
    );
  }
});

test('prod implication scales the output term', () => {
  // right = trimf [0 1 1] over [0, 1]; scaled by s its centroid does not move. Trapezoid rule over
  // points 0..100 (the last at half weight): (Σ i² − 100²/2) / (Σ i − 100/2) / 100 = 0.6667; the
  // plain sum gave Σ i² / Σ i / 100 = 0.67, the exact integral is 2/3.
  const out: VariableSpec[] = [{ name: 'y', range: [0, 1], terms: [{ name: 'up', mf: 'trimf', params: [0, 1, 1] }] }];
  const spec: FisSpec = {
    ...sys('if x is hi then y is left'),
    outputs: out,
    rules: parseRules('if x is hi then y is up', IN, out),
    impMethod: 'prod',
  };
  const got = evaluateFis(compileFis(spec), [0.3, 0]);
  assert.ok(Math.abs(got - 0.6667) < 1e-12, `got ${got}`);
  const sum = evaluateFis(compileFis(spec, { centroid: 'sum' }), [0.3, 0]);
  assert.ok(Math.abs(sum - 0.67) < 1e-12, `sum: got ${sum}`);
  // with min implication the clipped triangle's centroid moves left
  assert.ok(evaluateFis(compileFis({ ...spec, impMethod: 'min' }), [0.3, 0]) < 0.6667);
});

test('no rule firing gives the middle of the output range; NaN input gives NaN', () => {
  const f = compileFis(sys('if x is hi and z is hi then y is right'));
  assert.equal(evaluateFis(f, [0, 0]), 0.5);
  assert.ok(Number.isNaN(evaluateFis(f, [Number.NaN, 0])));
  const out = [0];
  evaluateFisInto(f, [1, 1], out);
  assert.ok((out[0] as number) > 0.5);
});

test('the default system: rule strengths explain the output, and it stays in [−1, 1] (property)', () => {
  const f = compileFis(DEFAULT_FIS);
  assert.equal(DEFAULT_FIS.rules.length, 27);
  const s = ruleStrengths(f, [1, 1, 50]);
  assert.equal(s[8], 1); // urgent, abundant, too_high
  assert.ok(evaluateFis(f, [1, 1, 50]) > 0.5);
  assert.ok(evaluateFis(f, [0, 0, -50]) < -0.5);
  fc.assert(
    fc.property(
      fc.double({ min: -1, max: 2, noNaN: true }),
      fc.double({ min: -1, max: 2, noNaN: true }),
      fc.double({ min: -100, max: 100, noNaN: true }),
      (p, q, r) => {
        const y = evaluateFis(f, [p, q, r]);
        assert.ok(y >= -1 && y <= 1, `need ${y}`);
      },
    ),
  );
});

// Mamdani centroids are not strictly monotone: when one output term alone fires, its clip level
// moves the centroid a little (release clipped at 0.5 vs 1 differs by ≈ 0.02). The design claim
// is that need never falls by more than that as the response time grows.
test('need rises with the expected response time in the default system (on a grid, up to clipping wobble)', () => {
  const f = compileFis(DEFAULT_FIS);
  for (const p of [0, 0.5, 1]) {
    for (const q of [0, 0.25, 0.5, 1]) {
      let prev = -Infinity;
      for (let r = -50; r <= 50; r += 5) {
        const y = evaluateFis(f, [p, q, r]);
        assert.ok(y >= prev - 0.05, `p=${p} q=${q} r=${r}: ${y} < ${prev}`);
        prev = y;
      }
    }
  }
});

test('compile rejects bad specs naming the field', () => {
  const cases = [
    {
      name: 'bad mf params',
      spec: {
        ...sys('if x is lo then y is left'),
        inputs: [{ ...IN[0]!, terms: [{ name: 'lo', mf: 'trimf', params: [1, 0, 2] }, IN[0]!.terms[1]!] }, IN[1]!],
      },
      field: 'inputs[1].terms[1].params',
    },
    {
      name: 'unknown mf',
      spec: {
        ...sys('if x is lo then y is left'),
        outputs: [{ ...OUT[0]!, terms: [{ name: 'left', mf: 'zzmf', params: [] }, OUT[0]!.terms[1]!] }],
      },
      field: 'outputs[1].terms[1].mf',
    },
    {
      name: 'bad range',
      spec: { ...sys('if x is lo then y is left'), inputs: [{ ...IN[0]!, range: [1, 0] }, IN[1]!] },
      field: 'inputs[1].range',
    },
    {
      name: 'bad defuzz',
      spec: { ...sys('if x is lo then y is left'), defuzzMethod: 'median' },
      field: 'defuzzMethod',
    },
    {
      name: 'rule index out of range',
      spec: {
        ...sys('if x is lo then y is left'),
        rules: [{ antecedent: [3, 0], consequent: [1], weight: 1, connection: 'and' }],
      },
      field: 'rules[1].antecedent[1]',
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => compileFis(c.spec as FisSpec),
      (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && (e.fields ?? []).some((x) => x.field === c.field),
      c.name,
    );
  }
  assert.throws(
    () => compileFis(DEFAULT_FIS, { resolution: 2 }),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
  );
});
