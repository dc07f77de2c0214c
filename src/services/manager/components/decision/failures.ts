/**
 * failures judges every tick which serving servers failed (a silent agent, a server down at the
 * edge, a machine its BMC reports off or critical), detaches them at once, and power-cycles
 * every failed machine back to the cold pool — or quarantines it (switched off, out of the
 * pool, for an operator) when it failed again within decision.quarantineWindowMs. The tick asks
 * for the failed servers' replacements through the same plan.
 */
import { detectFailures } from '../../../../core/decision/index.js';
import type { FailureSettings, FailureVerdict, HealthObservation } from '../../../../core/decision/index.js';
import type { StoredServer } from '../../../../core/model/server.js';
import * as ddb from '../../../../drivers/store/decision.js';
import * as db from '../../../../drivers/store/resources.js';
import type { DecisionDeps } from './loop.js';
import { EdgeWatch, PowerWatch } from './watch.js';

/** FailureHandler judges and recovers failed servers for the decision loop. */
export class FailureHandler {
  private readonly edge: EdgeWatch;
  private readonly power: PowerWatch;
  private readonly recovering = new Set<string>();

  constructor(private readonly ctx: DecisionDeps) {
    this.edge = new EdgeWatch(ctx);
    this.power = new PowerWatch(ctx);
  }

  /**
   * judge marks the failed serving servers failed and detaches them, and starts recovering
   * every failed machine not yet being recovered (moves that failed after a reset end here
   * too). It returns the verdicts of the servers it failed this tick.
   */
  async judge(
    now: number,
    servers: readonly StoredServer[],
    failCounts: ReadonlyMap<string, number>,
  ): Promise<FailureVerdict[]> {
    const d = this.ctx.cfg.decision;
    const settings: FailureSettings = {
      heartbeatTimeoutMs: d.heartbeatTimeoutMs,
      edgeDownMs: d.edgeDownMs,
      graceMs: d.graceMs,
      quarantineAfter: d.quarantineAfter,
      quarantineWindowMs: d.quarantineWindowMs,
    };
    const serving = servers.filter((s) => s.state === 'active' && s.moveId === null && s.groupId !== null);
    await this.edge.observe(now);
    await this.power.observe(serving, now);
    const observations: HealthObservation[] = serving.map((s) => ({
      serverId: s.id,
      groupId: s.groupId as string,
      activeSince: Date.parse(s.updatedAt),
      lastStatusAt: this.ctx.board.latest(s.id, now)?.receivedAt ?? null,
      edgeDownSince: this.edge.downSince(s.id),
      power: this.power.of(s.id)?.state ?? null,
      bmcCritical: this.power.of(s.id)?.critical ?? false,
      recentFailures: failCounts.get(s.id) ?? 0,
    }));
    const failed: FailureVerdict[] = [];
    for (const v of detectFailures(now, observations, settings)) {
      if (await this.markFailed(v)) failed.push(v);
    }
    for (const s of servers) {
      if (
        s.state === 'failed' &&
        s.moveId === null &&
        !this.recovering.has(s.id) &&
        !failed.some((f) => f.serverId === s.id)
      ) {
        const n = failCounts.get(s.id) ?? 0;
        void this.recover(s.id, n >= d.quarantineAfter ? 'quarantine' : 'recycle', n === 0);
      }
    }
    for (const v of failed) void this.recover(v.serverId, v.action, false);
    return failed;
  }

  /** markFailed takes a serving server out of its group and the edge; false when it changed meanwhile. */
  private async markFailed(v: FailureVerdict): Promise<boolean> {
    const { store, log } = this.ctx;
    const ok = await store
      .transaction(async (tx) => {
        await this.ctx.fence?.(tx);
        const s = await db.getServer(tx, v.serverId, true);
        if (!s || s.state !== 'active' || s.moveId !== null || s.groupId !== v.groupId) return false;
        await db.setServerPosition(tx, s.id, { state: 'failed', groupId: null, moveId: null });
        await db.closeAllocation(tx, s.id, this.ctx.clock.now());
        await ddb.insertFailure(tx, { serverId: s.id, groupId: v.groupId, causes: v.causes, action: v.action });
        return true;
      })
      .catch((e: unknown) => {
        log.warn({ err: e, server: v.serverId }, 'could not mark the server failed');
        return false;
      });
    if (!ok) return false;
    log.warn(
      { server: v.serverId, group: v.groupId, causes: v.causes, action: v.action },
      'server failed; detached and replaced',
    );
    await this.ctx.edge
      .detach(v.groupId, v.serverId)
      .catch((e: unknown) =>
        log.warn({ err: e, server: v.serverId }, 'could not detach the failed server at the edge (edge-sync retries)'),
      );
    this.edge.forget(v.serverId);
    this.power.forget(v.serverId);
    return true;
  }

  /**
   * recover power-cycles a failed machine: its boot pointer is cleared, it is switched off
   * (which wipes its scratch state), its volume export withdrawn, and it returns to the cold
   * pool — its next power-on is the cycle's second half, with a fresh personality. A machine
   * that failed again is quarantined: left off, out of the pool, for an operator.
   */
  private async recover(serverId: string, action: 'recycle' | 'quarantine', record: boolean): Promise<void> {
    if (this.recovering.has(serverId)) return;
    this.recovering.add(serverId);
    const { store, log } = this.ctx;
    try {
      const s = await db.getServer(store, serverId);
      if (!s || s.state !== 'failed' || s.moveId !== null) return;
      if (record) await ddb.insertFailure(store, { serverId, groupId: null, causes: ['move'], action });
      const bmc = this.ctx.bmcFor(s.bmcUrl);
      await bmc.clearBootPointer(s.systemId).catch(() => undefined);
      await bmc.reset(s.systemId, 'ForceOff');
      await this.ctx.volumes.unexport(s.uuid).catch(() => undefined);
      await store.transaction(async (tx) => {
        await this.ctx.fence?.(tx);
        const cur = await db.getServer(tx, serverId, true);
        if (!cur || cur.state !== 'failed' || cur.moveId !== null) return;
        await db.setServerPosition(tx, serverId, {
          state: action === 'recycle' ? 'pool-cold' : 'off',
          groupId: null,
          moveId: null,
        });
        if (action === 'recycle') await ddb.markRecovered(tx, serverId);
      });
      log.warn(
        { server: serverId, action },
        action === 'recycle'
          ? 'failed server power-cycled back to the cold pool'
          : 'server failed again: quarantined (off, out of the pool)',
      );
    } catch (e) {
      log.warn({ err: e, server: serverId }, 'could not recover the failed server; retrying next tick');
    } finally {
      this.recovering.delete(serverId);
    }
  }
}
