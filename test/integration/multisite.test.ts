// Three sites on one machine, eight hours apart, with the global coordinator between them: site
// a's customer spikes while site b (east of a) is in its night; b lends servers booted on its
// replica of the customer's data (copied by a real rsync daemon at b), a's edge sends part of
// the traffic to them, the servers go back when the spike ends, and a records their minutes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { startTestSite, freePort } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import { until } from '../support/sites.js';
import { startBusHub } from '../../src/drivers/bus/index.js';
import type { BusHub } from '../../src/drivers/bus/index.js';
import { newSecret, systemClock } from '../../src/drivers/clock/index.js';
import { DEFAULT_GLOBAL_SETTINGS } from '../../src/core/global/index.js';
import { startCoordinator } from '../../src/services/global/coordinator.js';
import type { Coordinator } from '../../src/services/global/coordinator.js';
import { listOffsiteUse } from '../../src/drivers/store/offsite.js';
import { emptyStats, runSteadyLoad } from '../../src/emulators/load/steady.js';
import { DEMO_PLAN } from '../../src/cli/demo.js';

const RUNTIME = { serviceTimeMs: 50, concurrency: 2, maxQueue: 400 }; // 40 requests/s per server
const SPIKE_RPS = 150;
const mgr = (s: TestSite) => s.manager as NonNullable<TestSite['manager']>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SiteDef {
  readonly id: string;
  readonly timeZone: string;
  readonly firstUid: number;
  readonly machines: number;
}
const DEFS: readonly SiteDef[] = [
  { id: 'a', timeZone: 'UTC', firstUid: 200_001, machines: 3 },
  { id: 'b', timeZone: 'Etc/GMT-8', firstUid: 300_001, machines: 4 }, // UTC+8: east of a
  { id: 'c', timeZone: 'Etc/GMT+8', firstUid: 400_001, machines: 3 }, // UTC−8: west of a
];

describe('several sites: a site in its night lends servers to a site at its peak', { timeout: 300_000 }, () => {
  let hub: BusHub;
  let coord: Coordinator;
  const sites = new Map<string, TestSite>();
  const site = (id: string) => sites.get(id) as TestSite;

  before(async () => {
    const busToken = newSecret(24);
    hub = await startBusHub({ host: '127.0.0.1', port: await freePort(), token: busToken, name: 'global' });
    coord = await startCoordinator({
      bus: hub.bus,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      roundMs: 500,
      settings: { ...DEFAULT_GLOBAL_SETTINGS, lostAfterMs: 15_000 },
    });
    const rsync = new Map<string, { port: number; secret: string }>();
    for (const d of DEFS) rsync.set(d.id, { port: await freePort(), secret: newSecret(20) });
    for (const d of DEFS) {
      const others = DEFS.filter((o) => o.id !== d.id);
      const mine = rsync.get(d.id) as { port: number; secret: string };
      sites.set(
        d.id,
        await startTestSite({
          machines: d.machines,
          site: { id: d.id, timeZone: d.timeZone, firstUid: d.firstUid },
          config: {
            decision: { tickMs: 500, groupCooldownMs: 3000, serverCooldownMs: 3000, reverseCooldownMs: 60_000 },
            global: {
              bus: { url: hub.url, token: busToken },
              reportMs: 500,
              askHoldMs: 3000,
              keepIdle: 0,
              replication: {
                everyMs: 2000,
                daemon: { host: '127.0.0.1', port: mine.port, user: 'replica', secret: mine.secret },
                targets: others.map((o) => {
                  const t = rsync.get(o.id) as { port: number; secret: string };
                  return { site: o.id, url: `rsync://127.0.0.1:${t.port}/replicas`, user: 'replica', secret: t.secret };
                }),
              },
            },
          },
        }),
      );
    }
    const a = site('a');
    await a.customer('alpha', ['alpha.test'], { runtime: RUNTIME, maxSize: 8 });
    await a.client.call('PUT', '/v1/groups/alpha-web/sla', {
      committed: 1,
      burst: 3,
      extended: 8,
      priority: 0.8,
      responseTargetMs: 400,
    });
    await a.client.call('PUT', '/v1/billing/plans/demo', DEMO_PLAN);
    await a.client.call('PUT', '/v1/accounts/alpha/plan', { planId: 'demo' });
    await a.registerAll();
    await Promise.all(['srv-01', 'srv-02', 'srv-03'].map((s) => a.moveAndWait(s, 'alpha-web')));
    await site('b').registerAll();
    await site('c').registerAll();
  });

  after(async () => {
    for (const s of sites.values()) await s.stop().catch(() => undefined);
    await coord?.close();
    await hub?.close();
  });

  test('the customer data is copied to both other sites, readable there by its own uid only', async () => {
    await until('replicas of alpha at b and c', 30_000, async () => {
      const st = coord.status();
      const a = st.sites.find((s) => s.site === 'a');
      const reps = a?.replicas.filter((r) => r.account === 'alpha' && r.lagMs !== null) ?? [];
      return reps.length === 2;
    });
    for (const id of ['b', 'c']) {
      const f = join(site(id).volumesRoot, 'volumes', 'a-alpha', 'site', 'index.html');
      assert.ok(existsSync(f), `${f} is on the replica site`);
      assert.match(readFileSync(f, 'utf8'), /alpha/);
    }
  });

  test('a spike at a is met with servers lent by b, east of a, that serve without failing', async () => {
    const a = site('a');
    const abort = new AbortController();
    const stats = emptyStats();
    const load = runSteadyLoad({
      edgeUrl: a.edge.url,
      targets: [{ domain: 'alpha.test', ratePerSec: SPIKE_RPS, paths: ['/app/hello'] }],
      signal: abort.signal,
      durationMs: 180_000,
      stats,
    });
    try {
      const lent = await until('two servers of b attached to alpha-web at a and serving', 80_000, async () => {
        const pools = await mgr(a).edge.status();
        const pool = pools.find((p) => p.id === 'alpha-web');
        const remote = pool?.servers.filter((s) => s.id.startsWith('b-') && s.state === 'up' && s.served > 0) ?? [];
        return remote.length >= 2 ? remote : null;
      });
      const loans = coord.status().loans;
      assert.ok(loans.length > 0, JSON.stringify(coord.status().reasons));
      assert.ok(
        loans.every((l) => l.to.home === 'a' && l.to.group === 'alpha-web'),
        JSON.stringify(loans),
      );
      assert.equal(loans[0]?.lender, 'b', 'b, east of a, lends first');
      assert.ok(lent.every((x) => x.served > 0));
      // Over a minute under load, so each lent server serves across a minute's start (billing's minute rule).
      await sleep(61_000);
    } finally {
      abort.abort();
      await load;
    }
    assert.deepEqual(coord.status().takeovers, [], 'no site was taken for lost');
    // Every request the customers sent was answered, at a's servers or at b's.
    assert.ok(stats.ok > 0);
    assert.equal(
      stats.failed,
      0,
      `failed requests: ${JSON.stringify(stats.byStatus)} ${JSON.stringify(stats.failures.slice(0, 3))}`,
    );
  });

  test('when the spike ends the lent servers are drained and go back to b, and a has their minutes', async () => {
    const a = site('a');
    await until('no server of b left in alpha-web at a', 90_000, async () => {
      const pool = (await mgr(a).edge.status()).find((p) => p.id === 'alpha-web');
      return !(pool?.servers.some((s) => s.id.startsWith('b-')) ?? false);
    });
    await until("b's servers back in b's pool", 90_000, async () => {
      const st = await site('b').client.call<{ pool: { id: string }[]; moves: unknown[] }>('GET', '/v1/status');
      return st.pool.length === 4 && st.moves.length === 0;
    });
    const uses = await listOffsiteUse(mgr(a).store, 'alpha', new Date(0), new Date(Date.now() + 60_000));
    assert.ok(uses.length >= 2, JSON.stringify(uses));
    assert.ok(
      uses.every((u) => u.endedAt !== null),
      JSON.stringify(uses),
    );
    // b, east of a, lent first; c (west) only once b had nothing more to lend.
    assert.deepEqual(
      uses.slice(0, 2).map((u) => u.lender),
      ['b', 'b'],
    );
    // The seed's order: b (the next site east of a) is tried first; c only for what b cannot lend.
    const lends = coord.status().reasons.filter((r) => r.code === 'lend');
    assert.equal(lends[0]?.lender, 'b');
    assert.ok(
      lends.every((r) => (r.lender === 'b' && r.rank === 0) || (r.lender === 'c' && r.rank === 1)),
      JSON.stringify(lends),
    );
    const inv = await a.client.call<{ lines: { description: string; level?: string; amount: { amount: string } }[] }>(
      'GET',
      '/v1/accounts/alpha/invoice',
    );
    const line = inv.lines.find((l) => l.description.startsWith('Off-site front-end servers (extended level)'));
    assert.ok(line, JSON.stringify(inv.lines.map((l) => l.description)));
    const minutes = Number(/: (\d+) server-minutes from b/.exec(line.description)?.[1] ?? 0);
    assert.ok(minutes >= 2, line.description);
  });
});
