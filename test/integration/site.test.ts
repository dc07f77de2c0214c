// The embedded site end to end: real BMC emulator and machines (OS processes), real edge,
// the manager as its own process. Customers are served their own pages, servers move under
// traffic without failed requests, and a manager killed mid-move resumes it on restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { startTestSite } from '../support/site.js';
import { redfishBmc } from '../../src/drivers/bmc/index.js';
import type { TestSite } from '../support/site.js';
import { runSteadyLoad } from '../../src/emulators/load/steady.js';
import { checkServerInvariants } from '../../src/core/model/server.js';
import type { MoveRecord } from '../../src/core/model/records.js';

async function page(edgeUrl: string, host: string, path = '/'): Promise<{ status: number; body: string }> {
  const r = await request(edgeUrl + path, { headers: { host } });
  return { status: r.statusCode, body: await r.body.text() };
}

interface StatusServer {
  id: string;
  state: string;
  groupId: string | null;
  moveId: string | null;
}
async function allServers(site: TestSite): Promise<StatusServer[]> {
  return (await site.client.call<{ servers: StatusServer[] }>('GET', '/v1/servers')).servers;
}

describe('embedded site', () => {
  let site: TestSite;
  before(async () => {
    site = await startTestSite({ machines: 5, managerProcess: true });
    await site.customer('alpha', ['alpha.test']);
    await site.customer('bravo', ['bravo.test', 'www.bravo.test']);
    await site.registerAll();
    const moves = await Promise.all([
      site.moveAndWait('srv-01', 'alpha-web'),
      site.moveAndWait('srv-02', 'alpha-web'),
      site.moveAndWait('srv-03', 'bravo-web'),
    ]);
    assert.deepEqual(
      moves.map((m) => m.status),
      ['done', 'done', 'done'],
    );
  });
  after(async () => {
    await site?.stop();
  });

  test('each customer is served its own site through the edge; unknown hosts get 404', async () => {
    const cases = [
      { host: 'alpha.test', want: 200, text: 'Customer alpha' },
      { host: 'bravo.test', want: 200, text: 'Customer bravo' },
      { host: 'www.bravo.test:80', want: 200, text: 'Customer bravo' },
      { host: 'nobody.test', want: 404, text: '' },
    ];
    for (const c of cases) {
      const r = await page(site.edge.url, c.host);
      assert.equal(r.status, c.want, c.host);
      assert.ok(r.body.includes(c.text), `${c.host} body`);
    }
    const dyn = await page(site.edge.url, 'alpha.test', '/app/x');
    assert.equal(JSON.parse(dyn.body).account, 'alpha');
  });

  test('a server moves between customers under steady traffic without a failed request, and leaves nothing of the old customer', async () => {
    const abort = new AbortController();
    const load = runSteadyLoad({
      edgeUrl: site.edge.url,
      signal: abort.signal,
      targets: [
        { domain: 'alpha.test', ratePerSec: 40, paths: ['/', '/app/a'] },
        { domain: 'bravo.test', ratePerSec: 40, paths: ['/', '/app/b'] },
      ],
    });
    await new Promise((r) => setTimeout(r, 500));
    const machine = site.bmc.machines[1]; // srv-02, in alpha-web
    assert.ok(machine);
    const alphaScratch = readdirSync(machine.scratch);
    assert.ok(alphaScratch.length > 0, 'the workload wrote to its scratch disk');
    const m = await site.moveAndWait('srv-02', 'bravo-web');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    await new Promise((r) => setTimeout(r, 500));
    abort.abort();
    const stats = await load;
    assert.ok(stats.sent > 50, `sent ${stats.sent}`);
    assert.equal(stats.failed, 0, JSON.stringify(stats.failures));
    const health = await request(`http://${machine.dataAddress}/healthz`);
    assert.equal(((await health.body.json()) as { account: string }).account, 'bravo');
    // The scratch disk was wiped: whatever is there now was written by bravo's workload.
    for (const f of readdirSync(machine.scratch))
      assert.doesNotMatch(
        readFileSync(join(machine.scratch, f), 'utf8'),
        /alpha/,
        `alpha's data survived in scratch file ${f}`,
      );
    if (process.getuid?.() === 0) {
      // The machine's workload now runs as bravo's uid: alpha's volume is closed to it.
      const accounts = (
        await site.client.call<{ accounts: { id: string; uid: number; gid: number }[] }>('GET', '/v1/accounts')
      ).accounts;
      const bravo = accounts.find((a) => a.id === 'bravo');
      assert.ok(bravo);
      const alphaFile = join(site.dir, 'volumes', 'volumes', 'alpha', 'site', 'index.html');
      assert.ok(existsSync(alphaFile), alphaFile);
      const r = spawnSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(alphaFile)})`], {
        uid: bravo.uid,
        gid: bravo.gid,
        encoding: 'utf8',
      });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /EACCES/);
    }
  });

  test('a manager killed mid-move resumes the move when it starts again', async () => {
    for (const killAt of ['set-boot-pointer', 'reset', 'wait-healthy']) {
      const servers = await allServers(site);
      const src = servers.find((s) => s.groupId === 'bravo-web' && s.state === 'active');
      assert.ok(src, 'a bravo server to move');
      const { move } = await site.client.call<{ move: MoveRecord }>('POST', '/v1/moves', {
        server: src.id,
        to: 'alpha-web',
        reason: `kill at ${killAt}`,
      });
      let seen = move.step;
      const deadline = Date.now() + 20_000;
      const order = ['drain', 'detach', 'set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy', 'attach', 'done'];
      while (order.indexOf(seen) < order.indexOf(killAt) && Date.now() < deadline) {
        seen = (await site.client.call<{ move: MoveRecord }>('GET', `/v1/moves/${move.id}`)).move.step;
      }
      await site.killManager();
      await site.startManager();
      const fin = await (
        await import('../../src/cli/move.js')
      ).followMove(site.client, move.id, () => undefined, 60_000);
      assert.equal(fin.status, 'done', `killed at ${seen}: ${JSON.stringify(fin.error)}`);
      const after = await allServers(site);
      assert.deepEqual(checkServerInvariants(after.map((s) => ({ ...s, state: s.state as never }))), []);
      const moved = after.find((s) => s.id === src.id);
      assert.equal(moved?.groupId, 'alpha-web');
      assert.equal(moved?.state, 'active');
      // Every server is in exactly one place; none is left moving.
      assert.ok(after.every((s) => s.moveId === null));
      const r = await page(site.edge.url, 'alpha.test', '/app/after');
      assert.equal(r.status, 200);
      // move it back for the next round
      const back = await site.moveAndWait(src.id, 'bravo-web');
      assert.equal(back.status, 'done');
    }
  });

  test('a machine that used up its one-time boot pointer while the manager was down gets a fresh pointer', async () => {
    const src = (await allServers(site)).find((s) => s.groupId === 'bravo-web' && s.state === 'active');
    assert.ok(src, 'a bravo server to move');
    const machine = site.bmc.machines[Number(src.id.slice(4)) - 1];
    assert.ok(machine);
    // Stop the manager once the pointer is set but before the reset: step switch-volume.
    const { move } = await site.client.call<{ move: MoveRecord }>('POST', '/v1/moves', {
      server: src.id,
      to: 'alpha-web',
      reason: 'pointer used up',
    });
    let step = move.step;
    for (const deadline = Date.now() + 20_000; step !== 'switch-volume' && step !== 'reset' && Date.now() < deadline;) {
      step = (await site.client.call<{ move: MoveRecord }>('GET', `/v1/moves/${move.id}`)).move.step;
    }
    await site.killManager();
    // Someone power-cycles the machine meanwhile: its boot consumes the Once override, cannot
    // fetch the personality from the stopped manager, and leaves the machine Critical.
    const bmc = redfishBmc({ url: site.bmc.url, username: 'admin', password: site.bmcPassword, auth: 'basic' });
    try {
      await bmc.reset(machine.id, 'ForceRestart');
      let sys = await bmc.getSystem(machine.id);
      for (
        const deadline = Date.now() + 20_000;
        sys.health !== 'Critical' && Date.now() < deadline;
        sys = await bmc.getSystem(machine.id)
      )
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(sys.health, 'Critical');
      assert.equal(sys.boot.enabled, 'Disabled');
    } finally {
      await bmc.close();
    }
    await site.startManager();
    const fin = await (await import('../../src/cli/move.js')).followMove(site.client, move.id, () => undefined, 60_000);
    assert.equal(fin.status, 'done', JSON.stringify(fin.error));
    const { events } = await site.client.call<{
      events: { step: string; outcome: string; detail: Record<string, unknown> | null }[];
    }>('GET', `/v1/moves/${move.id}`);
    assert.ok(
      events.some((e) => e.step === 'reset' && e.outcome === 'done' && e.detail?.['pointerReissued'] === true),
      JSON.stringify(events),
    );
    assert.equal((await allServers(site)).find((s) => s.id === src.id)?.groupId, 'alpha-web');
    const back = await site.moveAndWait(src.id, 'bravo-web');
    assert.equal(back.status, 'done');
  });

  test('a server returned to the pool is switched off, its export removed, and its group keeps serving', async () => {
    const before = await allServers(site);
    const bravo = before.filter((s) => s.groupId === 'bravo-web');
    assert.ok(bravo.length >= 2, `bravo has ${bravo.length} servers`);
    const leaving = bravo[0] as StatusServer;
    const m = await site.moveAndWait(leaving.id, 'pool');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    const s = (await allServers(site)).find((x) => x.id === leaving.id);
    assert.equal(s?.state, 'pool-cold');
    const machine = site.bmc.machines[Number(leaving.id.slice(4)) - 1];
    assert.ok(machine);
    await assert.rejects(request(`http://${machine.dataAddress}/healthz`, { headersTimeout: 1000 }));
    assert.equal(await site.volumes.exportedTo(machine.uuid), null);
    const r = await page(site.edge.url, 'bravo.test');
    assert.equal(r.status, 200, 'bravo keeps being served by its other server');
  });
});
