/**
 * agents is the manager's side of the agents (the seed's master decision software receiving the
 * local decision software's reports, Figure 16): it hears every agent status of the site on the
 * management bus and keeps it on the site's one AgentStatusBoard (the latest per server and a
 * bounded history, which the decision loop and the console read too), serves them in the API
 * (and in /v1/status), and pushes each group's priority input from its SLA to the group's
 * agents — at start, when the SLA is changed through the API, and periodically, so an agent
 * that booted in between (or lost a push while its bus reconnected) learns it within one period.
 *
 * It does not act on add/release requests: the decision loop consumes the durable requests
 * stream. It only declares that stream at start (idempotently), so the agents' first requests
 * are stored even before the decision loop runs.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError } from '../../../core/errors.js';
import { MESSAGE_VERSION, parseAgentStatus } from '../../../core/agent/messages.js';
import type { PriorityPush } from '../../../core/agent/messages.js';
import { serverLevels } from '../../../core/model/sla.js';
import type { Sla } from '../../../core/model/sla.js';
import { streams, subjects, TOKEN_RE } from '../../../drivers/bus/index.js';
import type { Subscription } from '../../../drivers/bus/index.js';
import * as db from '../../../drivers/store/resources.js';
import { principalOf } from '../principal.js';
import { canSee, visibleAccounts } from '../auth.js';
import { agentSectionFor } from '../boot.js';
import type { Component, ManagerContext } from '../context.js';
import { IdParam } from '../schemas.js';
import { AgentStatusBoard } from './agent-status-board.js';

/** PUSH_INTERVAL_MS is how often every group's priority is pushed again. */
export const PUSH_INTERVAL_MS = 15_000;

/** priorityPushFor is the push message of a group's SLA. */
export function priorityPushFor(sla: Sla, at: number): PriorityPush {
  const l = serverLevels(sla);
  return {
    v: MESSAGE_VERSION,
    group: sla.groupId,
    priority: sla.priority,
    responseTargetMs: sla.responseTargetMs,
    committed: l.committed,
    burst: l.burst,
    extended: l.extended,
    at,
  };
}

/** busTokenOf is the token agents present to the site's bus. */
function busTokenOf(ctx: Pick<ManagerContext, 'cfg'>): string | null {
  const b = ctx.cfg.bus;
  return b.kind === 'loopback' ? b.token : b.kind === 'nats' ? (b.token ?? null) : null;
}

/** AgentsDeps are what the agents component listens on, serves from and pushes through. */
export type AgentsDeps = Pick<
  ManagerContext,
  'cfg' | 'siteId' | 'store' | 'log' | 'clock' | 'bus' | 'busUrl' | 'boot' | 'isLeader'
>;

/** AgentsComponent is the agents component with the status board it feeds. */
export interface AgentsComponent extends Component {
  /** board is the site's one agent status board (the decision loop and the console read it). */
  readonly board: AgentStatusBoard;
}

async function pushPriority(ctx: AgentsDeps, groupId: string): Promise<void> {
  if (!TOKEN_RE.test(groupId)) return;
  const sla = await db.getSla(ctx.store, groupId);
  await ctx.bus.publish(subjects.priority(ctx.siteId, groupId), priorityPushFor(sla, ctx.clock.now().getTime()));
}

async function pushAll(ctx: AgentsDeps): Promise<void> {
  if (!ctx.isLeader()) return;
  for (const g of await db.listGroups(ctx.store)) await pushPriority(ctx, g.id);
}

async function visibleGroupOf(ctx: AgentsDeps, req: FastifyRequest, id: string) {
  const g = await db.getGroup(ctx.store, id);
  if (!g || !canSee(await visibleAccounts(ctx.store, principalOf(req)), g.accountId))
    throw new HostfleetError('E_NOT_FOUND', `group ${id} does not exist`);
  return g;
}

const HistoryQuery = Type.Object({
  history: Type.Optional(
    Type.Union([Type.Literal('true'), Type.Literal('false')], {
      description: 'include the history points (default true)',
    }),
  ),
});

/** createAgents returns the component that collects agent statuses on its board, serves them, and pushes priorities. */
export function createAgents(ctx: AgentsDeps): AgentsComponent {
  const board = new AgentStatusBoard();
  let sub: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'agents',
    board,
    async routes(app: FastifyInstance) {
      ctx.boot.setAgentSource(async (p) => {
        const sla = await db.getSla(ctx.store, p.group.id);
        return agentSectionFor(
          { siteId: ctx.siteId, busUrl: ctx.busUrl, busToken: busTokenOf(ctx) },
          p.server,
          p.group.id,
          sla,
        );
      });

      app.get(
        '/v1/servers/:id/status',
        {
          schema: {
            summary: "A server's latest agent status and its recent history",
            tags: ['agents'],
            params: IdParam,
            querystring: HistoryQuery,
          },
        },
        async (req) => {
          const id = (req.params as { id: string }).id;
          const p = principalOf(req);
          const s = await db.getServer(ctx.store, id);
          const g = s?.groupId ? await db.getGroup(ctx.store, s.groupId) : null;
          const op = p.role === 'operator';
          if (!s || (!op && !(g && canSee(await visibleAccounts(ctx.store, p), g.accountId))))
            throw new HostfleetError('E_NOT_FOUND', `server ${id} does not exist`);
          const now = ctx.clock.now().getTime();
          const l = board.latest(id, now);
          // A customer sees only what the server measured while it served the customer's group.
          const scope = op ? undefined : (g?.id as string);
          const latest = l && (scope === undefined || l.status.group === scope) ? l : null;
          const withHistory = (req.query as { history?: string }).history !== 'false';
          return {
            server: id,
            latest: latest?.status ?? null,
            ageMs: latest?.ageMs ?? null,
            stale: latest?.stale ?? null,
            history: withHistory ? board.history(id, now, scope) : [],
          };
        },
      );

      app.get(
        '/v1/groups/:id/status',
        {
          schema: {
            summary: "The latest agent status of every server of a group, the group's decision, and history",
            tags: ['agents'],
            params: IdParam,
            querystring: HistoryQuery,
          },
        },
        async (req) => {
          const g = await visibleGroupOf(ctx, req, (req.params as { id: string }).id);
          const now = ctx.clock.now().getTime();
          const members = new Set((await db.listServers(ctx.store)).filter((s) => s.groupId === g.id).map((s) => s.id));
          const ids = [...new Set([...members, ...board.servers(g.id)])].sort();
          const withHistory = (req.query as { history?: string }).history !== 'false';
          const servers = ids.map((id) => {
            const l = board.latest(id, now);
            const latest = l && l.status.group === g.id ? l : null;
            return {
              server: id,
              member: members.has(id),
              latest: latest?.status ?? null,
              ageMs: latest?.ageMs ?? null,
              stale: latest?.stale ?? null,
              history: withHistory ? board.history(id, now, g.id) : [],
            };
          });
          const decider = servers.find((x) => x.latest?.decider === true && x.stale === false)?.latest ?? null;
          return { group: g.id, decision: decider?.decision ?? null, decider: decider?.server ?? null, servers };
        },
      );

      // /v1/status: every server the caller sees gains its latest load and need (null when unknown).
      app.addHook('preSerialization', async (req, _reply, payload) => {
        if (
          req.method !== 'GET' ||
          req.routeOptions.url !== '/v1/status' ||
          typeof payload !== 'object' ||
          payload === null
        )
          return payload;
        const now = ctx.clock.now().getTime();
        const add = (x: { id: string; groupId?: string | null }) => {
          const l = board.latest(x.id, now);
          const s =
            l && (x.groupId === undefined || x.groupId === null || l.status.group === x.groupId) ? l.status : null;
          return {
            ...x,
            agent:
              s === null
                ? null
                : {
                    at: s.at,
                    stale: l?.stale ?? true,
                    rps: s.load.rps,
                    p95Ms: s.load.p95Ms,
                    queued: s.load.queued,
                    cpuPct: s.load.cpuPct,
                    need: s.decision?.need ?? null,
                    decider: s.decider,
                    healthy: s.healthy,
                  },
          };
        };
        const body = payload as {
          groups?: { servers?: { id: string }[] }[];
          pool?: { id: string }[];
          failed?: { id: string }[];
        };
        return {
          ...body,
          ...(body.groups
            ? { groups: body.groups.map((g) => ({ ...g, ...(g.servers ? { servers: g.servers.map(add) } : {}) })) }
            : {}),
          ...(body.pool ? { pool: body.pool.map(add) } : {}),
          ...(body.failed ? { failed: body.failed.map(add) } : {}),
        };
      });

      // An SLA changed through the API reaches the group's agents at once.
      app.addHook('onResponse', async (req, reply) => {
        if (req.method !== 'PUT' || req.routeOptions.url !== '/v1/groups/:id/sla' || reply.statusCode !== 200) return;
        const id = (req.params as { id?: string }).id;
        if (typeof id === 'string')
          await pushPriority(ctx, id).catch((e: unknown) =>
            ctx.log.warn({ err: e, group: id }, 'could not push the priority'),
          );
      });
    },

    async start() {
      await ctx.bus.durable.ensureStream(streams.requests(ctx.siteId));
      sub = await ctx.bus.subscribe(subjects.statusAll(ctx.siteId), (data, msg) => {
        const s = parseAgentStatus(data);
        // The body must name the subject's site, group and server: an agent speaks only for itself.
        if (s === null || s.site !== ctx.siteId || msg.subject !== subjects.status(ctx.siteId, s.group, s.server))
          return;
        board.record(s, ctx.clock.now().getTime());
      });
      const onErr = (e: unknown) => ctx.log.warn({ err: e }, 'could not push group priorities');
      await pushAll(ctx).catch(onErr);
      timer = setInterval(() => {
        board.sweep(ctx.clock.now().getTime());
        pushAll(ctx).catch(onErr);
      }, PUSH_INTERVAL_MS);
      timer.unref();
    },

    async stop() {
      clearInterval(timer);
      ctx.boot.setAgentSource(null);
      await sub?.unsubscribe();
    },
  };
}
