// The global round in the simulator: a site short at its peak borrows from the site eight hours
// east first, only from sites holding a replica, and the lent servers go home when the peak passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fleet } from '../../../../src/sim/fleet.js';
import { hostfleetPolicy } from '../../../../src/sim/policies/hostfleet.js';
import { Rng } from '../../../../src/sim/rng.js';
import { buildContext } from '../../../../src/sim/run.js';
import { parseScenario } from '../../../../src/sim/scenario.js';

const SITES = ['london', 'singapore', 'seattle'] as const;

/** world is one day of one London customer peaking at noon beyond London's 6 servers; the other sites' fleets as given. */
function scenario(o: { servers?: [number, number, number]; replicas?: string[]; lending?: boolean } = {}) {
  const servers = o.servers ?? [6, 20, 20];
  return parseScenario(
    {
      start: '2015-03-02T00:00:00Z',
      days: 1,
      warmupDays: 1,
      seed: 3,
      sites: SITES.map((id, i) => ({ id, utcOffsetHours: [0, 8, -8][i], servers: servers[i] })),
      server: { mtbfHours: 0 },
      hostfleet: { lending: o.lending ?? true },
      customers: [
        {
          id: 'shop',
          site: 'london',
          ...(o.replicas ? { replicas: o.replicas } : {}),
          sla: { committed: 1, burst: 8, extended: 16, priority: 0.8 },
          synthetic: { kind: 'diurnal', peakRps: 1500, baseRps: 60, peakHour: 12, noise: 0 },
        },
      ],
    },
    '.',
  );
}

/** run plays the hostfleet policy tick by tick and records the most servers the customer held of each site. */
async function run(o: Parameters<typeof scenario>[0] = {}) {
  const s = scenario(o);
  const ctx = await buildContext(s);
  const fleet = new Fleet(
    s.server,
    s.sites.map((x) => x.servers),
    Array.from(ctx.customerSite),
    ctx.ticks,
    s.tickSeconds,
    new Rng(1),
  );
  const policy = hostfleetPolicy(ctx);
  policy.init(fleet);
  const most = [0, 0, 0];
  const first: string[] = [];
  const hit: number[] = [];
  for (let t = 0; t < ctx.ticks; t++) {
    fleet.advance(t, hit);
    policy.tick(fleet, t, hit);
    for (let site = 0; site < 3; site++) {
      const k = fleet.lentTo(0, site);
      most[site] = Math.max(most[site] as number, k);
      const name = SITES[site] as string;
      if (site > 0 && k > 0 && !first.includes(name)) first.push(name);
    }
    assert.deepEqual(fleet.check(), [], `tick ${t}`);
  }
  return { most, first, stats: policy.stats, fleet, lentAtEnd: [1, 2].map((site) => fleet.lentTo(0, site)) };
}

test('London short at noon borrows from Singapore (eight hours east) first, and the servers go home', async () => {
  const r = await run();
  assert.equal(r.most[0], 6, 'London lends its whole fleet to its own customer');
  assert.ok((r.most[1] as number) > 0, `Singapore lent ${r.most[1]}`);
  assert.deepEqual(r.first, ['singapore'], 'Seattle, with as much spare, is not asked while Singapore can lend');
  assert.ok(r.stats.borrowed > 0 && r.stats.returned > 0, JSON.stringify(r.stats));
  assert.deepEqual(r.lentAtEnd, [0, 0], 'at midnight every lent server is back home');
  assert.equal(r.fleet.poolCold(1) + r.fleet.poolWarm(1), 20, "Singapore's pool is whole again");
});

test('Singapore without servers: Seattle lends', async () => {
  const r = await run({ servers: [6, 0, 20] });
  assert.deepEqual(r.first, ['seattle']);
  assert.ok((r.most[2] as number) > 0);
  assert.deepEqual(r.lentAtEnd, [0, 0]);
});

test('a site without a replica of the customer never lends to it', async () => {
  const r = await run({ replicas: ['seattle'] });
  assert.equal(r.most[1], 0, 'Singapore holds no copy');
  assert.deepEqual(r.first, ['seattle']);
});

test('lending off: the same run with every site alone', async () => {
  const r = await run({ lending: false });
  assert.deepEqual(r.most.slice(1), [0, 0]);
  assert.equal(r.stats.borrowed, 0);
  assert.equal(r.fleet.crossSiteMoves, 0);
});
