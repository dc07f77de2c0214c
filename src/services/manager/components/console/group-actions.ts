/**
 * group-actions are what the console does to a customer's service (its group): start, stop and
 * restart it (customers, resellers, operators), activate or disable it (resellers, operators),
 * each carried out as moves the dispatcher runs; and the decision surface its agents steer by.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_FIS, compileFis, renderSurfaceSvg, sampleSurface } from '../../../../core/agent/index.js';
import type { CompiledFis } from '../../../../core/agent/index.js';
import { HostfleetError } from '../../../../core/errors.js';
import type { GroupRecord, MoveRecord, Principal } from '../../../../core/model/records.js';
import { placeOf } from '../../../../core/model/server.js';
import type { StoredServer } from '../../../../core/model/server.js';
import * as db from '../../../../drivers/store/resources.js';
import * as users from '../../../../drivers/store/users.js';
import type { ServiceState } from '../../../../drivers/store/users.js';
import { canSee, requireRole, visibleAccounts } from '../../auth.js';
import type { ManagerContext } from '../../context.js';
import { principalOf, requireLeader } from '../../principal.js';
import { IdParam } from '../../schemas.js';

/** GROUP_ACTIONS are what the console can do to a customer's service (its group). */
export const GROUP_ACTIONS = ['start', 'stop', 'restart', 'activate', 'disable'] as const;
/** GroupAction is one of GROUP_ACTIONS. */
export type GroupAction = (typeof GROUP_ACTIONS)[number];

const GroupActionBody = Type.Object(
  {
    action: Type.Unsafe<GroupAction>({
      type: 'string',
      enum: [...GROUP_ACTIONS],
      description: `one of ${GROUP_ACTIONS.join(', ')}`,
    }),
  },
  { additionalProperties: false },
);

/** groupFor returns a group the caller may see; any other answers as if it did not exist. */
async function groupFor(ctx: Pick<ManagerContext, 'store'>, p: Principal, id: string): Promise<GroupRecord> {
  const g = await db.getGroup(ctx.store, id);
  if (!g || !canSee(await visibleAccounts(ctx.store, p), g.accountId))
    throw new HostfleetError('E_NOT_FOUND', `group ${id} does not exist`);
  return g;
}

/** runGroupAction carries out one service action by asking the dispatcher for moves. */
async function runGroupAction(
  ctx: Pick<ManagerContext, 'store' | 'dispatcher'>,
  p: Principal,
  g: GroupRecord,
  action: GroupAction,
): Promise<{ state: ServiceState; moves: MoveRecord[] }> {
  const states = await users.getServiceStates(ctx.store);
  let state = states.get(g.id) ?? 'active';
  if (action === 'activate' || action === 'disable') {
    requireRole(p, ['operator', 'reseller']);
    state = action === 'activate' ? 'active' : 'disabled';
    await users.setServiceState(ctx.store, g.id, state, p.name);
  } else if (state === 'disabled') {
    throw new HostfleetError(
      'E_CONFLICT',
      `the service ${g.id} is disabled; ask your reseller or an operator to activate it`,
      { details: { group: g.id } },
    );
  }
  const servers = await db.listServers(ctx.store);
  const members = servers.filter((s) => s.groupId === g.id && s.moveId === null && s.state === 'active');
  const pool = servers
    .filter((s) => placeOf(s) === 'pool' && s.moveId === null)
    .sort((a, b) => (a.state === 'pool-warm' ? 0 : 1) - (b.state === 'pool-warm' ? 0 : 1) || a.id.localeCompare(b.id));
  const by = `${p.name} (console)`;
  const moves: MoveRecord[] = [];
  const add = async (n: number, reason: string) => {
    if (n > 0 && pool.length === 0)
      throw new HostfleetError(
        'E_CONFLICT',
        `the pool has no free server to start ${g.id} on; try again when a server is back in the pool`,
        { details: { group: g.id } },
      );
    for (const s of pool.splice(0, n))
      moves.push(
        await ctx.dispatcher.request({ serverId: s.id, toGroup: g.id, reason, requestedBy: by, force: false }),
      );
  };
  const release = async (xs: readonly StoredServer[], reason: string) => {
    for (const s of xs)
      moves.push(await ctx.dispatcher.request({ serverId: s.id, toGroup: null, reason, requestedBy: by, force: true }));
  };
  const incoming = (await db.listMoves(ctx.store, { status: 'running' })).filter((m) => m.toGroup === g.id).length;
  switch (action) {
    case 'stop':
    case 'disable':
      await release(members, `${action} ${g.id}`);
      break;
    case 'start':
    case 'activate':
      await add(Math.max(g.minSize, 1) - members.length - incoming, `${action} ${g.id}`);
      break;
    case 'restart':
      // Fresh servers join first, so the service keeps serving while the old ones leave.
      await add(Math.min(members.length, pool.length, g.maxSize - members.length - incoming), `restart ${g.id}`);
      await release(members.slice(0, moves.length), `restart ${g.id}`);
      break;
  }
  return { state, moves };
}

/** groupRoutes adds the decision surface and the service actions. */
export function groupRoutes(
  app: FastifyInstance,
  ctx: Pick<ManagerContext, 'store' | 'dispatcher' | 'isLeader'>,
): void {
  // The surface is the same FIS for every group (only the priority differs): compiled once, on first use.
  let fis: CompiledFis | null = null;
  app.get(
    '/v1/groups/:id/surface',
    {
      schema: {
        tags: ['console'],
        summary: "the decision surface of the group's agents at the group's SLA priority, as SVG",
        params: IdParam,
      },
    },
    async (req) => {
      const g = await groupFor(ctx, principalOf(req), (req.params as { id: string }).id);
      const sla = await db.getSla(ctx.store, g.id);
      fis ??= compileFis(DEFAULT_FIS);
      const s = sampleSurface(fis, { nx: 41, ny: 41, fixed: { priority: sla.priority } });
      const svg = renderSurfaceSvg(s, {
        title: `${g.id}: need at priority ${sla.priority}`,
        xLabel: 'expected response (B scale: 0 = SLA target)',
        yLabel: 'probability of missing the target',
        width: 620,
        height: 480,
      });
      return { group: g.id, priority: sla.priority, responseTargetMs: sla.responseTargetMs, svg };
    },
  );

  app.post(
    '/v1/groups/:id/actions',
    {
      schema: {
        tags: ['console'],
        summary:
          'start, stop or restart a service (customer, reseller, operator); activate or disable it (reseller, operator)',
        params: IdParam,
        body: GroupActionBody,
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      requireLeader(ctx.isLeader);
      const g = await groupFor(ctx, p, (req.params as { id: string }).id);
      const out = await runGroupAction(ctx, p, g, (req.body as typeof GroupActionBody.static).action);
      return reply.status(202).send({ group: g.id, service: out.state, moves: out.moves });
    },
  );
}
