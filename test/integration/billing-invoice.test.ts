// Billing on the embedded site: moves create allocations, the invoice of the period equals the
// minutes a naive per-minute replay of the allocation rows finds, times the plan's rates, plus
// the entry fees; hits come from the edge; customers see only their own bills, resellers their
// customers'; the CLI prints the same invoice and writes the printable page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli } from '../support/cli.js';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import { ApiError, Client } from '../../src/cli/client.js';
import type { Sql } from '../../src/drivers/store/index.js';

const MINUTE = 60_000;

interface Row {
  server: string;
  account: string;
  role: string;
  startMs: number;
  endMs: number | null;
}

async function readAllocations(sql: Sql): Promise<Row[]> {
  const r = await sql.query<Record<string, unknown>>(
    'SELECT server_id, account_id, role, started_at, ended_at FROM allocations ORDER BY id',
  );
  const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
  return r.rows.map((x) => ({
    server: String(x.server_id),
    account: String(x.account_id),
    role: String(x.role),
    startMs: ms(x.started_at),
    endMs: x.ended_at === null ? null : ms(x.ended_at),
  }));
}

/** expectedLevels replays the rows minute by minute (shares no code with the billing core). */
function expectedLevels(
  rows: readonly Row[],
  account: string,
  levels: { committed: number; burst: number },
  fromMs: number,
  toMs: number,
) {
  const ceil = (t: number): number => Math.ceil(t / MINUTE) * MINUTE;
  const mine = rows
    .filter((r) => r.account === account)
    .map((r) => ({ from: ceil(r.startMs), to: r.endMs === null ? Infinity : ceil(r.endMs) }));
  const out = { committed: 0, burst: 0, extended: 0 };
  for (let t = fromMs; t < toMs; t += MINUTE) {
    const n = mine.filter((s) => s.from <= t && t < s.to).length;
    out.committed += Math.min(n, levels.committed);
    out.burst += Math.min(Math.max(n - levels.committed, 0), levels.burst - levels.committed);
    out.extended += Math.max(n - levels.burst, 0);
  }
  return out;
}

const monthStart = (ms: number): number => Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), 1);
const monthEnd = (ms: number): number => Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth() + 1, 1);
const label = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

// 6.00 per server-hour = 10 cents a minute; burst ×2, extended ×3: every figure is whole cents.
const GOLD = {
  kind: 'sla',
  name: 'Gold',
  currency: 'USD',
  burstMultiple: 2,
  extendedMultiple: 3,
  burstEntryFee: '5.00',
  extendedEntryFee: '20.00',
  committedBilling: 'used',
  servers: { 'front-end': { committed: 1, burst: 2, extended: 3, rate: '6.00' } },
};

interface InvoiceJSON {
  id: string;
  draft: boolean;
  asOf: string;
  total: { amountMinor: number; currency: string; amount: string };
  lines: { kind: string; level: string | null; quantity: string; amount: { amountMinor: number } }[];
  recommendations: { kind: string; text: string }[];
}

describe('billing on the embedded site', () => {
  let site: TestSite;
  let store: Sql;
  before(async () => {
    site = await startTestSite({ machines: 3 });
    store = (site.manager as NonNullable<TestSite['manager']>).store;
    await site.customer('alpha', ['alpha.test']);
    await site.customer('beta', ['beta.test']);
    await site.client.call('POST', '/v1/accounts', { id: 'resel', displayName: 'Reseller' });
    await site.client.call('POST', '/v1/accounts', { id: 'shop', displayName: 'Shop of resel', resellerId: 'resel' });
    await site.registerAll();
  });
  after(async () => {
    await site?.stop();
  });

  test('plans are validated field by field and assigned by operators', async () => {
    const bad = await site.client
      .call('PUT', '/v1/billing/plans/bad', {
        ...GOLD,
        burstMultiple: 1,
        servers: { 'front-end': { committed: 3, burst: 2, extended: 1, rate: 'x' } },
      })
      .catch((e: unknown) => e);
    assert.ok(bad instanceof ApiError && bad.status === 400, String(bad));
    const fields = ((bad as ApiError).body as { error: { fields: { field: string }[] } }).error.fields
      .map((f) => f.field)
      .sort();
    assert.deepEqual(fields, [
      'body.burstMultiple',
      'body.servers.front-end.burst',
      'body.servers.front-end.extended',
      'body.servers.front-end.rate',
    ]);
    const created = await site.client.call<{ created: boolean }>('PUT', '/v1/billing/plans/gold', GOLD);
    assert.equal(created.created, true);
    await assert.rejects(
      site.client.call('PUT', '/v1/accounts/alpha/plan', { planId: 'nope' }),
      (e: ApiError) => e.status === 400,
    );
    for (const a of ['alpha', 'beta', 'shop'])
      await site.client.call('PUT', `/v1/accounts/${a}/plan`, { planId: 'gold' });
    const noPlan = await site.client.call('GET', '/v1/accounts/resel/invoice').catch((e: unknown) => e);
    assert.ok(noPlan instanceof ApiError && noPlan.status === 404 && /no price plan/.test(noPlan.message));
  });

  test('the invoice equals the replayed allocation minutes times the rates, plus the entry fees', async () => {
    for (const s of ['srv-01', 'srv-02']) assert.equal((await site.moveAndWait(s, 'alpha-web')).status, 'done');
    assert.equal((await site.moveAndWait('srv-03', 'beta-web')).status, 'done');
    assert.equal((await site.moveAndWait('srv-03', 'alpha-web')).status, 'done');

    // Hits through the edge are sampled from its per-server counters.
    const hits = 7;
    for (let i = 0; i < hits; i++) {
      const r = await request(`${site.edge.url}/`, { headers: { host: 'alpha.test' } });
      await r.body.text();
      assert.equal(r.statusCode, 200);
    }
    const pass = await site.client.call<{ pass: { edge: string } }>('POST', '/v1/billing/meter');
    assert.equal(pass.pass.edge, 'sampled');

    // Project the open stretches 30 minutes ahead, so the bill holds whole minutes at every level.
    const now = Date.now();
    const at = Math.floor(now / MINUTE) * MINUTE + 30 * MINUTE;
    const period = label(now);
    const inv = await site.client.call<InvoiceJSON>(
      'GET',
      `/v1/accounts/alpha/invoice?period=${period}&at=${new Date(at).toISOString()}`,
    );
    const rows = await readAllocations(store);
    assert.ok(rows.filter((r) => r.account === 'alpha').length >= 3);
    const want = expectedLevels(
      rows,
      'alpha',
      { committed: 1, burst: 2 },
      monthStart(now),
      Math.min(at, monthEnd(now)),
    );
    assert.ok(want.committed > 0 && want.burst > 0 && want.extended > 0, JSON.stringify(want));
    const cents = want.committed * 10 + want.burst * 20 + want.extended * 30 + 500 + 2000;
    assert.equal(inv.total.amountMinor, cents, JSON.stringify(inv.lines));
    const byLevel = Object.fromEntries(
      inv.lines.filter((l) => l.kind === 'usage').map((l) => [l.level, Math.round(Number(l.quantity) * 60)]),
    );
    assert.deepEqual(byLevel, { committed: want.committed, burst: want.burst, extended: want.extended });
    assert.equal(inv.draft, Math.min(at, monthEnd(now)) < monthEnd(now));
    // Figure 12's raise needs more than a tenth of the month above committed; half an hour is not.
    assert.ok(!inv.recommendations.some((r) => r.kind === 'raise-committed'));

    // The same instant gives the same invoice (facts are the record, not the time of asking).
    const again = await site.client.call<InvoiceJSON>(
      'GET',
      `/v1/accounts/alpha/invoice?period=${period}&at=${new Date(at).toISOString()}`,
    );
    assert.deepEqual(again.lines, inv.lines);

    const usage = await site.client.call<{
      roles: { role: string; serverMinutes: number }[];
      metrics: { metric: string; total: string }[];
    }>('GET', `/v1/accounts/alpha/usage?period=${period}&at=${new Date(at).toISOString()}`);
    assert.equal(
      usage.roles.find((r) => r.role === 'front-end')?.serverMinutes,
      want.committed + want.burst + want.extended,
    );
    assert.equal(usage.metrics.find((m) => m.metric === 'hits')?.total, String(hits));

    // The printable page and the CLI say the same.
    const html = await request(
      `${site.managerUrl}/v1/accounts/alpha/invoice.html?period=${period}&at=${new Date(at).toISOString()}`,
      { headers: { authorization: `Bearer ${site.token}` } },
    );
    assert.match(String(html.headers['content-type']), /^text\/html/);
    const page = await html.body.text();
    assert.ok(
      page.includes(`<td class="num">USD ${inv.total.amount.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}</td>`),
      'total on the page',
    );
    assert.ok(!/<script/i.test(page));
    const dir = mkdtempSync(join(tmpdir(), 'hf-invoice-'));
    try {
      const file = join(dir, 'alpha.html');
      const ok = await runCli([
        '--url',
        site.managerUrl,
        '--token',
        site.token,
        'invoice',
        'alpha',
        '--period',
        period,
        '--at',
        new Date(at).toISOString(),
        '--json',
        '--html',
        file,
      ]);
      assert.equal(ok.code, 0, ok.err);
      assert.equal((JSON.parse(ok.out) as InvoiceJSON).total.amountMinor, cents);
      assert.ok(readFileSync(file, 'utf8').includes(`Invoice alpha/${period}`));
      const bad = await runCli([
        '--url',
        site.managerUrl,
        '--token',
        site.token,
        'invoice',
        'alpha',
        '--period',
        '2026-13',
      ]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.err, /--period must be a month/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('customers read only their own invoice; resellers their customers’', async () => {
    const tokenFor = async (role: string, accountId: string): Promise<Client> => {
      const t = await site.client.call<{ token: string }>('POST', '/v1/tokens', {
        role,
        accountId,
        name: `${role} ${accountId}`,
      });
      return new Client(site.managerUrl, t.token);
    };
    const alpha = await tokenFor('customer', 'alpha');
    const resel = await tokenFor('reseller', 'resel');
    const table = [
      { name: 'alpha reads its invoice', c: alpha, path: '/v1/accounts/alpha/invoice', want: 200 },
      { name: 'alpha reads its usage', c: alpha, path: '/v1/accounts/alpha/usage', want: 200 },
      { name: 'alpha cannot read beta’s invoice', c: alpha, path: '/v1/accounts/beta/invoice', want: 404 },
      {
        name: 'alpha cannot read beta’s printable invoice',
        c: alpha,
        path: '/v1/accounts/beta/invoice.html',
        want: 404,
      },
      { name: 'alpha cannot read beta’s usage', c: alpha, path: '/v1/accounts/beta/usage', want: 404 },
      { name: 'the reseller reads its customer’s invoice', c: resel, path: '/v1/accounts/shop/invoice', want: 200 },
      { name: 'the reseller cannot read alpha’s invoice', c: resel, path: '/v1/accounts/alpha/invoice', want: 404 },
    ];
    for (const row of table) {
      const got = await row.c.call('GET', row.path).then(
        () => 200,
        (e: unknown) => (e instanceof ApiError ? e.status : -1),
      );
      assert.equal(got, row.want, row.name);
    }
    for (const [method, path, body] of [
      ['PUT', '/v1/billing/plans/x', GOLD],
      ['PUT', '/v1/accounts/alpha/plan', { planId: 'gold' }],
      ['POST', '/v1/billing/meter', undefined],
    ] as const) {
      const got = await alpha.call(method, path, body).then(
        () => 200,
        (e: unknown) => (e instanceof ApiError ? e.status : -1),
      );
      assert.equal(got, 403, `${method} ${path} by a customer`);
    }
  });
});
