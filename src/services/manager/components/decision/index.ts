/**
 * decision is the manager's decision loop (the seed's master decision program, Figure 11): every
 * tick the active manager collects the agents' add/release requests (durable consumer
 * `manager` on the site's requests stream) and, from the agent status board, their statuses,
 * judges failures (silent agents, servers down at the edge, machines the BMC reports off),
 * builds snapshots of the resource and SLA databases, asks the pure logic in src/core/decision
 * for a plan, hands its moves to the dispatcher in order and records the plan with its reasons
 * (GET /v1/plans, `hostfleet explain`). Failed servers are detached at once, replaced through
 * the same plan, and power-cycled back to the cold pool — or quarantined (switched off, out of
 * the pool) when they fail again.
 */
import type { FastifyInstance } from 'fastify';
import * as ddb from '../../../../drivers/store/decision.js';
import type { Component } from '../../context.js';
import { DecisionLoop } from './loop.js';
import type { DecisionDeps } from './loop.js';
import { decisionRoutes } from './routes.js';

export { DecisionLoop, reasonText } from './loop.js';
export type { DecisionDeps, SiteOutlook, TickRecord } from './loop.js';
export type { MoveOutcome } from './outcome.js';
export { isWarmStatus, WARM_ACTIONS_PER_TICK } from './warm.js';
export type { ServingNudge } from './warm.js';

/** PLANS_KEPT bounds the plans the store keeps (plans that moved nothing are kept a minute). */
export const PLANS_KEPT = 2000;

/** PRUNE_INTERVAL_MS is how often the plans beyond PLANS_KEPT are deleted. */
export const PRUNE_INTERVAL_MS = 60_000;

/** DecisionComponent is the decision component with its loop (tests and benches drive tick()). */
export interface DecisionComponent extends Component {
  readonly loop: DecisionLoop;
}

/** createDecision returns the component that runs the decision loop every decision.tickMs and serves its plans. */
export function createDecision(ctx: DecisionDeps): DecisionComponent {
  const loop = new DecisionLoop(ctx);
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let prunedAt = 0;
  // Each tick is scheduled when the one before ends, so a slow tick delays the next instead of piling up.
  const run = async () => {
    try {
      await loop.tick();
      const now = ctx.clock.now().getTime();
      if (now - prunedAt > PRUNE_INTERVAL_MS) {
        prunedAt = now;
        await ddb.prunePlans(ctx.store, PLANS_KEPT);
      }
    } catch (e) {
      ctx.log.warn({ err: e }, 'decision tick failed; retrying at the next tick');
    }
    if (!stopped) timer = setTimeout(() => void run(), ctx.cfg.decision.tickMs);
  };
  return {
    name: 'decision',
    loop,
    async routes(app: FastifyInstance) {
      decisionRoutes(app, ctx, loop);
    },
    async start() {
      if (!ctx.cfg.decision.enabled) return;
      timer = setTimeout(() => void run(), ctx.cfg.decision.tickMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await loop.close();
    },
  };
}
