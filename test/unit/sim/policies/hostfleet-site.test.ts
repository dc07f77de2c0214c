// One tick for the manager and the simulator: the same site, described once, is gathered the
// way the simulator gathers it (from its fleet) and the way the manager's loop gathers it (from
// store records and the agents' statuses), and the shared tick gives the same plan for both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TICK_SETTINGS, newTickState, tick } from '../../../../src/core/decision/index.js';
import type { AgentAsk, TickInput, TickSettings } from '../../../../src/core/decision/index.js';
import type { GroupRecord } from '../../../../src/core/model/records.js';
import type { StoredServer } from '../../../../src/core/model/server.js';
import type { Sla } from '../../../../src/core/model/sla.js';
import { snapshotOf, tickGroups } from '../../../../src/services/manager/components/decision/snapshot.js';
import { Fleet } from '../../../../src/sim/fleet.js';
import { SiteDecider } from '../../../../src/sim/policies/hostfleet-site.js';
import type { AgentView } from '../../../../src/sim/policies/hostfleet-site.js';
import { Rng } from '../../../../src/sim/rng.js';
import { buildContext } from '../../../../src/sim/run.js';
import { parseScenario } from '../../../../src/sim/scenario.js';
import { ACTIVE } from '../../../../src/sim/server-states.js';

const SLAS = {
  shop: { committed: 1, burst: 8, extended: 12, priority: 0.7, targetMs: 200 },
  blog: { committed: 2, burst: 6, extended: 10, priority: 0.3, targetMs: 300 },
  wiki: { committed: 1, burst: 8, extended: 12, priority: 0.5, targetMs: 200 },
} as const;
const IDS = Object.keys(SLAS) as (keyof typeof SLAS)[];

async function world() {
  const scenario = parseScenario(
    {
      start: '2015-03-02T00:00:00Z',
      days: 1,
      seed: 1,
      sites: [{ id: 'eu', servers: 24 }],
      server: { serviceMs: 50, workers: 8, mtbfHours: 0 },
      customers: IDS.map((id) => ({ id, site: 'eu', sla: SLAS[id], synthetic: { kind: 'flat', peakRps: 100 } })),
    },
    '.',
  );
  const ctx = await buildContext(scenario);
  const fleet = new Fleet(scenario.server, [24], [0, 0, 0], ctx.ticks, scenario.tickSeconds, new Rng(1));
  [3, 6, 2].forEach((n, c) => {
    for (let k = 0; k < n; k++) fleet.placeActive(c, 0);
  });
  return { scenario, ctx, fleet };
}

// What each group's decider reports: shop's forecast rises past its servers, blog's rate fell
// away, wiki's agent asks for a server its rate does not explain.
const ask: AgentAsk = { id: 'wiki-ask', kind: 'add', urgency: 1, serverId: null };
const VIEWS: AgentView[] = [
  { measuredRps: 420, forecastRps: 900, agent: null },
  { measuredRps: 30, forecastRps: 25, agent: null },
  { measuredRps: 150, forecastRps: 150, agent: ask },
];

test('the manager and the simulator gather the same site into the same tick and get the same plan', async () => {
  const { scenario, ctx, fleet } = await world();
  const settings: TickSettings = { ...DEFAULT_TICK_SETTINGS, warmPool: 0, leadMs: 180_000, holdMs: 180_000 };
  const serverIds = Array.from({ length: fleet.n }, (_, x) => `s${x}`);
  const stats = { decideCalls: 0, requests: 0, unmet: 0, borrowed: 0, returned: 0, warmed: 0 };
  const sim = new SiteDecider(ctx, settings, stats, serverIds);
  // Ten minutes in: the servers placed at tick 0 are past their cool-down, as the store's are.
  const simInput = sim.input(fleet, 0, 10, VIEWS, []);

  // The same site as the manager's store holds it.
  const servers = serverIds.map(
    (id, x) =>
      ({
        id,
        state: fleet.state[x] === ACTIVE ? 'active' : 'pool-cold',
        groupId: fleet.state[x] === ACTIVE ? IDS[fleet.owner[x] as number] : null,
        moveId: null,
        warmFor: null,
      }) as unknown as StoredServer,
  );
  const groups = IDS.map(
    (id) =>
      ({
        id,
        siteId: 'eu',
        minSize: 0,
        maxSize: SLAS[id].extended,
        runtime: { serviceTimeMs: scenario.server.serviceMs, concurrency: scenario.server.workers, maxQueue: 100 },
      }) as unknown as GroupRecord,
  );
  const slas: Sla[] = IDS.map((id) => ({
    groupId: id,
    metric: 'servers',
    unitsPerServer: 1,
    committed: SLAS[id].committed,
    burst: SLAS[id].burst,
    extended: SLAS[id].extended,
    priority: SLAS[id].priority,
    responseTargetMs: SLAS[id].targetMs,
  }));
  const snap = snapshotOf({ servers, groups, slas, running: [], recent: [], kinds: new Map(), failed: [] });
  const asks = new Map([['wiki', ask]]);
  const mgrInput: TickInput = {
    ...simInput,
    groups: tickGroups(snap, groups, asks, (g) => {
      const v = VIEWS[IDS.indexOf(g as (typeof IDS)[number])] as AgentView;
      return { measuredRps: v.measuredRps, forecastRps: v.forecastRps };
    }),
    servers: snap.servers,
  };
  // Group order is each side's own (the tick sorts by id); what each group says must agree.
  const sorted = (i: TickInput) => [...i.groups].sort((x, y) => (x.id < y.id ? -1 : 1));
  assert.deepEqual(sorted(mgrInput), sorted(simInput));

  const moves = (i: TickInput) =>
    tick(newTickState(), i).plan.moves.map((m) => `${m.serverId} ${m.fromGroup}→${m.toGroup} ${m.source} ${m.tier}`);
  const a = moves(simInput);
  assert.deepEqual(moves(mgrInput), a);
  // The plan does something in each of the three ways.
  assert.ok(
    a.some((m) => m.includes('→shop')) && a.some((m) => m.includes('blog→null')) && a.some((m) => m.includes('→wiki')),
    a.join('\n'),
  );
});
