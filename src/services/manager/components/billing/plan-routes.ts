/**
 * plan-routes are billing's routes around plans and what follows from them: price plans
 * (operators change them), each account's plan with its daily allotment state, payment
 * outcomes, restrictions in force and lifting them, and a metering pass on demand.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HostfleetError } from '../../../../core/errors.js';
import { PAYMENT_OUTCOMES, monthOf } from '../../../../core/billing/index.js';
import * as bdb from '../../../../drivers/store/billing.js';
import * as db from '../../../../drivers/store/resources.js';
import { requireRole } from '../../auth.js';
import { principalOf } from '../../principal.js';
import { IdParam } from '../../schemas.js';
import { recordPaymentOutcome } from './allotments.js';
import type { BillingDeps } from './index.js';
import { meterOnce } from './meter-pass.js';
import { parsePlan } from './plans.js';
import { visibleAccount } from './usage-routes.js';

/** PutPlanBody is the body of PUT /v1/billing/plans/{id}: the kind and the plan's fields (docs/BILLING.md §3–4). */
export const PutPlanBody = Type.Object(
  {
    kind: Type.Unsafe<bdb.PlanKind>({
      type: 'string',
      enum: [...bdb.PLAN_KINDS],
      description: `one of ${bdb.PLAN_KINDS.join(', ')}`,
    }),
  },
  { additionalProperties: true },
);

/** AssignPlanBody is the body of PUT /v1/accounts/{id}/plan. */
export const AssignPlanBody = Type.Object(
  { planId: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'the id of a stored plan' }) },
  { additionalProperties: false },
);

/** PaymentBody is the body of POST /v1/accounts/{id}/payments. */
export const PaymentBody = Type.Object(
  {
    day: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'the day whose overage charge this is, YYYY-MM-DD',
    }),
    outcome: Type.Unsafe<(typeof PAYMENT_OUTCOMES)[number]>({
      type: 'string',
      enum: [...PAYMENT_OUTCOMES],
      description: `one of ${PAYMENT_OUTCOMES.join(', ')}`,
    }),
  },
  { additionalProperties: false },
);

/** planRoutes adds billing's plan, payment, restriction and metering routes. */
export function planRoutes(app: FastifyInstance, ctx: BillingDeps): void {
  app.get(
    '/v1/billing/plans',
    { schema: { tags: ['billing'], summary: 'Price plans (SLA and allotment)' } },
    async () => {
      const plans = await bdb.listPlans(ctx.store);
      return { plans: plans.map((p) => ({ ...p.body, id: p.id, kind: p.kind })) };
    },
  );
  app.get('/v1/billing/plans/:id', { schema: { tags: ['billing'], params: IdParam } }, async (req) => {
    const id = (req.params as { id: string }).id;
    const p = await bdb.getPlan(ctx.store, id);
    if (p === null) throw new HostfleetError('E_NOT_FOUND', `plan ${id} does not exist`);
    return { plan: { ...p.body, id: p.id, kind: p.kind }, updatedAt: p.updatedAt };
  });
  app.put(
    '/v1/billing/plans/:id',
    {
      schema: { tags: ['billing'], summary: 'Create or replace a price plan', params: IdParam, body: PutPlanBody },
    },
    async (req, reply) => {
      requireRole(principalOf(req), ['operator']);
      const id = (req.params as { id: string }).id;
      const { kind, ...rest } = req.body as Record<string, unknown> & { kind: bdb.PlanKind };
      if (rest.id !== undefined && rest.id !== id)
        throw new HostfleetError('E_VALIDATION', `the body names plan ${String(rest.id)} but the path names ${id}`, {
          fields: [{ field: 'body.id', problem: `must be ${id} (the plan id in the path) or left out` }],
        });
      const body = { ...rest, id };
      parsePlan(kind, body, 'body.');
      const { plan, created } = await bdb.putPlan(ctx.store, { id, kind, body });
      void reply.code(created ? 201 : 200);
      return { plan: { ...plan.body, id: plan.id, kind: plan.kind }, created };
    },
  );
  app.get(
    '/v1/accounts/:id/plan',
    {
      schema: {
        tags: ['billing'],
        summary: 'An account’s plan, its daily allotment state and any restriction',
        params: IdParam,
      },
    },
    async (req) => {
      const id = (req.params as { id: string }).id;
      await visibleAccount(ctx, req, id);
      const a = await bdb.getAccountPlan(ctx.store, id);
      const plan = a === null ? null : await bdb.getPlan(ctx.store, a.planId);
      const period = monthOf(ctx.clock.now().getTime());
      const st = await bdb.getAllotmentState(ctx.store, id, period);
      return {
        account: id,
        assignment: a,
        plan: plan === null ? null : { ...plan.body, id: plan.id, kind: plan.kind },
        allotment:
          st === null
            ? null
            : {
                period,
                ...bdb.allotmentStateToJSON(st.state),
                days: await bdb.listAllotmentDays(ctx.store, id, period),
              },
        restriction: await bdb.getRestriction(ctx.store, id),
      };
    },
  );
  app.put(
    '/v1/accounts/:id/plan',
    { schema: { tags: ['billing'], summary: 'Put an account on a plan', params: IdParam, body: AssignPlanBody } },
    async (req) => {
      const p = principalOf(req);
      requireRole(p, ['operator']);
      const id = (req.params as { id: string }).id;
      const { planId } = req.body as typeof AssignPlanBody.static;
      if ((await db.getAccount(ctx.store, id)) === null)
        throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
      if ((await bdb.getPlan(ctx.store, planId)) === null)
        throw new HostfleetError('E_VALIDATION', `plan ${planId} does not exist`, {
          fields: [
            {
              field: 'body.planId',
              problem: `names no stored plan; create it with PUT /v1/billing/plans/${planId}`,
            },
          ],
        });
      return { assignment: await bdb.assignPlan(ctx.store, { accountId: id, planId, by: p.name }) };
    },
  );
  app.post(
    '/v1/accounts/:id/payments',
    {
      schema: {
        tags: ['billing'],
        summary: 'Record the outcome of a day’s overage charge',
        params: IdParam,
        body: PaymentBody,
      },
    },
    async (req) => {
      requireRole(principalOf(req), ['operator']);
      const id = (req.params as { id: string }).id;
      const b = req.body as typeof PaymentBody.static;
      if (Number.isNaN(Date.parse(`${b.day}T00:00:00Z`)))
        throw new HostfleetError('E_VALIDATION', `day ${b.day} is not a date`, {
          fields: [{ field: 'body.day', problem: 'must be a calendar date YYYY-MM-DD' }],
        });
      if ((await db.getAccount(ctx.store, id)) === null)
        throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
      return recordPaymentOutcome(ctx.store, id, b.day, b.outcome);
    },
  );
  app.delete(
    '/v1/accounts/:id/restriction',
    { schema: { tags: ['billing'], summary: 'Lift a billing restriction', params: IdParam } },
    async (req) => {
      requireRole(principalOf(req), ['operator']);
      const id = (req.params as { id: string }).id;
      return { lifted: await bdb.clearRestriction(ctx.store, id) };
    },
  );
  app.get(
    '/v1/billing/restrictions',
    { schema: { tags: ['billing'], summary: 'Restrictions in force (cut-offs, failed payments)' } },
    async (req) => {
      requireRole(principalOf(req), ['operator']);
      return { restrictions: await bdb.listRestrictions(ctx.store) };
    },
  );
  app.post(
    '/v1/billing/meter',
    { schema: { tags: ['billing'], summary: 'Run one metering pass now' } },
    async (req) => {
      requireRole(principalOf(req), ['operator']);
      if (!ctx.isLeader())
        throw new HostfleetError('E_NOT_LEADER', 'this manager is a standby; meter on the active manager');
      return { pass: await meterOnce(ctx) };
    },
  );
}
