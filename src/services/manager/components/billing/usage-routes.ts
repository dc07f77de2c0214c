/**
 * usage-routes serve an account's metered usage and its invoice (as JSON and as a printable
 * page) for a period, as of an instant: customers their own, resellers their customers',
 * operators all.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError } from '../../../../core/errors.js';
import { MINUTE_MS, invoiceToJSON, monthOf, monthPeriod, renderInvoiceHtml } from '../../../../core/billing/index.js';
import * as bdb from '../../../../drivers/store/billing.js';
import * as db from '../../../../drivers/store/resources.js';
import { canSee, visibleAccounts } from '../../auth.js';
import type { ManagerContext } from '../../context.js';
import { principalOf } from '../../principal.js';
import { IdParam } from '../../schemas.js';
import type { BillingDeps } from './index.js';
import { loadPlans } from './plans.js';
import { computeInvoice, meterAccount, usageJSON } from './usage.js';

/** BillingQuery is the query of the usage and invoice routes. */
export const BillingQuery = Type.Object(
  {
    period: Type.Optional(
      Type.String({
        pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$',
        description: 'a month YYYY-MM (default: the current month)',
      }),
    ),
    at: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'meter up to this instant (default: now); stretches still open then are billed up to it',
      }),
    ),
  },
  { additionalProperties: false },
);

/** visibleAccount throws E_NOT_FOUND unless the account exists and the caller may see it. */
export async function visibleAccount(
  ctx: Pick<ManagerContext, 'store'>,
  req: FastifyRequest,
  id: string,
): Promise<void> {
  const a = await db.getAccount(ctx.store, id);
  if (a === null || !canSee(await visibleAccounts(ctx.store, principalOf(req)), a.id))
    throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
}

/**
 * accountPeriod reads an account route's account (which the caller must see) and its period
 * and instant: the period defaults to the current month, the instant to now, and instants are
 * taken at the start of their minute (the grain of metering).
 */
async function accountPeriod(
  ctx: Pick<ManagerContext, 'store' | 'clock'>,
  req: FastifyRequest,
): Promise<{ id: string; period: string; atMs: number; nowMs: number }> {
  const id = (req.params as { id: string }).id;
  await visibleAccount(ctx, req, id);
  const q = req.query as typeof BillingQuery.static;
  const nowMs = ctx.clock.now().getTime();
  const atMs = q.at === undefined ? nowMs : Date.parse(q.at);
  if (!Number.isFinite(atMs))
    throw new HostfleetError('E_VALIDATION', `at ${q.at} is not an instant`, {
      fields: [{ field: 'querystring.at', problem: 'must be an ISO 8601 instant such as 2026-11-30T12:00:00Z' }],
    });
  const period = q.period ?? monthOf(nowMs);
  monthPeriod(period, 'querystring.period');
  return { id, period, atMs: Math.floor(atMs / MINUTE_MS) * MINUTE_MS, nowMs };
}

/** usageRoutes adds the usage and invoice routes. */
export function usageRoutes(app: FastifyInstance, ctx: BillingDeps): void {
  app.get(
    '/v1/accounts/:id/usage',
    {
      schema: {
        tags: ['billing'],
        summary: 'Metered usage of a period: server-minutes per role and level, RAM-hours, hits, connections',
        params: IdParam,
        querystring: BillingQuery,
      },
    },
    async (req) => {
      const { id, period, atMs } = await accountPeriod(ctx, req);
      const plans = await loadPlans(ctx.store);
      const a = await bdb.getAccountPlan(ctx.store, id);
      const m = await meterAccount(ctx, id, monthPeriod(period), atMs);
      return {
        ...usageJSON(id, m, a === null ? null : (plans.get(a.planId) ?? null)),
        restriction: await bdb.getRestriction(ctx.store, id),
      };
    },
  );
  app.get(
    '/v1/accounts/:id/invoice',
    {
      schema: {
        tags: ['billing'],
        summary: 'The invoice of a period (a draft while the period runs)',
        params: IdParam,
        querystring: BillingQuery,
      },
    },
    async (req) => {
      const { id, period, atMs, nowMs } = await accountPeriod(ctx, req);
      const r = await computeInvoice(ctx, id, period, atMs, nowMs);
      return { ...invoiceToJSON(r.invoice), draft: r.draft, asOf: new Date(r.asOfMs).toISOString() };
    },
  );
  app.get(
    '/v1/accounts/:id/invoice.html',
    {
      schema: {
        tags: ['billing'],
        summary: 'The invoice of a period as a printable page',
        params: IdParam,
        querystring: BillingQuery,
      },
    },
    async (req, reply) => {
      const { id, period, atMs, nowMs } = await accountPeriod(ctx, req);
      const r = await computeInvoice(ctx, id, period, atMs, nowMs);
      const html = renderInvoiceHtml(
        r.draft
          ? {
              ...r.invoice,
              notes: [
                `Draft: usage up to ${new Date(r.asOfMs).toISOString()}; the period is not over.`,
                ...r.invoice.notes,
              ],
            }
          : r.invoice,
        { provider: ctx.cfg.billing.provider },
      );
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(html);
    },
  );
}
