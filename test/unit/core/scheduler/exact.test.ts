// The benchmark's exact solver (bench/lib/glpk.ts) against brute force on tiny instances: the
// optimality gap the benchmark reports is only as true as this MIP. Needs glpsol (glpk-utils).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_SETTINGS,
  Fleet,
  RESOURCES,
  componentsOf,
  isRisky,
  newPipeline,
  objectiveValue,
  parseConfiguration,
  planPlacement,
  usedOf,
  type Component,
  type Configuration,
  type HardwareNode,
} from '../../../../src/core/scheduler/index.js';
import { glpsolAvailable, solveExact } from '../../../../bench/lib/glpk.js';

/** bruteForce enumerates every assignment and returns the best objective of a feasible one, or null. */
function bruteForce(nodes: readonly HardwareNode[], config: Configuration): number | null {
  const items = componentsOf(config);
  const risky = isRisky(config.risk, DEFAULT_SETTINGS.riskThreshold);
  const free = nodes.map((n) => {
    const u = usedOf(n);
    return Object.fromEntries(RESOURCES.map((r) => [r, n.capacity[r] - u[r]])) as Record<string, number>;
  });
  let best: number | null = null;
  const pick: number[] = [];
  const rec = (i: number): void => {
    if (i === items.length) {
      const load = nodes.map(() => Object.fromEntries(RESOURCES.map((r) => [r, 0])) as Record<string, number>);
      for (let c = 0; c < items.length; c++)
        for (const r of RESOURCES) load[pick[c]!]![r]! += items[c]!.component.resources[r];
      if (load.some((l, n) => RESOURCES.some((r) => l[r]! > free[n]![r]! + 1e-9))) return;
      for (const t of config.tiers) {
        if (!t.antiAffinity) continue;
        const ns = items.map((it, c) => (it.tier === t ? pick[c]! : -1)).filter((x) => x >= 0);
        if (new Set(ns).size !== ns.length) return;
      }
      const o = objectiveValue({
        nodes,
        config,
        assignments: items.map((it, c) => ({ component: it.component, node: nodes[pick[c]!]!.id })),
        settings: DEFAULT_SETTINGS,
      });
      if (best === null || o > best) best = o;
      return;
    }
    for (let n = 0; n < nodes.length; n++) {
      if (nodes[n]!.state !== 'up' || nodes[n]!.isolated !== risky) continue;
      pick[i] = n;
      rec(i + 1);
    }
  };
  rec(0);
  return best;
}

const small = fc.record({
  ram: fc.integer({ min: 0, max: 6000 }),
  cpu: fc.integer({ min: 0, max: 600 }),
  disk: fc.integer({ min: 0, max: 100 }),
  bandwidth: fc.integer({ min: 0, max: 300 }),
});
const instance = fc.record({
  nodes: fc.array(
    fc.record({
      load: small,
      os: fc.constantFrom('debian', 'rhel', 'windows-server'),
      intensity: fc.constantFrom('network', 'storage', 'neutral'),
      isolated: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
    }),
    { minLength: 2, maxLength: 4 },
  ),
  tiers: fc.array(
    fc.record({
      anti: fc.boolean(),
      comps: fc.array(
        fc.record({
          res: small,
          os: fc.constantFrom('debian', 'rhel', 'windows-server'),
          traffic: fc.constantFrom('light', 'heavy'),
        }),
        { minLength: 1, maxLength: 2 },
      ),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});

type Instance = typeof instance extends fc.Arbitrary<infer T> ? T : never;

function build(x: Instance): { nodes: HardwareNode[]; config: Configuration } {
  const nodes: HardwareNode[] = x.nodes.map((n, i) => ({
    id: `n${i}`,
    capacity: { ram: 12000, cpu: 1200, disk: 200, bandwidth: 600 },
    reserved: { ram: 0, cpu: 0, disk: 0, bandwidth: 0 },
    isolated: n.isolated,
    state: 'up',
    hosted: [
      {
        configuration: 'other',
        component: `h${i}`,
        tier: 't',
        resources: n.load,
        intensity: n.intensity,
        os: n.os as Component['os'],
      },
    ],
  }));
  const config = parseConfiguration({
    id: 'cfg',
    account: 'a',
    tiers: x.tiers.map((t, ti) => ({
      name: `t${ti}`,
      role: 'web',
      antiAffinity: t.anti,
      components: t.comps.map((c, ci) => ({
        id: `c${ti}-${ci}`,
        resources: c.res,
        os: c.os,
        behaviour: { traffic: c.traffic },
      })),
    })),
  });
  return { nodes, config };
}

test(
  'glpsol finds the brute-force optimum of the objective, and the pipeline never beats it',
  { skip: glpsolAvailable() ? false : 'glpsol not installed (apt-get install -y glpk-utils)' },
  () => {
    const pipeline = newPipeline({ ...DEFAULT_SETTINGS, limit: { minNodes: 100, percentage: 100 } });
    let solved = 0;
    fc.assert(
      fc.property(instance, (x) => {
        const { nodes, config } = build(x);
        const brute = bruteForce(nodes, config);
        const exact = solveExact(nodes, config, DEFAULT_SETTINGS);
        assert.equal(exact === null, brute === null, 'feasibility agrees');
        if (exact === null || brute === null) return;
        solved++;
        assert.ok(
          Math.abs(exact.objective - brute) < 1e-4 * Math.max(1, brute),
          `glpsol ${exact.objective} vs brute force ${brute}`,
        );
        const byId = new Map(componentsOf(config).map((c) => [c.component.id, c.component]));
        const again = objectiveValue({
          nodes,
          config,
          assignments: [...exact.assignment].map(([c, n]) => ({ component: byId.get(c)!, node: n })),
          settings: DEFAULT_SETTINGS,
        });
        assert.ok(
          Math.abs(again - exact.objective) < 1e-4 * Math.max(1, brute),
          "glpsol's assignment evaluates to its objective",
        );
        const plan = planPlacement(Fleet.from(nodes), config, { decisionId: 'x', pipeline });
        if (plan.status.code === 'ok')
          assert.ok(plan.objective <= brute + 1e-6 * Math.max(1, brute), 'the greedy plan cannot beat the optimum');
      }),
      { numRuns: 40 },
    );
    assert.ok(solved >= 10, `only ${solved} of 40 instances were feasible; the check needs feasible ones`);
  },
);
