// Invariants of the scheduler, checked with fast-check on random fleets and configuration streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_FILTERS,
  DEFAULT_SCORES,
  DEFAULT_SETTINGS,
  EPSILON,
  Fleet,
  OPERATING_SYSTEMS,
  R,
  commitPlan,
  componentsOf,
  isRisky,
  newPipeline,
  objectiveValue,
  parseConfiguration,
  planChange,
  planNodeFailure,
  planPlacement,
  type Configuration,
  type HardwareNode,
  type Pipeline,
  type PlacementPlan,
} from '../../../../src/core/scheduler/index.js';

const resources = (max: number) =>
  fc.record({
    ram: fc.integer({ min: 0, max }),
    cpu: fc.integer({ min: 0, max: max / 10 }),
    disk: fc.integer({ min: 0, max: max / 20 }),
    bandwidth: fc.integer({ min: 0, max: max / 10 }),
  });

const nodeArb = fc.record({
  capacity: fc.record({
    ram: fc.integer({ min: 4000, max: 32000 }),
    cpu: fc.integer({ min: 400, max: 3200 }),
    disk: fc.integer({ min: 200, max: 1600 }),
    bandwidth: fc.integer({ min: 400, max: 3200 }),
  }),
  isolated: fc.integer({ min: 0, max: 9 }).map((x) => x < 2),
  down: fc.constantFrom(false, false, false, false, true),
  load: fc.double({ min: 0, max: 0.7, noNaN: true }),
});

const fleetArb = fc.array(nodeArb, { minLength: 2, maxLength: 12 }).map((ns): HardwareNode[] =>
  ns.map((n, i) => ({
    id: `n${i}`,
    capacity: n.capacity,
    reserved: {
      ram: Math.floor(n.capacity.ram * n.load),
      cpu: Math.floor(n.capacity.cpu * n.load),
      disk: 0,
      bandwidth: Math.floor(n.capacity.bandwidth * n.load),
    },
    isolated: n.isolated,
    state: n.down ? 'down' : 'up',
    hosted: [],
  })),
);

const componentArb = fc.record({
  resources: resources(8000),
  os: fc.constantFrom(...OPERATING_SYSTEMS),
  traffic: fc.constantFrom('light', 'normal', 'heavy'),
  compression: fc.boolean(),
});
const tierArb = fc.record({
  role: fc.constantFrom('load-balancer', 'web', 'app', 'db'),
  antiAffinity: fc.boolean(),
  components: fc.array(componentArb, { minLength: 1, maxLength: 4 }),
});
const configArb = (id: string) =>
  fc
    .record({
      risky: fc.integer({ min: 0, max: 19 }).map((x) => x < 3),
      tiers: fc.array(tierArb, { minLength: 1, maxLength: 3 }),
    })
    .map((c): Configuration =>
      parseConfiguration({
        id,
        account: 'acct',
        risk: c.risky ? { fraud: 'high' } : undefined,
        tiers: c.tiers.map((t, ti) => ({
          name: `t${ti}`,
          role: t.role,
          antiAffinity: t.antiAffinity,
          components: t.components.map((x, ci) => ({
            id: `c${ti}-${ci}`,
            resources: x.resources,
            os: x.os,
            behaviour: { traffic: x.traffic, compression: x.compression },
          })),
        })),
      }),
    );
const streamArb = fc
  .array(fc.nat(), { minLength: 1, maxLength: 6 })
  .chain((xs) => fc.tuple(...xs.map((_, i) => configArb(`cfg-${i}`))));
const limitArb = fc.record({
  minNodes: fc.integer({ min: 1, max: 12 }),
  percentage: fc.constantFrom<number | 'adaptive'>('adaptive', 10, 50, 100),
});

function pipelineWith(limit: { minNodes: number; percentage: number | 'adaptive' }): Pipeline {
  return newPipeline({ ...DEFAULT_SETTINGS, limit });
}

/** runStream places and commits every configuration in turn and returns the plans. */
function runStream(fleet: Fleet, configs: readonly Configuration[], p: Pipeline): PlacementPlan[] {
  return configs.map((c, i) => {
    const plan = planPlacement(fleet, c, { decisionId: `d-${i}-${c.id}`, pipeline: p });
    if (plan.status.code === 'ok') commitPlan(fleet, plan);
    return plan;
  });
}

function assertCapacity(fleet: Fleet): void {
  for (let i = 0; i < fleet.size * R; i++)
    assert.ok(fleet.used[i]! <= fleet.cap[i]! + EPSILON, `node ${fleet.ids[Math.floor(i / R)]} over capacity`);
}

function assertPlacementRules(fleet: Fleet, configs: readonly Configuration[], allowDown = false): void {
  for (const c of configs) {
    const placed = fleet.placementOf(c.id);
    for (const t of c.tiers) {
      const ns = t.components.filter((x) => placed.has(x.id)).map((x) => placed.get(x.id)!);
      if (t.antiAffinity) assert.equal(new Set(ns).size, ns.length, `tier ${c.id}/${t.name} shares a node`);
      for (const n of ns) {
        assert.equal(
          fleet.isolated[n] === 1,
          isRisky(c.risk, DEFAULT_SETTINGS.riskThreshold),
          `${c.id} on the wrong isolation class`,
        );
        if (!allowDown) assert.equal(fleet.nodeState(n), 'up');
      }
    }
  }
}

test('capacity is never exceeded, anti-affinity and isolation hold, and plans are all or nothing', () => {
  fc.assert(
    fc.property(fleetArb, streamArb, limitArb, (nodes, configs, limit) => {
      const fleet = Fleet.from(nodes);
      const plans = runStream(fleet, configs, pipelineWith(limit));
      assertCapacity(fleet);
      assertPlacementRules(fleet, configs);
      plans.forEach((p, i) => {
        const want = p.status.code === 'ok' ? componentsOf(configs[i]!).length : 0;
        assert.equal(fleet.placementOf(configs[i]!.id).size, want, 'all or nothing');
      });
      assert.ok(fleet.pending.every((x) => x === 0));
    }),
    { numRuns: 150 },
  );
});

test("the pipeline's recorded scores add up to the objective of docs/SCHEDULER.md", () => {
  fc.assert(
    fc.property(fleetArb, streamArb, limitArb, (nodes, configs, limit) => {
      const fleet = Fleet.from(nodes);
      const p = pipelineWith(limit);
      configs.forEach((c, i) => {
        const before = fleet.snapshot();
        const plan = planPlacement(fleet, c, { decisionId: `o-${i}`, pipeline: p });
        if (plan.status.code !== 'ok') return;
        const byId = new Map(componentsOf(c).map((x) => [x.component.id, x.component]));
        const o = objectiveValue({
          nodes: before,
          config: c,
          assignments: plan.assignments.map((a) => ({ component: byId.get(a.component)!, node: a.node })),
          settings: p.settings,
        });
        assert.ok(
          Math.abs(o - plan.objective) <= 1e-9 * Math.max(1, Math.abs(o)),
          `objective ${plan.objective} vs evaluator ${o}`,
        );
        commitPlan(fleet, plan);
      });
    }),
    { numRuns: 100 },
  );
});

test('a node failure re-places only the failed node’s components', () => {
  fc.assert(
    fc.property(fleetArb, streamArb, fc.nat(), (nodes, configs, pick) => {
      const fleet = Fleet.from(nodes);
      runStream(fleet, configs, pipelineWith({ minNodes: 100, percentage: 'adaptive' }));
      const busy = fleet.ids.map((_, i) => i).filter((i) => fleet.hostedOn(i).length > 0);
      if (busy.length === 0) return;
      const victim = busy[pick % busy.length]!;
      const victimId = fleet.ids[victim]!;
      const onVictim = new Set(fleet.hostedOn(victim).map((h) => `${h.configuration}/${h.component}`));
      const before = new Map(
        fleet.configurations().flatMap((c) => [...fleet.placementOf(c)].map(([k, v]) => [`${c}/${k}`, v] as const)),
      );
      fleet.setNodeState(victimId, 'down');
      const byId = new Map(configs.map((c) => [c.id, c]));
      const plan = planNodeFailure(fleet, (id) => byId.get(id), victimId, { decisionId: 'failure' });
      const moved = plan.moves.map((m) => `${m.configuration}/${m.component}`);
      const unplaced = plan.unplaced.flatMap((u) => u.components.map((c) => `${u.configuration}/${c}`));
      assert.deepEqual(new Set([...moved, ...unplaced]), onVictim, 'exactly the failed node’s components are handled');
      assert.ok(plan.moves.every((m) => m.from === victimId && m.node !== victimId));
      commitPlan(fleet, plan);
      for (const [key, n] of before) {
        const [c, k] = key.split('/') as [string, string];
        if (!onVictim.has(key) || unplaced.includes(key))
          assert.equal(fleet.placementOf(c).get(k), n, `${key} moved but was not on the failed node`);
      }
      assertCapacity(fleet);
      // Components that could not be re-placed stay recorded on the down node; everything else obeys the rules.
      assertPlacementRules(fleet, configs, true);
    }),
    { numRuns: 150 },
  );
});

test('same seed, same plan; the fused kernel decides exactly as the plugin path', () => {
  // Copies of the default plugins are not the defaults, so this pipeline runs the generic plugin path.
  const copies = (limit: { minNodes: number; percentage: number | 'adaptive' }) =>
    newPipeline(
      { ...DEFAULT_SETTINGS, limit },
      DEFAULT_FILTERS.map((f) => ({ ...f })),
      DEFAULT_SCORES.map((s) => ({ ...s })),
    );
  fc.assert(
    fc.property(fleetArb, streamArb, limitArb, (nodes, configs, limit) => {
      const fused = pipelineWith(limit);
      assert.ok(fused.fused);
      const generic = copies(limit);
      assert.ok(!generic.fused);
      const a = runStream(Fleet.from(nodes), configs, fused);
      const b = runStream(Fleet.from(nodes), configs, fused);
      const c = runStream(Fleet.from(nodes), configs, generic);
      assert.deepEqual(a, b, 'same decision ids and inputs give the same plans');
      assert.deepEqual(a, c, 'fused kernel and plugin path give the same plans');
    }),
    { numRuns: 100 },
  );
});

test('a change never exceeds capacity, during the overlap of duplicate and original or after', () => {
  fc.assert(
    fc.property(
      fleetArb,
      streamArb,
      fc.nat(),
      resources(8000),
      fc.constantFrom(...OPERATING_SYSTEMS),
      (nodes, configs, pick, grown, os) => {
        const fleet = Fleet.from(nodes);
        runStream(fleet, configs, pipelineWith({ minNodes: 100, percentage: 'adaptive' }));
        const placed = configs.filter((c) => fleet.placementOf(c.id).size > 0);
        if (placed.length === 0) return;
        const config = placed[pick % placed.length]!;
        const items = componentsOf(config);
        const it = items[pick % items.length]!;
        const from = fleet.placementOf(config.id).get(it.component.id)!;
        const updated = { ...it.component, resources: grown, os };
        const plan = planChange(fleet, config, updated, { decisionId: 'change' });
        if (plan.status.code !== 'ok') {
          assert.equal(plan.actions.length, 0);
          return;
        }
        if (plan.mode === 'duplicate-then-switch-over') {
          const to = fleet.indexOf(plan.assignment!.node);
          // An anti-affine tier keeps the duplicate off the original's node; otherwise it may share it if both fit.
          if (it.tier.antiAffinity) assert.notEqual(to, from, 'the duplicate runs on another node');
          // During the overlap the original still holds its resources and the duplicate holds the new ones.
          for (let k = 0; k < R; k++)
            assert.ok(
              fleet.used[to * R + k]! + grown[(['ram', 'cpu', 'disk', 'bandwidth'] as const)[k]!] <=
                fleet.cap[to * R + k]! + EPSILON,
            );
        } else {
          assert.equal(plan.mode, 'in-place');
          assert.equal(os, it.component.os);
        }
        assert.equal(commitPlan(fleet, plan).code, 'ok');
        assertCapacity(fleet);
        assertPlacementRules(
          fleet,
          configs.map((c) =>
            c.id === config.id
              ? {
                  ...c,
                  tiers: c.tiers.map((t) => ({
                    ...t,
                    components: t.components.map((x) => (x.id === updated.id ? updated : x)),
                  })),
                }
              : c,
          ),
        );
      },
    ),
    { numRuns: 150 },
  );
});
