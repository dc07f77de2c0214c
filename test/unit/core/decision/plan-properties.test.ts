import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_DECISION_SETTINGS,
  checkPlan,
  decide,
  floorOf,
  planWarmPool,
} from '../../../../src/core/decision/index.js';
import type {
  DecisionGroup,
  DecisionInput,
  DecisionRequest,
  DecisionServer,
  RecentMove,
} from '../../../../src/core/decision/index.js';

const NOW = 5_000_000;

/** fleetArb draws a random fleet: groups with SLA levels, servers spread over groups, pool, moving and failed, requests and history. */
const fleetArb: fc.Arbitrary<DecisionInput> = fc
  .record({
    groups: fc.array(
      fc.record({
        committed: fc.nat(5),
        burstExtra: fc.nat(5),
        extendedExtra: fc.nat(5),
        minSize: fc.nat(3),
        maxExtra: fc.nat(10),
        priority: fc.double({ min: 0, max: 1, noNaN: true }),
        joining: fc.nat(2),
      }),
      { minLength: 1, maxLength: 8 },
    ),
    servers: fc.array(
      fc.record({
        spot: fc.constantFrom('group', 'group', 'group', 'pool', 'moving', 'failed'),
        g: fc.nat(7),
        temp: fc.constantFrom('warm', 'cold'),
        age: fc.option(fc.nat(200_000)),
      }),
      { maxLength: 60 },
    ),
    requests: fc.array(
      fc.record({
        g: fc.nat(9),
        kind: fc.constantFrom('add', 'release'),
        count: fc.integer({ min: 0, max: 6 }),
        urgency: fc.double({ min: 0, max: 1, noNaN: true }),
        source: fc.constantFrom('agent', 'predicted', 'failure', 'operator'),
      }),
      { maxLength: 20 },
    ),
    recent: fc.array(fc.record({ from: fc.option(fc.nat(7)), to: fc.option(fc.nat(7)), age: fc.nat(200_000) }), {
      maxLength: 10,
    }),
    maxMoves: fc.integer({ min: 1, max: 20 }),
    warm: fc.nat(4),
  })
  .map((r) => {
    const groups: DecisionGroup[] = r.groups.map((g, i) => ({
      id: `g${i}`,
      committed: g.committed,
      burst: g.committed + g.burstExtra,
      extended: g.committed + g.burstExtra + g.extendedExtra,
      minSize: g.minSize,
      maxSize: g.minSize + g.maxExtra,
      priority: g.priority,
      joining: g.joining,
    }));
    const gid = (n: number) => `g${n % groups.length}`;
    const servers: DecisionServer[] = r.servers.map((s, i) => ({
      id: `s${String(i).padStart(3, '0')}`,
      spot: s.spot as DecisionServer['spot'],
      groupId: s.spot === 'group' || (s.spot === 'pool' && s.temp === 'warm' && s.g % 2 === 0) ? gid(s.g) : null,
      temp: s.spot === 'pool' ? (s.temp as 'warm' | 'cold') : null,
      movedAt: s.age === null ? null : NOW - s.age,
    }));
    // A request may name a group that does not exist (g8, g9 with fewer groups): it must be ignored.
    const requests: DecisionRequest[] = r.requests.map((q, i) => ({
      id: `q${i}`,
      groupId: `g${q.g}`,
      kind: q.kind as 'add' | 'release',
      count: q.count,
      urgency: q.urgency,
      source: q.source as DecisionRequest['source'],
    }));
    const recent: RecentMove[] = r.recent.map((m, i) => ({
      serverId: `s${i}`,
      fromGroup: m.from === null ? null : gid(m.from),
      toGroup: m.to === null ? null : gid(m.to),
      at: NOW - m.age,
    }));
    return {
      tickId: 'p',
      now: NOW,
      servers,
      groups,
      requests,
      recent,
      settings: { ...DEFAULT_DECISION_SETTINGS, maxMovesPerTick: r.maxMoves, warmPoolSize: r.warm },
    };
  });

test('decide keeps every promise for random fleets, SLAs and requests', () => {
  fc.assert(
    fc.property(fleetArb, (inp) => {
      const plan = decide(inp);
      assert.deepEqual(checkPlan(inp, plan), []);
    }),
    { numRuns: 2000 },
  );
});

test('decide is deterministic and independent of the order of its inputs', () => {
  fc.assert(
    fc.property(fleetArb, (inp) => {
      const a = decide(inp);
      const b = decide({
        ...inp,
        servers: [...inp.servers].reverse(),
        groups: [...inp.groups].reverse(),
        requests: [...inp.requests].reverse(),
      });
      assert.deepEqual(b.moves, a.moves);
    }),
    { numRuns: 500 },
  );
});

test('a group short of its committed level is never left short while a pool server is free', () => {
  fc.assert(
    fc.property(fleetArb, (inp) => {
      const plan = decide(inp);
      const free = inp.servers.filter((s) => s.spot === 'pool' && !plan.moves.some((m) => m.serverId === s.id)).length;
      if (free === 0 || plan.moves.length >= inp.settings.maxMovesPerTick) return;
      for (const u of plan.unmet) {
        const g = inp.groups.find((x) => x.id === u.groupId);
        assert.ok(g);
        const held = inp.servers.filter((s) => s.spot === 'group' && s.groupId === g.id).length + g.joining;
        const after = held + plan.moves.filter((m) => m.toGroup === g.id).length;
        assert.ok(
          after >= Math.min(g.extended, g.maxSize),
          `group ${g.id} left at ${after} with ${free} free pool servers (${u.code})`,
        );
      }
    }),
    { numRuns: 1000 },
  );
});

test('releases never take a group below its floor, and warm-pool actions use only free pool servers', () => {
  fc.assert(
    fc.property(fleetArb, (inp) => {
      const plan = decide(inp);
      for (const m of plan.moves.filter((x) => x.toGroup === null)) {
        const g = inp.groups.find((x) => x.id === m.fromGroup);
        assert.ok(g);
        const held = inp.servers.filter((s) => s.spot === 'group' && s.groupId === g.id).length + g.joining;
        const out = plan.moves.filter((x) => x.fromGroup === g.id).length;
        assert.ok(held - out >= floorOf(g));
      }
      const taken = new Set(plan.moves.map((m) => m.serverId));
      const acts = planWarmPool(inp, plan);
      for (const a of acts) {
        const s = inp.servers.find((x) => x.id === a.serverId);
        assert.ok(s && s.spot === 'pool' && !taken.has(s.id));
        assert.equal(s.temp === 'warm', a.kind === 'cool');
      }
      assert.equal(new Set(acts.map((a) => a.serverId)).size, acts.length);
    }),
    { numRuns: 1000 },
  );
});
