// The scenario's replicas, replication lag and lending switch: defaults, and strict errors that
// name the field and what is allowed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHostfleetError } from '../../../src/core/errors.js';
import { parseScenario } from '../../../src/sim/scenario.js';

const SITES = [
  { id: 'london', utcOffsetHours: 0, servers: 4 },
  { id: 'singapore', utcOffsetHours: 8, servers: 4 },
  { id: 'seattle', utcOffsetHours: -8, servers: 4 },
];

function parse(extra: Record<string, unknown> = {}, customer: Record<string, unknown> = {}) {
  return parseScenario(
    { sites: SITES, customers: [{ id: 'shop', site: 'london', synthetic: { peakRps: 10 }, ...customer }], ...extra },
    '.',
  );
}

test('defaults: every other site holds a replica a minute behind, and sites lend', () => {
  const s = parse();
  assert.deepEqual(s.customers[0]?.replicas, ['singapore', 'seattle']);
  assert.equal(s.replication.lagS, 60);
  assert.equal(s.hostfleet.lending, true);
});

test('replicas, replication and lending as given; a customer round several sites leaves its own out', () => {
  const s = parse({ replication: { lagS: 400 }, hostfleet: { lending: false } }, { replicas: ['seattle'] });
  assert.deepEqual(s.customers[0]?.replicas, ['seattle']);
  assert.equal(s.replication.lagS, 400);
  assert.equal(s.hostfleet.lending, false);
  const round = parse({}, { site: ['london', 'seattle'], count: 2, replicas: ['london', 'seattle'] });
  assert.deepEqual(
    round.customers.map((c) => [c.site, c.replicas]),
    [
      ['london', ['seattle']],
      ['seattle', ['london']],
    ],
  );
});

test('bad replicas, replication and lending name the field and what is allowed', () => {
  const cases = [
    { name: 'unknown site', customer: { replicas: ['tokyo'] }, field: 'customers[0].replicas', says: 'sites: london' },
    { name: 'own site', customer: { replicas: ['london'] }, field: 'customers[0].replicas', says: 'own site' },
    { name: 'not a list', customer: { replicas: 'seattle' }, field: 'customers[0].replicas', says: 'list of site ids' },
    { name: 'twice', customer: { replicas: ['seattle', 'seattle'] }, field: 'customers[0].replicas', says: 'twice' },
    { name: 'lag unknown key', extra: { replication: { lag: 5 } }, field: 'replication.lag', says: 'lagS' },
    { name: 'negative lag', extra: { replication: { lagS: -1 } }, field: 'replication.lagS', says: 'number from 0' },
    {
      name: 'lending not boolean',
      extra: { hostfleet: { lending: 'no' } },
      field: 'hostfleet.lending',
      says: 'true or false',
    },
    { name: 'the old key', extra: { replicationLagS: 300 }, field: 'replicationLagS', says: 'replication' },
  ];
  for (const c of cases)
    assert.throws(
      () => parse(c.extra ?? {}, c.customer ?? {}),
      (e: unknown) => {
        const text = JSON.stringify(e);
        return isHostfleetError(e) && text.includes(c.field) && text.includes(c.says);
      },
      c.name,
    );
});
