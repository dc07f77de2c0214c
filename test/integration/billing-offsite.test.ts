// Servers lent by other sites on the home account's bill (issue 16): rows of offsite_use in the
// store of a manager running in this process on the fakes, read back through the invoice, the
// printable page and the usage report — their minutes by the minute rule, billed at the
// extended rate on a line of their own, the extended entry fee once, open rows counted up to
// the instant metered, and never on another account's bill.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeOffsiteUse, openOffsiteUse } from '../../src/drivers/store/offsite.js';
import { OPERATOR_TOKEN, startFakeSite } from '../support/fake-site.js';
import { GOLD_WEB } from '../unit/core/billing/offsite.fixture.js';
import type { FakeSite } from '../support/fake-site.js';

const M = 60_000;
const PERIOD = '2025-03';
const START = Date.UTC(2025, 2, 1);
const END = Date.UTC(2025, 3, 1);
const at = (minutes: number, seconds = 0): Date => new Date(START + minutes * M + seconds * 1000);

// A lent web server costs 6.00 × 3 = 18.00 an hour; the extended entry fee is 20.00.
const GOLD = { kind: 'sla', ...GOLD_WEB };

interface InvoiceJSON {
  draft: boolean;
  total: { amount: string };
  lines: {
    kind: string;
    level: string | null;
    resource: string | null;
    description: string;
    quantity: string;
    rate: string;
    amount: { amount: string };
  }[];
}

describe('off-site (extended) minutes on the invoice', () => {
  let site: FakeSite;
  const invoice = async (account: string, q = `period=${PERIOD}&at=${new Date(END).toISOString()}`) => {
    const r = await site.call<InvoiceJSON>('GET', `/v1/accounts/${account}/invoice?${q}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const offsiteLines = (inv: InvoiceJSON) => inv.lines.filter((l) => l.description.startsWith('Off-site'));

  before(async () => {
    site = await startFakeSite({ machines: 1 });
    await site.customer('alpha', ['alpha.test']);
    await site.customer('beta', ['beta.test']);
    assert.equal((await site.call('PUT', '/v1/billing/plans/gold', GOLD)).status < 300, true);
    for (const a of ['alpha', 'beta'])
      assert.equal((await site.call('PUT', `/v1/accounts/${a}/plan`, { planId: 'gold' })).status < 300, true);
    const use = async (account: string, lender: string, server: string, from: Date, to: Date | null): Promise<void> => {
      const groupId = `${account}-web`;
      await openOffsiteUse(site.store, { groupId, accountId: account, lender, serverId: server, at: from });
      if (to !== null) await closeOffsiteUse(site.store, { groupId, lender, serverId: server, at: to });
    };
    // alpha: east's e1 for 90 minutes, west's w1 for 30 (begun and ended mid-minute), east's e2
    // from last month into this one (20 minutes here), and east's e3 still attached at the
    // period's last hour (60 minutes when the period is over).
    await use('alpha', 'east', 'e1', at(600), at(690));
    await use('alpha', 'west', 'w1', at(600, 30), at(630, 30));
    await use('alpha', 'east', 'e2', new Date(START - 10 * M), at(20));
    await use('alpha', 'east', 'e3', new Date(END - 60 * M), null);
    // beta: 600 minutes from east — never on alpha's bill.
    await use('beta', 'east', 'e9', at(1000), at(1600));
    // alpha, last month only: nothing of it in this period.
    await use('alpha', 'east', 'e4', new Date(START - 120 * M), new Date(START - 60 * M));
  });
  after(async () => {
    await site?.stop();
  });

  test('the period’s off-site minutes are one extended line at rate × extendedMultiple, with the entry fee once', async () => {
    const inv = await invoice('alpha');
    assert.equal(inv.draft, false);
    // 90 + 20 + 60 from east, 30 from west = 200 server-minutes = 10/3 h × 18.00 = 60.00.
    assert.deepEqual(
      inv.lines.map((l) => [l.kind, l.level, l.resource, l.description, l.quantity, l.rate, l.amount.amount]),
      [
        [
          'usage',
          'extended',
          'web',
          'Off-site web servers (extended level): 200 server-minutes from east (170), west (30)',
          '3.333333',
          '18',
          '60.00',
        ],
        ['fee', 'extended', null, `one-time fee: entered the extended level in ${PERIOD}`, '1', '20', '20.00'],
      ],
    );
    assert.equal(inv.total.amount, '80.00');
  });

  test('another account’s off-site use is on its own bill only', async () => {
    const beta = await invoice('beta');
    assert.deepEqual(
      offsiteLines(beta).map((l) => [l.description, l.amount.amount]),
      [['Off-site web servers (extended level): 600 server-minutes from east', '180.00']],
    );
    const alpha = await invoice('alpha');
    assert.ok(alpha.lines.every((l) => !l.description.includes('600')));
  });

  test('a draft counts open rows up to the instant metered', async () => {
    // At 11:00 on the first day: e2's 20 minutes, e1's 60 so far, w1's 30; e3 has not begun.
    const inv = await invoice('alpha', `period=${PERIOD}&at=${at(660).toISOString()}`);
    assert.equal(inv.draft, true);
    assert.deepEqual(
      offsiteLines(inv).map((l) => [l.description, l.amount.amount]),
      [['Off-site web servers (extended level): 110 server-minutes from east (80), west (30)', '33.00']],
    );
    // Half an hour before the end of the period: e3 has served 30 of its minutes.
    const late = await invoice('alpha', `period=${PERIOD}&at=${new Date(END - 30 * M).toISOString()}`);
    assert.deepEqual(
      offsiteLines(late).map((l) => l.description),
      ['Off-site web servers (extended level): 170 server-minutes from east (140), west (30)'],
    );
  });

  test('the printable page and the usage report show the off-site minutes', async () => {
    const q = `period=${PERIOD}&at=${new Date(END).toISOString()}`;
    const page = await site.manager?.app.inject({
      method: 'GET',
      url: `/v1/accounts/alpha/invoice.html?${q}`,
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    assert.equal(page?.statusCode, 200);
    assert.match(
      page?.body ?? '',
      /Off-site web servers \(extended level\): 200 server-minutes from east \(170\), west \(30\)/,
    );
    const usage = await site.call<{ offsite: unknown; roles: unknown[] }>('GET', `/v1/accounts/alpha/usage?${q}`);
    assert.equal(usage.status, 200, JSON.stringify(usage.body));
    assert.deepEqual(usage.body.roles, []); // lent servers are not local allocations
    assert.deepEqual(usage.body.offsite, {
      serverMinutes: 200,
      byLender: [
        { role: 'web', lender: 'east', serverMinutes: 170, serverHours: '2.8333' },
        { role: 'web', lender: 'west', serverMinutes: 30, serverHours: '0.5' },
      ],
    });
  });
});
