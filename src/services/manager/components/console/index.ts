/**
 * console serves the management console (the seed's console, 001 "Figure 11"; 003's control
 * panel; 004's reseller panel): the single-page app built into web/dist at `/`
 * (static-files.ts), login with sessions kept in a cookie (sessions.ts) and console users
 * (users.ts), live updates as server-sent events at /v1/events (event-hub.ts), the samples the
 * live charts draw, read from the agent status board (sampler.ts), the decision surface per
 * group, and the service actions customers and resellers take (group-actions.ts). Everything
 * the page shows comes through these and the other /v1 routes, scoped by the caller's role and
 * account.
 */
import type { FastifyInstance } from 'fastify';
import * as users from '../../../../drivers/store/users.js';
import type { Component, ManagerContext } from '../../context.js';
import { FailureThrottle } from '../../throttle.js';
import type { AgentStatusBoard } from '../agent-status-board.js';
import { EventHub, eventRoutes } from './event-hub.js';
import { groupRoutes } from './group-actions.js';
import { SAMPLE_INTERVAL_MS, Sampler } from './sampler.js';
import { sessionRoutes } from './sessions.js';
import { staticRoutes } from './static-files.js';
import { userRoutes } from './users.js';

export { EVENT_INTERVAL_MS, IDLE_INTERVAL_MS } from './event-hub.js';
export { GROUP_ACTIONS } from './group-actions.js';
export type { GroupAction } from './group-actions.js';
export { SAMPLE_HISTORY, SAMPLE_INTERVAL_MS } from './sampler.js';
export type { GroupSample, ServerMeter } from './sampler.js';
export { SESSION_TTL_MS } from './sessions.js';
export { CreateUser } from './users.js';

/** SESSION_SWEEP_MS is how often expired console sessions are deleted. */
export const SESSION_SWEEP_MS = 600_000;

/**
 * ConsoleDeps are what the console reads and acts through; board is the site's agent status
 * board, which the charts and meters are drawn from.
 */
export type ConsoleDeps = Pick<ManagerContext, 'cfg' | 'store' | 'log' | 'clock' | 'dispatcher' | 'isLeader'> & {
  readonly board: AgentStatusBoard;
};

/** createConsole returns the console component: its page, logins, live events, charts and service actions. */
export function createConsole(ctx: ConsoleDeps): Component {
  const sampler = new Sampler(ctx);
  const hub = new EventHub(ctx, sampler);
  const failures = new FailureThrottle(ctx.cfg.login.windowMs);
  let stopped = false;
  let sampling: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  return {
    name: 'console',
    async routes(app: FastifyInstance) {
      staticRoutes(app);
      sessionRoutes(app, ctx, failures);
      userRoutes(app, ctx);
      eventRoutes(app, ctx, hub, sampler);
      groupRoutes(app, ctx);
    },
    async start() {
      timer = setInterval(() => {
        if (stopped) return;
        sampling = sampler.sample().catch((e: unknown) => ctx.log.warn({ err: e }, 'console sampler failed'));
      }, SAMPLE_INTERVAL_MS);
      sweeper = setInterval(() => {
        users
          .deleteExpiredSessions(ctx.store, ctx.clock.now())
          .catch((e: unknown) => ctx.log.warn({ err: e }, 'could not sweep expired sessions'));
      }, SESSION_SWEEP_MS);
      sweeper.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(sweeper);
      hub.close();
      await sampling;
    },
  };
}
