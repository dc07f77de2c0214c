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
    assert.deepEqual(events.filter((e) => e.step === 'drain' && e.outcome !== 'started').map((e) => e.outcome), ['retry', 'retry', 'failed', 'rolled-back']);
    const s = (await site.client.call<{ server: { state: string; groupId: string; moveId: string | null } }>('GET', '/v1/servers/srv-01')).server;
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

  test('a move into a group at its maximum size is refused and changes nothing', async () => {
    await site.client.call('POST', '/v1/groups', { id: 'tiny-web', accountId: 'bravo', role: 'web', minSize: 0, maxSize: 1, domains: ['tiny.test'] });
    assert.equal((await site.moveAndWait('srv-02', 'tiny-web')).status, 'done');
    const full = await site.client.call<{ move: MoveRecord }>('POST', '/v1/moves', { server: 'srv-01', to: 'tiny-web' }).catch((e: { code?: string }) => e);
    assert.equal((full as { code?: string }).code, 'E_CONFLICT');
    const s1 = (await site.client.call<{ server: { state: string; groupId: string; moveId: string | null } }>('GET', '/v1/servers/srv-01')).server;
    assert.deepEqual([s1.state, s1.groupId, s1.moveId], ['active', 'alpha-web', null]);
  });
});
