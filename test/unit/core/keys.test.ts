// Unknown keys in scenario files: each is refused once, naming the key, where it is and the
// known key it most likely meant; the shipped scenarios stay valid. Also the checker itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isHostfleetError } from '../../../src/core/errors.js';
import { nearestName, settleProblems, unknownKeys } from '../../../src/core/keys.js';
import { buildDemand, loadScenario, parseScenario } from '../../../src/sim/scenario.js';

const SCENARIOS = fileURLToPath(new URL('../../../scenarios/', import.meta.url));

const shop: Record<string, unknown> = {
  id: 'shop',
  count: 3,
  sla: { committed: 1 },
  synthetic: { kind: 'diurnal', peakRps: 100 },
};
const wiki: Record<string, unknown> = {
  id: 'wiki',
  sla: { committed: 1 },
  trace: { file: 'x.csv', from: '2015-03-02T00:00:00Z', peakRps: 100 },
};
/** scenario is a small valid scenario; extra is merged over its top level. */
const scenario = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  days: 1,
  sites: [{ id: 'eu', servers: 10 }],
  customers: [shop, wiki],
  ...extra,
});

test('nearestName suggests only a close name', () => {
  const cases = [
    { name: 'one letter off', key: 'dayz', allowed: ['seed', 'days', 'start'], want: 'days' },
    { name: 'case only', key: 'peakRPS', allowed: ['peakRps', 'baseRps'], want: 'peakRps' },
    { name: 'a letter missing', key: 'custmers', allowed: ['sites', 'customers'], want: 'customers' },
    { name: 'nothing close', key: 'colour', allowed: ['seed', 'days', 'start'], want: undefined },
    { name: 'two letters swapped', key: 'prot', allowed: ['host', 'port'], want: 'port' },
    { name: 'a short key suggests only a close short name', key: 'id', allowed: ['kind', 'url'], want: undefined },
  ];
  for (const c of cases) assert.equal(nearestName(c.key, c.allowed), c.want, c.name);
});

test('settleProblems: the problem a misspelt key causes is told once, under the key', () => {
  const keys = unknownKeys({ custmers: [], colour: 1 }, ['customers', 'sites'], 'scenario');
  const got = settleProblems([
    { field: 'scenario.customers', problem: 'needs at least one customer' },
    ...keys,
    { field: 'x', problem: 'p' },
    { field: 'x', problem: 'p' },
  ]);
  assert.deepEqual(
    got.map((p) => p.field),
    ['scenario.custmers', 'scenario.colour', 'x'],
  );
  assert.deepEqual(
    Object.keys(got[0] as object),
    ['field', 'problem'],
    'plain field problems, nothing extra in API bodies',
  );
});

test('scenario files: each unknown key is one problem naming it, its place and the nearest name', () => {
  const cases = [
    { name: 'top level', input: scenario({ dayz: 5 }), field: 'scenario.dayz', near: 'days' },
    {
      name: 'server block',
      input: scenario({ server: { mtbfHour: 200 } }),
      field: 'server.mtbfHour',
      near: 'mtbfHours',
    },
    {
      name: 'a required section misspelt',
      input: (({ customers, ...rest }) => ({ ...rest, custmers: customers }))(scenario()),
      field: 'scenario.custmers',
      near: 'customers',
    },
    {
      name: 'trace',
      input: scenario({
        customers: [shop, { ...wiki, trace: { file: 'x.csv', from: '2015-03-02T00:00:00Z', peakRPS: 100 } }],
      }),
      field: 'customers[1].trace.peakRPS',
      near: 'peakRps',
    },
    {
      name: 'synthetic, expanded three times',
      input: scenario({ customers: [{ ...shop, synthetic: { kind: 'diurnal', peakRPS: 100 } }] }),
      field: 'customers[0].synthetic.peakRPS',
      near: 'peakRps',
    },
    {
      name: 'sla',
      input: scenario({ customers: [{ ...shop, sla: { comitted: 2 } }] }),
      field: 'customers[0].sla.comitted',
      near: 'committed',
    },
    {
      name: 'customer',
      input: scenario({ customers: [{ ...shop, sites: 'eu' }] }),
      field: 'customers[0].sites',
      near: 'site',
    },
    {
      name: 'site',
      input: scenario({ sites: [{ id: 'eu', server: 10, servers: 10 }] }),
      field: 'sites[0].server',
      near: 'servers',
    },
    { name: 'hpa settings', input: scenario({ hpa: { tolerence: 0.2 } }), field: 'hpa.tolerence', near: 'tolerance' },
    {
      name: 'hostfleet settings',
      input: scenario({ hostfleet: { violationcost: 2 } }),
      field: 'hostfleet.violationcost',
      near: 'violationCost',
    },
    {
      name: 'billing settings',
      input: scenario({ billing: { currencey: 'USD' } }),
      field: 'billing.currencey',
      near: 'currency',
    },
    {
      name: 'no near name: the allowed ones',
      input: scenario({ colour: 'red' }),
      field: 'scenario.colour',
      near: undefined,
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseScenario(c.input, '/tmp'),
      (e: unknown) => {
        assert.ok(isHostfleetError(e, 'E_VALIDATION'), c.name);
        assert.deepEqual(
          e.fields?.map((f) => f.field),
          [c.field],
          `${c.name}: ${e.message}`,
        );
        const problem = e.fields?.[0]?.problem ?? '';
        assert.match(problem, /^unknown key; /, c.name);
        if (c.near === undefined) assert.doesNotMatch(problem, /did you mean/, c.name);
        else assert.ok(problem.includes(`did you mean ${c.near}?`), `${c.name}: ${problem}`);
        assert.ok(problem.includes('allowed: '), c.name);
        return true;
      },
      c.name,
    );
  }
});

test('a customer may not have both a trace and a synthetic demand', () => {
  assert.throws(
    () => parseScenario(scenario({ customers: [{ ...wiki, synthetic: { peakRps: 5 } }] }), '/tmp'),
    (e: unknown) =>
      isHostfleetError(e, 'E_VALIDATION') && e.fields?.length === 1 && e.fields[0]?.field === 'customers[0]',
  );
});

test('every shipped scenario loads, and its traces are in the repository', async () => {
  const files = readdirSync(SCENARIOS).filter((f) => /\.(ya?ml|json)$/.test(f));
  assert.ok(files.length >= 3, files.join(', '));
  for (const f of files) {
    const s = await loadScenario(`${SCENARIOS}${f}`);
    assert.ok(s.customers.length > 0, f);
    if (s.customers.some((c) => c.demand.kind === 'trace'))
      assert.equal((await buildDemand(s)).rates.length, s.customers.length, f);
  }
});
