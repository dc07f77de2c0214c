// The billing store on PGlite: facts derived from the allocation history idempotently, the
// window query, drafts as of an instant, counters, plans and the daily state round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openPglite, migrate } from '../../../../src/drivers/store/index.js';
import type { Store } from '../../../../src/drivers/store/index.js';
import * as db from '../../../../src/drivers/store/resources.js';
import * as bdb from '../../../../src/drivers/store/billing.js';
import {
  MINUTE_MS,
  initialAllotmentState,
  meterAllocations,
  monthPeriod,
  parseAllotmentPlan,
  ratio,
  runAllotmentDay,
  usageReport,
} from '../../../../src/core/billing/index.js';

const T0 = Date.UTC(2026, 10, 1); // 2026-11-01, the period of the tests.
const min = (n: number): number => T0 + n * MINUTE_MS;

async function fixture(servers = 3): Promise<Store> {
  const store = await openPglite(null);
  await migrate(store);
  await db.upsertSite(store, { id: 'test', name: 'test', timeZone: 'UTC' });
  for (const a of ['alpha', 'beta']) {
    await db.createAccount(store, { id: a, displayName: a });
    await db.createGroup(store, {
      id: `${a}-web`,
      accountId: a,
      siteId: 'test',
      role: 'front-end',
      minSize: 0,
      maxSize: 8,
      runtime: { serviceTimeMs: 1, concurrency: 1, maxQueue: 1 },
      domains: [],
    });
  }
  for (let i = 1; i <= servers; i++) {
    await db.registerServer(store, {
      id: `srv-${i}`,
      siteId: 'test',
      bmcUrl: 'http://bmc',
      systemId: `s${i}`,
      uuid: `uuid-${i}`,
      address: `127.0.0.1:${1000 + i}`,
    });
  }
  return store;
}

async function allocate(
  store: Store,
  server: string,
  account: string,
  fromMs: number,
  toMs: number | null,
): Promise<void> {
  await db.openAllocation(store, {
    serverId: server,
    accountId: account,
    groupId: `${account}-web`,
    role: 'front-end',
    at: new Date(fromMs),
  });
  if (toMs !== null) await db.closeAllocation(store, server, new Date(toMs));
}

/** naiveMinutes counts, minute by minute, the servers an account holds at each minute's start. */
function naiveMinutes(
  stretches: readonly { account: string; from: number; to: number }[],
  account: string,
  startMs: number,
  endMs: number,
): number {
  let n = 0;
  for (let t = startMs; t < endMs; t += MINUTE_MS)
    for (const s of stretches) if (s.account === account && s.from <= t && t < s.to) n++;
  return n;
}

test('facts from the allocation history: written once however often synced, billed by the minute rule', async () => {
  const store = await fixture();
  try {
    await allocate(store, 'srv-1', 'alpha', min(0) + 30_000, min(10) + 5_000); // minutes 1..10 → 10
    await allocate(store, 'srv-1', 'beta', min(10) + 5_000, min(20)); // minutes 11..19 → 9
    await allocate(store, 'srv-2', 'alpha', min(5), null); // open
    assert.deepEqual(await bdb.syncAllocationFacts(store, { ramMb: 512 }), { inserted: 5 });
    assert.deepEqual(await bdb.syncAllocationFacts(store, { ramMb: 512 }), { inserted: 0 });
    await db.closeAllocation(store, 'srv-2', new Date(min(65)));
    assert.deepEqual(await bdb.syncAllocationFacts(store, { ramMb: 2048 }), { inserted: 1 });
    assert.deepEqual(await bdb.countFacts(store), { allocated: 3, released: 3 });

    const p = monthPeriod('2026-11');
    const facts = await bdb.loadAllocationFacts(store, { account: 'alpha', startMs: p.startMs, endMs: p.endMs });
    assert.equal(facts.length, 4, 'both facts of both alpha stretches');
    const rows = usageReport(meterAllocations(facts, p));
    assert.deepEqual(
      rows.map((r) => [r.account, r.serverMinutes]),
      [['alpha', 10 + 60]],
    );
    // ram of srv-2 was recorded when its stretch was first synced (512 MB), not at the later sync.
    assert.deepEqual(rows[0]?.ramGbHours, ratio(70 * 512, 60 * 1024));

    // A window after both stretches closed holds nothing of them.
    const later = await bdb.loadAllocationFacts(store, { account: 'alpha', startMs: min(70), endMs: min(200) });
    assert.equal(later.length, 0);
  } finally {
    await store.close();
  }
});

test('factsAsOf closes open stretches at the instant and drops later facts', async () => {
  const store = await fixture();
  try {
    await allocate(store, 'srv-1', 'alpha', min(2), null);
    await allocate(store, 'srv-2', 'alpha', min(3), min(50));
    await bdb.syncAllocationFacts(store, { ramMb: 1024 });
    const p = monthPeriod('2026-11');
    const facts = await bdb.loadAllocationFacts(store, { account: null, startMs: p.startMs, endMs: p.endMs });
    const table = [
      { name: 'before anything', at: min(1), want: 0 },
      { name: 'while both run', at: min(10), want: 8 + 7 },
      { name: 'after srv-2 left', at: min(100), want: 98 + 47 },
    ];
    for (const c of table) {
      const rows = usageReport(meterAllocations(bdb.factsAsOf(facts, c.at), p));
      assert.equal(
        rows.reduce((s, r) => s + r.serverMinutes, 0),
        c.want,
        c.name,
      );
    }
  } finally {
    await store.close();
  }
});

test('property: metered minutes equal a naive per-minute count, whatever the history and however often synced', async () => {
  const store = await fixture(4);
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            server: fc.integer({ min: 1, max: 4 }),
            account: fc.constantFrom('alpha', 'beta'),
            gap: fc.integer({ min: 0, max: 200_000 }),
            len: fc.integer({ min: 1, max: 600_000 }),
          }),
          { maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 3 }),
        async (stretches, syncs) => {
          await store.query('DELETE FROM billing_facts');
          await store.query('DELETE FROM allocations');
          const next = new Map<number, number>();
          const made: { account: string; from: number; to: number }[] = [];
          for (const s of stretches) {
            const from = (next.get(s.server) ?? T0) + s.gap;
            const to = from + s.len;
            next.set(s.server, to);
            await allocate(store, `srv-${s.server}`, s.account, from, to);
            // The minute rule: held from the first boundary at or after it starts, to the first at or after it ends.
            made.push({
              account: s.account,
              from: Math.ceil(from / MINUTE_MS) * MINUTE_MS,
              to: Math.ceil(to / MINUTE_MS) * MINUTE_MS,
            });
            if (made.length % 3 === 0) await bdb.syncAllocationFacts(store, { ramMb: 1024 });
          }
          for (let i = 0; i < syncs; i++) await bdb.syncAllocationFacts(store, { ramMb: 1024 });
          const p = monthPeriod('2026-11');
          const end = T0 + 4 * 60 * MINUTE_MS;
          for (const account of ['alpha', 'beta']) {
            const facts = await bdb.loadAllocationFacts(store, { account, startMs: p.startMs, endMs: p.endMs });
            const got = usageReport(meterAllocations(facts, p))
              .filter((r) => r.account === account)
              .reduce((s, r) => s + r.serverMinutes, 0);
            assert.equal(got, naiveMinutes(made, account, T0, end), account);
          }
        },
      ),
      { numRuns: 25 },
    );
  } finally {
    await store.close();
  }
});

test('counterDeltas: growth since the last reading, resets count from zero, absent keys forgotten', async () => {
  const store = await fixture();
  try {
    const steps = [
      {
        readings: [
          { key: 'a/1', value: 5 },
          { key: 'a/2', value: 0 },
        ],
        want: { 'a/1': 5, 'a/2': 0 },
      },
      {
        readings: [
          { key: 'a/1', value: 12 },
          { key: 'a/2', value: 3 },
        ],
        want: { 'a/1': 7, 'a/2': 3 },
      },
      { readings: [{ key: 'a/1', value: 4 }], want: { 'a/1': 4 } }, // reset; a/2 detached
      {
        readings: [
          { key: 'a/1', value: 4 },
          { key: 'a/2', value: 2 },
        ],
        want: { 'a/1': 0, 'a/2': 2 },
      }, // a/2 back, from zero
    ];
    for (const [i, s] of steps.entries()) {
      const got = await store.transaction((tx) => bdb.counterDeltas(tx, 'edge-served', s.readings, T0 + i));
      assert.deepEqual(Object.fromEntries(got), s.want, `step ${i}`);
    }
  } finally {
    await store.close();
  }
});

test('plans, assignment and the daily state round trip', async () => {
  const store = await fixture();
  try {
    const body = {
      id: 'ram-400',
      currency: 'USD',
      price: '99.99',
      allotments: [{ resource: 'ram-gb-hours', included: 400, overageRate: 1, cutOffAt: 600 }],
    };
    assert.equal((await bdb.putPlan(store, { id: 'ram-400', kind: 'allotment', body })).created, true);
    assert.equal((await bdb.putPlan(store, { id: 'ram-400', kind: 'allotment', body })).created, false);
    await assert.rejects(bdb.assignPlan(store, { accountId: 'alpha', planId: 'nope', by: 'op' }), {
      code: 'E_NOT_FOUND',
    });
    await bdb.assignPlan(store, { accountId: 'alpha', planId: 'ram-400', by: 'op' });
    assert.deepEqual(
      (await bdb.listAccountPlans(store, 'allotment')).map((a) => a.accountId),
      ['alpha'],
    );
    assert.deepEqual(await bdb.listAccountPlans(store, 'sla'), []);

    const plan = parseAllotmentPlan((await bdb.getPlan(store, 'ram-400'))?.body);
    const r = runAllotmentDay(plan, [plan], initialAllotmentState(plan), {
      date: '2026-11-01',
      usage: { 'ram-gb-hours': ratio(1001, 2) },
    });
    assert.equal(
      await bdb.saveAllotmentState(store, {
        accountId: 'alpha',
        period: '2026-11',
        state: r.state,
        existed: false,
        expectedLastDay: null,
        expectedFailures: 0,
      }),
      true,
    );
    assert.equal(
      await bdb.saveAllotmentState(store, {
        accountId: 'alpha',
        period: '2026-11',
        state: r.state,
        existed: false,
        expectedLastDay: null,
        expectedFailures: 0,
      }),
      false,
      'a second first save loses',
    );
    const back = await bdb.getAllotmentState(store, 'alpha', '2026-11');
    assert.deepEqual(back?.state, r.state);
    // A stale writer (expects an older day) cannot overwrite.
    assert.equal(
      await bdb.saveAllotmentState(store, {
        accountId: 'alpha',
        period: '2026-11',
        state: r.state,
        existed: true,
        expectedLastDay: null,
        expectedFailures: 0,
      }),
      false,
    );

    await bdb.setRestriction(store, {
      accountId: 'alpha',
      action: 'throttle',
      reason: 'cut-off-threshold',
      resource: 'ram-gb-hours',
      day: '2026-11-02',
    });
    await bdb.setRestriction(store, {
      accountId: 'alpha',
      action: 'lock-admin-only',
      reason: 'cut-off-threshold',
      resource: null,
      day: '2026-11-03',
    });
    assert.equal(
      (await bdb.getRestriction(store, 'alpha'))?.action,
      'throttle',
      'a milder restriction does not replace one in force',
    );
    await bdb.setRestriction(store, {
      accountId: 'alpha',
      action: 'suspend',
      reason: 'payment-failures',
      resource: null,
      day: '2026-11-04',
    });
    assert.equal((await bdb.getRestriction(store, 'alpha'))?.action, 'suspend');
    assert.equal(await bdb.clearRestriction(store, 'alpha'), true);
    assert.equal(await bdb.getRestriction(store, 'alpha'), null);
  } finally {
    await store.close();
  }
});

test('samples: stored once by id; a gauge brings its last value from before the window', async () => {
  const store = await fixture();
  try {
    const s = [
      { id: 'c1', account: 'alpha', metric: 'connections' as const, at: min(-5), value: 7 },
      { id: 'c0', account: 'alpha', metric: 'connections' as const, at: min(-50), value: 1 },
      { id: 'h1', account: 'alpha', metric: 'hits' as const, at: min(-5), value: 100 },
      { id: 'h2', account: 'alpha', metric: 'hits' as const, at: min(3), value: 9 },
    ];
    assert.equal(await bdb.insertSamples(store, s), 4);
    assert.equal(await bdb.insertSamples(store, s), 0);
    const got = await bdb.loadSamples(store, { account: 'alpha', startMs: T0, endMs: min(60) });
    assert.deepEqual(got.map((x) => x.id).sort(), ['c1', 'h2']);
  } finally {
    await store.close();
  }
});
