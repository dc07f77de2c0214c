import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  type AllocationEvent,
  customPeriod,
  invoiceSla,
  invoiceToJSON,
  meterAllocations,
  monthPeriod,
  parseSlaPlan,
  renderInvoiceHtml,
} from '../../../../src/core/billing/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const M = 60_000;
const START = Date.UTC(2024, 5, 3, 0, 0, 0);
const MINUTES = 360;
const PERIOD = customPeriod('2024-06-03/6h', START, START + MINUTES * M);
const ROLES = ['front-end', 'back-end'] as const;
type R = (typeof ROLES)[number];

const eventArb = fc.record({
  allocate: fc.boolean(),
  server: fc.constantFrom('s0', 's1', 's2', 's3', 's4', 's5'),
  account: fc.constantFrom('a', 'b'),
  role: fc.constantFrom(...ROLES),
  offsetS: fc.integer({ min: -1800, max: MINUTES * 60 + 1800 }),
  ramMb: fc.constantFrom(512, 1024, 1536),
});
const levelsArb = fc.record({
  committed: fc.nat(3),
  burstExtra: fc.nat(3),
  extendedExtra: fc.nat(3),
  rate4: fc.integer({ min: 0, max: 99_999 }),
});
type PlanParams = typeof planArb extends fc.Arbitrary<infer T> ? T : never;
const planArb = fc.record({
  burst10: fc.integer({ min: 11, max: 30 }),
  extraExt10: fc.integer({ min: 1, max: 30 }),
  burstFeeMinor: fc.nat(100_000),
  extFeeMinor: fc.nat(100_000),
  reserved: fc.boolean(),
  fe: levelsArb,
  be: levelsArb,
});

function toEvents(
  raw: { allocate: boolean; server: string; account: string; role: R; offsetS: number; ramMb: number }[],
): AllocationEvent[] {
  return raw.map((r, i) =>
    r.allocate
      ? {
          kind: 'allocated',
          id: `e${i}`,
          server: r.server,
          account: r.account,
          role: r.role,
          at: START + r.offsetS * 1000,
          ramMb: r.ramMb,
        }
      : {
          kind: 'released',
          id: `e${i}`,
          server: r.server,
          account: r.account,
          role: r.role,
          at: START + r.offsetS * 1000,
        },
  );
}

/** roundHalfUp of n/d for n, d ≥ 0 — written here independently of the billing core. */
function roundHalfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

/** Naive reference: replay every server at every minute start and price level by level. */
function expectedTotalMinor(events: AllocationEvent[], p: PlanParams): bigint {
  const counts: Record<R, number[]> = { 'front-end': [], 'back-end': [] };
  const servers = [...new Set(events.map((e) => e.server))];
  for (let m = 0; m < MINUTES; m++) {
    const t = START + m * M;
    counts['front-end'][m] = 0;
    counts['back-end'][m] = 0;
    for (const s of servers) {
      const mine = events
        .filter((e) => e.server === s && e.at <= t)
        .sort((x, y) => x.at - y.at || (x.kind === y.kind ? (x.id < y.id ? -1 : 1) : x.kind === 'released' ? -1 : 1));
      let holder: { account: string; role: R } | null = null;
      for (const e of mine) {
        if (e.kind === 'allocated') holder = { account: e.account, role: e.role as R };
        else if (holder !== null && holder.account === e.account && holder.role === e.role) holder = null;
      }
      if (holder !== null && holder.account === 'a') counts[holder.role][m]! += 1;
    }
  }
  let total = 0n;
  let burstEntered = false;
  let extEntered = false;
  for (const role of ROLES) {
    const l = role === 'front-end' ? p.fe : p.be;
    const c = l.committed;
    const b = c + l.burstExtra;
    let cm = 0;
    let bm = 0;
    let em = 0;
    for (const n of counts[role]) {
      cm += Math.min(n, c);
      bm += Math.max(0, Math.min(n, b) - c);
      em += Math.max(0, n - b);
    }
    if (p.reserved) cm = c * MINUTES;
    burstEntered ||= bm > 0;
    extEntered ||= em > 0;
    // amount (minor) = minutes / 60 × rate4 / 10^4 × multiple10 / 10 × 100
    const price = (minutes: number, mult10: number): bigint =>
      roundHalfUp(BigInt(minutes) * BigInt(l.rate4) * BigInt(mult10), 60n * 100n * 10n);
    total += price(cm, 10) + price(bm, p.burst10) + price(em, p.burst10 + p.extraExt10);
  }
  if (burstEntered) total += BigInt(p.burstFeeMinor);
  if (extEntered) total += BigInt(p.extFeeMinor);
  return total;
}

function makePlan(p: PlanParams) {
  const lv = (l: typeof p.fe) => ({
    committed: l.committed,
    burst: l.committed + l.burstExtra,
    extended: l.committed + l.burstExtra + l.extendedExtra,
    rate: (l.rate4 / 10_000).toFixed(4),
  });
  return parseSlaPlan({
    id: 'prop',
    currency: 'USD',
    burstMultiple: (p.burst10 / 10).toFixed(1),
    extendedMultiple: ((p.burst10 + p.extraExt10) / 10).toFixed(1),
    burstEntryFee: (p.burstFeeMinor / 100).toFixed(2),
    extendedEntryFee: (p.extFeeMinor / 100).toFixed(2),
    committedBilling: p.reserved ? 'reserved' : 'used',
    servers: { 'front-end': lv(p.fe), 'back-end': lv(p.be) },
  });
}

test('an invoice total equals metered usage times rates plus fees, for random allocation histories', () => {
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 30 }), planArb, (raw, p) => {
      const events = toEvents(raw);
      const plan = makePlan(p);
      const { invoice } = invoiceSla(plan, 'a', PERIOD, meterAllocations(events, PERIOD), [], {
        issuedAtMs: PERIOD.endMs,
      });
      assert.equal(invoice.total.amountMinor, expectedTotalMinor(events, p));
      assert.equal(
        invoice.total.amountMinor,
        invoice.lines.reduce((s, l) => s + l.amount.amountMinor, 0n),
      );
    }),
    { numRuns: 150 },
  );
});

test('duplicated and re-delivered events in any order do not change the invoice', () => {
  fc.assert(
    fc.property(
      fc.array(eventArb, { minLength: 1, maxLength: 30 }),
      planArb,
      fc.array(fc.nat(), { maxLength: 20 }),
      (raw, p, picks) => {
        const events = toEvents(raw);
        const plan = makePlan(p);
        const once = invoiceToJSON(
          invoiceSla(plan, 'a', PERIOD, meterAllocations(events, PERIOD), [], { issuedAtMs: PERIOD.endMs }).invoice,
        );
        const redelivered = [...picks.map((i) => events[i % events.length]!), ...events].reverse();
        const twice = invoiceToJSON(
          invoiceSla(plan, 'a', PERIOD, meterAllocations(redelivered, PERIOD), [], { issuedAtMs: PERIOD.endMs })
            .invoice,
        );
        assert.deepEqual(twice, once);
      },
    ),
    { numRuns: 100 },
  );
});

test('a role used but not in the plan is a configuration error, not a dropped minute', () => {
  const plan = parseSlaPlan({
    id: 'fe-only',
    currency: 'USD',
    burstMultiple: 2,
    extendedMultiple: 3,
    servers: { 'front-end': { committed: 1, burst: 2, extended: 3, rate: '1' } },
  });
  const events: AllocationEvent[] = [
    { kind: 'allocated', id: 'x', server: 's', account: 'a', role: 'db', at: START, ramMb: 1 },
  ];
  assert.throws(
    () => invoiceSla(plan, 'a', PERIOD, meterAllocations(events, PERIOD), [], { issuedAtMs: 0 }),
    (e: unknown) => isHostfleetError(e, 'E_CONFIG') && e.message.includes('servers.db'),
  );
});

test('network and storage commitments are billed by tier; JSON carries exact decimals and money', () => {
  const june = monthPeriod('2024-06');
  const plan = parseSlaPlan({
    id: 'net',
    currency: 'USD',
    burstMultiple: 2,
    extendedMultiple: 4,
    committedBilling: 'used',
    burstEntryFee: 10,
    network: { committed: 100, burst: 150, extended: 1000, rate: '0.05' },
    storage: { committed: 10, burst: 20, extended: 40, rate: '0.001' },
  });
  const GB = 2 ** 30;
  const metrics = [
    {
      account: 'a',
      metric: 'transfer-bytes' as const,
      kind: 'counter' as const,
      total: BigInt(180 * GB),
      peak: 0,
      byDay: [],
      segments: [],
    },
    {
      account: 'a',
      metric: 'storage-mb' as const,
      kind: 'gauge' as const,
      total: 0n,
      peak: 0,
      byDay: [],
      segments: [{ fromMs: june.startMs, toMs: june.startMs + 60 * M * 10, value: 25 * 1024 }],
    },
  ];
  const { invoice } = invoiceSla(plan, 'a', june, meterAllocations([], june), metrics, { issuedAtMs: june.endMs });
  const json = invoiceToJSON(invoice);
  assert.deepEqual(
    json.lines.map((l) => [l.resource, l.level, l.quantity, l.unit, l.rate, l.amount.amount]),
    [
      ['network', 'committed', '100', 'GB', '0.05', '5.00'],
      ['network', 'burst', '50', 'GB', '0.1', '5.00'],
      ['network', 'extended', '30', 'GB', '0.2', '6.00'],
      ['storage', 'committed', '100', 'GB-hour', '0.001', '0.10'], // 10 GB × 10 h
      ['storage', 'burst', '100', 'GB-hour', '0.002', '0.20'],
      ['storage', 'extended', '50', 'GB-hour', '0.004', '0.20'],
      [null, 'burst', '1', 'each', '10', '10.00'],
    ],
  );
  assert.deepEqual(json.total, { amountMinor: 2650, currency: 'USD', amount: '26.50' });
  assert.equal(json.id, 'a/2024-06');
  assert.equal(json.period.start, '2024-06-01T00:00:00.000Z');
  assert.doesNotThrow(() => JSON.stringify(json));
});

test('the printable HTML page escapes every input and shows lines, total and recommendations', () => {
  const june = monthPeriod('2024-06');
  const plan = parseSlaPlan({
    id: 'p1',
    name: 'Gold <b>&"\'',
    currency: 'EUR',
    burstMultiple: 2,
    extendedMultiple: 3,
    servers: { web: { committed: 1, burst: 2, extended: 3, rate: '0.5' } },
  });
  const events: AllocationEvent[] = [
    { kind: 'allocated', id: '1', server: 's1', account: 'acme<script>', role: 'web', at: june.startMs, ramMb: 1 },
    { kind: 'allocated', id: '2', server: 's2', account: 'acme<script>', role: 'web', at: june.startMs, ramMb: 1 },
  ];
  const { invoice } = invoiceSla(plan, 'acme<script>', june, meterAllocations(events, june), [], {
    issuedAtMs: june.endMs,
  });
  const html = renderInvoiceHtml(invoice, { provider: 'Host & Co' });
  assert.ok(!html.includes('<script>'));
  assert.ok(!html.includes('<b>'));
  assert.ok(html.includes('acme&lt;script&gt;'));
  assert.ok(html.includes('Gold &lt;b&gt;&amp;&quot;&#39;'));
  assert.ok(html.includes('Host &amp; Co'));
  assert.ok(html.includes('EUR 720.00')); // the burst server all month: 720 h × 0.5 × 2
  assert.ok(html.includes('EUR 1,080.00')); // total: 360 committed + 720 burst
  assert.match(html, /Raise committed web servers from 1 to 2/);
  assert.match(html, /^<!doctype html>/);
});

test('recommendations: frequent bursts raise the commitment by 50 %, a far-from-used commitment is lowered to the peak', () => {
  const june = monthPeriod('2024-06');
  const plan = parseSlaPlan({
    id: 'rec',
    currency: 'USD',
    burstMultiple: 2,
    extendedMultiple: 3,
    servers: {
      'front-end': { committed: 4, burst: 8, extended: 16, rate: '0.1' },
      'back-end': { committed: 6, burst: 12, extended: 24, rate: '0.1' },
      db: { committed: 2, burst: 4, extended: 8, rate: '0.1' },
    },
  });
  const H = 3_600_000;
  const events: AllocationEvent[] = [];
  // front-end: 4 all month, a fifth for 71 h (just under a tenth of 720 h) → no change.
  for (let i = 0; i < 5; i++)
    events.push({
      kind: 'allocated',
      id: `f${i}`,
      server: `f${i}`,
      account: 'a',
      role: 'front-end',
      at: june.startMs,
      ramMb: 1,
    });
  events.push({
    kind: 'released',
    id: 'f4r',
    server: 'f4',
    account: 'a',
    role: 'front-end',
    at: june.startMs + 71 * H,
  });
  // back-end: peak 3 of 6 committed → lower to 3.
  for (let i = 0; i < 3; i++)
    events.push({
      kind: 'allocated',
      id: `b${i}`,
      server: `b${i}`,
      account: 'a',
      role: 'back-end',
      at: june.startMs,
      ramMb: 1,
    });
  // db: 3 of 2 committed for 73 h → raise by 50 %.
  for (let i = 0; i < 3; i++)
    events.push({
      kind: 'allocated',
      id: `d${i}`,
      server: `d${i}`,
      account: 'a',
      role: 'db',
      at: june.startMs,
      ramMb: 1,
    });
  events.push({ kind: 'released', id: 'd2r', server: 'd2', account: 'a', role: 'db', at: june.startMs + 73 * H });
  const { invoice } = invoiceSla(plan, 'a', june, meterAllocations(events, june), [], { issuedAtMs: june.endMs });
  assert.deepEqual(
    invoice.recommendations.map((r) => r.kind !== 'change-plan' && [r.kind, r.role, r.to]),
    [
      ['lower-committed', 'back-end', { committed: 3, burst: 6, extended: 12 }],
      ['raise-committed', 'db', { committed: 3, burst: 6, extended: 12 }],
    ],
  );
  const json = invoiceToJSON(invoice);
  assert.match(json.recommendations[1]!.text, /Raise committed db servers from 2 to 3 .*10\.1% of the period/);
});
