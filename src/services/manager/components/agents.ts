/**
 * agents is the manager's side of the agents (the seed's master decision software receiving the
 * local decision software's reports, Figure 16): it hears every agent status of the site, keeps
 * the latest per server and a bounded history, serves them in the API (and in /v1/status), and
 * pushes each group's priority input from its SLA to the group's agents — at start, when the
 * SLA is changed through the API, and periodically, so an agent that booted in between (or lost
 * a push while its bus reconnected) learns it within one period.
 *
 * It does not act on add/release requests: the decision loop consumes the durable requests
 * stream. It only declares that stream at start (idempotently), so the agents' first requests
 * are stored even before the decision loop runs.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError } from '../../../core/errors.js';
import { MESSAGE_VERSION, parseAgentStatus } from '../../../core/agent/messages.js';
import type { AgentStatus, PriorityPush } from '../../../core/agent/messages.js';
import { serverLevels } from '../../../core/model/sla.js';
import type { Sla } from '../../../core/model/sla.js';
import { streams, subjects, TOKEN_RE } from '../../../drivers/bus/index.js';
import type { Subscription } from '../../../drivers/bus/index.js';
import * as db from '../../../drivers/store/resources.js';
import { principalOf } from '../api.js';
import { canSee, visibleAccounts } from '../auth.js';
import { agentSectionFor } from '../boot.js';
import type { ManagerComponent, ManagerContext, Running } from '../context.js';
import { IdParam } from '../schemas.js';

/** HISTORY_MS is how far back the manager keeps each server's status points. */
export const HISTORY_MS = 10 * 60_000;
/** HISTORY_POINTS bounds each server's history whatever its tick (10 minutes at 1 s). */
export const HISTORY_POINTS = 600;
/** MAX_SERVERS bounds how many servers' statuses are kept, so a flood of invented server ids cannot exhaust memory. */
export const MAX_SERVERS = 20_000;
/** PUSH_INTERVAL_MS is how often every group's priority is pushed again. */
export const PUSH_INTERVAL_MS = 15_000;

/** StatusPoint is one history entry: the figures an operator graphs, not the whole status. */
export interface StatusPoint {
  readonly at: number;
  readonly group: string;
  readonly rps: number;
  readonly p95Ms: number | null;
  readonly queued: number;
  readonly errorRate: number;
  readonly cpuPct: number | null;
  readonly need: number | null;
  readonly healthy: boolean;
}

/** pointOf reduces a status to a history point. */
export function pointOf(s: AgentStatus): StatusPoint {
  return { at: s.at, group: s.group, rps: s.load.rps, p95Ms: s.load.p95Ms, queued: s.load.queued, errorRate: s.load.errorRate, cpuPct: s.load.cpuPct, need: s.decision?.need ?? null, healthy: s.healthy };
}

interface Entry {
  latest: AgentStatus;
  /** receivedAt is the manager's clock when the latest arrived (ms since the epoch). */
  receivedAt: number;
  readonly ring: (StatusPoint | undefined)[];
  next: number;
  size: number;
}

/**
 * AgentStatusBoard keeps the latest status per server and a ring of history points per
 * server, bounded in time (HISTORY_MS), in points (HISTORY_POINTS) and in servers (MAX_SERVERS,
 * the one heard from longest ago is dropped first).
 */
export class AgentStatusBoard {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limits: { points: number; historyMs: number; servers: number } = { points: HISTORY_POINTS, historyMs: HISTORY_MS, servers: MAX_SERVERS }) {}

  /** record keeps a status received at receivedAt; a status older than the latest (a reordered or replayed one) is ignored. */
  record(s: AgentStatus, receivedAt: number): boolean {
    let e = this.entries.get(s.server);
    if (e !== undefined && (s.at < e.latest.at || (s.boot === e.latest.boot && s.seq <= e.latest.seq))) return false;
    if (e === undefined) {
      if (this.entries.size >= this.limits.servers) this.evictOldest();
      e = { latest: s, receivedAt, ring: new Array<StatusPoint | undefined>(this.limits.points), next: 0, size: 0 };
      this.entries.set(s.server, e);
    }
    e.latest = s;
    e.receivedAt = receivedAt;
    e.ring[e.next] = pointOf(s);
    e.next = (e.next + 1) % this.limits.points;
    if (e.size < this.limits.points) e.size++;
    // Map order is insertion order: re-inserting keeps the least recently heard first.
    this.entries.delete(s.server);
    this.entries.set(s.server, e);
    return true;
  }

  private evictOldest(): void {
    const first = this.entries.keys().next();
    if (!first.done) this.entries.delete(first.value);
  }

  /** latest is a server's latest status with its age, or null. */
  latest(server: string, now: number): { status: AgentStatus; ageMs: number; stale: boolean } | null {
    const e = this.entries.get(server);
    if (e === undefined) return null;
    const ageMs = Math.max(0, now - e.receivedAt);
    return { status: e.latest, ageMs, stale: ageMs > 3 * e.latest.tickMs };
  }

  /** history is a server's points newer than now − historyMs, oldest first; `group` keeps only points taken while it served that group. */
  history(server: string, now: number, group?: string): StatusPoint[] {
    const e = this.entries.get(server);
    if (e === undefined) return [];
    const out: StatusPoint[] = [];
    const n = this.limits.points;
    for (let i = 0; i < e.size; i++) {
      const p = e.ring[(e.next - e.size + i + n) % n];
      if (p === undefined || now - p.at > this.limits.historyMs) continue;
      if (group !== undefined && p.group !== group) continue;
      out.push(p);
    }
    return out;
  }

  /** servers lists the servers whose latest status names group (all servers without a group). */
  servers(group?: string): string[] {
    const out: string[] = [];
    for (const [id, e] of this.entries) if (group === undefined || e.latest.group === group) out.push(id);
    return out.sort();
  }

  /** forget drops servers not heard from for longer than the history window. */
  sweep(now: number): void {
    for (const [id, e] of this.entries) if (now - e.receivedAt > this.limits.historyMs) this.entries.delete(id);
  }

  /** size is how many servers are tracked. */
  get size(): number {
    return this.entries.size;
  }
}

const boards = new WeakMap<ManagerContext, AgentStatusBoard>();

/** agentBoard is the status board of a manager (the decision loop and the console read it). */
export function agentBoard(ctx: ManagerContext): AgentStatusBoard {
  let b = boards.get(ctx);
  if (b === undefined) {
    b = new AgentStatusBoard();
    boards.set(ctx, b);
  }
  return b;
}

/** priorityPushFor is the push message of a group's SLA. */
export function priorityPushFor(sla: Sla, at: number): PriorityPush {
  const l = serverLevels(sla);
  return { v: MESSAGE_VERSION, group: sla.groupId, priority: sla.priority, responseTargetMs: sla.responseTargetMs, committed: l.committed, burst: l.burst, extended: l.extended, at };
}

/** busTokenOf is the token agents present to the site's bus. */
function busTokenOf(ctx: ManagerContext): string | null {
  const b = ctx.cfg.bus;
  return b.kind === 'loopback' ? b.token : b.kind === 'nats' ? (b.token ?? null) : null;
}

async function pushPriority(ctx: ManagerContext, groupId: string): Promise<void> {
  if (!TOKEN_RE.test(groupId)) return;
  const sla = await db.getSla(ctx.store, groupId);
  await ctx.bus.publish(subjects.priority(ctx.siteId, groupId), priorityPushFor(sla, ctx.clock.now().getTime()));
}

async function pushAll(ctx: ManagerContext): Promise<void> {
  if (!ctx.isLeader()) return;
  for (const g of await db.listGroups(ctx.store)) await pushPriority(ctx, g.id);
}

async function visibleGroupOf(ctx: ManagerContext, req: FastifyRequest, id: string) {
  const g = await db.getGroup(ctx.store, id);
  if (!g || !canSee(await visibleAccounts(ctx.store, principalOf(req)), g.accountId)) throw new HostfleetError('E_NOT_FOUND', `group ${id} does not exist`);
  return g;
}

const HistoryQuery = Type.Object({
  history: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'include the history points (default true)' })),
});

/** agentsComponent collects agent statuses, serves them, and pushes priorities. */
export const agentsComponent: ManagerComponent = {
  name: 'agents',
  async routes(app: FastifyInstance, ctx: ManagerContext) {
    const board = agentBoard(ctx);
    ctx.boot.setAgentSource(async (p) => {
      const sla = await db.getSla(ctx.store, p.group.id);
      return agentSectionFor({ siteId: ctx.siteId, busUrl: ctx.busUrl, busToken: busTokenOf(ctx) }, p.server, p.group.id, sla);
    });

    app.get('/v1/servers/:id/status', { schema: { summary: "A server's latest agent status and its recent history", tags: ['agents'], params: IdParam, querystring: HistoryQuery } }, async (req) => {
      const id = (req.params as { id: string }).id;
      const p = principalOf(req);
      const s = await db.getServer(ctx.store, id);
      const g = s?.groupId ? await db.getGroup(ctx.store, s.groupId) : null;
      const op = p.role === 'operator';
      if (!s || (!op && !(g && canSee(await visibleAccounts(ctx.store, p), g.accountId)))) throw new HostfleetError('E_NOT_FOUND', `server ${id} does not exist`);
      const now = ctx.clock.now().getTime();
      const l = board.latest(id, now);
      // A customer sees only what the server measured while it served the customer's group.
      const scope = op ? undefined : (g?.id as string);
      const latest = l && (scope === undefined || l.status.group === scope) ? l : null;
      const withHistory = (req.query as { history?: string }).history !== 'false';
      return { server: id, latest: latest?.status ?? null, ageMs: latest?.ageMs ?? null, stale: latest?.stale ?? null, history: withHistory ? board.history(id, now, scope) : [] };
    });

    app.get('/v1/groups/:id/status', { schema: { summary: "The latest agent status of every server of a group, the group's decision, and history", tags: ['agents'], params: IdParam, querystring: HistoryQuery } }, async (req) => {
      const g = await visibleGroupOf(ctx, req, (req.params as { id: string }).id);
      const now = ctx.clock.now().getTime();
      const members = new Set((await db.listServers(ctx.store)).filter((s) => s.groupId === g.id).map((s) => s.id));
      const ids = [...new Set([...members, ...board.servers(g.id)])].sort();
      const withHistory = (req.query as { history?: string }).history !== 'false';
      const servers = ids.map((id) => {
        const l = board.latest(id, now);
        const latest = l && l.status.group === g.id ? l : null;
        return { server: id, member: members.has(id), latest: latest?.status ?? null, ageMs: latest?.ageMs ?? null, stale: latest?.stale ?? null, history: withHistory ? board.history(id, now, g.id) : [] };
      });
      const decider = servers.find((x) => x.latest?.decider === true && x.stale === false)?.latest ?? null;
      return { group: g.id, decision: decider?.decision ?? null, decider: decider?.server ?? null, servers };
    });

    // /v1/status: every server the caller sees gains its latest load and need (null when unknown).
    app.addHook('preSerialization', async (req, _reply, payload) => {
      if (req.method !== 'GET' || req.routeOptions.url !== '/v1/status' || typeof payload !== 'object' || payload === null) return payload;
      const now = ctx.clock.now().getTime();
      const add = (x: { id: string; groupId?: string | null }) => {
        const l = board.latest(x.id, now);
        const s = l && (x.groupId === undefined || x.groupId === null || l.status.group === x.groupId) ? l.status : null;
        return { ...x, agent: s === null ? null : { at: s.at, stale: l?.stale ?? true, rps: s.load.rps, p95Ms: s.load.p95Ms, queued: s.load.queued, cpuPct: s.load.cpuPct, need: s.decision?.need ?? null, decider: s.decider, healthy: s.healthy } };
      };
      const body = payload as { groups?: { servers?: { id: string }[] }[]; pool?: { id: string }[]; failed?: { id: string }[] };
      return {
        ...body,
        ...(body.groups ? { groups: body.groups.map((g) => ({ ...g, ...(g.servers ? { servers: g.servers.map(add) } : {}) })) } : {}),
        ...(body.pool ? { pool: body.pool.map(add) } : {}),
        ...(body.failed ? { failed: body.failed.map(add) } : {}),
      };
    });

    // An SLA changed through the API reaches the group's agents at once.
    app.addHook('onResponse', async (req, reply) => {
      if (req.method !== 'PUT' || req.routeOptions.url !== '/v1/groups/:id/sla' || reply.statusCode !== 200) return;
      const id = (req.params as { id?: string }).id;
      if (typeof id === 'string') await pushPriority(ctx, id).catch((e: unknown) => ctx.log.warn({ err: e, group: id }, 'could not push the priority'));
    });
  },

  async start(ctx: ManagerContext): Promise<Running> {
    const board = agentBoard(ctx);
    await ctx.bus.durable.ensureStream(streams.requests(ctx.siteId));
    const sub: Subscription = await ctx.bus.subscribe(subjects.statusAll(ctx.siteId), (data, msg) => {
      const s = parseAgentStatus(data);
      // The body must name the subject's site, group and server: an agent speaks only for itself.
      if (s === null || s.site !== ctx.siteId || msg.subject !== subjects.status(ctx.siteId, s.group, s.server)) return;
      board.record(s, ctx.clock.now().getTime());
    });
    const onErr = (e: unknown) => ctx.log.warn({ err: e }, 'could not push group priorities');
    await pushAll(ctx).catch(onErr);
    const timer = setInterval(() => {
      board.sweep(ctx.clock.now().getTime());
      pushAll(ctx).catch(onErr);
    }, PUSH_INTERVAL_MS);
    timer.unref();
    return {
      async close() {
        clearInterval(timer);
        ctx.boot.setAgentSource(null);
        await sub.unsubscribe();
      },
    };
  },
};
