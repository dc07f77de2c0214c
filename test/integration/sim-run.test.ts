import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isHostfleetError } from '../../src/core/errors.js';
import { summarise } from '../../src/sim/report.js';
import { runScenario } from '../../src/sim/run.js';
import type { SimResult } from '../../src/sim/run.js';
import { loadScenario, parseScenario } from '../../src/sim/scenario.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const quick = () => loadScenario(join(root, 'scenarios/quick.yaml'));

const figures = (r: SimResult) => JSON.stringify(summarise(r).policies.map(({ wallMs: _w, ...p }) => p));

test('determinism: the same seed gives the same figures; another seed other figures', async () => {
  const s = await quick();
  const a = await runScenario(s);
  const b = await runScenario(s);
  assert.equal(figures(a), figures(b));
  const c = await runScenario(s, { seed: 99 });
  assert.notEqual(figures(a), figures(c));
});

test('conservation: every tick, every server is in exactly one state and the counters agree', async () => {
  const s = await quick();
  const r = await runScenario(s, { check: true, billing: false });
  for (const p of r.policies) assert.deepEqual(p.conservationErrors, [], p.policy);
  assert.ok(
    r.policies.some((p) => p.failures > 0),
    'the scenario exercises failures',
  );
});

test('no policy beats the optimum', async () => {
  for (const file of ['scenarios/quick.yaml', 'scenarios/traces.yaml']) {
    const s = await loadScenario(join(root, file));
    const r = await runScenario(s, { billing: false });
    const opt = r.policies.find((p) => p.policy === 'optimum');
    assert.ok(opt);
    for (const p of r.policies) {
      // Fewer server-hours than the bound is only possible by missing the SLA.
      if (p.violationMinutes <= opt.violationMinutes)
        assert.ok(p.serverHours >= opt.serverHours, `${file}: ${p.policy}`);
      p.customers.forEach((c, i) => {
        const o = opt.customers[i];
        assert.ok(o);
        if (c.violationMinutes === 0)
          assert.ok(
            c.serverHours >= o.serverHours - 1e-9,
            `${file}: ${p.policy} ${c.id} ${c.serverHours} < ${o.serverHours}`,
          );
      });
    }
  }
});

// The targets of the decision policy, on the week its defaults were chosen on and on a later
// week they never saw (docs/DECISION.md): at least 10 % fewer server-hours and 25 % fewer
// SLA-violating minutes than the HPA rule, and at most 1.25 times the optimum's server-hours.
for (const file of ['scenarios/traces.yaml', 'scenarios/traces-late.yaml']) {
  test(`${file}: hostfleet beats HPA on server-hours and violating minutes, within 1.25× the optimum`, async () => {
    const s = await loadScenario(join(root, file));
    const sum = summarise(await runScenario(s));
    const by = Object.fromEntries(sum.policies.map((p) => [p.policy, p]));
    const [hf, hpa, opt] = [by.hostfleet, by.hpa, by.optimum];
    assert.ok(hf && hpa && opt);
    const seen = JSON.stringify({
      hf: [hf.serverHours, hf.violationMinutes],
      hpa: [hpa.serverHours, hpa.violationMinutes],
      optimum: opt.serverHours,
    });
    assert.ok(hf.serverHours <= 0.9 * hpa.serverHours, seen);
    assert.ok(hf.violationMinutes <= 0.75 * hpa.violationMinutes, seen);
    assert.ok(hf.serverHours <= 1.25 * opt.serverHours, seen);
    assert.ok(
      sum.policies.every((p) => p.bound !== null || (p.revenue ?? 0) > 0),
      'revenue is rated under SLA billing',
    );
  });
}

test('a bad scenario names every bad field', () => {
  const cases = [
    { name: 'no sites', raw: { customers: [{ id: 'a', synthetic: { peakRps: 1 } }] }, field: 'scenario.sites' },
    {
      name: 'unknown site',
      raw: { sites: [{ id: 'x', servers: 1 }], customers: [{ id: 'a', site: 'y', synthetic: { peakRps: 1 } }] },
      field: 'customers[0].site',
    },
    {
      name: 'unknown policy',
      raw: {
        sites: [{ id: 'x', servers: 1 }],
        policies: ['magic'],
        customers: [{ id: 'a', synthetic: { peakRps: 1 } }],
      },
      field: 'scenario.policies',
    },
    { name: 'no demand', raw: { sites: [{ id: 'x', servers: 1 }], customers: [{ id: 'a' }] }, field: 'customers[0]' },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseScenario(c.raw, root),
      (e: unknown) => isHostfleetError(e) && JSON.stringify(e).includes(c.field),
      c.name,
    );
  }
});
