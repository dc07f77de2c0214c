/**
 * edge-pools repairs the configurations' pools on the edge (an edge that restarted, a HAProxy
 * reload, or another writer): each pool holds exactly the running backends at their addresses.
 * The deployer runs it between changes, never during one (a component being moved or switched
 * over is not yet at its new address).
 */
import type { Configuration } from '../../../../core/scheduler/index.js';
import * as pdb from '../../../../drivers/store/placement.js';
import type { PlacementDeps } from './deployer.js';
import { backendsOf, poolIdOf } from './submission.js';
import type { EdgeSettings } from './submission.js';

/** repairPools makes every configuration's edge pool what the store records and returns the number of repairs. */
export async function repairPools(ctx: Pick<PlacementDeps, 'store' | 'log' | 'edge'>): Promise<number> {
  const status = new Map((await ctx.edge.status()).map((p) => [p.id, p]));
  let repairs = 0;
  for (const rec of await pdb.listConfigs(ctx.store)) {
    const spec = rec.spec as Configuration;
    const edge = rec.edge as EdgeSettings;
    const backends = new Set(backendsOf(spec));
    if (backends.size === 0 && edge.domains.length === 0) continue;
    const id = poolIdOf(rec.id);
    const have = status.get(id);
    if (
      !have ||
      have.domains.join(',') !== [...edge.domains].sort().join(',') ||
      have.balance !== edge.balance ||
      have.sticky !== edge.sticky
    ) {
      await ctx.edge.upsertPool({ id, domains: edge.domains, balance: edge.balance, sticky: edge.sticky });
      repairs++;
    }
    const want = (await pdb.listComponents(ctx.store, rec.id)).filter(
      (c) => backends.has(c.component) && c.state === 'running' && c.address !== null,
    );
    for (const c of want) {
      const s = have?.servers.find((x) => x.id === c.component);
      if (!s || s.address !== c.address) {
        await ctx.edge.attach(id, { id: c.component, address: c.address! });
        repairs++;
      }
    }
    for (const s of have?.servers ?? []) {
      if (!want.some((c) => c.component === s.id)) {
        await ctx.edge.detach(id, s.id);
        repairs++;
      }
    }
  }
  if (repairs > 0) ctx.log.info({ repairs }, 'placement: edge pools repaired');
  return repairs;
}
