/**
 * sla serves the SLA database: each group's agreement (levels in its metric, priority,
 * response-time target). Customers read their own; operators set them.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HostfleetError } from '../../../core/errors.js';
import { SLA_METRICS, serverLevels } from '../../../core/model/sla.js';
import type { SlaMetric } from '../../../core/model/sla.js';
import * as db from '../../../drivers/store/resources.js';
import { principalOf } from '../principal.js';
import { canSee, requireRole, visibleAccounts } from '../auth.js';
import type { Component, ManagerContext } from '../context.js';
import { IdParam } from '../schemas.js';

/** PutSla is the body of PUT /v1/groups/{id}/sla. */
export const PutSla = Type.Object(
  {
    metric: Type.Unsafe<SlaMetric>({
      type: 'string',
      enum: [...SLA_METRICS],
      description: `one of ${SLA_METRICS.join(', ')}`,
      default: 'servers',
    }),
    unitsPerServer: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1e12,
      default: 1,
      description: 'metric units one server delivers',
    }),
    committed: Type.Number({ minimum: 0, maximum: 1e12, description: 'committed level, in the metric' }),
    burst: Type.Number({ minimum: 0, maximum: 1e12, description: 'guaranteed burst level (at least committed)' }),
    extended: Type.Number({
      minimum: 0,
      maximum: 1e12,
      description: 'extended level, served from other sites when there are spare servers (at least burst)',
    }),
    priority: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'from 0 (lowest) to 1 (most urgent)' }),
    responseTargetMs: Type.Integer({
      minimum: 1,
      maximum: 600_000,
      description: 'p95 response-time target in milliseconds',
    }),
  },
  { additionalProperties: false },
);

/** SlaDeps are what the SLA routes read and write. */
export type SlaDeps = Pick<ManagerContext, 'store'>;

async function visibleGroup(d: SlaDeps, req: Parameters<typeof principalOf>[0], id: string) {
  const g = await db.getGroup(d.store, id);
  if (!g || !canSee(await visibleAccounts(d.store, principalOf(req)), g.accountId))
    throw new HostfleetError('E_NOT_FOUND', `group ${id} does not exist`);
  return g;
}

/** createSla returns the component of the SLA routes. */
export function createSla(d: SlaDeps): Component {
  return {
    name: 'sla',
    async routes(app: FastifyInstance) {
      app.get('/v1/groups/:id/sla', { schema: { tags: ['sla'], params: IdParam } }, async (req) => {
        const g = await visibleGroup(d, req, (req.params as { id: string }).id);
        const sla = await db.getSla(d.store, g.id);
        return { sla, servers: serverLevels(sla) };
      });
      app.put('/v1/groups/:id/sla', { schema: { tags: ['sla'], params: IdParam, body: PutSla } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        const g = await visibleGroup(d, req, (req.params as { id: string }).id);
        const b = req.body as typeof PutSla.static;
        if (b.burst < b.committed)
          throw new HostfleetError('E_VALIDATION', `burst ${b.burst} is below committed ${b.committed}`, {
            fields: [{ field: 'body.burst', problem: `must be at least committed (${b.committed})` }],
          });
        if (b.extended < b.burst)
          throw new HostfleetError('E_VALIDATION', `extended ${b.extended} is below burst ${b.burst}`, {
            fields: [{ field: 'body.extended', problem: `must be at least burst (${b.burst})` }],
          });
        const sla = await db.putSla(d.store, { groupId: g.id, ...b });
        return { sla, servers: serverLevels(sla) };
      });
    },
  };
}
