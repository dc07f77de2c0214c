/**
 * realise makes a configuration's recorded placement real on the hardware nodes and the edge;
 * the deployer runs it after every committed plan, so what the store records is what runs.
 */
import { buildPersonality, type Personality } from '../../../../core/model/personality.js';
import { componentsOf, type Configuration, type TierRole } from '../../../../core/scheduler/index.js';
import * as pdb from '../../../../drivers/store/placement.js';
import type { ComponentRecord } from '../../../../drivers/store/placement.js';
import type { PlacementDeps } from './deployer.js';
import { backendsOf, poolIdOf } from './submission.js';
import type { EdgeSettings } from './submission.js';

/** RealiseDeps are what realise records in and starts through. */
export type RealiseDeps = Pick<PlacementDeps, 'store' | 'log' | 'edge' | 'hypervisor'>;

// The personality's group role of each tier (the runtime's roles, src/core/model/names.ts).
const GROUP_ROLE: Readonly<Record<TierRole, 'front-end' | 'web' | 'app' | 'db'>> = {
  'load-balancer': 'front-end',
  web: 'web',
  app: 'app',
  db: 'db',
};

/**
 * realise makes a configuration's recorded placement real: every component not running is
 * started on its node, then the edge pool (the load-balancer tier) gets the configuration's
 * domains and its backends at their current addresses. Running it twice starts nothing twice.
 */
export async function realise(ctx: RealiseDeps, configId: string): Promise<void> {
  const rec = await pdb.getConfig(ctx.store, configId);
  if (!rec) return;
  const spec = rec.spec as Configuration;
  const edge = rec.edge as EdgeSettings;
  const nodes = new Map((await pdb.listNodes(ctx.store)).map((n) => [n.id, n]));
  const roleOf = new Map(componentsOf(spec).map((x) => [x.component.id, x.tier]));
  const comps = await pdb.listComponents(ctx.store, configId);
  await Promise.all(
    comps
      .filter((c) => c.state === 'starting')
      .map(async (c) => {
        const tier = roleOf.get(c.component);
        if (tier?.role === 'load-balancer') {
          // The load balancer is the edge pool; its reservation on the node stands for the proxy's share.
          await pdb.setComponentRuntime(ctx.store, configId, c.component, c.nodeId, {
            address: null,
            state: 'running',
          });
          return;
        }
        const node = nodes.get(c.nodeId)!;
        try {
          const started = await ctx.hypervisor.start(
            node,
            `${configId}.${c.component}`,
            personalityOf(rec.accountId, spec, c),
          );
          await pdb.setComponentRuntime(ctx.store, configId, c.component, c.nodeId, {
            address: started.address,
            state: 'running',
          });
        } catch (e) {
          ctx.log.warn(
            { configuration: configId, component: c.component, node: c.nodeId, err: (e as Error).message },
            'placement: component did not start',
          );
          await pdb.setComponentRuntime(ctx.store, configId, c.component, c.nodeId, {
            address: null,
            state: 'failed',
          });
        }
      }),
  );
  const after = await pdb.listComponents(ctx.store, configId);
  const backends = new Set(backendsOf(spec));
  if (backends.size > 0 || edge.domains.length > 0) {
    const pool = poolIdOf(configId);
    await ctx.edge.upsertPool({ id: pool, domains: edge.domains, balance: edge.balance, sticky: edge.sticky });
    for (const c of after) {
      if (backends.has(c.component) && c.state === 'running' && c.address !== null)
        await ctx.edge.attach(pool, { id: c.component, address: c.address });
    }
  }
  const state =
    after.some((c) => c.state === 'failed') || after.length < componentsOf(spec).length ? 'degraded' : 'running';
  await pdb.updateConfig(ctx.store, configId, { state });
}

/** personalityOf is the personality a placed component starts with on its node. */
function personalityOf(accountId: string, spec: Configuration, c: ComponentRecord): Personality {
  const tier = spec.tiers.find((t) => t.name === c.tier)!;
  return buildPersonality({
    machine: `${c.nodeId}.${spec.id}.${c.component}`,
    server: `${spec.id}.${c.component}`,
    account: { id: accountId, name: accountId, uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 },
    group: { id: `${spec.id}.${tier.name}`, name: `${spec.id} ${tier.name}`, role: GROUP_ROLE[tier.role] },
    image: 'hostfleet/demo-runtime',
    runtime: { serviceTimeMs: 20, concurrency: 16, maxQueue: 500 },
    volume: accountId.slice(0, 63),
    config: { configuration: spec.id, component: c.component, tier: tier.name },
  });
}
