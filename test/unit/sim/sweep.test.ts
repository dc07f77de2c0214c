import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenario } from '../../../src/sim/run.js';
import { loadScenario } from '../../../src/sim/scenario.js';
import { runSweep, simulations, sweepJobs, withDial } from '../../../src/sim/sweep.js';
import type { SweepPoint } from '../../../src/sim/sweep.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const quick = () => loadScenario(join(root, 'scenarios/quick.yaml'));
const of = (points: readonly SweepPoint[], policy: string) => points.filter((p) => p.policy === policy);

test('a sweep of quick.yaml: every policy across its dial, the defaults marked, static and the bounds once', async () => {
  const s = await quick();
  const values = { hpa: [0.4, 0.9], hostfleet: [0.2, 5] };
  const jobs = sweepJobs(s, { values });
  // static alone (the bounds are computed), then three values each: the two given and the scenario's own
  assert.equal(simulations(jobs), 7);
  let last = 0;
  const sweep = await runSweep(s, {
    values,
    onProgress: (done, total) => {
      assert.ok(done >= last && done <= total);
      last = done;
    },
  });
  assert.equal(sweep.runs, 7);
  const hpa = of(sweep.points, 'hpa');
  assert.deepEqual(
    hpa.map((p) => p.value),
    [0.4, 0.6, 0.9],
  );
  assert.deepEqual(
    hpa.map((p) => p.isDefault),
    [false, true, false],
  );
  // the Kubernetes rule: a higher target utilisation never holds more servers …
  for (let i = 1; i < hpa.length; i++)
    assert.ok((hpa[i] as SweepPoint).serverHours <= (hpa[i - 1] as SweepPoint).serverHours, JSON.stringify(hpa));
  // … and the tightest target misses at least as many minutes as the loosest
  assert.ok((hpa[2] as SweepPoint).violationMinutes >= (hpa[0] as SweepPoint).violationMinutes, JSON.stringify(hpa));
  const hf = of(sweep.points, 'hostfleet');
  assert.deepEqual(
    hf.map((p) => [p.dial, p.value, p.isDefault]),
    [
      ['hostfleet.violationCost', 0.2, false],
      ['hostfleet.violationCost', 2, true],
      ['hostfleet.violationCost', 5, false],
    ],
  );
  for (const name of ['static', 'optimum', 'optimum-cold']) {
    const p = of(sweep.points, name);
    assert.equal(p.length, 1, name);
    assert.equal(p[0]?.dial, null);
  }
  assert.equal(of(sweep.points, 'optimum')[0]?.violationMinutes, 0);
  assert.ok(
    (of(sweep.points, 'optimum-cold')[0]?.serverHours ?? 0) >= (of(sweep.points, 'optimum')[0]?.serverHours ?? 1),
  );
  assert.ok(last > 0, 'progress was reported');

  // A base run's points stand in for the defaults: the same seed and settings give the same figures.
  const base = await runScenario(s, { billing: false });
  const reused = await runSweep(s, { base, values: { hpa: [0.9], hostfleet: [] } });
  assert.equal(reused.runs, 1, 'only HPA at 0.9 is run');
  for (const name of ['hpa', 'hostfleet', 'static', 'optimum', 'optimum-cold'])
    assert.deepEqual(
      of(reused.points, name).find((p) => p.isDefault),
      of(sweep.points, name).find((p) => p.isDefault),
      name,
    );
});

test('withDial sets one dial and leaves the rest', async () => {
  const s = await quick();
  const a = withDial(s, 'hpa.targetUtilisation', 0.8);
  assert.equal(a.hpa.targetUtilisation, 0.8);
  assert.equal(a.hpa.tolerance, s.hpa.tolerance);
  assert.deepEqual(a.hostfleet, s.hostfleet);
  const b = withDial(s, 'hostfleet.violationCost', 3);
  assert.equal(b.hostfleet.violationCost, 3);
  assert.equal(b.hostfleet.confirm, s.hostfleet.confirm);
  assert.deepEqual(b.hpa, s.hpa);
  assert.equal(s.hpa.targetUtilisation, 0.6, 'the scenario itself is untouched');
});
