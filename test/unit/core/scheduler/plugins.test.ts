// Table-driven tests of the scheduler's filter and score plugins, and 003's ordering example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SETTINGS,
  Fleet,
  REJECT,
  antiAffinityFilter,
  availabilityScore,
  balanceScore,
  behaviourScore,
  contextFor,
  fitsFilter,
  isolationFilter,
  licenceScore,
  newDecisionState,
  newPipeline,
  nodeStateFilter,
  parseConfiguration,
  planPlacement,
  spreadScore,
  type Configuration,
  type HardwareNode,
  type HostedComponent,
  type PlacementContext,
} from '../../../../src/core/scheduler/index.js';

const CAP = { ram: 16384, cpu: 1000, disk: 500, bandwidth: 1000 };
const ZERO = { ram: 0, cpu: 0, disk: 0, bandwidth: 0 };

/** node builds a hardware node record with defaults. */
function node(id: string, o: Partial<HardwareNode> = {}): HardwareNode {
  return { id, capacity: CAP, reserved: ZERO, isolated: false, state: 'up', hosted: [], ...o };
}

/** hosted builds a component another configuration already runs on a node. */
function hosted(component: string, o: Partial<HostedComponent> = {}): HostedComponent {
  return {
    configuration: 'other',
    component,
    tier: 't',
    resources: { ram: 1024, cpu: 100, disk: 10, bandwidth: 10 },
    intensity: 'neutral',
    os: 'debian',
    ...o,
  };
}

/** config builds a one-tier configuration around one component with overrides. */
function config(c: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Configuration {
  return parseConfiguration({
    id: 'cfg',
    account: 'acme',
    tiers: [
      {
        name: 'web',
        role: 'web',
        components: [
          { id: 'c1', resources: { ram: 2048, cpu: 100, disk: 10, bandwidth: 100 }, ...c },
          { id: 'c2', resources: ZERO },
        ],
      },
    ],
    ...extra,
  });
}

/** ctxFor builds the placement context of component c1 on the given fleet. */
function ctxFor(fleet: Fleet, cfg: Configuration, settings = DEFAULT_SETTINGS): PlacementContext {
  const p = newPipeline(settings);
  const tier = cfg.tiers[0]!;
  return contextFor(
    fleet,
    settings,
    p.availWeight,
    cfg,
    tier,
    tier.components[0]!,
    newDecisionState(fleet, cfg, new Set()),
  );
}

test('filters pass or reject with a reason constant and structured data', () => {
  const cases = [
    { name: 'up node with room passes every filter', node: node('n'), cfg: config(), want: [0, 0, 0, 0] },
    {
      name: 'down node is rejected by node-state',
      node: node('n', { state: 'down' }),
      cfg: config(),
      want: [REJECT.notUp, 0, 0, 0],
      data: { filter: 'node-state', reason: 'node-not-up', state: 'down' },
    },
    {
      name: 'draining node is rejected by node-state',
      node: node('n', { state: 'draining' }),
      cfg: config(),
      want: [REJECT.notUp, 0, 0, 0],
    },
    {
      name: 'risky configuration on a shared node',
      node: node('n'),
      cfg: config({}, { risk: { spam: 'high' } }),
      want: [0, REJECT.needsIsolated, 0, 0],
      data: { reason: 'risk-needs-isolated-node' },
    },
    {
      name: 'risky configuration on an isolated node passes',
      node: node('n', { isolated: true }),
      cfg: config({}, { risk: { fraud: 'high' } }),
      want: [0, 0, 0, 0],
    },
    {
      name: 'medium risk stays below the default threshold',
      node: node('n'),
      cfg: config({}, { risk: { hacking: 'medium' } }),
      want: [0, 0, 0, 0],
    },
    {
      name: 'ordinary configuration on an isolated node',
      node: node('n', { isolated: true }),
      cfg: config(),
      want: [0, REJECT.isolatedReserved, 0, 0],
      data: { reason: 'isolated-node-reserved' },
    },
    {
      name: 'not enough RAM names ram with requested, used and capacity',
      node: node('n', { reserved: { ram: 15000, cpu: 0, disk: 0, bandwidth: 0 } }),
      cfg: config(),
      want: [0, 0, REJECT.fitsBase + 0, 0],
      data: {
        filter: 'fits',
        reason: 'insufficient-resource',
        resource: 'ram',
        requested: 2048,
        used: 15000,
        capacity: 16384,
      },
    },
    {
      name: 'not enough bandwidth counts what other components use',
      node: node('n', { hosted: [hosted('h1', { resources: { ram: 0, cpu: 0, disk: 0, bandwidth: 950 } })] }),
      cfg: config(),
      want: [0, 0, REJECT.fitsBase + 3, 0],
      data: { resource: 'bandwidth', requested: 100, used: 950, capacity: 1000 },
    },
    {
      name: 'exact fit passes',
      node: node('n', { reserved: { ram: 16384 - 2048, cpu: 900, disk: 490, bandwidth: 900 } }),
      cfg: config(),
      want: [0, 0, 0, 0],
    },
    {
      name: 'a tier member already on the node is rejected by anti-affinity',
      node: node('n', { hosted: [hosted('c2', { configuration: 'cfg', tier: 'web' })] }),
      cfg: config(),
      want: [0, 0, 0, REJECT.antiAffinity],
      data: { reason: 'tier-anti-affinity', tier: 'web', peer: 'c2' },
    },
  ] as const;
  const filters = [nodeStateFilter, isolationFilter, fitsFilter, antiAffinityFilter];
  for (const c of cases) {
    const fleet = Fleet.from([c.node]);
    const ctx = ctxFor(fleet, c.cfg);
    const got = filters.map((f) => f.check(ctx, 0));
    assert.deepEqual(got, [...c.want], c.name);
    const first = got.findIndex((x) => x !== 0);
    if ('data' in c) {
      const r = filters[first]!.explain(ctx, 0, got[first]!);
      for (const [k, v] of Object.entries(c.data))
        assert.equal((r as Record<string, unknown>)[k], v, `${c.name}: ${k}`);
      assert.equal(r.node, 'n');
    }
  }
});

test('anti-affinity applies only when the tier asks for it', () => {
  const cfg = parseConfiguration({
    id: 'cfg',
    account: 'a',
    tiers: [
      {
        name: 'web',
        role: 'web',
        antiAffinity: false,
        components: [
          { id: 'c1', resources: ZERO },
          { id: 'c2', resources: ZERO },
        ],
      },
    ],
  });
  const fleet = Fleet.from([node('n', { hosted: [hosted('c2', { configuration: 'cfg', tier: 'web' })] })]);
  assert.equal(antiAffinityFilter.check(ctxFor(fleet, cfg), 0), 0);
});

test('scores are within 0–100 and follow their definitions', () => {
  const half = { ram: 8192, cpu: 500, disk: 250, bandwidth: 500 };
  const cases = [
    {
      name: 'availability of an empty node after a zero request is 100',
      plugin: availabilityScore,
      node: node('n'),
      cfg: config({ resources: ZERO }),
      want: 100,
    },
    {
      name: 'availability of a half-used node after a zero request is 50',
      plugin: availabilityScore,
      node: node('n', { reserved: half }),
      cfg: config({ resources: ZERO }),
      want: 50,
    },
    {
      name: 'availability counts the request',
      plugin: availabilityScore,
      node: node('n'),
      cfg: config({ resources: half }),
      want: 50,
    },
    { name: 'balance: web server on an empty node', plugin: balanceScore, node: node('n'), cfg: config(), want: 50 },
    {
      name: 'balance: web server beside two databases',
      plugin: balanceScore,
      node: node('n', { hosted: [hosted('d1', { intensity: 'storage' }), hosted('d2', { intensity: 'storage' })] }),
      cfg: config(),
      want: 75,
    },
    {
      name: 'balance: web server beside two web servers',
      plugin: balanceScore,
      node: node('n', { hosted: [hosted('w1', { intensity: 'network' }), hosted('w2', { intensity: 'network' })] }),
      cfg: config(),
      want: 25,
    },
    {
      name: 'balance: database beside two web servers',
      plugin: balanceScore,
      node: node('n', { hosted: [hosted('w1', { intensity: 'network' }), hosted('w2', { intensity: 'network' })] }),
      cfg: config({ intensity: 'storage' }),
      want: 75,
    },
    {
      name: 'balance: neutral component',
      plugin: balanceScore,
      node: node('n', { hosted: [hosted('w1', { intensity: 'network' })] }),
      cfg: config({ intensity: 'neutral' }),
      want: 50,
    },
    {
      name: 'behaviour: light traffic, no hints: any node',
      plugin: behaviourScore,
      node: node('n', { reserved: { ram: 16384 - 2048, cpu: 900, disk: 490, bandwidth: 900 } }),
      cfg: config({ behaviour: { traffic: 'light' } }),
      want: 100,
    },
    {
      name: 'behaviour: heavy traffic on a roomy node',
      plugin: behaviourScore,
      node: node('n'),
      cfg: config({ behaviour: { traffic: 'heavy' } }),
      want: 100,
    },
    // heavy: bandwidth surplus 100 (×2), cpu surplus 50 (×1.5); node has exactly the request left → absorbs nothing.
    {
      name: 'behaviour: heavy traffic on a node with only the request free',
      plugin: behaviourScore,
      node: node('n', { reserved: { ram: 0, cpu: 900, disk: 0, bandwidth: 900 } }),
      cfg: config({ behaviour: { traffic: 'heavy' } }),
      want: 0,
    },
    // bandwidth room 50 of surplus 100 → 0.5; cpu room 50 of surplus 50 → 1; mean 0.75.
    {
      name: 'behaviour: heavy traffic, half the bandwidth surplus free',
      plugin: behaviourScore,
      node: node('n', { reserved: { ram: 0, cpu: 850, disk: 0, bandwidth: 850 } }),
      cfg: config({ behaviour: { traffic: 'heavy' } }),
      want: 75,
    },
    // packets: 10,000/s × 1,250 B × 8 = 100 Mbps → surplus 0 over a 100 Mbps request at light traffic; 20,000/s → 200 Mbps → surplus 100.
    {
      name: 'behaviour: packet rate × size raises the bandwidth need',
      plugin: behaviourScore,
      node: node('n', { reserved: { ram: 0, cpu: 0, disk: 0, bandwidth: 850 } }),
      cfg: config({ behaviour: { traffic: 'light', packetRate: 20000, packetSize: 1250 } }),
      want: 50,
    },
    {
      name: 'licence: unlicensed OS scores 100',
      plugin: licenceScore,
      node: node('n'),
      cfg: config({ os: 'debian' }),
      want: 100,
    },
    {
      name: 'licence: licensed OS on a node without it',
      plugin: licenceScore,
      node: node('n'),
      cfg: config({ os: 'rhel' }),
      want: 0,
    },
    {
      name: 'licence: licensed OS on a node that runs it',
      plugin: licenceScore,
      node: node('n', { hosted: [hosted('r1', { os: 'rhel' })] }),
      cfg: config({ os: 'rhel' }),
      want: 100,
    },
    {
      name: 'spread: node without the configuration',
      plugin: spreadScore,
      node: node('n', { hosted: [hosted('x')] }),
      cfg: config(),
      want: 100,
    },
    {
      name: 'spread: node with a component of the configuration',
      plugin: spreadScore,
      node: node('n', { hosted: [hosted('c2', { configuration: 'cfg', tier: 'web' })] }),
      cfg: config(),
      want: 0,
    },
  ];
  for (const c of cases) {
    const ctx = ctxFor(Fleet.from([c.node]), c.cfg);
    const got = c.plugin.score(ctx, 0);
    assert.ok(got >= 0 && got <= 100, `${c.name}: ${got} out of range`);
    assert.ok(Math.abs(got - c.want) < 1e-9, `${c.name}: got ${got}, want ${c.want}`);
  }
});

test("003's example: 50 unused CPU cycles, 512 MB RAM and 1.5 Mbps free outrank 10 CPU cycles and 10 GB of disk", () => {
  // 003: "the first node includes 50 unused CPU cycles 512 megabytes of unallocated RAM and
  // 1.5 Mbps of unallocated network bandwidth while ... the second node includes 10 unused CPU
  // cycles and 10 gigabytes of unallocated disk storage. When numerically quantified the first
  // node score will result in a higher value than that of the second node score."
  // Both nodes are the same hardware (the seed gives no capacities): 100 cycles, 1 GB RAM, 20 GB disk, 10 Mbps.
  const hw = { ram: 1024, cpu: 100, disk: 20, bandwidth: 10 };
  const first = node('first', { capacity: hw, reserved: { ram: 512, cpu: 50, disk: 20, bandwidth: 8.5 } });
  const second = node('second', { capacity: hw, reserved: { ram: 1024, cpu: 90, disk: 10, bandwidth: 10 } });
  const fleet = Fleet.from([second, first]);
  assert.equal(fleet.free(fleet.indexOf('first'), 1), 50);
  assert.equal(fleet.free(fleet.indexOf('second'), 2), 10);
  const cfg = config({ resources: ZERO });
  const ctx = ctxFor(fleet, cfg);
  const a = availabilityScore.score(ctx, fleet.indexOf('first'));
  const b = availabilityScore.score(ctx, fleet.indexOf('second'));
  assert.ok(a > b, `first ${a} must outrank second ${b}`);
  // And through the whole pipeline: every other score ties, so the rank stage picks the first node.
  const one = parseConfiguration({
    id: 'probe',
    account: 'acme',
    tiers: [{ name: 'web', role: 'web', components: [{ id: 'c1', resources: ZERO, intensity: 'neutral' }] }],
  });
  for (const seed of ['a', 'b', 'c', 'd']) {
    const plan = planPlacement(fleet, one, { decisionId: seed, explain: true });
    assert.equal(plan.status.code, 'ok');
    assert.equal(plan.assignments[0]!.node, 'first', seed);
    const scored = plan.trace![0]!.scores;
    assert.ok(scored.find((s) => s.node === 'first')!.total > scored.find((s) => s.node === 'second')!.total);
  }
});

test('weights scale the plugins and a zero weight removes one', () => {
  const settings = {
    ...DEFAULT_SETTINGS,
    weights: { availability: 0, balance: 0, behaviour: 0, licence: 1, spread: 0 },
  };
  // With only the licence weight, an RHEL component goes to the node that already pays for RHEL even though it is fuller.
  const fleet = Fleet.from([
    node('empty'),
    node('rhel', {
      hosted: [hosted('r1', { os: 'rhel', resources: { ram: 8000, cpu: 400, disk: 100, bandwidth: 100 } })],
    }),
  ]);
  const cfg = parseConfiguration({
    id: 'x',
    account: 'a',
    tiers: [
      {
        name: 'app',
        role: 'app',
        components: [{ id: 'a1', os: 'rhel', resources: { ram: 1024, cpu: 10, disk: 1, bandwidth: 1 } }],
      },
    ],
  });
  for (const seed of ['1', '2', '3'])
    assert.equal(
      planPlacement(fleet, cfg, { decisionId: seed, pipeline: newPipeline(settings) }).assignments[0]!.node,
      'rhel',
    );
  // With the default weights the licence credit (0.4 × 100) outweighs the availability gap (about 25).
  const d = planPlacement(fleet, cfg, { decisionId: 's' });
  assert.equal(d.assignments[0]!.node, 'rhel');
  const availOnly = newPipeline({
    ...DEFAULT_SETTINGS,
    weights: { availability: 1, balance: 0, behaviour: 0, licence: 0, spread: 0 },
  });
  assert.equal(planPlacement(fleet, cfg, { decisionId: 's', pipeline: availOnly }).assignments[0]!.node, 'empty');
});
