import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  type AllocationEvent,
  type MetricSample,
  countAt,
  levelMinutes,
  meterAllocations,
  meterMetrics,
  monthPeriod,
  parseAllocationEvent,
  parseMetricSample,
  perMinute,
  periodDays,
  ratio,
  splitLevels,
  toPlainDecimal,
  usageReport,
} from '../../../../src/core/billing/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const T0 = Date.UTC(2024, 5, 1, 10, 0, 0);
const S = 1000;
const M = 60_000;
const WINDOW = { startMs: T0, endMs: T0 + 60 * M };

function ev(
  kind: 'allocated' | 'released',
  id: string,
  server: string,
  account: string,
  atMs: number,
  ramMb = 1024,
): AllocationEvent {
  return kind === 'allocated'
    ? { kind, id, server, account, role: 'web', at: atMs, ramMb }
    : { kind, id, server, account, role: 'web', at: atMs };
}

function minutesOf(events: AllocationEvent[], account: string): number {
  const u = meterAllocations(events, WINDOW);
  return u.roles
    .filter((r) => r.account === account)
    .reduce((s, r) => s + r.segments.reduce((t, g) => t + ((g.toMs - g.fromMs) / M) * g.servers, 0), 0);
}

test('minutes are half-open [t, t+60s) and belong to whoever holds the server at their first instant', () => {
  const cases = [
    {
      name: 'on boundaries: 10:00 to 10:05 is five minutes',
      events: [ev('allocated', 'a', 's', 'acme', T0), ev('released', 'r', 's', 'acme', T0 + 5 * M)],
      want: { acme: 5 },
    },
    {
      name: 'mid-minute: 10:00:30 to 10:05:30 is minutes 10:01–10:05',
      events: [ev('allocated', 'a', 's', 'acme', T0 + 30 * S), ev('released', 'r', 's', 'acme', T0 + 5 * M + 30 * S)],
      want: { acme: 5 },
    },
    {
      name: 'held for 59 s within one minute: never at a minute start, no minute',
      events: [ev('allocated', 'a', 's', 'acme', T0 + S), ev('released', 'r', 's', 'acme', T0 + 59 * S)],
      want: { acme: 0 },
    },
    {
      name: 'moved mid-minute: the old holder keeps that minute, the new one starts at the next boundary',
      events: [
        ev('allocated', 'a', 's', 'acme', T0),
        ev('allocated', 'b', 's', 'beta', T0 + 2 * M + 30 * S),
        ev('released', 'c', 's', 'beta', T0 + 10 * M),
      ],
      want: { acme: 3, beta: 7 },
    },
    {
      name: 'still held at the end of the window: billed to the end',
      events: [ev('allocated', 'a', 's', 'acme', T0 + 50 * M)],
      want: { acme: 10 },
    },
    {
      name: 'allocated before the window: billed from its start',
      events: [ev('allocated', 'a', 's', 'acme', T0 - 5 * 60 * M), ev('released', 'r', 's', 'acme', T0 + 3 * M)],
      want: { acme: 3 },
    },
    {
      name: 'a stale release (server already given to beta) changes nothing',
      events: [
        ev('allocated', 'a', 's', 'acme', T0),
        ev('allocated', 'b', 's', 'beta', T0 + 10 * M),
        ev('released', 'r', 's', 'acme', T0 + 20 * M),
      ],
      want: { acme: 10, beta: 50 },
    },
    {
      name: 'facts after the window are ignored',
      events: [ev('allocated', 'a', 's', 'acme', T0 + 70 * M)],
      want: { acme: 0 },
    },
  ];
  for (const c of cases) {
    for (const [account, minutes] of Object.entries(c.want))
      assert.equal(minutesOf(c.events, account), minutes, `${c.name} (${account})`);
  }
});

test('a server-minute has one holder and none is lost: the minutes of all accounts add up to the minutes the server was held', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          offset: fc.integer({ min: -10 * M, max: 70 * M }),
          account: fc.constantFrom('a', 'b', 'c'),
          release: fc.boolean(),
        }),
        { maxLength: 20 },
      ),
      (steps) => {
        const events = steps.map((s, i) =>
          ev(s.release ? 'released' : 'allocated', `e${i}`, 'srv', s.account, T0 + s.offset),
        );
        const u = meterAllocations(events, WINDOW);
        // Reference: sample the holder at each minute's first instant by naive replay.
        let expected = 0;
        for (let t = WINDOW.startMs; t < WINDOW.endMs; t += M) {
          const applied = [...events]
            .filter((e) => e.at <= t)
            .sort(
              (x, y) => x.at - y.at || (x.kind === y.kind ? (x.id < y.id ? -1 : 1) : x.kind === 'released' ? -1 : 1),
            );
          let holder: string | null = null;
          for (const e of applied) {
            if (e.kind === 'allocated') holder = e.account;
            else if (holder === e.account) holder = null;
          }
          if (holder !== null) expected++;
          const held = u.roles.reduce((s, r) => s + countAt(r, t), 0);
          assert.equal(held, holder === null ? 0 : 1, `minute ${(t - T0) / M}`);
        }
        const metered = u.roles.reduce((s, r) => s + r.segments.reduce((x, g) => x + (g.toMs - g.fromMs) / M, 0), 0);
        assert.equal(metered, expected);
      },
    ),
    { numRuns: 200 },
  );
});

test('re-delivered facts (manager failover) and any delivery order give the same usage', () => {
  const events = [
    ev('allocated', 'm1:attached', 's1', 'acme', T0),
    ev('allocated', 'm2:attached', 's2', 'acme', T0 + 5 * M + 10 * S, 2048),
    ev('released', 'm3:detached', 's1', 'acme', T0 + 30 * M),
    ev('allocated', 'm3:attached', 's1', 'beta', T0 + 30 * M),
  ];
  const base = meterAllocations(events, WINDOW);
  fc.assert(
    fc.property(fc.shuffledSubarray(events), fc.integer({ min: 0, max: 1000 }), (dups, seed) => {
      const all = [...events, ...dups];
      // Deterministic shuffle from the seed.
      const shuffled = all
        .map((e, i) => ({ e, k: (i * 7919 + seed * 104729) % 1009 }))
        .sort((a, b) => a.k - b.k)
        .map((x) => x.e);
      const u = meterAllocations(shuffled, WINDOW);
      assert.deepEqual(u.roles, base.roles);
      assert.equal(u.duplicates, dups.length);
      assert.equal(u.facts, events.length);
    }),
  );
});

test('one id naming two different facts is refused with E_CONFLICT', () => {
  const a = ev('allocated', 'x', 's1', 'acme', T0);
  const b = ev('allocated', 'x', 's1', 'acme', T0 + M);
  assert.throws(
    () => meterAllocations([a, b], WINDOW),
    (e: unknown) => isHostfleetError(e, 'E_CONFLICT') && e.message.includes('x'),
  );
});

test('levels: up to committed is committed, then burst up to its ceiling, then extended; over the extended ceiling is flagged', () => {
  const c = { committed: 2, burst: 4, extended: 6 };
  const cases = [
    { n: 0, want: { committed: 0, burst: 0, extended: 0, overCeiling: 0 } },
    { n: 2, want: { committed: 2, burst: 0, extended: 0, overCeiling: 0 } },
    { n: 3, want: { committed: 2, burst: 1, extended: 0, overCeiling: 0 } },
    { n: 5, want: { committed: 2, burst: 2, extended: 1, overCeiling: 0 } },
    { n: 8, want: { committed: 2, burst: 2, extended: 4, overCeiling: 2 } },
  ];
  for (const k of cases) assert.deepEqual({ ...splitLevels(k.n, c) }, k.want, `n=${k.n}`);
  fc.assert(
    fc.property(fc.nat(100), fc.nat(20), fc.nat(20), fc.nat(20), (n, c0, db, de) => {
      const l = splitLevels(n, { committed: c0, burst: c0 + db, extended: c0 + db + de });
      assert.equal(l.committed + l.burst + l.extended, n);
    }),
  );
  const lm = levelMinutes(
    [
      { fromMs: T0, toMs: T0 + 10 * M, servers: 3, ramMb: 0 },
      { fromMs: T0 + 10 * M, toMs: T0 + 15 * M, servers: 5, ramMb: 0 },
    ],
    c,
  );
  assert.deepEqual(lm, {
    committed: 30,
    burst: 20,
    extended: 5,
    overCeiling: 0,
    minutesAboveCommitted: 15,
    peakServers: 5,
    firstBurstMs: T0,
    firstExtendedMs: T0 + 10 * M,
  });
});

test('metrics: counters sum per day, gauges integrate minute by minute; duplicates count once', () => {
  const june = monthPeriod('2024-06');
  const d1 = june.startMs;
  const samples: MetricSample[] = [
    { id: 'h1', account: 'acme', metric: 'hits', at: d1 + 5 * M, value: 100 },
    { id: 'h2', account: 'acme', metric: 'hits', at: d1 + 86_400_000 + M, value: 50 },
    { id: 'h1', account: 'acme', metric: 'hits', at: d1 + 5 * M, value: 100 },
    { id: 'c0', account: 'acme', metric: 'connections', at: d1 - 30 * M, value: 10 },
    { id: 'c1', account: 'acme', metric: 'connections', at: d1 + 10 * M + S, value: 40 },
    { id: 'c2', account: 'acme', metric: 'connections', at: d1 + 20 * M, value: 0 },
  ];
  const { usage, duplicates } = meterMetrics(samples, june, periodDays(june));
  assert.equal(duplicates, 1);
  const hits = usage.find((u) => u.metric === 'hits')!;
  assert.equal(hits.total, 150n);
  assert.deepEqual(
    hits.byDay.slice(0, 2).map((d) => d.total),
    [100n, 50n],
  );
  const conns = usage.find((u) => u.metric === 'connections')!;
  // 10 for minutes 0–10 (the value in force at the start), 40 for minutes 11–19, 0 after.
  assert.equal(conns.total, 10n * 11n + 40n * 9n);
  assert.equal(conns.peak, 40);
});

test('raw facts and samples are validated with the field that is wrong', () => {
  const ok = parseAllocationEvent({
    kind: 'allocated',
    id: 'm1:attached',
    server: 's1',
    account: 'acme',
    role: 'web',
    at: '2024-06-01T10:00:00Z',
    ramMb: 512,
  });
  assert.equal(ok.at, T0);
  const cases = [
    { raw: { kind: 'allocated', id: 'x', server: 's', account: 'a', role: 'web', at: T0 }, field: 'event.ramMb' },
    { raw: { kind: 'moved', id: 'x', server: 's', account: 'a', role: 'web', at: T0 }, field: 'event.kind' },
    { raw: { kind: 'released', id: 'x y', server: 's', account: 'a', role: 'web', at: T0 }, field: 'event.id' },
    { raw: { kind: 'released', id: 'x', server: 's', account: 'a', role: 'cache', at: T0 }, field: 'event.role' },
    { raw: { kind: 'released', id: 'x', server: 's', account: 'a', role: 'web', at: '1 June' }, field: 'event.at' },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseAllocationEvent(c.raw),
      (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && (e.fields ?? []).some((f) => f.field === c.field),
      c.field,
    );
  }
  assert.throws(
    () => parseMetricSample({ id: 'x', account: 'a', metric: 'hits', at: T0, value: -1 }),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.fields?.[0]?.field === 'sample.value',
  );
});

test('the usage report and the per-minute series agree with the segments', () => {
  const events = [
    ev('allocated', 'a', 's1', 'acme', T0 + 2 * M, 2048),
    ev('allocated', 'b', 's2', 'acme', T0 + 4 * M),
    ev('released', 'c', 's1', 'acme', T0 + 6 * M),
  ];
  const u = meterAllocations(events, WINDOW);
  const series = perMinute(u.roles[0]!, T0, T0 + 8 * M);
  assert.deepEqual(series, [0, 0, 1, 1, 2, 2, 1, 1]);
  const [row] = usageReport(u, () => ({ committed: 1, burst: 2, extended: 2 }));
  assert.equal(row?.serverMinutes, 4 + 56); // s1 for minutes 2–5, s2 for minutes 4–59
  assert.equal(toPlainDecimal(row!.ramGbHours), toPlainDecimal(ratio(2 * 4 + 56, 60))); // 2 GB × 4 min + 1 GB × 56 min
  assert.equal(row?.levels?.burst, 2);
});
