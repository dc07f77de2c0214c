import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_DECISION_SETTINGS,
  checkPlan,
  decide,
  detectFailures,
  mergeRequests,
  planWarmPool,
  checkDecisionSettings,
  DEFAULT_FAILURE_SETTINGS,
} from '../../../../src/core/decision/index.js';
import type {
  DecisionGroup,
  DecisionInput,
  DecisionRequest,
  DecisionServer,
  RecentMove,
} from '../../../../src/core/decision/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const NOW = 1_000_000_000;

const group = (id: string, o: Partial<DecisionGroup> = {}): DecisionGroup => ({
  id,
  minSize: 0,
  maxSize: 100,
  committed: 2,
  burst: 4,
  extended: 8,
  priority: 0.5,
  joining: 0,
  ...o,
});
const inGroup = (id: string, g: string, movedAt: number | null = null): DecisionServer => ({
  id,
  spot: 'group',
  groupId: g,
  temp: null,
  movedAt,
});
const cold = (id: string): DecisionServer => ({ id, spot: 'pool', groupId: null, temp: 'cold', movedAt: null });
const warm = (id: string, g: string | null = null): DecisionServer => ({
  id,
  spot: 'pool',
  groupId: g,
  temp: 'warm',
  movedAt: null,
});
const add = (g: string, count = 1, o: Partial<DecisionRequest> = {}): DecisionRequest => ({
  id: `r-${g}-${count}-${o.source ?? 'agent'}`,
  groupId: g,
  kind: 'add',
  count,
  urgency: 0.8,
  source: 'agent',
  ...o,
});
const release = (g: string, count = 1): DecisionRequest => ({
  id: `rel-${g}`,
  groupId: g,
  kind: 'release',
  count,
  urgency: 0.5,
  source: 'agent',
});
const input = (o: Partial<DecisionInput> & Pick<DecisionInput, 'servers' | 'groups'>): DecisionInput => ({
  tickId: 't1',
  now: NOW,
  requests: [],
  recent: [],
  settings: DEFAULT_DECISION_SETTINGS,
  ...o,
});
const fill = (g: string, n: number, prefix = g): DecisionServer[] =>
  Array.from({ length: n }, (_, i) => inGroup(`${prefix}-${i}`, g));

interface Case {
  name: string;
  in: DecisionInput;
  /** want lists the moves as "server:from>to" (pool as '-'), in plan order. */
  want: string[];
  wantUnmet?: Record<string, string>;
}

const show = (m: { serverId: string; fromGroup: string | null; toGroup: string | null }) =>
  `${m.serverId}:${m.fromGroup ?? '-'}>${m.toGroup ?? '-'}`;

const cases: Case[] = [
  {
    name: 'warm server with the group personality before any other',
    in: input({
      groups: [group('a'), group('b')],
      servers: [...fill('a', 2), cold('c1'), warm('w1'), warm('wb', 'b'), warm('wa', 'a')],
      requests: [add('a')],
    }),
    want: ['wa:->a'],
  },
  {
    name: 'warm before cold, cold before any group',
    in: input({
      groups: [group('a'), group('b', { priority: 0.1 })],
      servers: [...fill('a', 2), ...fill('b', 4), cold('c1'), warm('w1')],
      requests: [add('a', 2)],
    }),
    want: ['w1:->a', 'c1:->a'],
  },
  {
    name: 'offered release before reclaiming from a lower-priority donor',
    in: input({
      groups: [group('a', { priority: 0.9 }), group('b', { priority: 0.1 }), group('c', { priority: 0.5 })],
      servers: [...fill('a', 2), ...fill('b', 4), ...fill('c', 4)],
      requests: [add('a'), release('c')],
    }),
    want: ['c-0:c>a'],
  },
  {
    name: 'reclaims from the lowest-priority group above committed, never below committed',
    in: input({
      groups: [group('a', { priority: 0.9 }), group('b', { priority: 0.1 })],
      servers: [...fill('a', 2), ...fill('b', 3)],
      requests: [add('a', 3)],
    }),
    want: ['b-0:b>a'],
    wantUnmet: { a: 'donor-at-committed' },
  },
  {
    name: 'burst demand does not reclaim from an equal-priority group within its burst',
    in: input({ groups: [group('a'), group('b')], servers: [...fill('a', 2), ...fill('b', 4)], requests: [add('a')] }),
    want: [],
    wantUnmet: { a: 'donor-priority' },
  },
  {
    name: 'committed demand reclaims from a higher-priority group above its committed',
    in: input({
      groups: [group('a', { priority: 0.1 }), group('b', { priority: 0.9 })],
      servers: [...fill('a', 1), ...fill('b', 3)],
      requests: [add('a', 1, { source: 'failure', urgency: 1 })],
    }),
    want: ['b-0:b>a'],
  },
  {
    name: 'servers above a donor burst go to any burst demand first',
    in: input({
      groups: [group('a', { priority: 0.2 }), group('b', { priority: 0.9 }), group('c', { priority: 0.1 })],
      servers: [...fill('a', 2), ...fill('b', 5), ...fill('c', 3)],
      requests: [add('a')],
    }),
    want: ['b-0:b>a'],
  },
  {
    name: 'extended demand is served from the pool only',
    in: input({
      groups: [group('a', { priority: 0.9 }), group('b', { priority: 0.1 })],
      servers: [...fill('a', 4), ...fill('b', 4), cold('c1')],
      requests: [add('a', 3)],
    }),
    want: ['c1:->a'],
    wantUnmet: { a: 'extended-pool-only' },
  },
  {
    name: 'never beyond the extended level nor the maximum size',
    in: input({
      groups: [group('a', { extended: 5 }), group('b', { maxSize: 3 })],
      servers: [...fill('a', 4), ...fill('b', 2), cold('c1'), cold('c2'), cold('c3'), cold('c4')],
      requests: [add('a', 3), add('b', 3)],
    }),
    want: ['c1:->b', 'c2:->a'],
    wantUnmet: { a: 'at-ceiling', b: 'at-max-size' },
  },
  {
    name: 'fairness: committed tier before burst tier, then priority, then share held',
    in: input({
      groups: [
        group('lo', { priority: 0.1, committed: 3 }),
        group('hi', { priority: 0.9 }),
        group('x', { priority: 0.9 }),
      ],
      servers: [...fill('lo', 1), ...fill('hi', 3), ...fill('x', 2), cold('c1'), cold('c2'), cold('c3')],
      requests: [add('lo', 1), add('hi', 1), add('x', 1)],
    }),
    want: ['c1:->lo', 'c2:->x', 'c3:->hi'],
  },
  {
    name: 'bounded by maxMovesPerTick',
    in: input({
      groups: [group('a', { burst: 10, extended: 10 })],
      servers: [...fill('a', 2), cold('c1'), cold('c2'), cold('c3')],
      requests: [add('a', 3)],
      settings: { ...DEFAULT_DECISION_SETTINGS, maxMovesPerTick: 2 },
    }),
    want: ['c1:->a', 'c2:->a'],
    wantUnmet: { a: 'tick-limit' },
  },
  {
    name: 'a donor that received a server recently does not give one away',
    in: input({
      groups: [group('a', { priority: 0.9 }), group('b', { priority: 0.1 })],
      servers: [...fill('a', 2), ...fill('b', 4)],
      requests: [add('a')],
      recent: [{ serverId: 'b-3', fromGroup: null, toGroup: 'b', at: NOW - 1000 }],
    }),
    want: [],
    wantUnmet: { a: 'donor-cooling' },
  },
  {
    name: 'no reverse move within the reverse cool-down',
    in: input({
      groups: [group('a', { priority: 0.9 }), group('b', { priority: 0.1 })],
      servers: [...fill('a', 2), ...fill('b', 4)],
      requests: [add('a')],
      recent: [{ serverId: 'x', fromGroup: 'a', toGroup: 'b', at: NOW - 60_000 }],
    }),
    want: [],
    wantUnmet: { a: 'reverse-cooling' },
  },
  {
    name: 'a server that just moved stays put',
    in: input({
      groups: [group('a', { priority: 0.9 }), group('b', { priority: 0.1 })],
      servers: [
        ...fill('a', 2),
        inGroup('b-0', 'b', NOW - 1000),
        inGroup('b-1', 'b', NOW - 1000),
        inGroup('b-2', 'b', NOW - 1000),
      ],
      requests: [add('a')],
    }),
    want: [],
    wantUnmet: { a: 'server-cooling' },
  },
  {
    name: 'a donor that is asking itself yields only after quiet donors',
    in: input({
      groups: [group('a', { priority: 0.9 }), group('b', { priority: 0.1 }), group('c', { priority: 0.2 })],
      servers: [...fill('a', 2), ...fill('b', 4), ...fill('c', 3)],
      requests: [add('a', 2), add('b')],
    }),
    want: ['c-0:c>a', 'b-0:b>a'],
  },
  {
    name: 'the server whose agent asked is the last to leave',
    in: input({
      groups: [group('a'), group('b')],
      servers: [...fill('a', 4), ...fill('b', 2)],
      requests: [{ ...release('a'), serverId: 'a-0' }],
    }),
    want: ['a-1:a>-'],
  },
  {
    name: 'an offered release nobody takes returns to the pool, not below committed',
    in: input({
      groups: [group('a'), group('b')],
      servers: [...fill('a', 3), ...fill('b', 2)],
      requests: [release('a', 5), release('b')],
    }),
    want: ['a-0:a>-'],
  },
  {
    name: 'a group that just received a server does not release it',
    in: input({
      groups: [group('a')],
      servers: fill('a', 4),
      requests: [release('a')],
      recent: [{ serverId: 'a-3', fromGroup: null, toGroup: 'a', at: NOW - 5_000 }],
    }),
    want: [],
  },
  {
    name: 'moves in flight count as held',
    in: input({
      groups: [group('a', { joining: 2, extended: 4 })],
      servers: [...fill('a', 2), cold('c1'), cold('c2')],
      requests: [add('a', 2)],
    }),
    want: [],
    wantUnmet: { a: 'at-ceiling' },
  },
];

for (const c of cases) {
  test(`decide: ${c.name}`, () => {
    const plan = decide(c.in);
    assert.deepEqual(plan.moves.map(show), c.want);
    assert.deepEqual(checkPlan(c.in, plan), []);
    if (c.wantUnmet) assert.deepEqual(Object.fromEntries(plan.unmet.map((u) => [u.groupId, u.code])), c.wantUnmet);
  });
}

test('decide: every move carries its request, tier and source in its trace', () => {
  const plan = decide(
    input({
      groups: [group('a', { priority: 0.9 }), group('b', { priority: 0.1 })],
      servers: [...fill('a', 2), ...fill('b', 4)],
      requests: [add('a')],
    }),
  );
  const m = plan.moves[0];
  assert.ok(m);
  assert.deepEqual(
    m.reasons.map((r) => r.kind),
    ['request', 'tier', 'source', 'donor'],
  );
  assert.deepEqual(m.reasons[3], { kind: 'donor', group: 'b', held: 4, committed: 2, priority: 0.1, offered: false });
  assert.equal(m.tier, 'burst');
});

test('mergeRequests: agents of a group speak once; failure replacements add on top; askers offer nothing', () => {
  const d = mergeRequests([
    add('a', 1),
    add('a', 2, { id: 'x' }),
    add('a', 1, { id: 'f', source: 'failure', urgency: 1 }),
    release('a'),
    release('b', 2),
    release('b', 1),
  ]);
  assert.deepEqual(
    d.map((x) => [x.groupId, x.add, x.release, x.source]),
    [
      ['a', 3, 0, 'failure'],
      ['b', 0, 2, 'agent'],
    ],
  );
});

test('checkPlan finds a plan that drops a donor below committed', () => {
  const inp = input({ groups: [group('a'), group('b')], servers: [...fill('a', 2), ...fill('b', 2)] });
  const v = checkPlan(inp, {
    tickId: 't',
    at: NOW,
    unmet: [],
    skipped: {},
    moves: [
      { order: 0, serverId: 'b-0', fromGroup: 'b', toGroup: 'a', source: 'donor', tier: 'burst', reasons: [] },
      { order: 1, serverId: 'b-0', fromGroup: 'b', toGroup: 'a', source: 'donor', tier: 'burst', reasons: [] },
    ],
  });
  assert.deepEqual(v.map((x) => x.code).sort(), ['below-floor', 'server-twice']);
});

const recentNone: RecentMove[] = [];
test('planWarmPool warms cold servers for the groups left short, and cools the surplus', () => {
  const inp = input({
    groups: [group('a', { priority: 0.2 }), group('b', { priority: 0.9 })],
    servers: [...fill('a', 4), ...fill('b', 2), cold('c1'), cold('c2'), cold('c3')],
    requests: [add('a', 5)],
    recent: recentNone,
    settings: { ...DEFAULT_DECISION_SETTINGS, warmPoolSize: 2, maxMovesPerTick: 1 },
  });
  const plan = decide(inp);
  assert.deepEqual(plan.moves.map(show), ['c1:->a']);
  assert.deepEqual(
    planWarmPool(inp, plan).map((w) => `${w.kind}:${w.serverId}:${w.groupId}`),
    ['warm:c2:a', 'warm:c3:b'],
  );
  const over = input({
    groups: [group('a')],
    servers: [...fill('a', 2), warm('w1', 'a'), warm('w2', 'zz'), warm('w3', 'a')],
    settings: { ...DEFAULT_DECISION_SETTINGS, warmPoolSize: 1 },
  });
  assert.deepEqual(
    planWarmPool(over, decide(over)).map((w) => `${w.kind}:${w.serverId}`),
    ['cool:w2', 'cool:w1'],
  );
});

test('checkDecisionSettings names the bad field', () => {
  assert.throws(
    () => checkDecisionSettings({ ...DEFAULT_DECISION_SETTINGS, maxMovesPerTick: 0 }),
    (e) => isHostfleetError(e, 'E_VALIDATION') && /maxMovesPerTick/.test(JSON.stringify(e.fields)),
  );
});

const obs = {
  serverId: 's',
  groupId: 'g',
  activeSince: NOW - 60_000,
  lastStatusAt: NOW - 500,
  edgeDownSince: null,
  power: 'On' as const,
  recentFailures: 0,
};
const failureCases = [
  { name: 'healthy', o: obs, want: [] },
  { name: 'silent agent', o: { ...obs, lastStatusAt: NOW - 10_000 }, want: ['heartbeat:recycle'] },
  { name: 'agent that never spoke is judged by edge and BMC only', o: { ...obs, lastStatusAt: null }, want: [] },
  { name: 'down at the edge', o: { ...obs, edgeDownSince: NOW - 1_000 }, want: ['edge:recycle'] },
  { name: 'down at the edge only briefly', o: { ...obs, edgeDownSince: NOW - 100 }, want: [] },
  { name: 'powered off', o: { ...obs, power: 'Off' as const }, want: ['power:recycle'] },
  {
    name: 'just booted: only power counts',
    o: { ...obs, activeSince: NOW - 500, edgeDownSince: NOW - 1_000, lastStatusAt: null },
    want: [],
  },
  { name: 'BMC reports the system Critical', o: { ...obs, bmcCritical: true }, want: ['bmc-health:recycle'] },
  {
    name: 'second failure quarantines',
    o: { ...obs, power: 'Off' as const, recentFailures: 1 },
    want: ['power:quarantine'],
  },
];
for (const c of failureCases) {
  test(`detectFailures: ${c.name}`, () => {
    assert.deepEqual(
      detectFailures(NOW, [c.o], DEFAULT_FAILURE_SETTINGS).map((v) => `${v.causes.join('+')}:${v.action}`),
      c.want,
    );
  });
}
