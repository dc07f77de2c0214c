/**
 * routes are placement's API: operators register hardware nodes and list them with their free
 * resources; customers (and their resellers and operators) submit configurations, add and
 * change components, and read each configuration's map, decisions and usage snapshots.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError } from '../../../../core/errors.js';
import { Fleet, RESOURCES } from '../../../../core/scheduler/index.js';
import * as pdb from '../../../../drivers/store/placement.js';
import { canSee, requireRole, visibleAccounts } from '../../auth.js';
import type { ManagerContext } from '../../context.js';
import { principalOf } from '../../principal.js';
import { IdParam } from '../../schemas.js';
import type { Deployer } from './deployer.js';
import type { NodeMonitor } from './monitor.js';
import { parseSubmission, poolIdOf } from './submission.js';
import type { EdgeSettings } from './submission.js';

const Resources = Type.Object(
  {
    ram: Type.Optional(Type.Number({ minimum: 0 })),
    cpu: Type.Optional(Type.Number({ minimum: 0 })),
    disk: Type.Optional(Type.Number({ minimum: 0 })),
    bandwidth: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
/** RegisterNode is the body of POST /v1/nodes. */
export const RegisterNode = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$',
      description: 'the node id (it must be the id the node reports)',
    }),
    url: Type.String({ pattern: '^https?://[^\\s]+$', description: "URL of the node's API" }),
    token: Type.String({ minLength: 16, maxLength: 200, description: "the node API's bearer token" }),
    isolated: Type.Optional(Type.Boolean({ description: 'reserve the node for risky configurations (003)' })),
    reserved: Type.Optional(Resources),
  },
  { additionalProperties: false },
);
/** AddComponent is the body of POST /v1/configurations/{id}/components. */
export const AddComponent = Type.Object(
  {
    tier: Type.String({ minLength: 1, maxLength: 40, description: 'the tier the component joins' }),
    component: Type.Object(
      {},
      {
        additionalProperties: true,
        description: 'a component as in the configuration format (id, resources, os, software, behaviour)',
      },
    ),
  },
  { additionalProperties: false },
);
/** ChangeComponent is the body of PUT /v1/configurations/{id}/components: the component as it should be (same id). */
export const ChangeComponent = Type.Object(
  {
    component: Type.Object(
      {},
      { additionalProperties: true, description: 'the whole component as it should be, with its id' },
    ),
  },
  { additionalProperties: false },
);
const ConfigBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description: 'a configuration (docs/SCHEDULER.md) with an optional edge { domains, balance, sticky }',
  },
);

async function visibleConfig(
  ctx: Pick<ManagerContext, 'store'>,
  req: FastifyRequest,
  id: string,
): Promise<pdb.ConfigRecord> {
  const c = await pdb.getConfig(ctx.store, id);
  if (!c || !canSee(await visibleAccounts(ctx.store, principalOf(req)), c.accountId))
    throw new HostfleetError('E_NOT_FOUND', `configuration ${id} does not exist`);
  return c;
}

async function mapOf(ctx: Pick<ManagerContext, 'store'>, c: pdb.ConfigRecord): Promise<Record<string, unknown>> {
  const comps = await pdb.listComponents(ctx.store, c.id);
  return {
    configuration: {
      id: c.id,
      account: c.accountId,
      state: c.state,
      edge: { pool: poolIdOf(c.id), ...(c.edge as EdgeSettings) },
    },
    components: comps.map((x) => ({
      component: x.component,
      tier: x.tier,
      node: x.nodeId,
      state: x.state,
      address: x.address,
      moves: x.moves,
      resources: x.hosted.resources,
    })),
  };
}

/** placementRoutes adds placement's routes. */
export function placementRoutes(
  app: FastifyInstance,
  ctx: Pick<ManagerContext, 'store'>,
  parts: { deployer: Deployer; monitor: NodeMonitor },
): void {
  app.post('/v1/nodes', { schema: { tags: ['placement'], body: RegisterNode } }, async (req, reply) => {
    requireRole(principalOf(req), ['operator']);
    const n = await parts.monitor.registerNode(req.body as typeof RegisterNode.static);
    const { token: _t, ...out } = n;
    return reply.status(201).send({ node: out });
  });
  app.get('/v1/nodes', { schema: { tags: ['placement'] } }, async (req) => {
    requireRole(principalOf(req), ['operator']);
    const fleet = Fleet.from(await pdb.loadFleet(ctx.store));
    const nodes = await pdb.listNodes(ctx.store);
    return {
      nodes: nodes.map((n, i) => ({
        id: n.id,
        url: n.url,
        state: n.state,
        isolated: n.isolated,
        capacity: n.capacity,
        reserved: n.reserved,
        free: Object.fromEntries(RESOURCES.map((r, k) => [r, fleet.free(i, k)])),
        components: fleet
          .hostedOn(i)
          .map((h) => `${h.configuration}/${h.component}`)
          .sort(),
      })),
    };
  });
  app.post('/v1/configurations', { schema: { tags: ['placement'], body: ConfigBody } }, async (req, reply) => {
    const principal = principalOf(req);
    requireRole(principal, ['operator', 'reseller', 'customer']);
    const { config, edge } = parseSubmission(req.body);
    if (!canSee(await visibleAccounts(ctx.store, principal), config.account))
      throw new HostfleetError('E_FORBIDDEN', `you may not place configurations for account ${config.account}`);
    const r = await parts.deployer.submit(config, edge);
    const rec = await pdb.getConfig(ctx.store, config.id);
    return reply.status(201).send({ ...(await mapOf(ctx, rec!)), decision: r.decision, explain: r.explain });
  });
  app.get('/v1/configurations', { schema: { tags: ['placement'] } }, async (req) => {
    const visible = await visibleAccounts(ctx.store, principalOf(req));
    const all = await pdb.listConfigs(ctx.store);
    return {
      configurations: all
        .filter((c) => canSee(visible, c.accountId))
        .map((c) => ({ id: c.id, account: c.accountId, state: c.state })),
    };
  });
  app.get('/v1/configurations/:id', { schema: { tags: ['placement'], params: IdParam } }, async (req) =>
    mapOf(ctx, await visibleConfig(ctx, req, (req.params as { id: string }).id)),
  );
  app.get('/v1/configurations/:id/explain', { schema: { tags: ['placement'], params: IdParam } }, async (req) => {
    const c = await visibleConfig(ctx, req, (req.params as { id: string }).id);
    return { configuration: c.id, decisions: await pdb.listDecisions(ctx.store, c.id) };
  });
  app.get('/v1/configurations/:id/snapshots', { schema: { tags: ['placement'], params: IdParam } }, async (req) => {
    const c = await visibleConfig(ctx, req, (req.params as { id: string }).id);
    return { configuration: c.id, snapshots: await pdb.listSnapshots(ctx.store, c.id) };
  });
  app.put(
    '/v1/configurations/:id/components',
    { schema: { tags: ['placement'], params: IdParam, body: ChangeComponent } },
    async (req) => {
      const c = await visibleConfig(ctx, req, (req.params as { id: string }).id);
      const r = await parts.deployer.changeComponent(c.id, (req.body as typeof ChangeComponent.static).component);
      return {
        ...(await mapOf(ctx, (await pdb.getConfig(ctx.store, c.id))!)),
        decision: r.decision,
        mode: r.mode,
        explain: r.explain,
      };
    },
  );
  app.post(
    '/v1/configurations/:id/components',
    { schema: { tags: ['placement'], params: IdParam, body: AddComponent } },
    async (req, reply) => {
      const c = await visibleConfig(ctx, req, (req.params as { id: string }).id);
      const b = req.body as typeof AddComponent.static;
      const r = await parts.deployer.addComponent(c.id, b.tier, b.component);
      return reply.status(201).send({
        ...(await mapOf(ctx, (await pdb.getConfig(ctx.store, c.id))!)),
        decision: r.decision,
        explain: r.explain,
      });
    },
  );
}
