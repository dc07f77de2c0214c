// The failover test of issue 6: the manager runs as its own process on PostgreSQL and is killed
// (SIGKILL) while it meters and while a move is in flight, then started again. The invoice must
// equal the minutes a naive replay of the allocation rows finds — no minute billed twice, none
// lost — and every billing fact must be written once, stamped with its allocation row's instant.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import { openPostgres } from '../../src/drivers/store/index.js';
import type { Store } from '../../src/drivers/store/index.js';
import type { MoveRecord } from '../../src/core/model/records.js';

const MINUTE = 60_000;
const DATABASE_URL = process.env.HOSTFLEET_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Row {
  id: number;
  account: string;
  startMs: number;
  endMs: number | null;
}

async function readAllocations(sql: Store): Promise<Row[]> {
  const r = await sql.query<Record<string, unknown>>(
    'SELECT id, account_id, started_at, ended_at FROM allocations ORDER BY id',
  );
  const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
  return r.rows.map((x) => ({
    id: Number(x.id),
    account: String(x.account_id),
    startMs: ms(x.started_at),
    endMs: x.ended_at === null ? null : ms(x.ended_at),
  }));
}

/** expectedMinutes replays the rows minute by minute over [fromMs, toMs): committed (≤ 1) and burst (above). */
function expectedMinutes(
  rows: readonly Row[],
  account: string,
  fromMs: number,
  toMs: number,
): { committed: number; burst: number } {
  const ceil = (t: number): number => Math.ceil(t / MINUTE) * MINUTE;
  const mine = rows
    .filter((r) => r.account === account)
    .map((r) => ({ from: ceil(r.startMs), to: r.endMs === null ? Infinity : ceil(r.endMs) }));
  const out = { committed: 0, burst: 0 };
  for (let t = fromMs; t < toMs; t += MINUTE) {
    const n = mine.filter((s) => s.from <= t && t < s.to).length;
    out.committed += Math.min(n, 1);
    out.burst += Math.max(n - 1, 0);
  }
  return out;
}

// 6.00 per server-hour = 10 cents a minute, burst ×2 = 20 cents; the extended ceiling is never reached.
const PLAN = {
  kind: 'sla',
  currency: 'USD',
  burstMultiple: 2,
  extendedMultiple: 3,
  committedBilling: 'used',
  servers: { 'front-end': { committed: 1, burst: 8, extended: 8, rate: '6.00' } },
};

describe('billing across manager failovers', () => {
  let site: TestSite;
  let db: Store;
  const schema = `hf_billing_${randomBytes(4).toString('hex')}`;
  before(async () => {
    site = await startTestSite({
      machines: 3,
      managerProcess: true,
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
    });
    db = await openPostgres(DATABASE_URL, { schema });
    await site.customer('alpha', ['alpha.test']);
    await site.registerAll();
    await site.client.call('PUT', '/v1/billing/plans/flex', PLAN);
    await site.client.call('PUT', '/v1/accounts/alpha/plan', { planId: 'flex' });
  });
  after(async () => {
    await site?.stop();
    await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await db?.close();
  });

  /** killWhileMetering fires metering passes and kills the manager while they run, then starts it again. */
  async function killWhileMetering(alsoMove?: { server: string; to: string }): Promise<string | null> {
    let moveId: string | null = null;
    if (alsoMove)
      moveId = (
        await site.client.call<{ move: MoveRecord }>('POST', '/v1/moves', { ...alsoMove, reason: 'failover test' })
      ).move.id;
    const passes = Array.from({ length: 4 }, () =>
      site.client.call('POST', '/v1/billing/meter').catch(() => undefined),
    );
    await new Promise((r) => setTimeout(r, 40));
    await site.killManager();
    await Promise.all(passes);
    await site.startManager();
    return moveId;
  }

  async function waitMove(id: string): Promise<MoveRecord> {
    for (let i = 0; i < 300; i++) {
      const { move } = await site.client.call<{ move: MoveRecord }>('GET', `/v1/moves/${id}`);
      if (move.status !== 'running') return move;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`move ${id} still running after 60 s`);
  }

  test('no minute billed twice or lost; each fact written once with its row’s instant', async () => {
    assert.equal((await site.moveAndWait('srv-01', 'alpha-web')).status, 'done');
    assert.equal((await site.moveAndWait('srv-02', 'alpha-web')).status, 'done');
    await killWhileMetering();
    // Killed again with a move in flight: the restarted manager resumes it and closes the stretch.
    const moveId = await killWhileMetering({ server: 'srv-02', to: 'pool' });
    assert.ok(['done', 'rolled-back'].includes((await waitMove(moveId as string)).status));
    assert.equal((await site.moveAndWait('srv-03', 'alpha-web')).status, 'done');
    await killWhileMetering();
    assert.equal((await site.moveAndWait('srv-02', 'alpha-web')).status, 'done');
    await site.client.call('POST', '/v1/billing/meter');

    const now = Date.now();
    const at = Math.floor(now / MINUTE) * MINUTE + 20 * MINUTE;
    const startOfMonth = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
    const endOfMonth = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1);
    const period = new Date(now).toISOString().slice(0, 7);
    const q = `?period=${period}&at=${new Date(at).toISOString()}`;
    const inv = await site.client.call<{ total: { amountMinor: number }; lines: unknown[] }>(
      'GET',
      `/v1/accounts/alpha/invoice${q}`,
    );

    const rows = await readAllocations(db);
    assert.ok(rows.length >= 4, `allocation rows: ${JSON.stringify(rows)}`);
    const want = expectedMinutes(rows, 'alpha', startOfMonth, Math.min(at, endOfMonth));
    assert.ok(want.committed > 0 && want.burst > 0);
    assert.equal(
      inv.total.amountMinor,
      want.committed * 10 + want.burst * 20,
      JSON.stringify({ want, lines: inv.lines }),
    );

    // Facts: one per opened stretch and one per closed stretch, at the row's own instants.
    const facts = (await db.query<{ id: string; at: Date }>('SELECT id, at FROM billing_facts')).rows;
    const wantFacts = new Map<string, number>();
    for (const r of rows) {
      wantFacts.set(`alloc:${r.id}:start`, r.startMs);
      if (r.endMs !== null) wantFacts.set(`alloc:${r.id}:end`, r.endMs);
    }
    assert.equal(facts.length, wantFacts.size);
    for (const f of facts) assert.equal(new Date(f.at).getTime(), wantFacts.get(f.id), f.id);

    // Another failover changes nothing about the same instant's invoice.
    await killWhileMetering();
    const again = await site.client.call<{ total: { amountMinor: number }; lines: unknown[] }>(
      'GET',
      `/v1/accounts/alpha/invoice${q}`,
    );
    assert.deepEqual(again.lines, inv.lines);
  });
});
