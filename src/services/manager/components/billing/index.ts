/**
 * billing wires the pure billing core (src/core/billing, docs/BILLING.md) into the manager:
 *
 * - metering: every billing.meterIntervalMs the active manager turns the durable allocation
 *   history into billing facts and samples the edge's counters into usage samples
 *   (meter-pass.ts);
 * - the daily allotment process of seed 003 for accounts on allotment plans, once per account
 *   and day: overage charges, notifications, the cut-off action (recorded as a restriction, or
 *   an upgrade to the next larger plan) and failed-payment counting (allotments.ts);
 * - the API: price plans and each account's plan (operators, plan-routes.ts), usage, invoices
 *   as JSON and as a printable page (customers their own, resellers their customers',
 *   operators all; usage-routes.ts).
 *
 * Invoices are computed on request from the stored facts, never stored (usage.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Component, ManagerContext } from '../../context.js';
import { meterOnce } from './meter-pass.js';
import { planRoutes } from './plan-routes.js';
import { usageRoutes } from './usage-routes.js';

export { recordPaymentOutcome, runDailyAllotments } from './allotments.js';
export { meterOnce, sampleEdge } from './meter-pass.js';
export type { MeterPass } from './meter-pass.js';
export { AssignPlanBody, PaymentBody, PutPlanBody } from './plan-routes.js';
export { loadPlans, parsePlan } from './plans.js';
export type { Plan } from './plans.js';
export { computeInvoice, meterAccount, usageJSON } from './usage.js';
export type { Metered } from './usage.js';
export { BillingQuery } from './usage-routes.js';

/** BillingDeps are what billing meters, bills and restricts through. */
export type BillingDeps = Pick<ManagerContext, 'store' | 'cfg' | 'clock' | 'edge' | 'log' | 'isLeader'>;

/** createBilling returns the component of the billing routes and the metering loop (active manager only). */
export function createBilling(ctx: BillingDeps): Component {
  let busy: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'billing',
    async routes(app: FastifyInstance) {
      planRoutes(app, ctx);
      usageRoutes(app, ctx);
    },
    async start() {
      timer = setInterval(() => {
        if (!ctx.isLeader()) return;
        busy = meterOnce(ctx).catch((e: unknown) =>
          ctx.log.warn({ err: e }, 'billing metering pass failed; the next pass repeats it'),
        );
      }, ctx.cfg.billing.meterIntervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await busy;
    },
  };
}
