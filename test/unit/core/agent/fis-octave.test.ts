// hostfleet's FIS against GNU Octave's evalfis (fuzzy-logic-toolkit): the fixture holds Octave's
// outputs for the exported default rule base over a grid of inputs at 101 and 201 output points
// (regenerate with `node scripts/fis-octave-fixture.mjs`; CI needs no Octave). The evaluation
// below is the path `hostfleet fis eval FILE` takes: importFis on the .fis text, compileFis with
// the resolution, evaluateFisInto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_FIS, compileFis, evaluateFisInto, exportFis, importFis } from '../../../../src/core/agent/index.js';
import type { CentroidRule } from '../../../../src/core/agent/index.js';

interface Fixture {
  readonly octave: string;
  readonly toolkit: string;
  readonly fisText: string;
  readonly inputNames: readonly string[];
  readonly inputs: readonly (readonly number[])[];
  readonly runs: readonly { readonly numPoints: number; readonly outputs: readonly number[] }[];
}

const FIXTURE = JSON.parse(
  readFileSync(new URL('../../../fixtures/fis/evalfis-default.json', import.meta.url), 'utf8'),
) as Fixture;

/** AGREE is the promised agreement with evalfis at the same number of output points. */
const AGREE = 1e-3;
/** SAME is how close the same arithmetic comes: only floating-point summation order differs. */
const SAME = 1e-9;

/** worst evaluates every fixture input at a run's resolution and returns the largest difference. */
function worst(run: Fixture['runs'][number], centroid?: CentroidRule): { diff: number; at: readonly number[] } {
  const f = compileFis(importFis(FIXTURE.fisText), { resolution: run.numPoints, centroid });
  const out = new Float64Array(f.nOut);
  let diff = 0;
  let at: readonly number[] = [];
  FIXTURE.inputs.forEach((x, i) => {
    evaluateFisInto(f, x, out);
    const d = Math.abs((out[0] as number) - (run.outputs[i] as number));
    if (!(d <= diff)) {
      diff = d;
      at = x;
    }
  });
  return { diff, at };
}

test('the fixture is of the shipped default rule base (else regenerate it)', () => {
  assert.equal(FIXTURE.fisText, exportFis(DEFAULT_FIS), 'run node scripts/fis-octave-fixture.mjs');
  assert.deepEqual(
    FIXTURE.inputNames,
    DEFAULT_FIS.inputs.map((v) => v.name),
  );
  assert.ok(FIXTURE.inputs.length >= 300, `${FIXTURE.inputs.length} inputs`);
  assert.deepEqual(
    FIXTURE.runs.map((r) => r.numPoints),
    [101, 201],
  );
  for (const r of FIXTURE.runs) assert.equal(r.outputs.length, FIXTURE.inputs.length);
});

test("fis eval agrees with Octave's evalfis at the same number of output points", (t) => {
  for (const run of FIXTURE.runs) {
    const { diff, at } = worst(run);
    const where = `at ${run.numPoints} points, max |hostfleet − Octave ${FIXTURE.octave} toolkit ${FIXTURE.toolkit}| = ${diff.toExponential(3)} at [${at.join(', ')}]`;
    t.diagnostic(where);
    assert.ok(diff <= AGREE, where);
    assert.ok(diff <= SAME, `same discretisation expected; ${where}`);
  }
});

test('the plain-sum centroid (MATLAB’s formula) does not agree with Octave: the fixture tells them apart', (t) => {
  for (const run of FIXTURE.runs) {
    const { diff, at } = worst(run, 'sum');
    t.diagnostic(`centroid 'sum' at ${run.numPoints} points: max ${diff.toExponential(3)} at [${at.join(', ')}]`);
    if (run.numPoints === 101) assert.ok(diff > AGREE, `max difference with centroid 'sum' is only ${diff}`);
  }
});
