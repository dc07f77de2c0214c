/**
 * placement runs seed 003's deployment manager and data collector around the pure scheduler
 * (src/core/scheduler): customers submit multi-tier configurations, the scheduler plans them
 * on the registered hardware nodes, and the deployer carries the plan out (deployer.ts); the
 * node monitor re-places the components of a node that stops answering (monitor.ts); the
 * collector samples every component periodically (collector.ts). Only the active manager runs
 * the monitor and the collector.
 */
import type { FastifyInstance } from 'fastify';
import type { Component } from '../../context.js';
import { Collector, SNAPSHOT_INTERVAL_MS } from './collector.js';
import { Deployer } from './deployer.js';
import type { PlacementDeps } from './deployer.js';
import { NODE_HEALTH_INTERVAL_MS, NodeMonitor } from './monitor.js';
import { placementRoutes } from './routes.js';

export { COMMIT_ATTEMPTS, Deployer } from './deployer.js';
export type { PlacementDeps } from './deployer.js';
export { NODE_FAILURES_TO_DOWN, NODE_HEALTH_INTERVAL_MS, NodeMonitor } from './monitor.js';
export { Collector, SNAPSHOT_INTERVAL_MS } from './collector.js';
export { AddComponent, ChangeComponent, RegisterNode } from './routes.js';
export { MAX_CONFIG_ID, POOL_PREFIX, backendsOf, parseSubmission, poolIdOf } from './submission.js';
export type { EdgeSettings } from './submission.js';

/** EDGE_SYNC_TICKS is how many node-check intervals pass between two repairs of the configurations' edge pools. */
export const EDGE_SYNC_TICKS = 2;

/** PlacementComponent is the placement component with its deployer, node monitor and collector. */
export interface PlacementComponent extends Component {
  readonly deployer: Deployer;
  readonly monitor: NodeMonitor;
  readonly collector: Collector;
}

/** createPlacement returns the component of the placement API, the node monitor and the collector; bad scheduler settings throw E_CONFIG. */
export function createPlacement(ctx: PlacementDeps): PlacementComponent {
  const deployer = new Deployer(ctx);
  const monitor = new NodeMonitor(ctx, deployer);
  const collector = new Collector(ctx);
  let checking: Promise<unknown> = Promise.resolve();
  let collecting: Promise<unknown> = Promise.resolve();
  let health: NodeJS.Timeout | undefined;
  let sampling: NodeJS.Timeout | undefined;
  return {
    name: 'placement',
    deployer,
    monitor,
    collector,
    async routes(app: FastifyInstance) {
      placementRoutes(app, ctx, { deployer, monitor });
    },
    async start() {
      // A pass still running when its interval comes round again is left to finish, not doubled.
      let busyCheck = false;
      let busyCollect = false;
      let ticks = 0;
      health = setInterval(() => {
        if (busyCheck || !ctx.isLeader()) return;
        busyCheck = true;
        const sync = ++ticks % EDGE_SYNC_TICKS === 0;
        checking = monitor
          .checkNodes()
          .then(() => (sync ? deployer.syncEdge() : 0))
          .catch((e: unknown) => ctx.log.warn({ err: e }, 'placement: node check failed'))
          .finally(() => (busyCheck = false));
      }, ctx.cfg.placement?.nodeHealthIntervalMs ?? NODE_HEALTH_INTERVAL_MS);
      sampling = setInterval(() => {
        if (busyCollect || !ctx.isLeader()) return;
        busyCollect = true;
        collecting = collector
          .collect()
          .catch((e: unknown) => ctx.log.warn({ err: e }, 'placement: collection failed'))
          .finally(() => (busyCollect = false));
      }, ctx.cfg.placement?.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS);
      health.unref();
      sampling.unref();
    },
    async stop() {
      clearInterval(health);
      clearInterval(sampling);
      monitor.close();
      await Promise.allSettled([checking, collecting]);
      await deployer.close();
    },
  };
}
