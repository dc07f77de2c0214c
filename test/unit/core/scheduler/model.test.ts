// Parsing configurations, nodes and settings; the documented example; the seeded Rng.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  DEFAULT_SETTINGS,
  Fleet,
  limitFor,
  parseConfiguration,
  parseNode,
  parseSettings,
  planPlacement,
  rngFromDecisionId,
  strideFor,
} from '../../../../src/core/scheduler/index.js';
import { isHostfleetError, type HostfleetError } from '../../../../src/core/errors.js';

const docs = readFileSync(fileURLToPath(new URL('../../../../docs/SCHEDULER.md', import.meta.url)), 'utf8');
const yamlBlocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('the configuration example in docs/SCHEDULER.md parses and places', () => {
  const cfg = parseConfiguration(YAML.parse(yamlBlocks[0]!));
  assert.equal(cfg.id, 'shop');
  assert.deepEqual(
    cfg.tiers.map((t) => [t.name, t.role, t.components.length]),
    [
      ['lb', 'load-balancer', 1],
      ['web', 'web', 2],
      ['db', 'db', 1],
    ],
  );
  assert.equal(cfg.tiers[1]!.components[0]!.intensity, 'network', 'intensity defaults from the role');
  assert.equal(cfg.tiers[2]!.components[0]!.intensity, 'storage');
  assert.equal(cfg.connections.length, 4);
  const nodes = Array.from({ length: 4 }, (_, i) =>
    parseNode({ id: `n${i}`, capacity: { ram: 65536, cpu: 6400, disk: 2000, bandwidth: 10000 } }),
  );
  const plan = planPlacement(Fleet.from(nodes), cfg, { decisionId: 'doc' });
  assert.equal(plan.status.code, 'ok');
});

test('the settings example in docs/SCHEDULER.md equals the defaults', () => {
  const s = parseSettings(YAML.parse(yamlBlocks[1]!).scheduler);
  assert.deepEqual(s, DEFAULT_SETTINGS);
});

test('bad configurations fail with E_VALIDATION naming every bad field', () => {
  const cases = [
    { name: 'not an object', input: 42, fields: ['configuration'] },
    { name: 'no tiers', input: { id: 'a', account: 'b', tiers: [] }, fields: ['tiers'] },
    {
      name: 'bad id and role',
      input: {
        id: 'A B',
        account: 'b',
        tiers: [
          {
            name: 'web',
            role: 'mainframe',
            components: [{ id: 'c', resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 } }],
          },
        ],
      },
      fields: ['id', 'tiers[0].role'],
    },
    {
      name: 'negative and missing resources',
      input: {
        id: 'a',
        account: 'b',
        tiers: [{ name: 'web', role: 'web', components: [{ id: 'c', resources: { ram: -1, cpu: 1, disk: 1 } }] }],
      },
      fields: ['tiers[0].components[0].resources.ram', 'tiers[0].components[0].resources.bandwidth'],
    },
    {
      name: 'unknown resource',
      input: {
        id: 'a',
        account: 'b',
        tiers: [
          {
            name: 'web',
            role: 'web',
            components: [{ id: 'c', resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1, gpu: 1 } }],
          },
        ],
      },
      fields: ['tiers[0].components[0].resources.gpu'],
    },
    {
      name: 'duplicate component ids',
      input: {
        id: 'a',
        account: 'b',
        tiers: [
          {
            name: 'web',
            role: 'web',
            components: [
              { id: 'c', resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 } },
              { id: 'c', resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 } },
            ],
          },
        ],
      },
      fields: ['tiers[0].components[1].id'],
    },
    {
      name: 'bad os, traffic and risk',
      input: {
        id: 'a',
        account: 'b',
        risk: { spam: 'extreme' },
        tiers: [
          {
            name: 'web',
            role: 'web',
            components: [
              {
                id: 'c',
                os: 'beos',
                behaviour: { traffic: 'wild' },
                resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 },
              },
            ],
          },
        ],
      },
      fields: ['tiers[0].components[0].os', 'tiers[0].components[0].behaviour.traffic', 'risk.spam'],
    },
    {
      name: 'connection to an unknown component',
      input: {
        id: 'a',
        account: 'b',
        connections: [{ from: 'c', to: 'zz' }],
        tiers: [
          { name: 'web', role: 'web', components: [{ id: 'c', resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 } }] },
        ],
      },
      fields: ['connections[0]'],
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseConfiguration(c.input),
      (e: unknown) => {
        assert.ok(isHostfleetError(e, 'E_VALIDATION'), c.name);
        const got = ((e as HostfleetError).fields ?? []).map((f) => f.field);
        for (const f of c.fields) assert.ok(got.includes(f), `${c.name}: ${f} not in ${got.join(', ')}`);
        return true;
      },
      c.name,
    );
  }
});

test('bad settings fail at start-up with E_CONFIG', () => {
  const cases = [
    { name: 'negative weight', input: { weights: { spread: -1 } }, field: 'weights.spread' },
    { name: 'unknown plugin', input: { weights: { luck: 1 } }, field: 'weights.luck' },
    {
      name: 'all weights zero',
      input: { weights: { availability: 0, balance: 0, behaviour: 0, licence: 0, spread: 0 } },
      field: 'weights',
    },
    { name: 'unknown licensed os', input: { licensedOs: ['os2'] }, field: 'licensedOs' },
    { name: 'percentage above 100', input: { limit: { percentage: 150 } }, field: 'limit.percentage' },
    { name: 'risk threshold none', input: { riskThreshold: 'none' }, field: 'riskThreshold' },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseSettings(c.input),
      (e: unknown) => isHostfleetError(e, 'E_CONFIG') && (e.fields ?? []).some((f) => f.field === c.field),
      c.name,
    );
  }
  assert.equal(parseSettings({ weights: { spread: 3 } }).weights.spread, 3);
  assert.equal(parseSettings({ weights: { spread: 3 } }).weights.availability, DEFAULT_SETTINGS.weights.availability);
});

test('the limit follows kube-scheduler’s adaptive percentage with a floor', () => {
  const cases = [
    { name: 'small fleets are scored whole', nodes: 12, want: 12 },
    { name: 'floor of 100', nodes: 150, want: 100 },
    { name: '1,000 nodes: 42%', nodes: 1000, want: 420 },
    { name: '5,000 nodes: 10%', nodes: 5000, want: 500 },
    { name: '10,000 nodes: 5%', nodes: 10000, want: 500 },
  ];
  for (const c of cases) assert.equal(limitFor(DEFAULT_SETTINGS.limit, c.nodes), c.want, c.name);
  assert.equal(limitFor({ minNodes: 1, percentage: 100 }, 10000), 10000);
});

test('the Rng is a pure function of the decision id, and the stride visits every node once', () => {
  const a = rngFromDecisionId('decision-1');
  const b = rngFromDecisionId('decision-1');
  const c = rngFromDecisionId('decision-2');
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.next()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => c.next()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  for (const n of [1, 2, 3, 10, 12, 97, 1000]) {
    const step = strideFor(n, a);
    const seen = new Set<number>();
    let at = 0;
    for (let k = 0; k < n; k++) {
      seen.add(at);
      at = (at + step) % n;
    }
    assert.equal(seen.size, n, `stride ${step} over ${n} nodes`);
  }
});

test('bad node records fail with E_VALIDATION', () => {
  assert.throws(
    () => parseNode({ id: '', capacity: {} }),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
  );
  assert.throws(
    () =>
      Fleet.from([
        parseNode({ id: 'a', capacity: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 } }),
        parseNode({ id: 'a', capacity: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 } }),
      ]),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
  );
  const n = parseNode({ id: 'a', capacity: { ram: 10, cpu: 1, disk: 1, bandwidth: 1 } });
  assert.deepEqual([n.state, n.isolated, n.hosted.length, n.reserved.ram], ['up', false, 0, 0]);
});
