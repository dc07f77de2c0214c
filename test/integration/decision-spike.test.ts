// The closed loop on the embedded site: real machines with their agents, the edge, the manager's
// decision loop. A spike on customer B of more than three times its committed load moves servers
// to B from the pool and from A (lower priority, above its committed level); B's p95 returns
// under its SLA target; A never drops below its committed level.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import { percentile, runSteadyLoad } from '../../src/emulators/load/steady.js';
import type { LoadStats } from '../../src/emulators/load/steady.js';

interface StatusServer {
  id: string;
  state: string;
  groupId: string | null;
  moveId: string | null;
}
interface PlanMove {
  serverId: string;
  fromGroup: string | null;
  toGroup: string | null;
  source: string;
  tier: string;
}
interface StoredPlan {
  id: string;
  plan: { plan: { moves: PlanMove[] }; outcomes: { serverId: string; moveId: string | null }[] };
}

const RUNTIME = { serviceTimeMs: 50, concurrency: 2, maxQueue: 400 }; // 40 requests/s per server
const B_TARGET_MS = 400;
const B_COMMITTED_RPS = 20; // one server (B's committed level) at half its capacity
const SPIKE_RPS = 70; // 3.5 × the committed load
const A_RPS = 30;

const newStats = (): LoadStats => ({ sent: 0, ok: 0, failed: 0, byStatus: {}, latenciesMs: [], failures: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('decision loop: closed loop on the embedded site', () => {
  let site: TestSite;
  before(async () => {
    site = await startTestSite({ machines: 5 });
    // Quicker cool-downs than production so the test does not wait minutes; same logic.
    const file = join(site.dir, 'manager.yaml');
    const cfg = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    cfg.decision = { tickMs: 500, groupCooldownMs: 5000, serverCooldownMs: 5000, reverseCooldownMs: 120_000 };
    writeFileSync(file, YAML.stringify(cfg));
    await site.killManager();
    await site.startManager();
    await site.customer('alpha', ['alpha.test'], { runtime: RUNTIME });
    await site.customer('bravo', ['bravo.test'], { runtime: RUNTIME });
    await site.registerAll();
    const moved = await Promise.all([
      site.moveAndWait('srv-01', 'alpha-web'),
      site.moveAndWait('srv-02', 'alpha-web'),
      site.moveAndWait('srv-03', 'alpha-web'),
      site.moveAndWait('srv-04', 'bravo-web'),
    ]);
    assert.deepEqual(
      moved.map((m) => m.status),
      ['done', 'done', 'done', 'done'],
    );
    await site.client.call('PUT', '/v1/groups/alpha-web/sla', {
      metric: 'servers',
      unitsPerServer: 1,
      committed: 1,
      burst: 3,
      extended: 3,
      priority: 0.2,
      responseTargetMs: 1000,
    });
    await site.client.call('PUT', '/v1/groups/bravo-web/sla', {
      metric: 'servers',
      unitsPerServer: 1,
      committed: 1,
      burst: 4,
      extended: 4,
      priority: 0.9,
      responseTargetMs: B_TARGET_MS,
    });
  });
  after(async () => {
    await site?.stop();
  });

  test('a spike on B moves servers from the pool and from A; B recovers its target; A keeps its committed level', async () => {
    const ac = new AbortController();
    const edgeUrl = site.edge.url;
    const aStats = newStats();
    const aLoad = runSteadyLoad({
      edgeUrl,
      targets: [{ domain: 'alpha.test', ratePerSec: A_RPS, paths: ['/app/a'] }],
      signal: ac.signal,
      stats: aStats,
    });
    let aMin = Infinity;
    let bMax = 0;
    const watching = new AbortController();
    const watch = (async () => {
      for (let i = 0; i < 1000 && !watching.signal.aborted; i++) {
        const servers = (await site.client.call<{ servers: StatusServer[] }>('GET', '/v1/servers')).servers;
        const inGroup = (g: string) =>
          servers.filter((s) => s.groupId === g && (s.state === 'active' || s.state === 'draining')).length;
        aMin = Math.min(aMin, inGroup('alpha-web'));
        bMax = Math.max(bMax, inGroup('bravo-web'));
        await sleep(200);
      }
    })();
    try {
      // B at its committed load, then the spike.
      await runSteadyLoad({
        edgeUrl,
        targets: [{ domain: 'bravo.test', ratePerSec: B_COMMITTED_RPS, paths: ['/app/b'] }],
        signal: ac.signal,
        durationMs: 6000,
      });
      const spike = newStats();
      const deadline = Date.now() + 60_000;
      let fromPool = 0;
      let fromA = 0;
      const spikeRun = runSteadyLoad({
        edgeUrl,
        targets: [{ domain: 'bravo.test', ratePerSec: SPIKE_RPS, paths: ['/app/b'] }],
        signal: ac.signal,
        stats: spike,
        durationMs: 60_000,
      });
      while (Date.now() < deadline) {
        const plans = (await site.client.call<{ plans: StoredPlan[] }>('GET', '/v1/plans?moves=true&limit=100')).plans;
        const moves = plans.flatMap((p) =>
          p.plan.plan.moves.filter((m) => p.plan.outcomes.some((o) => o.serverId === m.serverId && o.moveId !== null)),
        );
        fromPool = moves.filter((m) => m.toGroup === 'bravo-web' && m.fromGroup === null).length;
        fromA = moves.filter((m) => m.toGroup === 'bravo-web' && m.fromGroup === 'alpha-web').length;
        const running = (await site.client.call<{ moves: unknown[] }>('GET', '/v1/moves?status=running')).moves.length;
        if (fromPool >= 1 && fromA >= 1 && running === 0) break;
        await sleep(500);
      }
      ac.abort();
      await spikeRun;
      if (fromPool < 1 || fromA < 1) {
        // Show what the loop decided, for diagnosis.
        const plans = (await site.client.call<{ plans: { at: string; plan: unknown }[] }>('GET', '/v1/plans?limit=40'))
          .plans;
        for (const p of plans.reverse()) {
          const r = p.plan as {
            plan: { moves: PlanMove[]; unmet: unknown[]; skipped: unknown };
            requests: unknown[];
            failures: unknown[];
          };
          console.log(
            p.at,
            JSON.stringify({
              moves: r.plan.moves.map((m) => `${m.serverId}:${m.fromGroup}>${m.toGroup}`),
              unmet: r.plan.unmet,
              skipped: r.plan.skipped,
              requests: r.requests,
              failures: r.failures,
            }),
          );
        }
      }
      assert.ok(fromPool >= 1, `B got ${fromPool} servers from the pool`);
      assert.ok(fromA >= 1, `B got ${fromA} servers from A`);
      // Measure B once the moves are done, under the same spike.
      const after = newStats();
      const ac2 = new AbortController();
      const aAfter = runSteadyLoad({
        edgeUrl,
        targets: [{ domain: 'alpha.test', ratePerSec: A_RPS, paths: ['/app/a'] }],
        signal: ac2.signal,
        durationMs: 8000,
      });
      await runSteadyLoad({
        edgeUrl,
        targets: [{ domain: 'bravo.test', ratePerSec: SPIKE_RPS, paths: ['/app/b'] }],
        signal: ac2.signal,
        stats: after,
        durationMs: 8000,
      });
      await aAfter;
      const p95 = percentile(after.latenciesMs, 95);
      console.log(
        `spike p95 ${percentile(spike.latenciesMs, 95).toFixed(0)} ms → after the moves ${p95.toFixed(0)} ms (target ${B_TARGET_MS}); from pool ${fromPool}, from A ${fromA}; A min ${aMin}, B max ${bMax}`,
      );
      assert.ok(p95 < B_TARGET_MS, `B's p95 after the moves is ${p95.toFixed(0)} ms, target ${B_TARGET_MS}`);
    } finally {
      ac.abort();
      await aLoad;
      watching.abort();
      await watch;
    }
    assert.ok(aMin >= 1, `A dropped to ${aMin} servers, below its committed level of 1`);
    assert.ok(bMax >= 3, `B reached only ${bMax} servers`);
  });
});
