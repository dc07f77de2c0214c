// The daily allotment process of seed 003 on a real store (PGlite): the 400 GB RAM-hour plan at
// 99.99 with 500 used → overage 60.00 on the second-to-last day and 40.00 on the last; the
// cut-off (suspend recorded as a restriction, or upgrade to the next larger plan); failed
// payments counted once per day; every day processed once however often the job runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { openPglite, migrate } from '../../../../src/drivers/store/index.js';
import type { Store } from '../../../../src/drivers/store/index.js';
import * as db from '../../../../src/drivers/store/resources.js';
import * as bdb from '../../../../src/drivers/store/billing.js';
import {
  computeInvoice,
  recordPaymentOutcome,
  runDailyAllotments,
} from '../../../../src/services/manager/components/billing/index.js';
import type { ManagerConfig } from '../../../../src/services/manager/config.js';

const HOUR = 3_600_000;
const NOV = Date.UTC(2026, 10, 1);
const day = (d: number, h = 0): number => NOV + (d - 1) * 24 * HOUR + h * HOUR;
const DEC1 = day(31) + 5 * 60_000;

async function site(): Promise<{ store: Store; ctx: Parameters<typeof runDailyAllotments>[0] }> {
  const store = await openPglite(null);
  await migrate(store);
  await db.upsertSite(store, { id: 'test', name: 'test', timeZone: 'UTC' });
  await db.createAccount(store, { id: 'alpha', displayName: 'alpha' });
  await db.createGroup(store, {
    id: 'alpha-web',
    accountId: 'alpha',
    siteId: 'test',
    role: 'front-end',
    minSize: 0,
    maxSize: 8,
    runtime: { serviceTimeMs: 1, concurrency: 1, maxQueue: 1 },
    domains: [],
  });
  for (let i = 1; i <= 3; i++)
    await db.registerServer(store, {
      id: `srv-${i}`,
      siteId: 'test',
      bmcUrl: 'http://bmc',
      systemId: `s${i}`,
      uuid: `u${i}`,
      address: `127.0.0.1:${2000 + i}`,
    });
  const stretch = async (server: string, from: number, to: number, ramMb: number): Promise<void> => {
    await db.openAllocation(store, {
      serverId: server,
      accountId: 'alpha',
      groupId: 'alpha-web',
      role: 'front-end',
      at: new Date(from),
    });
    await db.closeAllocation(store, server, new Date(to));
    // The memory is recorded when a stretch is first synced.
    await bdb.syncAllocationFacts(store, { ramMb });
  };
  await stretch('srv-1', day(1), day(1) + 400 * HOUR, 1024); // 400 GB·h by November 17
  await stretch('srv-2', day(29), day(30), 2560); // 2.5 GB × 24 h = 60 on the 29th
  await stretch('srv-1', day(30), day(30, 20), 1024); // 2 × 1 GB × 20 h = 40 on the 30th
  await stretch('srv-3', day(30), day(30, 20), 1024);
  const cfg = { billing: { serverRamMb: 1024, meterIntervalMs: 60_000, provider: 'test' } } as unknown as ManagerConfig;
  return { store, ctx: { store, cfg, log: pino({ level: 'silent' }) } };
}

const RAM_400 = {
  id: 'ram-400',
  name: 'RAM 400',
  currency: 'USD',
  price: '99.99',
  allotments: [{ resource: 'ram-gb-hours', included: 400, overageRate: '1.00' }],
  maxConsecutivePaymentFailures: 2,
};
const RAM_900 = {
  id: 'ram-900',
  name: 'RAM 900',
  currency: 'USD',
  price: '199.99',
  allotments: [{ resource: 'ram-gb-hours', included: 900, overageRate: '0.50' }],
};

interface Charge {
  date: string;
  amountMinor: number;
}
async function charges(store: Store): Promise<Charge[]> {
  return (await bdb.listAllotmentDays(store, 'alpha', '2026-11')).flatMap((d) =>
    d.charges.map((c) => ({ date: String(c.date), amountMinor: Number(c.amountMinor) })),
  );
}

const table = [
  {
    name: 'no cut-off: overage 60.00 then 40.00, invoice 199.99',
    plan: RAM_400,
    wantCharges: [
      { date: '2026-11-29', amountMinor: 6000 },
      { date: '2026-11-30', amountMinor: 4000 },
    ],
    wantRestriction: null,
    wantPlanAfter: 'ram-400',
    wantTotal: 19999,
  },
  {
    name: 'cut-off at 450 suspends on the 29th; consumed overage still billed',
    plan: { ...RAM_400, allotments: [{ ...RAM_400.allotments[0], cutOffAt: 450 }], cutOffAction: 'suspend' },
    wantCharges: [
      { date: '2026-11-29', amountMinor: 6000 },
      { date: '2026-11-30', amountMinor: 4000 },
    ],
    wantRestriction: { action: 'suspend', reason: 'cut-off-threshold', day: '2026-11-29' },
    wantPlanAfter: 'ram-400',
    wantTotal: 19999,
  },
  {
    name: 'cut-off at 450 upgrades to ram-900: its price for the period, no overage after',
    plan: { ...RAM_400, allotments: [{ ...RAM_400.allotments[0], cutOffAt: 450 }], cutOffAction: 'upgrade' },
    wantCharges: [{ date: '2026-11-29', amountMinor: 6000 }],
    wantRestriction: null,
    wantPlanAfter: 'ram-900',
    wantTotal: 19999 + 6000,
  },
];

for (const c of table) {
  test(`daily allotment process: ${c.name}`, async () => {
    const { store, ctx } = await site();
    try {
      await bdb.putPlan(store, { id: 'ram-400', kind: 'allotment', body: c.plan });
      await bdb.putPlan(store, { id: 'ram-900', kind: 'allotment', body: RAM_900 });
      await bdb.assignPlan(store, { accountId: 'alpha', planId: 'ram-400', by: 'test' });
      // Mid-month only the days already over are processed.
      assert.equal(await runDailyAllotments(ctx, day(10, 12)), 9);
      assert.equal(await runDailyAllotments(ctx, DEC1), 21);
      assert.equal(await runDailyAllotments(ctx, DEC1), 0, 'a second run processes nothing');
      assert.deepEqual(await charges(store), c.wantCharges);
      const r = await bdb.getRestriction(store, 'alpha');
      assert.deepEqual(r === null ? null : { action: r.action, reason: r.reason, day: r.day }, c.wantRestriction);
      assert.equal((await bdb.getAccountPlan(store, 'alpha'))?.planId, c.wantPlanAfter);
      const inv = await computeInvoice(ctx, 'alpha', '2026-11', DEC1, DEC1);
      assert.equal(inv.draft, false);
      assert.equal(
        inv.invoice.total.amountMinor,
        BigInt(c.wantTotal),
        inv.invoice.lines.map((l) => `${l.description} ${l.amount.amountMinor}`).join('\n'),
      );
    } finally {
      await store.close();
    }
  });
}

test('failed payments: counted once per charged day; the plan’s limit in a row suspends', async () => {
  const { store, ctx } = await site();
  try {
    await bdb.putPlan(store, { id: 'ram-400', kind: 'allotment', body: RAM_400 });
    await bdb.assignPlan(store, { accountId: 'alpha', planId: 'ram-400', by: 'test' });
    await runDailyAllotments(ctx, DEC1);
    const steps = [
      {
        day: '2026-11-28',
        outcome: 'failed' as const,
        want: { recorded: true, counted: false, failures: 0, restricted: false },
      }, // no charge that day
      {
        day: '2026-11-29',
        outcome: 'failed' as const,
        want: { recorded: true, counted: true, failures: 1, restricted: false },
      },
      {
        day: '2026-11-29',
        outcome: 'failed' as const,
        want: { recorded: false, counted: false, failures: 1, restricted: false },
      }, // repeated
      {
        day: '2026-11-30',
        outcome: 'failed' as const,
        want: { recorded: true, counted: true, failures: 2, restricted: true },
      },
    ];
    for (const s of steps) {
      const r = await recordPaymentOutcome(store, 'alpha', s.day, s.outcome);
      assert.deepEqual(
        {
          recorded: r.recorded,
          counted: r.counted,
          failures: r.consecutivePaymentFailures,
          restricted: r.restriction !== null,
        },
        s.want,
        `${s.day} ${s.outcome}`,
      );
    }
    assert.equal((await bdb.getRestriction(store, 'alpha'))?.reason, 'payment-failures');
  } finally {
    await store.close();
  }
});
