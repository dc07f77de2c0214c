// The console's words for figures: money, rates and quantities with their units
// (web/src/ui/format.ts), and the decision loop's reasons (web/src/ui/reasons.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMoney, formatQuantity, formatRate, withUnit } from '../../../web/src/ui/format.js';
import { reasonRow, requestText, unmetRow } from '../../../web/src/ui/reasons.js';
import type { PlanReason } from '../../../web/src/api.js';

test('money keeps its currency and its minor digits; rates get at least two decimals and lose none', () => {
  const cases = [
    { name: 'cents', got: formatMoney({ amount: '148.80', currency: 'USD' }), want: 'USD 148.80' },
    { name: 'thousands', got: formatMoney({ amount: '1234567.05', currency: 'EUR' }), want: 'EUR 1,234,567.05' },
    { name: 'no minor unit', got: formatMoney({ amount: '1200', currency: 'JPY' }), want: 'JPY 1,200' },
    { name: 'negative', got: formatMoney({ amount: '-0.01', currency: 'USD' }), want: 'USD -0.01' },
    { name: 'rate padded', got: formatRate('0.1', 'USD'), want: 'USD 0.10' },
    { name: 'rate as a number', got: formatRate(2, 'USD'), want: 'USD 2.00' },
    { name: 'rate keeps its digits', got: formatRate('0.125', 'USD'), want: 'USD 0.125' },
  ];
  for (const c of cases) assert.equal(c.got, c.want, c.name);
});

test('quantities are rounded for the eye and carry their unit, singular for exactly one', () => {
  const cases = [
    { name: 'hours', got: withUnit('686.2500', 'server-hour'), want: '686.25 server-hours' },
    { name: 'one', got: withUnit('1', 'server-hour'), want: '1 server-hour' },
    { name: 'zero', got: withUnit('0', 'GB-hour'), want: '0 GB-hours' },
    { name: 'rounded', got: withUnit('0.28333', 'GB-hour'), want: '0.28 GB-hours' },
    { name: 'no plural', got: withUnit(12.5, 'GB'), want: '12.5 GB' },
    { name: 'grouped', got: formatQuantity(9113), want: '9,113' },
    { name: 'not a number', got: formatQuantity('n/a'), want: 'n/a' },
  ];
  for (const c of cases) assert.equal(c.got, c.want, c.name);
});

test("the decision loop's reasons read as words with units", () => {
  const cases: { name: string; reason: PlanReason; want: { reason: string; detail: string } }[] = [
    {
      name: 'request',
      reason: { kind: 'request', source: 'agent', urgency: 0.614, wanted: 1 },
      want: { reason: "asked by the group's agents", detail: '1 server wanted, urgency 0.61 of 1' },
    },
    {
      name: 'tier',
      reason: { kind: 'tier', tier: 'burst', held: 2, committed: 1, burst: 3, extended: 4, priority: 0.8 },
      want: {
        reason: 'burst tier',
        detail: 'held 2 servers; SLA levels 1 / 3 / 4 servers (committed / burst / extended); priority 0.80',
      },
    },
    {
      name: 'source',
      reason: { kind: 'source', source: 'warm-pool', group: null },
      want: { reason: 'from warm pool', detail: '' },
    },
    {
      name: 'donor',
      reason: { kind: 'donor', group: 'bravo-web', held: 3, committed: 1, priority: 0.4, offered: true },
      want: {
        reason: 'donor bravo-web',
        detail: 'held 3 servers, committed 1 server; priority 0.40; it offered a release',
      },
    },
    {
      name: 'skipped',
      reason: { kind: 'skipped', code: 'server-cooling', group: 'alpha-web', count: 2 },
      want: { reason: 'skipped: the server moved within the server cool-down', detail: '2 candidates of alpha-web' },
    },
    {
      name: 'unknown code',
      reason: { kind: 'skipped', code: 'new-rule', group: null, count: 1 },
      want: { reason: 'skipped: new-rule', detail: '1 candidate' },
    },
  ];
  for (const c of cases) assert.deepEqual(reasonRow(c.reason), c.want, c.name);
  assert.deepEqual(unmetRow({ wanted: 2, granted: 1, code: 'no-supply' }), {
    reason: 'unmet: no free server in the pool, in releases or at donors',
    detail: '2 servers wanted, 1 server granted',
  });
  assert.equal(requestText({ kind: 'release', count: 1 }), 'release 1 server');
});
