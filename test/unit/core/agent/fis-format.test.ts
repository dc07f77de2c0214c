import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  DEFAULT_FIS,
  compileFis,
  evaluateFis,
  evaluateFisInto,
  exportFis,
  importFis,
  parseRules,
} from '../../../../src/core/agent/index.js';
import type { FisSpec, VariableSpec } from '../../../../src/core/agent/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const INS: VariableSpec[] = [
  {
    name: 'load',
    range: [0, 10],
    terms: [
      { name: 'light', mf: 'gaussmf', params: [2.1, 0] },
      { name: 'mid', mf: 'gbellmf', params: [2, 3, 5] },
      { name: 'heavy', mf: 'sigmf', params: [1.7, 7.3] },
    ],
  },
  {
    name: 'trend',
    range: [-1, 1],
    terms: [
      { name: 'down', mf: 'gauss2mf', params: [0.3, -1, 0.2, -0.4] },
      { name: 'up', mf: 'trapmf', params: [-0.2, 0.3, 1, 1] },
    ],
  },
];
const OUTS: VariableSpec[] = [
  {
    name: 'act',
    range: [-3, 3],
    terms: [
      { name: 'cut', mf: 'trimf', params: [-3, -3, 0] },
      { name: 'hold', mf: 'gaussmf', params: [0.7, 0] },
      { name: 'grow', mf: 'trimf', params: [0, 3, 3] },
    ],
  },
  {
    name: 'alarm',
    range: [0, 1],
    terms: [
      { name: 'off', mf: 'trimf', params: [0, 0, 0.6] },
      { name: 'on', mf: 'trapmf', params: [0.4, 0.8, 1, 1] },
    ],
  },
];
const OTHER: FisSpec = {
  name: 'other',
  type: 'mamdani',
  andMethod: 'prod',
  orMethod: 'probor',
  impMethod: 'prod',
  aggMethod: 'max',
  defuzzMethod: 'bisector',
  inputs: INS,
  outputs: OUTS,
  rules: parseRules(
    `if load is light and trend is down then act is cut and alarm is off
if load is mid then act is hold (0.7)
if load is heavy or trend is up then act is grow, alarm is on
if load is not light then alarm is not off (0.25)`,
    INS,
    OUTS,
  ),
};

function grid(spec: FisSpec, n: number): number[][] {
  const out: number[][] = [];
  const idx = new Array<number>(spec.inputs.length).fill(0);
  for (;;) {
    out.push(
      idx.map((k, i) => {
        const [lo, hi] = spec.inputs[i]!.range;
        return lo - 0.1 * (hi - lo) + (k * 1.2 * (hi - lo)) / (n - 1);
      }),
    );
    let i = 0;
    while (i < idx.length && ++idx[i]! === n) idx[i++] = 0;
    if (i === idx.length) return out;
  }
}

test('export then import gives the same spec and identical outputs on a grid', () => {
  for (const spec of [
    DEFAULT_FIS,
    OTHER,
    { ...DEFAULT_FIS, defuzzMethod: 'mom' as const },
    { ...DEFAULT_FIS, defuzzMethod: 'som' as const },
    { ...DEFAULT_FIS, defuzzMethod: 'lom' as const },
  ]) {
    const back = importFis(exportFis(spec));
    assert.deepEqual(back, spec, spec.name);
    const a = compileFis(spec);
    const b = compileFis(back);
    const oa = new Float64Array(spec.outputs.length);
    const ob = new Float64Array(spec.outputs.length);
    let n = 0;
    for (const x of grid(spec, spec.inputs.length === 3 ? 11 : 21)) {
      evaluateFisInto(a, x, oa);
      evaluateFisInto(b, x, ob);
      assert.deepEqual([...ob], [...oa], `${spec.name} at ${x}`);
      assert.ok(oa.every((v) => Number.isFinite(v)));
      n++;
    }
    assert.ok(n >= 441);
  }
});

test('docs/fis/default.fis is the shipped default rule base', () => {
  const text = readFileSync(new URL('../../../../docs/fis/default.fis', import.meta.url), 'utf8');
  assert.equal(text, exportFis(DEFAULT_FIS));
  assert.deepEqual(importFis(text), DEFAULT_FIS);
});

test('import reads files written by MATLAB/Octave (spacing, CRLF, extra keys)', () => {
  const text = [
    '[System]',
    "Name='tipper'",
    "Type='mamdani'",
    'Version=2.0',
    'NumInputs=1',
    'NumOutputs=1',
    'NumRules=2',
    "AndMethod='min'",
    "OrMethod='max'",
    "ImpMethod='min'",
    "AggMethod='max'",
    "DefuzzMethod='centroid'",
    '',
    '[Input1]',
    "Name='service'",
    'Range=[0 10]',
    'NumMFs=2',
    "MF1='poor':'gaussmf',[1.5 0]",
    "MF2='good':'gaussmf',[1.5 10]",
    '',
    '[Output1]',
    "Name='tip'",
    'Range=[0 30]',
    'NumMFs=2',
    "MF1='cheap':'trimf',[0 5 10]",
    "MF2='generous':'trimf',[20 25 30]",
    '',
    '[Rules]',
    '1, 1 (1) : 2',
    '2, 2 (1) : 2',
    '',
  ].join('\r\n');
  const spec = importFis(text);
  assert.equal(spec.inputs[0]?.name, 'service');
  assert.equal(spec.rules[0]?.connection, 'or');
  const y = evaluateFis(compileFis(spec), [10]);
  assert.ok(y > 20 && y < 30, `tip ${y}`);
});

test('import errors name the line or the field', () => {
  const good = exportFis(DEFAULT_FIS);
  const cases = [
    { name: 'no System', text: good.replace('[System]', '[Sys]'), field: 'fis' },
    {
      name: 'bad MF line',
      text: good.replace("MF2='normal':'trimf',[0 0.5 1]", "MF2='normal' trimf [0 0.5 1]"),
      field: 'fis line 19',
    },
    { name: 'bad rule line', text: good.replace('3 3 3, 3 (1) : 1', '3 3 3 -> 3'), field: /^fis line \d+$/ },
    { name: 'rule count mismatch', text: good.replace('NumRules=27', 'NumRules=26'), field: 'fis [System] NumRules' },
    { name: 'missing input section', text: good.replace('NumInputs=3', 'NumInputs=4'), field: 'fis [Input4]' },
    {
      name: 'unknown mf type',
      text: good.replace("'trimf',[0 0.5 1]", "'zmf',[0 0.5 1]"),
      field: 'inputs[1].terms[2].mf',
    },
    { name: 'unknown and method', text: good.replace("AndMethod='min'", "AndMethod='mean'"), field: 'andMethod' },
  ];
  for (const c of cases) {
    assert.throws(
      () => importFis(c.text),
      (e: unknown) =>
        isHostfleetError(e, 'E_VALIDATION') &&
        (e.fields ?? []).some((f) => (typeof c.field === 'string' ? f.field === c.field : c.field.test(f.field))),
      c.name,
    );
  }
});

const arbTerm = (name: string, lo: number, hi: number) => {
  const span = hi - lo;
  const pt = fc.double({ min: lo - span / 2, max: hi + span / 2, noNaN: true });
  const width = fc.double({ min: span / 50, max: span, noNaN: true });
  return fc.oneof(
    fc
      .array(pt, { minLength: 3, maxLength: 3 })
      .map((p) => ({ name, mf: 'trimf' as const, params: [...p].sort((a, b) => a - b) })),
    fc
      .array(pt, { minLength: 4, maxLength: 4 })
      .map((p) => ({ name, mf: 'trapmf' as const, params: [...p].sort((a, b) => a - b) })),
    fc.tuple(width, pt).map(([s, c]) => ({ name, mf: 'gaussmf' as const, params: [s, c] })),
    fc
      .tuple(width, pt, width, pt)
      .map(([s1, c1, s2, c2]) => ({ name, mf: 'gauss2mf' as const, params: [s1, c1, s2, c2] })),
    fc
      .tuple(fc.double({ min: -20, max: 20, noNaN: true }), pt)
      .map(([a, c]) => ({ name, mf: 'sigmf' as const, params: [a, c] })),
    fc
      .tuple(width, fc.double({ min: 0.5, max: 4, noNaN: true }), pt)
      .map(([a, b, c]) => ({ name, mf: 'gbellmf' as const, params: [a, b, c] })),
  );
};
const arbVar = (name: string) =>
  fc
    .tuple(
      fc.double({ min: -100, max: 100, noNaN: true }),
      fc.double({ min: 0.5, max: 100, noNaN: true }),
      fc.integer({ min: 1, max: 3 }),
    )
    .chain(([lo, span, n]) =>
      fc
        .tuple(...Array.from({ length: n }, (_, i) => arbTerm(`t${i + 1}`, lo, lo + span)))
        .map((terms): VariableSpec => ({ name, range: [lo, lo + span], terms })),
    );
const arbSpec = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }))
  .chain(([ni, no]) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: ni }, (_, i) => arbVar(`in${i + 1}`))),
      fc.tuple(...Array.from({ length: no }, (_, i) => arbVar(`out${i + 1}`))),
    ),
  )
  .chain(([inputs, outputs]) => {
    const idx = (v: VariableSpec) => fc.integer({ min: -v.terms.length, max: v.terms.length });
    const rule = fc
      .record({
        antecedent: fc.tuple(...inputs.map(idx)),
        consequent: fc.tuple(...outputs.map(idx)),
        weight: fc.double({ min: 0, max: 1, noNaN: true }),
        connection: fc.constantFrom('and' as const, 'or' as const),
      })
      .filter((r) => r.antecedent.some((k) => k !== 0) && r.consequent.some((k) => k !== 0));
    return fc.record({
      name: fc.constant('prop'),
      type: fc.constant('mamdani' as const),
      andMethod: fc.constantFrom('min' as const, 'prod' as const),
      orMethod: fc.constantFrom('max' as const, 'probor' as const),
      impMethod: fc.constantFrom('min' as const, 'prod' as const),
      aggMethod: fc.constant('max' as const),
      defuzzMethod: fc.constantFrom(
        'centroid' as const,
        'bisector' as const,
        'mom' as const,
        'som' as const,
        'lom' as const,
      ),
      inputs: fc.constant(inputs),
      outputs: fc.constant(outputs),
      rules: fc.array(rule, { minLength: 1, maxLength: 8 }),
    });
  });

test('export then import is exact for any valid system (property)', () => {
  fc.assert(
    fc.property(
      arbSpec,
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
      (spec, u) => {
        const back = importFis(exportFis(spec as FisSpec));
        // fast-check records have no prototype, and −0 is written as 0: compare as JSON
        assert.equal(JSON.stringify(back), JSON.stringify(spec));
        const a = compileFis(spec as FisSpec, { resolution: 51 });
        const b = compileFis(back, { resolution: 51 });
        const x = spec.inputs.map((v, i) => v.range[0] + (u[i] as number) * (v.range[1] - v.range[0]));
        const oa = new Float64Array(spec.outputs.length);
        const ob = new Float64Array(spec.outputs.length);
        evaluateFisInto(a, x, oa);
        evaluateFisInto(b, x, ob);
        oa.forEach((v, i) =>
          assert.ok(v === ob[i] || (Number.isNaN(v) && Number.isNaN(ob[i]!)), `output ${i}: ${v} vs ${ob[i]}`),
        );
      },
    ),
    { numRuns: 200 },
  );
});
