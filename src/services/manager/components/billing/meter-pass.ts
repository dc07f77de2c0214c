/**
 * meter-pass is one metering pass of the active manager: the durable allocation history becomes
 * billing facts (idempotent, ids derived from the allocation rows), the edge's counters (hits
 * per server, connections in flight) become usage samples, and the daily allotment process runs
 * for the days that ended.
 */
import { MINUTE_MS, type MetricSample } from '../../../../core/billing/index.js';
import * as bdb from '../../../../drivers/store/billing.js';
import * as db from '../../../../drivers/store/resources.js';
import type { ManagerContext } from '../../context.js';
import { runDailyAllotments } from './allotments.js';

/** MeterPass is what one metering pass did. */
export interface MeterPass {
  readonly facts: number;
  readonly samples: number;
  readonly days: number;
  readonly edge: 'sampled' | 'unavailable';
}

/** sampleEdge reads the edge's per-server counters and stores the hits since the last reading and the connections in flight. */
export async function sampleEdge(ctx: Pick<ManagerContext, 'store' | 'edge'>, nowMs: number): Promise<number> {
  const pools = await ctx.edge.status();
  const groups = new Map((await db.listGroups(ctx.store)).map((g) => [g.id, g.accountId]));
  const readings: { key: string; value: number }[] = [];
  const accountOfKey = new Map<string, string>();
  const inflight = new Map<string, number>();
  for (const p of pools) {
    const account = groups.get(p.id);
    if (account === undefined) continue;
    inflight.set(account, (inflight.get(account) ?? 0) + p.servers.reduce((s, x) => s + x.outstanding, 0));
    for (const s of p.servers) {
      const key = `${p.id}/${s.id}`;
      readings.push({ key, value: s.served });
      accountOfKey.set(key, account);
    }
  }
  const minute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  return ctx.store.transaction(async (tx) => {
    const deltas = await bdb.counterDeltas(tx, 'edge-served', readings, nowMs);
    const samples: MetricSample[] = [];
    for (const [key, d] of deltas) {
      if (d > 0)
        samples.push({
          id: `edge:hits:${key}:${nowMs}`,
          account: accountOfKey.get(key) as string,
          metric: 'hits',
          at: nowMs,
          value: d,
        });
    }
    for (const [account, n] of inflight)
      samples.push({
        id: `edge:connections:${account}:${minute}`,
        account,
        metric: 'connections',
        at: minute,
        value: n,
      });
    return bdb.insertSamples(tx, samples);
  });
}

/** meterOnce is one metering pass: facts from the allocation history, edge samples, then the daily process. */
export async function meterOnce(
  ctx: Pick<ManagerContext, 'store' | 'cfg' | 'clock' | 'edge' | 'log'>,
): Promise<MeterPass> {
  const nowMs = ctx.clock.now().getTime();
  const { inserted } = await bdb.syncAllocationFacts(ctx.store, { ramMb: ctx.cfg.billing.serverRamMb });
  let samples = 0;
  let edge: MeterPass['edge'] = 'sampled';
  try {
    samples = await sampleEdge(ctx, nowMs);
  } catch (e) {
    // Without the edge's counters there are no hits this pass; allocation minutes do not depend on it.
    edge = 'unavailable';
    ctx.log.warn({ err: e }, 'billing could not sample the edge counters');
  }
  const days = await runDailyAllotments(ctx, nowMs);
  return { facts: inserted, samples, days, edge };
}
