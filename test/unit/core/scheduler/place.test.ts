// Placing whole configurations, adding a component, re-placing after a node failure, changing a component.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SETTINGS,
  Fleet,
  commitPlan,
  componentsOf,
  describeStatus,
  explainPlan,
  objectiveValue,
  parseConfiguration,
  planAddComponent,
  planChange,
  planNodeFailure,
  planPlacement,
  type Configuration,
  type HardwareNode,
} from '../../../../src/core/scheduler/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const CAP = { ram: 16384, cpu: 1600, disk: 500, bandwidth: 1000 };
const ZERO = { ram: 0, cpu: 0, disk: 0, bandwidth: 0 };

function nodes(n: number, o: Partial<HardwareNode> = {}): HardwareNode[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `n${i}`,
    capacity: CAP,
    reserved: ZERO,
    isolated: false,
    state: 'up' as const,
    hosted: [],
    ...o,
  }));
}

const r = (ram: number, cpu = 100, disk = 10, bandwidth = 10) => ({ ram, cpu, disk, bandwidth });

/** shop is a three-tier configuration: two load balancers, three web servers, one database. */
function shop(o: Record<string, unknown> = {}): Configuration {
  return parseConfiguration({
    id: 'shop',
    account: 'acme',
    tiers: [
      {
        name: 'lb',
        role: 'load-balancer',
        components: [
          { id: 'lb-1', resources: r(512) },
          { id: 'lb-2', resources: r(512) },
        ],
      },
      {
        name: 'web',
        role: 'web',
        components: [
          { id: 'web-1', resources: r(2048) },
          { id: 'web-2', resources: r(2048) },
          { id: 'web-3', resources: r(2048) },
        ],
      },
      { name: 'db', role: 'db', components: [{ id: 'db-1', resources: r(8192, 800, 200, 50) }] },
    ],
    ...o,
  });
}

function assertNoPending(fleet: Fleet): void {
  assert.ok(
    fleet.pending.every((x) => x === 0),
    'a plan must leave no pending reservation behind',
  );
}

test('a configuration is placed whole: largest first, tiers spread, objective as defined', () => {
  const fleet = Fleet.from(nodes(6));
  const before = fleet.snapshot();
  const cfg = shop();
  const plan = planPlacement(fleet, cfg, { decisionId: 'd1' });
  assert.equal(plan.status.code, 'ok');
  assert.equal(plan.assignments.length, 6);
  assert.equal(plan.assignments[0]!.component, 'db-1', 'the largest component goes first');
  assert.deepEqual(
    plan.assignments.slice(1, 4).map((a) => a.tier),
    ['web', 'web', 'web'],
    'then the larger tier',
  );
  for (const tier of ['lb', 'web']) {
    const ns = plan.assignments.filter((a) => a.tier === tier).map((a) => a.node);
    assert.equal(new Set(ns).size, ns.length, `tier ${tier} is spread over distinct nodes`);
  }
  // Six nodes, six components and a spread weight: every component on its own node.
  assert.equal(new Set(plan.assignments.map((a) => a.node)).size, 6);
  const byId = new Map(componentsOf(cfg).map((x) => [x.component.id, x.component]));
  const o = objectiveValue({
    nodes: before,
    config: cfg,
    assignments: plan.assignments.map((a) => ({ component: byId.get(a.component)!, node: a.node })),
    settings: DEFAULT_SETTINGS,
  });
  assert.ok(Math.abs(o - plan.objective) < 1e-9, `objective ${plan.objective} vs evaluator ${o}`);
  assertNoPending(fleet);
  assert.equal(fleet.placementOf('shop').size, 0, 'planning does not change the fleet');
  commitPlan(fleet, plan);
  assert.equal(fleet.placementOf('shop').size, 6);
  const again = planPlacement(fleet, cfg, { decisionId: 'd2' });
  assert.equal(again.status.code, 'ok');
  assert.equal(again.assignments.length, 0, 'planning a placed configuration again does nothing');
});

test('reservations made earlier in a decision count: two components that each fit one node alone do not share it', () => {
  const fleet = Fleet.from(nodes(2));
  const cfg = parseConfiguration({
    id: 'big',
    account: 'a',
    tiers: [
      {
        name: 'db',
        role: 'db',
        antiAffinity: false,
        components: [
          { id: 'd1', resources: r(10000) },
          { id: 'd2', resources: r(10000) },
        ],
      },
    ],
  });
  const plan = planPlacement(fleet, cfg, { decisionId: 'x' });
  assert.equal(plan.status.code, 'ok');
  assert.notEqual(plan.assignments[0]!.node, plan.assignments[1]!.node);
});

test('all or nothing: when one component has no room the plan places none and names the missing resource', () => {
  const busy = {
    configuration: 'other',
    component: 'big',
    tier: 't',
    resources: r(10000, 0, 0, 0),
    intensity: 'neutral' as const,
    os: 'debian' as const,
  };
  const fleet = Fleet.from(nodes(3).map((n, i) => ({ ...n, hosted: [{ ...busy, configuration: `other-${i}` }] })));
  const cfg = shop(); // db-1 needs 8192 MB, every node has 6384 MB free
  const plan = planPlacement(fleet, cfg, { decisionId: 'd' });
  assert.equal(plan.status.code, 'unschedulable');
  assert.equal(plan.assignments.length, 0);
  assert.equal(plan.actions.length, 0);
  assertNoPending(fleet);
  if (plan.status.code !== 'unschedulable') return;
  assert.equal(plan.status.component, 'db-1');
  assert.equal(plan.status.reason, 'insufficient-resource');
  assert.equal(plan.status.resource, 'ram');
  assert.deepEqual(
    { ...plan.status.closest, node: 'any' },
    { node: 'any', resource: 'ram', requested: 8192, used: 10000, capacity: 16384 },
  );
  assert.equal(plan.status.rejected['insufficient-resource'], 3);
  assert.match(describeStatus(plan.status), /db-1 is unschedulable \(not enough ram: needs 8192 MB/);
});

test('a failure mid-configuration releases what earlier components reserved', () => {
  // The three databases fill the three nodes; the application server then finds no room, and
  // the databases' reservations must vanish with the plan.
  const fleet = Fleet.from(nodes(3));
  const cfg = parseConfiguration({
    id: 'c',
    account: 'a',
    tiers: [
      {
        name: 'db',
        role: 'db',
        components: [
          { id: 'db-1', resources: r(16000) },
          { id: 'db-2', resources: r(16000) },
          { id: 'db-3', resources: r(16000) },
        ],
      },
      { name: 'app', role: 'app', components: [{ id: 'app-1', resources: r(1000) }] },
    ],
  });
  const plan = planPlacement(fleet, cfg, { decisionId: 'd' });
  assert.equal(plan.status.code, 'unschedulable');
  if (plan.status.code === 'unschedulable') {
    assert.equal(plan.status.component, 'app-1');
    assert.equal(plan.status.resource, 'ram');
    assert.equal(
      plan.status.closest!.used,
      16000,
      'the closest node shows the reservation made earlier in the decision',
    );
  }
  assert.equal(
    planPlacement(
      fleet,
      parseConfiguration({
        id: 'd',
        account: 'a',
        tiers: [{ name: 'db', role: 'db', components: [{ id: 'x', resources: r(16000) }] }],
      }),
      { decisionId: 'e' },
    ).status.code,
    'ok',
    'and the next decision sees the nodes free',
  );
  assertNoPending(fleet);
});

test('unresolvable: larger than any node, a tier wider than the fleet, a risky configuration without isolated nodes', () => {
  const cases = [
    {
      name: 'exceeds the largest node',
      cfg: parseConfiguration({
        id: 'c',
        account: 'a',
        tiers: [{ name: 'db', role: 'db', components: [{ id: 'huge', resources: r(20000) }] }],
      }),
      reason: 'exceeds-largest-node',
      resource: 'ram',
    },
    {
      name: 'tier wider than the fleet',
      cfg: parseConfiguration({
        id: 'c',
        account: 'a',
        tiers: [{ name: 'web', role: 'web', components: [1, 2, 3, 4].map((i) => ({ id: `w${i}`, resources: r(1) })) }],
      }),
      reason: 'tier-larger-than-fleet',
      resource: null,
    },
    {
      name: 'risky without isolated nodes',
      cfg: parseConfiguration({
        id: 'c',
        account: 'a',
        risk: { spam: 'high' },
        tiers: [{ name: 'web', role: 'web', components: [{ id: 'w', resources: r(1) }] }],
      }),
      reason: 'no-eligible-nodes',
      resource: null,
    },
  ] as const;
  for (const c of cases) {
    const fleet = Fleet.from(nodes(3));
    const plan = planPlacement(fleet, c.cfg, { decisionId: 'd' });
    assert.equal(plan.status.code, 'unresolvable', c.name);
    if (plan.status.code !== 'unresolvable') continue;
    assert.equal(plan.status.reason, c.reason, c.name);
    assert.equal(plan.status.resource, c.resource, c.name);
    assert.ok(describeStatus(plan.status).length > 20);
  }
});

test('risky configurations land only on isolated nodes, others never do', () => {
  const fleet = Fleet.from([...nodes(4), ...nodes(2).map((n) => ({ ...n, id: `iso-${n.id}`, isolated: true }))]);
  const risky = shop({
    id: 'blog',
    risk: { spam: 'high' },
    tiers: [
      {
        name: 'web',
        role: 'web',
        components: [
          { id: 'w1', resources: r(1024) },
          { id: 'w2', resources: r(1024) },
        ],
      },
    ],
  });
  const p1 = planPlacement(fleet, risky, { decisionId: 'r' });
  assert.equal(p1.status.code, 'ok');
  assert.ok(p1.assignments.every((a) => a.node.startsWith('iso-')));
  const p2 = planPlacement(fleet, shop(), { decisionId: 's' });
  assert.equal(p2.status.code, 'ok');
  assert.ok(p2.assignments.every((a) => !a.node.startsWith('iso-')));
});

test('adding a component places only it, away from its tier', () => {
  const fleet = Fleet.from(nodes(5));
  const cfg = shop();
  commitPlan(fleet, planPlacement(fleet, cfg, { decisionId: 'd1' }));
  const placedBefore = new Map(fleet.placementOf('shop'));
  const grown = shop({
    tiers: [
      ...cfg.tiers.map((t) =>
        t.name === 'web' ? { ...t, components: [...t.components, { id: 'web-4', resources: r(2048) }] } : t,
      ),
    ],
  });
  const plan = planAddComponent(fleet, grown, 'web-4', { decisionId: 'd2' });
  assert.equal(plan.status.code, 'ok');
  assert.deepEqual(
    plan.assignments.map((a) => a.component),
    ['web-4'],
  );
  const webNodes = ['web-1', 'web-2', 'web-3'].map((c) => fleet.ids[placedBefore.get(c)!]);
  assert.ok(!webNodes.includes(plan.assignments[0]!.node), 'anti-affinity with the placed web servers');
  commitPlan(fleet, plan);
  for (const [c, n] of placedBefore) assert.equal(fleet.placementOf('shop').get(c), n, `${c} did not move`);
  assert.throws(
    () => planAddComponent(fleet, grown, 'web-4', { decisionId: 'd3' }),
    (e: unknown) => isHostfleetError(e, 'E_CONFLICT'),
  );
  assert.throws(
    () => planAddComponent(fleet, grown, 'web-9', { decisionId: 'd3' }),
    (e: unknown) => isHostfleetError(e, 'E_NOT_FOUND'),
  );
});

test('a node failure re-places only that node’s components', () => {
  const fleet = Fleet.from(nodes(8));
  const a = shop();
  const b = shop({ id: 'blog' });
  commitPlan(fleet, planPlacement(fleet, a, { decisionId: 'a' }));
  commitPlan(fleet, planPlacement(fleet, b, { decisionId: 'b' }));
  const victim = fleet.ids[fleet.placementOf('shop').get('db-1')!]!;
  const onVictim = fleet
    .hostedOn(fleet.indexOf(victim))
    .map((h) => `${h.configuration}/${h.component}`)
    .sort();
  assert.throws(
    () => planNodeFailure(fleet, () => a, victim, { decisionId: 'f' }),
    (e: unknown) => isHostfleetError(e, 'E_CONFLICT'),
    'the failure must be recorded first',
  );
  fleet.setNodeState(victim, 'down');
  const before = new Map(
    [...fleet.configurations()].flatMap((c) => [...fleet.placementOf(c)].map(([k, v]) => [`${c}/${k}`, v] as const)),
  );
  const configs = new Map([
    ['shop', a],
    ['blog', b],
  ]);
  const plan = planNodeFailure(fleet, (id) => configs.get(id), victim, { decisionId: 'f' });
  assert.deepEqual(plan.moves.map((m) => `${m.configuration}/${m.component}`).sort(), onVictim);
  assert.ok(plan.moves.every((m) => m.from === victim && m.node !== victim));
  assert.equal(plan.unplaced.length, 0);
  commitPlan(fleet, plan);
  for (const [key, n] of before) {
    const [c, k] = key.split('/') as [string, string];
    const now = fleet.placementOf(c).get(k)!;
    if (onVictim.includes(key)) assert.notEqual(fleet.ids[now], victim);
    else assert.equal(now, n, `${key} must not move`);
  }
  assert.equal(fleet.hostedOn(fleet.indexOf(victim)).length, 0);
  assertNoPending(fleet);
});

test('a failure whose components cannot be re-placed is reported, and the others still move', () => {
  const fleet = Fleet.from(nodes(3));
  const wide = parseConfiguration({
    id: 'wide',
    account: 'a',
    tiers: [{ name: 'web', role: 'web', components: [1, 2, 3].map((i) => ({ id: `w${i}`, resources: r(100) })) }],
  });
  const small = parseConfiguration({
    id: 'small',
    account: 'a',
    tiers: [{ name: 'app', role: 'app', components: [{ id: 'a1', resources: r(100) }] }],
  });
  commitPlan(fleet, planPlacement(fleet, wide, { decisionId: 'w' }));
  commitPlan(fleet, planPlacement(fleet, small, { decisionId: 's' }));
  const victim = fleet.ids[fleet.placementOf('small').get('a1')!]!;
  fleet.setNodeState(victim, 'down');
  const configs = new Map([
    ['wide', wide],
    ['small', small],
  ]);
  const plan = planNodeFailure(fleet, (id) => configs.get(id), victim, { decisionId: 'f' });
  assert.deepEqual(
    plan.unplaced.map((u) => u.configuration),
    ['wide'],
    'two up nodes cannot hold three anti-affine web servers',
  );
  assert.equal(plan.unplaced[0]!.status.code, 'unresolvable');
  assert.deepEqual(
    plan.moves.map((m) => m.component),
    ['a1'],
  );
});

test('a change is made in place when the node can absorb it, otherwise by a duplicate and a switch-over', () => {
  const fleet = Fleet.from(nodes(3));
  const cfg = shop({
    tiers: [{ name: 'db', role: 'db', components: [{ id: 'db-1', resources: r(8192, 800, 200, 50) }] }],
  });
  commitPlan(fleet, planPlacement(fleet, cfg, { decisionId: 'd' }));
  const at = fleet.ids[fleet.placementOf('shop').get('db-1')!]!;
  const old = cfg.tiers[0]!.components[0]!;

  const grow = planChange(fleet, cfg, { ...old, resources: r(12000, 800, 200, 50) }, { decisionId: 'c1' });
  assert.equal(grow.mode, 'in-place');
  assert.deepEqual(
    grow.steps.map((s) => s.kind),
    ['resize-in-place'],
  );
  commitPlan(fleet, grow);
  assert.equal(fleet.ids[fleet.placementOf('shop').get('db-1')!], at);
  assert.equal(fleet.used[fleet.indexOf(at) * 4]!, 12000);

  const grown = { ...old, resources: r(12000, 800, 200, 50) };
  const cfg2 = shop({ tiers: [{ name: 'db', role: 'db', components: [grown] }] });
  const reimage = planChange(fleet, cfg2, { ...grown, os: 'rhel' }, { decisionId: 'c2' });
  assert.equal(reimage.status.code, 'ok');
  assert.equal(reimage.mode, 'duplicate-then-switch-over');
  assert.deepEqual(
    reimage.steps.map((s) => s.kind),
    ['create-duplicate', 'switch-over', 'remove-original'],
  );
  assert.notEqual(reimage.assignment!.node, at, 'the duplicate runs beside the original, on another node');
  commitPlan(fleet, reimage);
  assert.equal(fleet.ids[fleet.placementOf('shop').get('db-1')!], reimage.assignment!.node);
  assert.equal(fleet.used[fleet.indexOf(at) * 4]!, 0, 'the original released its resources');

  // Too large to run twice at once anywhere else: a disruptive change that cannot be planned.
  const full = Fleet.from(nodes(1));
  const one = shop({ tiers: [{ name: 'db', role: 'db', components: [{ id: 'db-1', resources: r(9000) }] }] });
  commitPlan(full, planPlacement(full, one, { decisionId: 'x' }));
  const noRoom = planChange(full, one, { ...one.tiers[0]!.components[0]!, os: 'rhel' }, { decisionId: 'y' });
  assert.equal(noRoom.status.code, 'unschedulable');
  assert.equal(noRoom.mode, null);
  assert.equal(noRoom.actions.length, 0);
});

test('--explain shows every rejection with its reason and every score', () => {
  const fleet = Fleet.from([
    ...nodes(2),
    { ...nodes(1)[0]!, id: 'down', state: 'down' as const },
    { ...nodes(1)[0]!, id: 'tiny', capacity: r(100, 100, 100, 100) },
  ]);
  const cfg = parseConfiguration({
    id: 'c',
    account: 'a',
    tiers: [{ name: 'web', role: 'web', components: [{ id: 'w1', resources: r(1024) }] }],
  });
  const plan = planPlacement(fleet, cfg, { decisionId: 'e', explain: true });
  const t = plan.trace![0]!;
  assert.equal(t.rejections.length, 2);
  assert.equal(t.scores.length, 2);
  const text = explainPlan(plan).join('\n');
  assert.match(text, /down: node is down/);
  assert.match(text, /tiny: needs 1024 MB ram, 100 of 100 unallocated/);
  assert.match(text, /scored n\d: total .* \(availability .*, spread 100\)/);
  assert.equal(plan.metrics[0]!.nodesEvaluated, 4);
  assert.equal(plan.metrics[0]!.rejected['node-not-up'], 1);
  assert.equal(plan.metrics[0]!.exhausted.ram, 1);
});

test('a stale plan is a conflict to retry, and nothing of it is applied', () => {
  const fleet = Fleet.from(nodes(1));
  const one = (id: string) =>
    parseConfiguration({
      id,
      account: 'a',
      tiers: [
        {
          name: 'db',
          role: 'db',
          antiAffinity: false,
          components: [
            { id: 'd1', resources: r(10000) },
            { id: 'd2', resources: r(1) },
          ],
        },
      ],
    });
  // Both plans are made against the same empty node; only the first still fits when committed.
  const first = planPlacement(fleet, one('first'), { decisionId: 'a' });
  assert.equal(first.status.code, 'ok');
  const second = planPlacement(fleet, one('second'), { decisionId: 'b' });
  assert.deepEqual(commitPlan(fleet, first), { code: 'ok' });
  const res = commitPlan(fleet, second);
  assert.equal(res.code, 'conflict');
  if (res.code === 'conflict')
    assert.deepEqual(res.shortfall, { resource: 'ram', requested: 10001, used: 10001, capacity: 16384 });
  assert.equal(fleet.placementOf('second').size, 0, 'nothing of the stale plan was applied');
  // Re-planning sees the fleet as it is now and reports the shortage as a status.
  assert.equal(planPlacement(fleet, one('second'), { decisionId: 'c' }).status.code, 'unschedulable');
  fleet.setNodeState('n0', 'down');
  const grown = planPlacement(Fleet.from(nodes(1)), one('third'), { decisionId: 'd' });
  assert.equal(commitPlan(fleet, grown).code, 'conflict', 'a node that went down since planning is a conflict');
});
