import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defuzzify,
  evalMf,
  gauss2mf,
  gaussmf,
  gbellmf,
  linspace,
  sigmf,
  trapmf,
  trimf,
} from '../../../../src/core/agent/index.js';
import type { DefuzzMethod, MfType } from '../../../../src/core/agent/index.js';

const close = (a: number, b: number, msg: string): void =>
  assert.ok(Math.abs(a - b) < 1e-9, `${msg}: got ${a}, want ${b}`);

test('membership functions match hand-computed values (MATLAB definitions)', () => {
  const e05 = Math.exp(-0.5);
  const cases: { name: string; mf: MfType; p: number[]; x: number; want: number }[] = [
    { name: 'trimf left slope', mf: 'trimf', p: [0, 0.5, 1], x: 0.25, want: 0.5 },
    { name: 'trimf peak', mf: 'trimf', p: [0, 0.5, 1], x: 0.5, want: 1 },
    { name: 'trimf right slope', mf: 'trimf', p: [0, 0.5, 1], x: 0.9, want: 0.2 },
    { name: 'trimf right foot', mf: 'trimf', p: [0, 0.5, 1], x: 1, want: 0 },
    { name: 'trimf outside', mf: 'trimf', p: [0, 0.5, 1], x: -3, want: 0 },
    { name: 'trimf left shoulder a = b at b', mf: 'trimf', p: [0, 0, 1], x: 0, want: 1 },
    { name: 'trimf left shoulder a = b below', mf: 'trimf', p: [0, 0, 1], x: -0.1, want: 0 },
    { name: 'trimf left shoulder slope', mf: 'trimf', p: [0, 0, 1], x: 0.5, want: 0.5 },
    { name: 'trapmf rising', mf: 'trapmf', p: [0, 1, 2, 3], x: 0.5, want: 0.5 },
    { name: 'trapmf top', mf: 'trapmf', p: [0, 1, 2, 3], x: 1.5, want: 1 },
    { name: 'trapmf falling', mf: 'trapmf', p: [0, 1, 2, 3], x: 2.75, want: 0.25 },
    { name: 'trapmf past d', mf: 'trapmf', p: [0, 1, 2, 3], x: 3.5, want: 0 },
    { name: 'trapmf square a = b', mf: 'trapmf', p: [1, 1, 2, 2], x: 1, want: 1 },
    { name: 'trapmf square c = d at d', mf: 'trapmf', p: [1, 1, 2, 2], x: 2, want: 1 },
    { name: 'gaussmf one sigma', mf: 'gaussmf', p: [1, 0], x: 1, want: e05 },
    { name: 'gaussmf two sigma', mf: 'gaussmf', p: [2, 3], x: -1, want: Math.exp(-2) },
    { name: 'gaussmf centre', mf: 'gaussmf', p: [0.3, 3], x: 3, want: 1 },
    { name: 'gauss2mf plateau', mf: 'gauss2mf', p: [1, 0, 2, 3], x: 1.5, want: 1 },
    { name: 'gauss2mf left', mf: 'gauss2mf', p: [1, 0, 2, 3], x: -1, want: e05 },
    { name: 'gauss2mf right', mf: 'gauss2mf', p: [1, 0, 2, 3], x: 5, want: e05 },
    { name: 'gauss2mf overlapping centres', mf: 'gauss2mf', p: [1, 2, 1, 0], x: 1, want: e05 * e05 },
    { name: 'sigmf crossover', mf: 'sigmf', p: [2, 0], x: 0, want: 0.5 },
    { name: 'sigmf rising', mf: 'sigmf', p: [2, 0], x: 1, want: 1 / (1 + Math.exp(-2)) },
    { name: 'sigmf falling', mf: 'sigmf', p: [-4, 1], x: 1.5, want: 1 / (1 + Math.exp(2)) },
    { name: 'gbellmf half', mf: 'gbellmf', p: [2, 4, 6], x: 8, want: 0.5 },
    { name: 'gbellmf centre', mf: 'gbellmf', p: [2, 4, 6], x: 6, want: 1 },
    { name: 'gbellmf far', mf: 'gbellmf', p: [1, 1, 0], x: 3, want: 0.1 },
  ];
  for (const c of cases) close(evalMf(c.mf, c.p, c.x), c.want, c.name);
  // the named functions agree with the dispatcher
  close(trimf(0.3, 0, 0.5, 1), evalMf('trimf', [0, 0.5, 1], 0.3), 'trimf direct');
  close(trapmf(2.2, 0, 1, 2, 3), evalMf('trapmf', [0, 1, 2, 3], 2.2), 'trapmf direct');
  close(gaussmf(0.7, 1, 0), evalMf('gaussmf', [1, 0], 0.7), 'gaussmf direct');
  close(gauss2mf(4, 1, 0, 2, 3), evalMf('gauss2mf', [1, 0, 2, 3], 4), 'gauss2mf direct');
  close(sigmf(0.4, 3, 0), evalMf('sigmf', [3, 0], 0.4), 'sigmf direct');
  close(gbellmf(1, 2, 2, 0), evalMf('gbellmf', [2, 2, 0], 1), 'gbellmf direct');
});

test('defuzzifiers match hand-computed values', () => {
  const xs = [0, 1, 2, 3, 4];
  // centroid integrates with the trapezoid rule (Octave's evalfis), so the end points weigh half:
  // 'uneven' is (0.4 + 0.4 + 0.1·4) / (0.1 + 0.4 + 0.2 + 0.1) = 1.5 and 'ramp' 5.5 / 2 = 2.75; the
  // plain sum (centroid 'sum', MATLAB's formula) gives 1.6 and 3, checked below.
  const cases: { name: string; mf: number[]; want: Record<DefuzzMethod, number> }[] = [
    { name: 'plateau on 1..2', mf: [0, 1, 1, 0, 0], want: { centroid: 1.5, bisector: 1, mom: 1.5, som: 1, lom: 2 } },
    { name: 'uneven', mf: [0.2, 0.4, 0.2, 0, 0.2], want: { centroid: 1.5, bisector: 1, mom: 1, som: 1, lom: 1 } },
    { name: 'two equal peaks', mf: [0.5, 0, 0, 0, 0.5], want: { centroid: 2, bisector: 0, mom: 2, som: 0, lom: 4 } },
    { name: 'ramp', mf: [0, 0.25, 0.5, 0.75, 1], want: { centroid: 2.75, bisector: 3, mom: 4, som: 4, lom: 4 } },
  ];
  for (const c of cases) {
    for (const m of Object.keys(c.want) as DefuzzMethod[]) close(defuzzify(m, xs, c.mf), c.want[m], `${c.name} ${m}`);
  }
  close(defuzzify('centroid', xs, [0.2, 0.4, 0.2, 0, 0.2], 'sum'), 1.6, 'uneven centroid, sum');
  close(defuzzify('centroid', xs, [0, 0.25, 0.5, 0.75, 1], 'sum'), 3, 'ramp centroid, sum');
  // uneven spacing: each trapezoid is weighted by its own width
  close(defuzzify('centroid', [0, 1, 3], [1, 1, 1]), 1.5, 'uneven spacing');
  assert.ok(Number.isNaN(defuzzify('centroid', xs, [0, 0, 0, 0, 0], 'sum')), 'sum centroid of an empty set is NaN');
  for (const m of ['centroid', 'bisector', 'mom', 'som', 'lom'] as const)
    assert.ok(Number.isNaN(defuzzify(m, xs, [0, 0, 0, 0, 0])), `${m} of an empty set is NaN`);
});

test('linspace matches MATLAB', () => {
  assert.deepEqual([...linspace(-1, 1, 5)], [-1, -0.5, 0, 0.5, 1]);
  assert.equal(linspace(0, 1, 101)[100], 1);
});
