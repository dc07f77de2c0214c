// Every worked example of the seeds' billing passages, reproduced through the billing core.
// Citations (the sources docs/BILLING.md names): 003 = seed 003 (paragraph quoted), 001 = the
// Figure 12 passage of seed 001, 000 = claim 10 of seed 000.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type AllocationEvent,
  type AllotmentDay,
  type AllotmentPlan,
  type Ratio,
  accountRamGbHoursByDay,
  amountDecimal,
  exact,
  initialAllotmentState,
  invoiceAllotment,
  invoiceSla,
  meterAllocations,
  meterMetrics,
  monthPeriod,
  parseAllotmentPlan,
  parseSlaPlan,
  periodDays,
  periodHours,
  projectRamGbHours,
  raiseMeasure,
  rateAllotmentPeriod,
  ratio,
  recommendAllotmentPlan,
  recordPayment,
  runAllotmentDay,
  serverLevelsFromMeasure,
  toPlainDecimal,
} from '../../../../src/core/billing/index.js';

const JUNE = monthPeriod('2024-06'); // 30 days = 720 hours, the month of seed 003's examples
const H = 3_600_000;
const at = (hours: number): number => JUNE.startMs + hours * H;
const dec = (r: Ratio): string => toPlainDecimal(r, 6);

function alloc(
  id: string,
  server: string,
  account: string,
  hours: number,
  ramMb = 1024,
  role: 'front-end' | 'back-end' = 'front-end',
): AllocationEvent {
  return { kind: 'allocated', id, server, account, role, at: at(hours), ramMb };
}
function release(
  id: string,
  server: string,
  account: string,
  hours: number,
  role: 'front-end' | 'back-end' = 'front-end',
): AllocationEvent {
  return { kind: 'released', id, server, account, role, at: at(hours) };
}

/** The 400 GB RAM-hour plan of 003 ("allotting 400 gigabytes of RAM hours over the billing period for a fee of 99.99", overage "1 per gigabyte RAM hour", "cut off at 600 gigabytes of RAM hours"). */
function plan400(cutOffAction: string = 'suspend'): AllotmentPlan {
  return parseAllotmentPlan({
    id: 'ram-400',
    name: 'RAM 400',
    currency: 'USD',
    price: '99.99',
    allotments: [{ resource: 'ram-gb-hours', included: 400, overageRate: '1.00', cutOffAt: 600 }],
    cutOffAction,
  });
}
const plan900 = parseAllotmentPlan({
  id: 'ram-900',
  name: 'RAM 900',
  currency: 'USD',
  price: '199.99',
  allotments: [{ resource: 'ram-gb-hours', included: 900, overageRate: '0.80', cutOffAt: 1200 }],
});
const plan2400 = parseAllotmentPlan({
  id: 'ram-2400',
  name: 'RAM 2400',
  currency: 'USD',
  price: '449.99',
  allotments: [{ resource: 'ram-gb-hours', included: 2400, overageRate: '0.60' }],
});

test('003: 512 MB + 1 GB + 1.5 GB web servers project to 2160 GB RAM-hours over a 720-hour month', () => {
  // "three web servers … 512 megabytes … 1 gigabyte … 1.5 gigabytes … 3 gigabytes of RAM hours … one month billing period to result in 2160 gigabytes of RAM hours"
  assert.equal(periodHours(JUNE), 720);
  assert.equal(dec(projectRamGbHours([512, 1024, 1536], periodHours(JUNE))), '2160');
  // The same figure metered from an allocation history that holds the three servers all month.
  const usage = meterAllocations(
    [alloc('a1', 's1', 'acme', 0, 512), alloc('a2', 's2', 'acme', 0, 1024), alloc('a3', 's3', 'acme', 0, 1536)],
    JUNE,
  );
  const total = accountRamGbHoursByDay(usage, 'acme', periodDays(JUNE)).reduce(
    (s, d) => exact.add(s, d.gbHours),
    exact.ZERO,
  );
  assert.equal(dec(total), '2160');
  // 003: projection beyond the plan recommends a larger one ("recommends that the user select a resource allotment plan …").
  const rec = recommendAllotmentPlan(plan900, { 'ram-gb-hours': total }, [plan400(), plan900, plan2400]);
  assert.deepEqual(
    rec.exceeds.map((e) => [e.resource, dec(e.projected), dec(e.included)]),
    [['ram-gb-hours', '2160', '900']],
  );
  assert.equal(rec.recommended?.id, 'ram-2400');
});

test('003: 2 GB for 360 hours then 512 MB for 360 hours consume exactly the 900 GB RAM-hour plan', () => {
  // "a plan with 900 gigabytes of RAM hours … allot 2 gigabytes of RAM … for 360 hours … then allot only 512 megabytes … for the remaining 360 hours … the total 900 gigabytes of RAM hours"
  const events = [alloc('a1', 's1', 'acme', 0, 2048), alloc('a2', 's1', 'acme', 360, 512)]; // the second fact resizes
  const usage = meterAllocations(events, JUNE);
  const days = accountRamGbHoursByDay(usage, 'acme', periodDays(JUNE));
  assert.equal(dec(days.reduce((s, d) => exact.add(s, d.gbHours), exact.ZERO)), '900');
  assert.equal(dec(days[0]!.gbHours), '48'); // 2 GB × 24 h
  assert.equal(dec(days[29]!.gbHours), '12'); // 0.5 GB × 24 h
  const { invoice } = invoiceAllotment(plan900, 'acme', JUNE, usage, [], {
    issuedAtMs: JUNE.endMs,
    catalogue: [plan900, plan2400],
  });
  assert.equal(amountDecimal(invoice.total), '199.99'); // no overage: exactly the allotment
  assert.equal(invoice.lines.length, 1);
  assert.deepEqual(invoice.recommendations, []);
});

test('003: the 400 GB RAM-hour plan at 99.99 with 500 used bills 100 GB RAM-hours of overage at 1.00: 60 then 40 on the last two days', () => {
  // "allots 400 gigabytes of RAM hours … actually utilizes 500 … billed an additional 100 hours of overage … at the overage rate of 1 …
  //  60 gigabytes of overage RAM hours occurred on the second to last day … billed 60 … 40 … on the last day … charged 40"
  // Metered from an allocation history: 25 GB for 16 hours on June 1 (400), 2.5 GB all of June 29 (60), 5 GB for 8 hours on June 30 (40).
  const events = [
    alloc('a1', 'big', 'acme', 0, 25 * 1024),
    release('r1', 'big', 'acme', 16),
    alloc('a2', 'mid', 'acme', 28 * 24, 2560),
    release('r2', 'mid', 'acme', 29 * 24),
    alloc('a3', 'small', 'acme', 29 * 24, 5 * 1024),
    release('r3', 'small', 'acme', 29 * 24 + 8),
  ];
  const usage = meterAllocations(events, JUNE);
  const { invoice, rating } = invoiceAllotment(plan400(), 'acme', JUNE, usage, [], {
    issuedAtMs: JUNE.endMs,
    catalogue: [plan400(), plan900, plan2400],
  });
  assert.deepEqual(
    invoice.lines.map((l) => [l.kind, l.date, dec(l.quantity), dec(l.rate), amountDecimal(l.amount)]),
    [
      ['plan', null, '1', '99.99', '99.99'],
      ['overage', '2024-06-29', '60', '1', '60.00'],
      ['overage', '2024-06-30', '40', '1', '40.00'],
    ],
  );
  assert.equal(amountDecimal(invoice.total), '199.99');
  assert.equal(dec(rating.state.used['ram-gb-hours']!), '500');
  assert.equal(dec(rating.state.overageBilled['ram-gb-hours']!), '100');
  assert.equal(rating.state.restricted, null); // 500 < the 600 cut-off
  // 500 used exceeds the plan: recommend the next plan for the coming period.
  assert.equal(invoice.recommendations[0]?.kind, 'change-plan');
  assert.equal(invoice.recommendations[0]?.kind === 'change-plan' ? invoice.recommendations[0].to : '', 'ram-900');
});

test('003: exceeding the 400 GB RAM-hour allotment by 10 in one day is an overage charge of 10.00', () => {
  // "exceeds the 400 gigabytes of allotted RAM hours by 10 gigabytes of RAM hours in one day will be assessed an overage charge of 10.00"
  const plan = plan400();
  let state = initialAllotmentState(plan);
  state = runAllotmentDay(plan, [], state, { date: '2024-06-01', usage: { 'ram-gb-hours': ratio(400) } }).state;
  const r = runAllotmentDay(plan, [], state, { date: '2024-06-02', usage: { 'ram-gb-hours': ratio(10) } });
  assert.deepEqual(
    r.charges.map((c) => [dec(c.quantity), amountDecimal(c.amount)]),
    [['10', '10.00']],
  );
  // Re-running the same day after a failover charges nothing more.
  assert.deepEqual(
    runAllotmentDay(plan, [], r.state, { date: '2024-06-02', usage: { 'ram-gb-hours': ratio(10) } }).charges,
    [],
  );
});

test('003: the cut-off at 600 GB RAM-hours carries out the configured action', () => {
  // "specifies a cut off at 600 gigabytes of RAM hours … restrict the resources for the configuration or completely disable the configuration";
  // "only disable administrative controls"; "throttles the configuration"; "automatically select the next larger resource allotment plan".
  const days = (perDay: number[]): AllotmentDay[] =>
    perDay.map((v, i) => ({ date: `2024-06-${String(i + 1).padStart(2, '0')}`, usage: { 'ram-gb-hours': ratio(v) } }));
  const cases = [
    { name: 'just below the cut-off', action: 'suspend', usage: [400, 199], want: [] as string[] },
    {
      name: 'suspend at exactly 600',
      action: 'suspend',
      usage: [400, 200, 50],
      want: ['2024-06-02 restrict suspend cut-off-threshold'],
    },
    { name: 'throttle', action: 'throttle', usage: [599, 1], want: ['2024-06-02 restrict throttle cut-off-threshold'] },
    {
      name: 'lock the administrative controls only',
      action: 'lock-admin-only',
      usage: [700],
      want: ['2024-06-01 restrict lock-admin-only cut-off-threshold'],
    },
    {
      name: 'upgrade to the next larger plan',
      action: 'upgrade',
      usage: [650],
      want: ['2024-06-01 upgrade ram-400→ram-900'],
    },
  ];
  for (const c of cases) {
    const r = rateAllotmentPeriod(plan400(c.action), [plan400(c.action), plan2400, plan900], days(c.usage));
    const got = r.actions
      .filter((a) => a.action.kind !== 'notify')
      .map((a) =>
        a.action.kind === 'restrict'
          ? `${a.date} restrict ${a.action.action} ${a.action.reason}`
          : a.action.kind === 'upgrade'
            ? `${a.date} upgrade ${a.action.from}→${a.action.to}`
            : '',
      );
    assert.deepEqual(got, c.want, c.name);
  }
  // After the upgrade the larger plan's price replaces the smaller one and its allotment
  // applies from the next day: 650 on day 1 (250 overage billed on the old plan), 300 more
  // on day 2 → 950 used, covered by 900 + the 250 already billed, so no further overage.
  const up = rateAllotmentPeriod(plan400('upgrade'), [plan400('upgrade'), plan900, plan2400], days([650, 300]));
  assert.deepEqual(
    up.lines.map((l) => [l.kind, l.date, amountDecimal(l.amount)]),
    [
      ['plan', null, '199.99'],
      ['overage', '2024-06-01', '250.00'],
    ],
  );
  assert.equal(up.plan.id, 'ram-900');
  // With no larger plan to move to, the upgrade falls back to suspending.
  const none = rateAllotmentPeriod(plan400('upgrade'), [plan400('upgrade')], days([650]));
  assert.deepEqual(
    none.actions
      .filter((a) => a.action.kind === 'restrict')
      .map((a) => a.action.kind === 'restrict' && a.action.reason),
    ['no-larger-plan'],
  );
});

test('003: three consecutive failed overage payments suspend the configuration; a success resets the count', () => {
  // "increments … a variable to track the number of failed overage billing attempts … greater than a specified number of acceptable failures e.g. three consecutive days of nonpayment … automatic restricting of services"
  const plan = plan400();
  const cases = [
    { name: 'two failures', outcomes: ['failed', 'failed'], suspended: false, count: 2 },
    { name: 'three failures in a row', outcomes: ['failed', 'failed', 'failed'], suspended: true, count: 3 },
    {
      name: 'a payment in between resets',
      outcomes: ['failed', 'failed', 'paid', 'failed', 'failed'],
      suspended: false,
      count: 2,
    },
  ] as const;
  for (const c of cases) {
    let state = initialAllotmentState(plan);
    const actions = [];
    for (const o of c.outcomes) {
      const r = recordPayment(plan, state, o);
      state = r.state;
      actions.push(...r.actions);
    }
    assert.equal(state.restricted === 'suspend', c.suspended, c.name);
    assert.equal(state.consecutivePaymentFailures, c.count, c.name);
    assert.equal(actions.length, c.suspended ? 1 : 0, c.name);
  }
  // Through the daily process: overage on days 1–3 with every charge failing → suspended on day 3.
  const days: AllotmentDay[] = [1, 2, 3].map((d) => ({
    date: `2024-06-0${d}`,
    usage: { 'ram-gb-hours': ratio(d === 1 ? 410 : 10) },
  }));
  const r = rateAllotmentPeriod(plan, [], days, {
    '2024-06-01': 'failed',
    '2024-06-02': 'failed',
    '2024-06-03': 'failed',
  });
  assert.deepEqual(
    r.actions
      .filter((a) => a.action.kind === 'restrict')
      .map((a) => [a.date, a.action.kind === 'restrict' && a.action.reason]),
    [['2024-06-03', 'payment-failures']],
  );
});

test('001 Figure 12: 640,000 connections committed, burst to double, extended to a higher multiple, next period raised by 50%', () => {
  // "the customer account is provided with the capacity to support hosted services for 640,000 simultaneous connections";
  // "second level … double the capacity at the first level"; "third level … up to a higher multiple times the level of service";
  // "charged a higher rate … some additional multiple of the rate"; "an even larger multiple"; "one-time fee for initiating";
  // "the service level agreement is increased by 50 percent from a first period to a second period".
  const levels = serverLevelsFromMeasure({
    committed: 640_000,
    burstMultiple: 2,
    extendedMultiple: 4,
    perServer: 40_000,
  });
  assert.deepEqual(levels, { committed: 16, burst: 32, extended: 64 });
  const plan = parseSlaPlan({
    id: 'fig12',
    name: 'Figure 12',
    currency: 'USD',
    burstMultiple: 2,
    extendedMultiple: 3,
    burstEntryFee: '50',
    extendedEntryFee: '200',
    servers: { 'front-end': { ...levels, rate: '0.10' } },
  });
  const events: AllocationEvent[] = [];
  for (let i = 0; i < 16; i++)
    events.push({
      kind: 'allocated',
      id: `c${i}`,
      server: `s${i}`,
      account: 'acme',
      role: 'front-end',
      at: JUNE.startMs - 86_400_000,
      ramMb: 4096,
    });
  // A higher than anticipated peak: 16 more servers for 96 hours (burst), 8 beyond those for 10 hours (extended, from another site).
  for (let i = 16; i < 32; i++)
    events.push(alloc(`b${i}`, `s${i}`, 'acme', 100, 4096), release(`br${i}`, `s${i}`, 'acme', 196));
  for (let i = 32; i < 40; i++)
    events.push(alloc(`e${i}`, `s${i}`, 'acme', 120, 4096), release(`er${i}`, `s${i}`, 'acme', 130));
  const { invoice, rating } = invoiceSla(plan, 'acme', JUNE, meterAllocations(events, JUNE), [], {
    issuedAtMs: JUNE.endMs,
  });
  assert.deepEqual(
    invoice.lines.map((l) => [l.level, dec(l.quantity), dec(l.rate), amountDecimal(l.amount)]),
    [
      ['committed', '11520', '0.1', '1152.00'], // 16 servers × 720 h × 0.10 (committed capacity, reserved)
      ['burst', '1536', '0.2', '307.20'], // 16 × 96 h at 2 × the committed rate
      ['extended', '80', '0.3', '24.00'], // 8 × 10 h at 3 ×
      ['burst', '1', '50', '50.00'], // one-time fee for entering burst
      ['extended', '1', '200', '200.00'], // one-time fee for entering extended
    ],
  );
  assert.equal(amountDecimal(invoice.total), '1733.20');
  assert.equal(rating.roles[0]?.minutes.peakServers, 40);
  // 96 of 720 hours above committed (13.3 %): the recommendation raises every level by 50 %.
  assert.deepEqual(
    invoice.recommendations.map((r) => r.kind !== 'change-plan' && [r.kind, r.from.committed, r.to]),
    [['raise-committed', 16, { committed: 24, burst: 48, extended: 96 }]],
  );
  assert.equal(raiseMeasure(640_000, ratio(1, 2)), 960_000);
});

test('000 claim 10: a server dynamically reallocated to an account beyond its commitment is billed at a higher rate', () => {
  // "billing a customer account at a higher rate for the hosted services when said at least one server is dynamically reallocated to that customer account"
  const plan = parseSlaPlan({
    id: 'c10',
    currency: 'EUR',
    burstMultiple: '1.5',
    extendedMultiple: '2.5',
    committedBilling: 'used',
    servers: { 'back-end': { committed: 2, burst: 3, extended: 4, rate: '1.00' } },
  });
  const events = [
    alloc('a', 'x', 'acme', 0, 1024, 'back-end'),
    alloc('b', 'y', 'acme', 0, 1024, 'back-end'),
    alloc('c', 'z', 'acme', 10, 1024, 'back-end'),
    release('d', 'z', 'acme', 11, 'back-end'),
  ];
  const { invoice } = invoiceSla(plan, 'acme', JUNE, meterAllocations(events, JUNE), [], { issuedAtMs: JUNE.endMs });
  const perHour = invoice.lines.map((l) => [l.level, amountDecimal(l.amount), dec(l.rate)]);
  assert.deepEqual(perHour, [
    ['committed', '1440.00', '1'],
    ['burst', '1.50', '1.5'],
  ]);
});

test('003: a data-transfer projection of about 10 GB recommends a plan that includes at least 10 GB; transfer overage is billed daily', () => {
  // "if the projected usage for data transfer is about 10 GB then the multi server control panel displays a message recommending a hosting plan that includes at least 10 GB of data transfer"
  const t5 = parseAllotmentPlan({
    id: 'xfer-5',
    currency: 'USD',
    price: '4.99',
    allotments: [{ resource: 'transfer-gb', included: 5, overageRate: '0.50' }],
  });
  const t10 = parseAllotmentPlan({
    id: 'xfer-10',
    currency: 'USD',
    price: '8.99',
    allotments: [{ resource: 'transfer-gb', included: 10, overageRate: '0.40' }],
  });
  const t50 = parseAllotmentPlan({
    id: 'xfer-50',
    currency: 'USD',
    price: '29.99',
    allotments: [{ resource: 'transfer-gb', included: 50, overageRate: '0.30' }],
  });
  const rec = recommendAllotmentPlan(t5, { 'transfer-gb': ratio(10) }, [t50, t10, t5]);
  assert.equal(rec.recommended?.id, 'xfer-10');
  // Metered: 4 GB on June 1, 3 GB on June 2 (2 over the 5 GB allotment → 1.00 at 0.50).
  const GB = 2 ** 30;
  const samples = [
    { id: 'x1', account: 'acme', metric: 'transfer-bytes' as const, at: JUNE.startMs + H, value: 4 * GB },
    { id: 'x2', account: 'acme', metric: 'transfer-bytes' as const, at: JUNE.startMs + 30 * H, value: 3 * GB },
  ];
  const { usage: metrics } = meterMetrics(samples, JUNE, periodDays(JUNE));
  const { invoice } = invoiceAllotment(t5, 'acme', JUNE, meterAllocations([], JUNE), metrics, {
    issuedAtMs: JUNE.endMs,
    catalogue: [t5, t10, t50],
  });
  assert.deepEqual(
    invoice.lines.map((l) => [l.date, dec(l.quantity), amountDecimal(l.amount)]),
    [
      [null, '1', '4.99'],
      ['2024-06-02', '2', '1.00'],
    ],
  );
  assert.equal(amountDecimal(invoice.total), '5.99');
});
