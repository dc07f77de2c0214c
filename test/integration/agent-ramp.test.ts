// The acceptance test of the agent and the decision tick: under a load ramp on the embedded
// site, the loaded group is given a server before its p95 response time at the edge exceeds the
// SLA target — asked for by its agent's fuzzy inference, or ordered by the decision tick from the
// decider's measured and forecast rate, whichever comes first. The group has one low-capacity
// server (50 ms per dynamic request, 2 workers: 40 requests/s); the open-loop load rises by 2
// requests/s every 3 s. The agent's adds are taken from the durable requests stream (a consumer
// of its own, beside the manager's), the decision tick's from the moves it started; the edge p95
// from the load generator's latencies per stage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import { percentile, runSteadyLoad } from '../../src/emulators/load/steady.js';
import type { LoadStats } from '../../src/emulators/load/steady.js';
import { parseAgentRequest } from '../../src/core/agent/messages.js';
import type { AgentRequest } from '../../src/core/agent/messages.js';
import { streams } from '../../src/drivers/bus/index.js';
import type { Subscription } from '../../src/drivers/bus/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TARGET_MS = 200;
const STAGE_MS = 3000;
const RATES = Array.from({ length: 22 }, (_, i) => 8 + 2 * i); // 8 … 50 requests/s

describe('agent under a load ramp', () => {
  let site: TestSite;
  let sub: Subscription | null = null;
  const adds: { req: AgentRequest; at: number }[] = [];
  before(async () => {
    site = await startTestSite({ machines: 2 });
    await site.customer('ramp', ['ramp.test'], { runtime: { serviceTimeMs: 50, concurrency: 2, maxQueue: 2000 } });
    await site.client.call('PUT', '/v1/groups/ramp-web/sla', {
      metric: 'servers',
      unitsPerServer: 1,
      committed: 1,
      burst: 2,
      extended: 2,
      priority: 0.5,
      responseTargetMs: TARGET_MS,
    });
    await site.registerAll();
    const m = await site.moveAndWait('srv-01', 'ramp-web');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    const ctx = site.manager?.ctx;
    assert.ok(ctx);
    sub = await ctx.bus.durable.consume(streams.requests('test').name, 'ramp-test', (data) => {
      const r = parseAgentRequest(data);
      if (r !== null && r.group === 'ramp-web') adds.push({ req: r, at: Date.now() });
    });
  });
  after(async () => {
    await sub?.unsubscribe();
    await site?.stop();
  });

  test('the first add arrives before the edge p95 exceeds the target', async () => {
    // A quiet start so the agent has a few samples at low load.
    await sleep(3000);
    const stages: { rate: number; start: number; stats: LoadStats; done: Promise<LoadStats> }[] = [];
    const abort = new AbortController();
    for (const rate of RATES) {
      const stats: LoadStats = { sent: 0, ok: 0, failed: 0, byStatus: {}, latenciesMs: [], failures: [] };
      const start = Date.now();
      const done = runSteadyLoad({
        edgeUrl: site.edge.url,
        targets: [{ domain: 'ramp.test', ratePerSec: rate, paths: ['/app/ramp'] }],
        signal: abort.signal,
        durationMs: STAGE_MS,
        stats,
      });
      stages.push({ rate, start, stats, done });
      await sleep(STAGE_MS);
    }
    abort.abort();
    await Promise.all(stages.map((s) => s.done));
    const agentAdd = adds.find((a) => a.req.kind === 'add') ?? null;
    // The decision tick's own add: the first move into the group it started during the ramp.
    const { moves } = await site.client.call<{
      moves: { toGroup: string | null; requestedBy: string; createdAt: string }[];
    }>('GET', '/v1/moves?limit=50');
    const tickAdd = moves
      .filter((m) => m.toGroup === 'ramp-web' && m.requestedBy.startsWith('decision'))
      .map((m) => Date.parse(m.createdAt))
      .sort((a, b) => a - b)[0];
    const firstAdd =
      tickAdd !== undefined && (agentAdd === null || tickAdd < agentAdd.at)
        ? { by: 'decision tick', at: tickAdd, madeAt: tickAdd }
        : agentAdd
          ? { by: 'agent', at: agentAdd.at, madeAt: agentAdd.req.at }
          : null;
    const p95s = stages.map((s) => ({
      rate: s.rate,
      start: s.start,
      p95: percentile(s.stats.latenciesMs, 95),
      n: s.stats.latenciesMs.length,
    }));
    // "Exceeds" is two stages in a row (6 s) over the target: the machine is shared, and a single
    // stage's p95 can jump at half load when the host stalls the processes for a moment — no
    // forecast of load can see that coming, and it is not the overload the test is about.
    const firstOver = p95s.find((s, i) => s.p95 > TARGET_MS && (p95s[i + 1]?.p95 ?? Infinity) > TARGET_MS) ?? null;
    const firstSpike = p95s.find((s) => s.p95 > TARGET_MS) ?? null;
    const t0 = stages[0]?.start ?? 0;
    const report = {
      firstAdd: firstAdd
        ? { by: firstAdd.by, atS: (firstAdd.at - t0) / 1000, madeAtS: (firstAdd.madeAt - t0) / 1000 }
        : null,
      agentAdd: agentAdd
        ? {
            atS: (agentAdd.at - t0) / 1000,
            need: agentAdd.req.need,
            urgency: agentAdd.req.urgency,
            predictedResponseMs: agentAdd.req.predictedResponseMs,
            servers: agentAdd.req.servers,
          }
        : null,
      firstOver: firstOver ? { atS: (firstOver.start - t0) / 1000, rate: firstOver.rate, p95: firstOver.p95 } : null,
      leadS: firstAdd && firstOver ? (firstOver.start - firstAdd.at) / 1000 : null,
      firstSpike: firstSpike
        ? { atS: (firstSpike.start - t0) / 1000, rate: firstSpike.rate, p95: firstSpike.p95 }
        : null,
      stages: p95s.map((s) => `${((s.start - t0) / 1000).toFixed(0)}s ${s.rate}/s p95 ${s.p95.toFixed(0)}`),
    };
    console.log(JSON.stringify(report));
    assert.ok(firstAdd, `no add during the ramp: ${JSON.stringify(report)}`);
    if (agentAdd) {
      assert.equal(agentAdd.req.server, 'srv-01');
      assert.ok(agentAdd.req.urgency >= 0 && agentAdd.req.urgency <= 1);
    }
    // The ramp goes past the server's capacity, so the p95 crosses unless a server was added in
    // time (the decision loop acts on the add); either way the add came first.
    if (firstOver !== null)
      assert.ok(
        firstAdd.at < firstOver.start,
        `the add came at ${report.firstAdd?.atS}s, the p95 exceeded ${TARGET_MS} ms from ${report.firstOver?.atS}s`,
      );
    // The add was made while the offered load was still below the server's capacity (40/s).
    const addStage = [...stages].reverse().find((s) => s.start <= firstAdd.madeAt);
    assert.ok(addStage && addStage.rate < 40, `the add came only at ${addStage?.rate}/s, at or past capacity`);
    // And it was about this load: made once the ramp had begun to rise, not at the quiet start.
    // (How early depends on the machine: on a loaded host one server's p95 passes 200 ms well
    // below its nominal 40 requests/s, and the tick sizes from the rates it is shown.)
    const atAdd = p95s.filter((s) => s.start <= firstAdd.madeAt).map((s) => s.rate);
    assert.ok(Math.max(...atAdd) >= 10, `the add came at ${Math.max(...atAdd)}/s: before the load rose`);
  });
});
