/**
 * collector is seed 003's data collector: it samples every running component's CPU time,
 * memory and request counters from its node, for the configuration's snapshots.
 */
import * as pdb from '../../../../drivers/store/placement.js';
import type { PlacementDeps } from './deployer.js';

/** SNAPSHOT_INTERVAL_MS is the collector's sampling period (default of placement.snapshotIntervalMs). */
export const SNAPSHOT_INTERVAL_MS = 5000;

/** Collector records snapshots of the placed components. */
export class Collector {
  constructor(private readonly ctx: Pick<PlacementDeps, 'store' | 'clock' | 'hypervisor'>) {}

  /** collect records one snapshot of every running component (the data collector). */
  async collect(): Promise<number> {
    const nodes = new Map((await pdb.listNodes(this.ctx.store)).map((n) => [n.id, n]));
    const comps = (await pdb.listComponents(this.ctx.store)).filter((c) => c.state === 'running' && c.address !== null);
    let n = 0;
    for (const c of comps) {
      const node = nodes.get(c.nodeId);
      if (!node || node.state !== 'up') continue;
      const u = await this.ctx.hypervisor
        .usage(node, `${c.configId}.${c.component}`, { timeoutMs: 2000 })
        .catch(() => null);
      if (!u) continue;
      const requests = Object.values(u.stats?.requests ?? {}).reduce((a, b) => a + b, 0);
      await pdb.insertSnapshot(this.ctx.store, {
        configId: c.configId,
        component: c.component,
        nodeId: c.nodeId,
        at: this.ctx.clock.now(),
        cpuSeconds: u.cpuSeconds,
        rssBytes: u.rssBytes,
        requests,
        errors: u.stats?.errors ?? 0,
      });
      n++;
    }
    return n;
  }
}
