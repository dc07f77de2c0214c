/**
 * routes serve what the decision loop did, for operators: recent plans with their reason traces
 * (`hostfleet explain`), server failures and what was done, and the loop's state with the site
 * lease.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HostfleetError } from '../../../../core/errors.js';
import * as ddb from '../../../../drivers/store/decision.js';
import { requireRole } from '../../auth.js';
import type { ManagerContext } from '../../context.js';
import { principalOf } from '../../principal.js';
import { IdParam } from '../../schemas.js';
import type { DecisionLoop } from './loop.js';

// Query values arrive as strings (the API does not coerce types).
const PlansQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,3}$', description: 'most plans to return (1–500, default 20)' }),
    ),
    moves: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: only plans that started moves' }),
    ),
  },
  { additionalProperties: false },
);

/** decisionRoutes adds the decision loop's routes (operators only). */
export function decisionRoutes(
  app: FastifyInstance,
  ctx: Pick<ManagerContext, 'store' | 'siteId'>,
  loop: DecisionLoop,
): void {
  app.get(
    '/v1/plans',
    {
      schema: {
        tags: ['decision'],
        summary: 'recent decision plans with their reason traces, newest first',
        querystring: PlansQuery,
      },
    },
    async (req) => {
      requireRole(principalOf(req), ['operator']);
      const q = req.query as typeof PlansQuery.static;
      return {
        plans: await ddb.listPlans(ctx.store, {
          limit: q.limit === undefined ? 20 : Number(q.limit),
          withMoves: q.moves === 'true',
        }),
      };
    },
  );
  app.get(
    '/v1/plans/:id',
    { schema: { tags: ['decision'], summary: 'one decision plan', params: IdParam } },
    async (req) => {
      requireRole(principalOf(req), ['operator']);
      const id = (req.params as { id: string }).id;
      const p = await ddb.getPlan(ctx.store, id);
      if (!p)
        throw new HostfleetError(
          'E_NOT_FOUND',
          `plan ${id} does not exist (plans that moved nothing are kept one minute); list plans with GET /v1/plans`,
        );
      return p;
    },
  );
  app.get(
    '/v1/failures',
    { schema: { tags: ['decision'], summary: 'recent server failures and what was done' } },
    async (req) => {
      requireRole(principalOf(req), ['operator']);
      return { failures: await ddb.listFailures(ctx.store, 100) };
    },
  );
  app.get(
    '/v1/decision',
    { schema: { tags: ['decision'], summary: "the decision loop's state and the site lease" } },
    async (req) => {
      requireRole(principalOf(req), ['operator']);
      return { ...loop.summary(), lease: await ddb.getLease(ctx.store, ctx.siteId) };
    },
  );
}
