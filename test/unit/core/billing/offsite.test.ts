// Servers lent by other sites (issue 16): their minutes by the local minute rule, one extended
// line per role at rate × extendedMultiple, the extended entry fee once per period however the
// level was entered, and RAM-hours like any other under an allotment plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  type AllocationEvent,
  type OffsiteMinutes,
  type OffsiteStretch,
  allotmentDaysFromUsage,
  amountDecimal,
  invoiceAllotment,
  invoiceSla,
  meterAllocations,
  meterOffsite,
  monthPeriod,
  offsiteMinutesByDay,
  parseAllotmentPlan,
  parseSlaPlan,
  periodDays,
  rateOffsite,
  toPlainDecimal,
} from '../../../../src/core/billing/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';
import { GOLD_WEB } from './offsite.fixture.js';

const JUNE = monthPeriod('2024-06');
const M = 60_000;
const H = 3_600_000;
const at = (minutes: number, seconds = 0): number => JUNE.startMs + minutes * M + seconds * 1000;
const dec = (r: { n: bigint; d: bigint }): string => toPlainDecimal(r, 6);

function stretch(o: Partial<OffsiteStretch> & { startMs: number }): OffsiteStretch {
  return { account: 'alpha', role: 'web', lender: 'east', endMs: null, ...o };
}

function plan(over: Record<string, unknown> = {}) {
  return parseSlaPlan({ id: 'gold', ...GOLD_WEB, ...over });
}

const meterCases: { name: string; stretches: OffsiteStretch[]; endMs?: number; want: OffsiteMinutes[] }[] = [
  {
    name: 'a closed stretch on minute boundaries counts its minutes',
    stretches: [stretch({ startMs: at(600), endMs: at(690) })],
    want: [{ role: 'web', lender: 'east', minutes: 90 }],
  },
  {
    name: 'a minute belongs to the lent server when it serves at the minute start (10:00:30–10:10:30 is 10 minutes)',
    stretches: [stretch({ startMs: at(600, 30), endMs: at(610, 30) })],
    want: [{ role: 'web', lender: 'east', minutes: 10 }],
  },
  {
    name: 'a stretch inside one minute, never serving at a minute start, counts nothing',
    stretches: [stretch({ startMs: at(600, 10), endMs: at(600, 50) })],
    want: [],
  },
  {
    name: 'an open stretch counts up to the instant metered',
    stretches: [stretch({ startMs: at(100) })],
    endMs: at(145),
    want: [{ role: 'web', lender: 'east', minutes: 45 }],
  },
  {
    name: 'a stretch begun last period counts from the period start',
    stretches: [stretch({ startMs: JUNE.startMs - 5 * M, endMs: at(20) })],
    want: [{ role: 'web', lender: 'east', minutes: 20 }],
  },
  {
    name: 'another account’s stretch is never counted',
    stretches: [stretch({ startMs: at(0), endMs: at(60), account: 'beta' })],
    want: [],
  },
  {
    name: 'minutes add up by role and lender, sorted',
    stretches: [
      stretch({ startMs: at(0), endMs: at(30), lender: 'west' }),
      stretch({ startMs: at(0), endMs: at(60) }),
      stretch({ startMs: at(100), endMs: at(130) }),
      stretch({ startMs: at(0), endMs: at(15), role: 'app' }),
    ],
    want: [
      { role: 'app', lender: 'east', minutes: 15 },
      { role: 'web', lender: 'east', minutes: 90 },
      { role: 'web', lender: 'west', minutes: 30 },
    ],
  },
];

for (const c of meterCases)
  test(`meterOffsite: ${c.name}`, () => {
    assert.deepEqual(
      meterOffsite(c.stretches, 'alpha', { startMs: JUNE.startMs, endMs: c.endMs ?? JUNE.endMs }),
      c.want,
    );
  });

test('meterOffsite equals a naive per-minute replay of the stretches', () => {
  const WINDOW = 240;
  const arb = fc.array(
    fc.record({
      account: fc.constantFrom('alpha', 'beta'),
      lender: fc.constantFrom('east', 'west'),
      fromS: fc.integer({ min: -600, max: WINDOW * 60 + 600 }),
      lenS: fc.integer({ min: 0, max: 6000 }),
      open: fc.boolean(),
    }),
    { maxLength: 12 },
  );
  fc.assert(
    fc.property(arb, (raw) => {
      const ss = raw.map((r) =>
        stretch({
          account: r.account,
          lender: r.lender,
          startMs: at(0, r.fromS),
          endMs: r.open ? null : at(0, r.fromS + r.lenS),
        }),
      );
      const got = meterOffsite(ss, 'alpha', { startMs: at(0), endMs: at(WINDOW) });
      const naive = new Map<string, number>();
      for (let t = at(0); t < at(WINDOW); t += M)
        for (const s of ss)
          if (s.account === 'alpha' && s.startMs <= t && t < (s.endMs ?? Infinity))
            naive.set(s.lender, (naive.get(s.lender) ?? 0) + 1);
      assert.deepEqual(
        got.map((g) => [g.lender, g.minutes]),
        [...naive].sort(([a], [b]) => (a < b ? -1 : 1)),
      );
    }),
  );
});

const lineCases: {
  name: string;
  plan: ReturnType<typeof plan>;
  minutes: OffsiteMinutes[];
  want: [string, string, string, string][];
}[] = [
  { name: 'no off-site minutes, no line', plan: plan(), minutes: [], want: [] },
  {
    name: 'zero minutes make no line',
    plan: plan(),
    minutes: [{ role: 'web', lender: 'east', minutes: 0 }],
    want: [],
  },
  {
    name: '90 minutes from one lender: 1.5 h × 6.00 × 3 = 27.00',
    plan: plan(),
    minutes: [{ role: 'web', lender: 'east', minutes: 90 }],
    want: [['Off-site web servers (extended level): 90 server-minutes from east', '1.5', '18', '27.00']],
  },
  {
    name: 'several lenders make one line per role, naming each lender’s minutes',
    plan: plan(),
    minutes: [
      { role: 'web', lender: 'east', minutes: 90 },
      { role: 'web', lender: 'west', minutes: 30 },
    ],
    want: [['Off-site web servers (extended level): 120 server-minutes from east (90), west (30)', '2', '18', '36.00']],
  },
  {
    name: 'the amount is rounded once, half away from zero: 7 min × 0.30/h = 0.035 → 0.04',
    plan: plan({ servers: { web: { committed: 1, burst: 2, extended: 3, rate: '0.10' } } }),
    minutes: [{ role: 'web', lender: 'east', minutes: 7 }],
    want: [['Off-site web servers (extended level): 7 server-minutes from east', '0.116667', '0.3', '0.04']],
  },
];

for (const c of lineCases)
  test(`rateOffsite: ${c.name}`, () => {
    const lines = rateOffsite(c.plan, 'alpha', c.minutes);
    assert.deepEqual(
      lines.map((l) => [l.description, dec(l.quantity), dec(l.rate), amountDecimal(l.amount)]),
      c.want,
    );
    for (const l of lines)
      assert.deepEqual([l.kind, l.level, l.resource, l.unit], ['usage', 'extended', 'web', 'server-hour']);
  });

test('rateOffsite: a lent role the plan does not cover is E_CONFIG naming the role and the fix', () => {
  assert.throws(
    () => rateOffsite(plan(), 'alpha', [{ role: 'db', lender: 'east', minutes: 5 }]),
    (e: unknown) => isHostfleetError(e) && e.code === 'E_CONFIG' && /servers\.db/.test(e.message),
  );
});

function held(server: string, fromH: number, toH: number): AllocationEvent[] {
  return [
    {
      kind: 'allocated',
      id: `${server}:a`,
      server,
      account: 'alpha',
      role: 'web',
      at: JUNE.startMs + fromH * H,
      ramMb: 1024,
    },
    { kind: 'released', id: `${server}:r`, server, account: 'alpha', role: 'web', at: JUNE.startMs + toH * H },
  ];
}

const feeCases: { name: string; local: AllocationEvent[]; offsite: OffsiteMinutes[]; want: [string, string][] }[] = [
  {
    name: 'entering extended only through lent servers charges the extended fee',
    local: held('s1', 0, 1),
    offsite: [{ role: 'web', lender: 'east', minutes: 60 }],
    want: [
      ['committed', '6.00'],
      ['extended', '18.00'],
      ['extended', '20.00'],
    ],
  },
  {
    name: 'extended entered locally and off-site: the fee once, and the local extended minutes stay their own',
    local: [...held('s1', 0, 1), ...held('s2', 0, 1), ...held('s3', 0, 1)],
    offsite: [{ role: 'web', lender: 'east', minutes: 30 }],
    want: [
      ['committed', '6.00'],
      ['burst', '12.00'],
      ['extended', '18.00'], // the third local server, above the burst ceiling of 2
      ['extended', '9.00'], // the lent server's 30 minutes
      ['burst', '5.00'],
      ['extended', '20.00'],
    ],
  },
  {
    name: 'without off-site minutes and below extended, no extended fee',
    local: held('s1', 0, 1),
    offsite: [],
    want: [['committed', '6.00']],
  },
];

for (const c of feeCases)
  test(`invoiceSla: ${c.name}`, () => {
    const { invoice, rating } = invoiceSla(plan(), 'alpha', JUNE, meterAllocations(c.local, JUNE), [], {
      issuedAtMs: JUNE.endMs,
      offsite: c.offsite,
    });
    assert.deepEqual(
      invoice.lines.map((l) => [l.level, amountDecimal(l.amount)]),
      c.want,
    );
    // The off-site minutes are not in the local level split: they are never counted twice.
    const local = rating.roles.find((r) => r.role === 'web')?.minutes;
    const localServerMinutes = (local?.committed ?? 0) + (local?.burst ?? 0) + (local?.extended ?? 0);
    assert.equal(
      localServerMinutes,
      meterAllocations(c.local, JUNE).roles.reduce(
        (s, r) => s + r.segments.reduce((t, g) => t + (g.servers * (g.toMs - g.fromMs)) / M, 0),
        0,
      ),
    );
    assert.deepEqual(rating.offsite, c.offsite);
  });

test('allotment plans count lent servers as RAM-hours of the day they served, with a note', () => {
  const ram = parseAllotmentPlan({
    id: 'ram-10',
    currency: 'USD',
    price: '10.00',
    cutOffAction: 'suspend',
    allotments: [{ resource: 'ram-gb-hours', included: 10, overageRate: '1.00', cutOffAt: 1000 }],
  });
  // 20 hours of one 1 GB local server on June 1; a lent server from June 1 22:00 to June 2 04:00.
  const usage = meterAllocations(held('s1', 0, 20), JUNE);
  const offsite = {
    stretches: [stretch({ startMs: JUNE.startMs + 22 * H, endMs: JUNE.startMs + 28 * H })],
    ramMb: 1024,
    asOfMs: JUNE.endMs,
  };
  const days = allotmentDaysFromUsage('alpha', JUNE, usage, [], offsite);
  assert.deepEqual(
    days.slice(0, 3).map((d) => [d.date, dec(d.usage['ram-gb-hours'])]),
    [
      ['2024-06-01', '22'],
      ['2024-06-02', '4'],
      ['2024-06-03', '0'],
    ],
  );
  assert.deepEqual(offsiteMinutesByDay(offsite.stretches, 'beta', periodDays(JUNE)).slice(0, 2), [0, 0]);
  const { invoice } = invoiceAllotment(ram, 'alpha', JUNE, usage, [], {
    issuedAtMs: JUNE.endMs,
    catalogue: [ram],
    offsite,
  });
  assert.deepEqual(
    invoice.lines.map((l) => [l.kind, l.date, amountDecimal(l.amount)]),
    [
      ['plan', null, '10.00'],
      ['overage', '2024-06-01', '12.00'],
      ['overage', '2024-06-02', '4.00'],
    ],
  );
  assert.deepEqual(invoice.notes, [
    '360 server-minutes of servers lent by other sites (east) are counted in the RAM-hours, at 1024 MB each.',
    '2024-06-01: ram-gb-hours reached 22 of an allotment of 10.',
  ]);
});
