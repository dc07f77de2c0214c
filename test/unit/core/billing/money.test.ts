import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  amountDecimal,
  exact,
  formatMoney,
  money,
  moneyFromMajor,
  monthPeriod,
  nextMonth,
  parseAllotmentPlan,
  parseDecimal,
  parseRecommendationPolicy,
  parseSlaPlan,
  periodDays,
  ratio,
  sumMoney,
  toPlainDecimal,
} from '../../../../src/core/billing/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

test('rounding is half away from zero, once, to the currency minor unit', () => {
  const cases = [
    { name: 'exact cents stay', major: ratio(9999, 100), currency: 'USD', want: '99.99' },
    { name: 'half a cent rounds up', major: ratio(1, 200), currency: 'USD', want: '0.01' },
    { name: 'just below half a cent rounds down', major: ratio(4999, 1_000_000), currency: 'USD', want: '0.00' },
    { name: 'half a cent negative rounds away from zero', major: ratio(-1, 200), currency: 'USD', want: '-0.01' },
    { name: "banker's would give 0.02; half-up gives 0.03", major: ratio(25, 1000), currency: 'USD', want: '0.03' },
    { name: 'yen has no minor unit', major: ratio(1001, 2), currency: 'JPY', want: '501' },
    { name: 'dinar has three decimals', major: ratio(12345, 10_000), currency: 'KWD', want: '1.235' },
    { name: 'one third', major: ratio(1, 3), currency: 'EUR', want: '0.33' },
  ] as const;
  for (const c of cases) assert.equal(amountDecimal(moneyFromMajor(c.major, c.currency)), c.want, c.name);
});

test('rounding never moves an amount by more than half a minor unit', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 9n }), (n, d) => {
      const m = moneyFromMajor(ratio(n, d), 'USD');
      const err = exact.sub(ratio(m.amountMinor, 100n), ratio(n, d));
      assert.ok(exact.cmp(exact.mul(err, ratio(2n * (err.n < 0n ? -1n : 1n))), ratio(1, 100)) <= 0);
    }),
  );
});

test('formatting groups thousands, keeps the currency code and the minor digits', () => {
  const cases = [
    { m: money(123456, 'USD'), want: 'USD 1,234.56' },
    { m: money(-300, 'USD'), want: 'USD -3.00' },
    { m: money(5, 'EUR'), want: 'EUR 0.05' },
    { m: money(1200, 'JPY'), want: 'JPY 1,200' },
    { m: money(123456789012n, 'GBP'), want: 'GBP 1,234,567,890.12' },
  ];
  for (const c of cases) assert.equal(formatMoney(c.m), c.want);
  assert.deepEqual(sumMoney('USD', [money(1, 'USD'), money(2, 'USD')]), money(3, 'USD'));
  assert.throws(() => sumMoney('USD', [money(1, 'EUR')]), RangeError);
  assert.throws(
    () => money(1.5, 'USD'),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
  );
});

test('decimals are read exactly; bad decimals name the field', () => {
  const cases = [
    { v: '99.99', want: '99.99' },
    { v: 0.1, want: '0.1' },
    { v: '-2.5', want: '-2.5' },
    { v: 2160, want: '2160' },
  ];
  for (const c of cases) {
    const r = parseDecimal('x', c.v);
    assert.ok('n' in r);
    assert.equal(toPlainDecimal(r), c.want);
  }
  for (const bad of ['1e3', '', '.5', 'NaN', Infinity, null, '1.2.3']) {
    const r = parseDecimal('price', bad);
    assert.ok('field' in r && r.field === 'price', String(bad));
  }
  const p = parseDecimal('m', '1', { min: ratio(1), minExclusive: true });
  assert.ok('problem' in p && p.problem.includes('greater than 1'));
});

test('SLA plans are validated with field-named errors', () => {
  const good = {
    id: 'gold',
    currency: 'USD',
    burstMultiple: 2,
    extendedMultiple: 3,
    servers: { 'front-end': { committed: 2, burst: 4, extended: 8, rate: '0.10' } },
  };
  assert.equal(parseSlaPlan(good).servers['front-end']?.committed, 2);
  const cases = [
    { name: 'burst not a higher rate', patch: { burstMultiple: 1 }, field: 'burstMultiple' },
    { name: 'extended not larger than burst', patch: { extendedMultiple: 2 }, field: 'extendedMultiple' },
    { name: 'unknown currency', patch: { currency: 'XYZ' }, field: 'currency' },
    { name: 'bad id', patch: { id: 'Gold Plan' }, field: 'id' },
    {
      name: 'unknown role',
      patch: { servers: { cache: { committed: 1, burst: 1, extended: 1, rate: 1 } } },
      field: 'servers.cache',
    },
    {
      name: 'burst below committed',
      patch: { servers: { web: { committed: 4, burst: 2, extended: 8, rate: 1 } } },
      field: 'servers.web.burst',
    },
    {
      name: 'negative rate',
      patch: { servers: { web: { committed: 1, burst: 2, extended: 3, rate: '-1' } } },
      field: 'servers.web.rate',
    },
    {
      name: 'fractional servers',
      patch: { servers: { web: { committed: 1.5, burst: 2, extended: 3, rate: 1 } } },
      field: 'servers.web.committed',
    },
    { name: 'committed billing', patch: { committedBilling: 'monthly' }, field: 'committedBilling' },
    {
      name: 'network levels',
      patch: { network: { committed: 10, burst: 5, extended: 20, rate: 1 } },
      field: 'network.burst',
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseSlaPlan({ ...good, ...c.patch }),
      (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && (e.fields ?? []).some((f) => f.field === c.field),
      c.name,
    );
  }
});

test('allotment plans and recommendation policies are validated with field-named errors', () => {
  const good = {
    id: 'ram-400',
    currency: 'USD',
    price: '99.99',
    allotments: [{ resource: 'ram-gb-hours', included: 400, overageRate: 1, cutOffAt: 600 }],
  };
  assert.equal(parseAllotmentPlan(good).maxConsecutivePaymentFailures, 3);
  const cases = [
    { patch: { allotments: [] }, field: 'allotments' },
    { patch: { allotments: [{ resource: 'cpu', included: 1, overageRate: 1 }] }, field: 'allotments[0].resource' },
    {
      patch: { allotments: [{ resource: 'ram-gb-hours', included: 400, overageRate: 1, cutOffAt: 300 }] },
      field: 'allotments[0].cutOffAt',
    },
    { patch: { cutOffAction: 'delete' }, field: 'cutOffAction' },
    { patch: { maxConsecutivePaymentFailures: 0 }, field: 'maxConsecutivePaymentFailures' },
    { patch: { price: 'free' }, field: 'price' },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseAllotmentPlan({ ...good, ...c.patch }),
      (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && (e.fields ?? []).some((f) => f.field === c.field),
      c.field,
    );
  }
  assert.throws(
    () => parseRecommendationPolicy({ raiseBy: 0 }),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.fields?.[0]?.field === 'raiseBy',
  );
});

test('periods are UTC calendar months split into UTC days', () => {
  const cases = [
    { label: '2024-02', days: 29 },
    { label: '2023-02', days: 28 },
    { label: '2024-06', days: 30 },
    { label: '2024-12', days: 31 },
  ];
  for (const c of cases) {
    const p = monthPeriod(c.label);
    const days = periodDays(p);
    assert.equal(days.length, c.days, c.label);
    assert.equal(days[0]?.date, `${c.label}-01`);
    assert.equal(days.at(-1)?.endMs, p.endMs);
  }
  assert.equal(nextMonth('2024-12'), '2025-01');
  assert.throws(
    () => monthPeriod('2024-13'),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.fields?.[0]?.field === 'period',
  );
});
