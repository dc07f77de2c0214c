/**
 * edge-sync keeps the edge's routing table equal to the resource database: every group is a
 * pool with the group's domains, every active server not in a move is attached to its group's
 * pool, and nothing else is. Moves program the edge step by step; this reconciler repairs what
 * moves cannot: an edge that restarted (HAProxy forgets servers added at run time on reload),
 * or a rollback that could not reach the edge. It runs on the active manager only.
 */
import type { EdgePoolStatus } from '../../../drivers/edge/index.js';
import * as db from '../../../drivers/store/resources.js';
import { listRestrictions } from '../../../drivers/store/billing.js';
import type { GroupRecord } from '../../../core/model/records.js';
import type { StoredServer } from '../../../drivers/store/resources.js';
import type { Component, ManagerContext } from '../context.js';

/** EDGE_SYNC_INTERVAL_MS is how often the edge is compared with the database. */
export const EDGE_SYNC_INTERVAL_MS = 5000;

/** EdgeRepair is one change the reconciler made. */
export interface EdgeRepair {
  readonly kind: 'pool' | 'attach' | 'detach';
  readonly pool: string;
  readonly server?: string;
  /** rateLimit is the pool's cap a 'pool' repair sets (null: none). */
  readonly rateLimit?: number | null;
}

/**
 * planEdgeRepairs compares the edge's table with the database and lists the changes to make.
 * The groups of suspended accounts (billing's cut-off or failed payments) keep their pool but
 * no server, so their domains answer 503 until the suspension is lifted. The groups of
 * throttled accounts (account → requests per second) have their pool rate-limited at the edge,
 * and every other group's pool has no limit.
 */
export function planEdgeRepairs(
  edge: readonly EdgePoolStatus[],
  groups: readonly GroupRecord[],
  servers: readonly StoredServer[],
  suspended: ReadonlySet<string> = new Set(),
  throttled: ReadonlyMap<string, number> = new Map(),
  isRemote: (pool: string, server: string) => boolean = () => false,
): EdgeRepair[] {
  const out: EdgeRepair[] = [];
  const byPool = new Map(edge.map((p) => [p.id, p]));
  const moving = new Set(servers.filter((s) => s.moveId !== null).map((s) => s.id));
  for (const g of groups) {
    const p = byPool.get(g.id);
    const rateLimit = throttled.get(g.accountId) ?? null;
    if (!p || [...p.domains].sort().join(',') !== [...g.domains].sort().join(',') || p.rateLimit !== rateLimit)
      out.push({ kind: 'pool', pool: g.id, rateLimit });
    // A server drained by a move that was then rolled back is attached again (back in service).
    const attached = new Set((p?.servers ?? []).filter((s) => s.state !== 'draining').map((s) => s.id));
    if (suspended.has(g.accountId)) continue;
    for (const s of servers) {
      if (s.groupId === g.id && s.state === 'active' && s.moveId === null && !attached.has(s.id))
        out.push({ kind: 'attach', pool: g.id, server: s.id });
    }
  }
  const serverById = new Map(servers.map((s) => [s.id, s]));
  const groupIds = new Set(groups.map((g) => g.id));
  const suspendedPools = new Set(groups.filter((g) => suspended.has(g.accountId)).map((g) => g.id));
  for (const p of edge) {
    // Pools that are not groups (a placed configuration's load balancer) belong to their owner.
    if (!groupIds.has(p.id)) continue;
    for (const es of p.servers) {
      const s = serverById.get(es.id);
      // A server in a move is the dispatcher's to program; anything else must be active in this group.
      // A server lent by another site is the global component's to attach and let go.
      if (moving.has(es.id) || isRemote(p.id, es.id)) continue;
      if (suspendedPools.has(p.id) || !s || s.groupId !== p.id || (s.state !== 'active' && s.state !== 'draining'))
        out.push({ kind: 'detach', pool: p.id, server: es.id });
    }
  }
  return out;
}

/** EdgeSyncDeps are what the reconciler compares and repairs. */
export type EdgeSyncDeps = Pick<ManagerContext, 'store' | 'edge' | 'cfg' | 'log' | 'isLeader'> & {
  /** isRemote tells a server lent by another site (left to the global component). */
  readonly isRemote?: (pool: string, server: string) => boolean;
};

/** syncEdge applies the repairs once and returns them. */
export async function syncEdge(ctx: Omit<EdgeSyncDeps, 'isLeader'>): Promise<EdgeRepair[]> {
  const [edge, groups, servers, restrictions] = await Promise.all([
    ctx.edge.status(),
    db.listGroups(ctx.store),
    db.listServers(ctx.store),
    listRestrictions(ctx.store),
  ]);
  const suspended = new Set(restrictions.filter((r) => r.action === 'suspend').map((r) => r.accountId));
  const throttled = new Map(
    restrictions.filter((r) => r.action === 'throttle').map((r) => [r.accountId, ctx.cfg.billing.throttleRps]),
  );
  const repairs = planEdgeRepairs(edge, groups, servers, suspended, throttled, ctx.isRemote);
  const groupById = new Map(groups.map((g) => [g.id, g]));
  const serverById = new Map(servers.map((s) => [s.id, s]));
  for (const r of repairs) {
    if (r.kind === 'pool') {
      const g = groupById.get(r.pool);
      if (g) await ctx.edge.upsertPool({ id: g.id, domains: g.domains, rateLimit: r.rateLimit ?? null });
    } else if (r.kind === 'attach') {
      const s = serverById.get(r.server as string);
      if (s) await ctx.edge.attach(r.pool, { id: s.id, address: s.address });
    } else {
      await ctx.edge.detach(r.pool, r.server as string);
    }
  }
  if (repairs.length > 0) ctx.log.info({ repairs }, 'edge repaired to match the resource database');
  return repairs;
}

/** createEdgeSync returns the component that runs syncEdge at start and every EDGE_SYNC_INTERVAL_MS on the active manager. */
export function createEdgeSync(d: EdgeSyncDeps): Component {
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (!d.isLeader()) return;
    running = syncEdge(d).catch((e: unknown) =>
      d.log.warn({ err: e }, 'edge sync failed; retrying at the next interval'),
    );
  };
  return {
    name: 'edge-sync',
    async start() {
      tick();
      timer = setInterval(tick, EDGE_SYNC_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
