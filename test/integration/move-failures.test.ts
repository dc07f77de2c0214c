// What a move does when a component fails under it: a step that keeps failing before the reset
// rolls the move back (the server returns to its group), and the edge reconciler puts the edge
// back in step with the resource database once the edge returns.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import type { MoveEvent, MoveRecord } from '../../src/core/model/records.js';
import { syncEdge } from '../../src/services/manager/components/edge-sync.js';
import { setRestriction } from '../../src/drivers/store/billing.js';

describe('move failures', () => {
  let site: TestSite;
  before(async () => {
    site = await startTestSite({ machines: 2 });
    await site.customer('alpha', ['alpha.test']);
    await site.customer('bravo', ['bravo.test']);
    await site.registerAll();
    assert.equal((await site.moveAndWait('srv-01', 'alpha-web')).status, 'done');
  });
  after(async () => {
    await site?.stop();
  });

  test('an edge that does not answer rolls a move back; the reconciler repairs the edge when it returns', async () => {
    await site.stopEdge();
    const m = await site.moveAndWait('srv-01', 'bravo-web', true);
    assert.equal(m.status, 'rolled-back', JSON.stringify(m));
    assert.equal(m.error?.code, 'E_EDGE');
    const { events } = await site.client.call<{ events: MoveEvent[] }>('GET', `/v1/moves/${m.id}`);
    // Three attempts at the drain (two retries), then the rollback.
    assert.deepEqual(
      events.filter((e) => e.step === 'drain' && e.outcome !== 'started').map((e) => e.outcome),
      ['retry', 'retry', 'failed', 'rolled-back'],
    );
    const s = (
      await site.client.call<{ server: { state: string; groupId: string; moveId: string | null } }>(
        'GET',
        '/v1/servers/srv-01',
      )
    ).server;
    assert.deepEqual([s.state, s.groupId, s.moveId], ['active', 'alpha-web', null]);

    await site.startEdge();
    const ctx = site.manager?.ctx;
    assert.ok(ctx);
    const repairs = await syncEdge(ctx);
    assert.deepEqual(repairs.map((r) => r.kind).sort(), ['attach', 'pool', 'pool']);
    const r = await request(`${site.edge.url}/`, { headers: { host: 'alpha.test' } });
    assert.equal(r.statusCode, 200);
    assert.match(await r.body.text(), /Customer alpha/);
    assert.deepEqual(await syncEdge(ctx), [], 'a second pass finds nothing to repair');
  });

  test("billing's throttle caps an account's sites at the edge (429 beyond it) until it is lifted", async () => {
    const ctx = site.manager?.ctx;
    assert.ok(ctx);
    await setRestriction(ctx.store, {
      accountId: 'alpha',
      action: 'throttle',
      reason: 'cut-off at 600 GB RAM-hours',
      resource: 'ram',
      day: '2026-11-22',
    });
    const repairs = await syncEdge(ctx);
    assert.deepEqual(
      repairs.filter((r) => r.pool === 'alpha-web').map((r) => [r.kind, r.rateLimit]),
      [['pool', ctx.cfg.billing.throttleRps]],
    );
    const burst = async (host: string) => {
      const codes: number[] = [];
      for (let i = 0; i < 4 * ctx.cfg.billing.throttleRps; i++) {
        const r = await request(`${site.edge.url}/`, { headers: { host } });
        await r.body.dump();
        codes.push(r.statusCode);
      }
      return codes;
    };
    const alpha = await burst('alpha.test');
    assert.ok(
      alpha.includes(429) && alpha.includes(200) && alpha.every((c) => c === 200 || c === 429),
      alpha.join(','),
    );
    // Another customer's site is not touched.
    assert.ok((await burst('bravo.test')).every((c) => c !== 429));
    await site.client.call('DELETE', '/v1/accounts/alpha/restriction');
    assert.deepEqual(
      (await syncEdge(ctx)).map((r) => [r.kind, r.pool, r.rateLimit]),
      [['pool', 'alpha-web', null]],
    );
    assert.ok((await burst('alpha.test')).every((c) => c === 200));
    assert.deepEqual(await syncEdge(ctx), []);
  });

  test('a move into a group at its maximum size is refused and changes nothing', async () => {
    await site.client.call('POST', '/v1/groups', {
      id: 'tiny-web',
      accountId: 'bravo',
      role: 'web',
      minSize: 0,
      maxSize: 1,
      domains: ['tiny.test'],
    });
    assert.equal((await site.moveAndWait('srv-02', 'tiny-web')).status, 'done');
    const full = await site.client
      .call<{ move: MoveRecord }>('POST', '/v1/moves', { server: 'srv-01', to: 'tiny-web' })
      .catch((e: { code?: string }) => e);
    assert.equal((full as { code?: string }).code, 'E_CONFLICT');
    const s1 = (
      await site.client.call<{ server: { state: string; groupId: string; moveId: string | null } }>(
        'GET',
        '/v1/servers/srv-01',
      )
    ).server;
    assert.deepEqual([s1.state, s1.groupId, s1.moveId], ['active', 'alpha-web', null]);
  });
});
