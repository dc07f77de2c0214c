/**
 * event-hub pushes the console's live view as server-sent events at /v1/events: `status`
 * (groups, servers with their meters, the pool, moves with their steps) whenever it changes,
 * scoped to each caller by the same rules as GET /v1/status, and `samples` (new chart points).
 * It looks often while a move runs, so its steps show as they happen, and spares the store
 * otherwise; a keep-alive comment every 15 s keeps proxies from closing idle streams.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { GroupRecord, MoveEvent, MoveRecord, Principal } from '../../../../core/model/records.js';
import { placeOf } from '../../../../core/model/server.js';
import type { StoredServer } from '../../../../core/model/server.js';
import * as db from '../../../../drivers/store/resources.js';
import * as users from '../../../../drivers/store/users.js';
import type { ServiceState } from '../../../../drivers/store/users.js';
import { canSee, visibleAccounts } from '../../auth.js';
import type { ManagerContext } from '../../context.js';
import { principalOf } from '../../principal.js';
import { SAMPLE_INTERVAL_MS } from './sampler.js';
import type { GroupSample, Sampler } from './sampler.js';

/** EVENT_INTERVAL_MS is how often /v1/events looks for changes to push while a move runs (steps last ~0.1 s). */
export const EVENT_INTERVAL_MS = 100;
/** IDLE_INTERVAL_MS is how often it looks when no move runs. */
export const IDLE_INTERVAL_MS = 500;

/** Snapshot is everything /v1/events may push, before it is scoped to one caller. */
interface Snapshot {
  readonly groups: readonly GroupRecord[];
  readonly servers: readonly StoredServer[];
  readonly running: readonly MoveRecord[];
  readonly recent: readonly MoveRecord[];
  readonly events: ReadonlyMap<string, readonly MoveEvent[]>;
  readonly states: ReadonlyMap<string, ServiceState>;
  readonly accounts: readonly { id: string; displayName: string; resellerId: string | null }[];
}

/** takeSnapshot reads what the streams may show, once for all of them. */
async function takeSnapshot(ctx: Pick<ManagerContext, 'store'>): Promise<Snapshot> {
  const [groups, servers, running, recent, states, accounts] = await Promise.all([
    db.listGroups(ctx.store),
    db.listServers(ctx.store),
    db.listMoves(ctx.store, { status: 'running' }),
    db.listMoves(ctx.store, { limit: 40 }),
    users.getServiceStates(ctx.store),
    db.listAccounts(ctx.store),
  ]);
  const events = new Map<string, MoveEvent[]>();
  // Steps of the moves in flight and of the last few finished ones: the page shows them live.
  const withSteps = [...running, ...recent.slice(0, 8)];
  for (const m of withSteps) if (!events.has(m.id)) events.set(m.id, await db.listMoveEvents(ctx.store, m.id));
  return { groups, servers, running, recent, events, states, accounts };
}

/** viewOf scopes a snapshot to what a principal may see: the same rules as GET /v1/status. */
function viewOf(s: Snapshot, p: Principal, visible: Set<string> | 'all', sampler: Sampler): Record<string, unknown> {
  const op = p.role === 'operator';
  const groups = s.groups.filter((g) => canSee(visible, g.accountId));
  const ids = new Set(groups.map((g) => g.id));
  const server = (x: StoredServer) => ({
    id: x.id,
    state: x.state,
    place: placeOf(x),
    groupId: x.groupId,
    moveId: x.moveId,
    address: op ? x.address : undefined,
    capacity: x.capacity,
    meter: sampler.meters.get(x.id) ?? null,
  });
  // Another customer's group is not named to a customer: a move from it shows as "elsewhere".
  const move = (m: MoveRecord) => ({
    id: m.id,
    serverId: m.serverId,
    step: m.step,
    status: m.status,
    createdAt: m.createdAt,
    finishedAt: m.finishedAt,
    error: m.error,
    fromGroup:
      op || (m.fromGroup !== null && ids.has(m.fromGroup)) ? m.fromGroup : m.fromGroup === null ? null : 'elsewhere',
    toGroup: op || (m.toGroup !== null && ids.has(m.toGroup)) ? m.toGroup : m.toGroup === null ? null : 'elsewhere',
    reason: op ? m.reason : undefined,
    requestedBy: op ? m.requestedBy : undefined,
    steps: (s.events.get(m.id) ?? []).map((e) => ({ step: e.step, outcome: e.outcome, at: e.at })),
  });
  const mine = (m: MoveRecord) =>
    op || (m.toGroup !== null && ids.has(m.toGroup)) || (m.fromGroup !== null && ids.has(m.fromGroup));
  return {
    groups: groups.map((g) => ({
      id: g.id,
      accountId: g.accountId,
      role: g.role,
      minSize: g.minSize,
      maxSize: g.maxSize,
      domains: g.domains,
      service: s.states.get(g.id) ?? 'active',
      servers: s.servers.filter((x) => x.groupId === g.id).map(server),
    })),
    accounts: s.accounts.filter((a) => canSee(visible, a.id)),
    pool: op ? s.servers.filter((x) => placeOf(x) === 'pool').map(server) : [],
    failed: op ? s.servers.filter((x) => placeOf(x) === 'failed').map(server) : [],
    moving: op ? s.servers.filter((x) => placeOf(x) === 'moving').map(server) : [],
    running: s.running.filter(mine).map(move),
    recent: s.recent
      .filter((m) => m.status !== 'running' && mine(m))
      .slice(0, 25)
      .map(move),
  };
}

/** samplesFor returns the sampled history of the groups a principal may see. */
export function samplesFor(
  sampler: Sampler,
  groups: readonly GroupRecord[],
  visible: Set<string> | 'all',
  since = 0,
): Record<string, GroupSample[]> {
  const out: Record<string, GroupSample[]> = {};
  for (const g of groups)
    if (canSee(visible, g.accountId)) out[g.id] = (sampler.history.get(g.id) ?? []).filter((x) => x.t > since);
  return out;
}

/** Subscriber is one open /v1/events stream and what it was last sent. */
export interface Subscriber {
  readonly p: Principal;
  readonly raw: ServerResponse;
  lastStatus: string;
  lastSeq: number;
  lastT: number;
}

/** EventHub pushes scoped status and chart samples to every open /v1/events stream. */
export class EventHub {
  readonly subs = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private beat = 0;
  private lastAt = 0;
  private moving = false;

  constructor(
    private readonly ctx: Pick<ManagerContext, 'store' | 'log' | 'clock'>,
    private readonly sampler: Sampler,
  ) {}

  /** add starts pushing to a stream (and the hub's timer with the first). */
  add(s: Subscriber): void {
    this.subs.add(s);
    if (!this.timer) this.timer = setInterval(() => void this.tick(), EVENT_INTERVAL_MS);
    void this.tick();
  }

  /** fresh tells whether a subscriber has not had its first status yet. */
  private fresh(): boolean {
    for (const s of this.subs) if (s.lastStatus === '') return true;
    return false;
  }

  /** remove stops pushing to a stream (and the timer with the last). */
  remove(s: Subscriber): void {
    this.subs.delete(s);
    if (this.subs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async tick(): Promise<void> {
    if (this.busy || this.subs.size === 0) return;
    // Look often while a move runs, so its steps show as they happen; otherwise spare the store.
    const now = this.ctx.clock.now().getTime();
    if (!this.moving && now - this.lastAt < IDLE_INTERVAL_MS && this.lastAt !== 0 && !this.fresh()) return;
    this.lastAt = now;
    this.busy = true;
    try {
      const snap = await takeSnapshot(this.ctx);
      this.moving = snap.running.length > 0;
      const beat = ++this.beat % Math.ceil(15_000 / IDLE_INTERVAL_MS) === 0;
      for (const s of this.subs) {
        const visible = await visibleAccounts(this.ctx.store, s.p);
        const status = JSON.stringify(viewOf(snap, s.p, visible, this.sampler));
        if (status !== s.lastStatus) {
          s.raw.write(`event: status\ndata: ${status}\n\n`);
          s.lastStatus = status;
        }
        if (this.sampler.seq !== s.lastSeq) {
          const samples = samplesFor(this.sampler, snap.groups, visible, s.lastT);
          s.raw.write(`event: samples\ndata: ${JSON.stringify(samples)}\n\n`);
          s.lastSeq = this.sampler.seq;
          s.lastT = Math.max(s.lastT, ...Object.values(samples).flatMap((xs) => xs.map((x) => x.t)));
        }
        if (beat) s.raw.write(': keepalive\n\n');
      }
    } catch (e) {
      this.ctx.log.warn({ err: e }, 'console events: could not read the store');
    } finally {
      this.busy = false;
    }
  }

  /** close ends every stream. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of this.subs) s.raw.end();
    this.subs.clear();
  }
}

/** eventRoutes adds the event stream and the charts' history. */
export function eventRoutes(
  app: FastifyInstance,
  ctx: Pick<ManagerContext, 'store'>,
  hub: EventHub,
  sampler: Sampler,
): void {
  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['console'],
        summary:
          'server-sent events: `status` (groups, servers, pool, moves with their steps) whenever it changes, `samples` (chart points)',
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 2000\n\n');
      const sub: Subscriber = { p, raw, lastStatus: '', lastSeq: -1, lastT: 0 };
      hub.add(sub);
      req.raw.once('close', () => hub.remove(sub));
    },
  );

  app.get(
    '/v1/console/samples',
    {
      schema: {
        tags: ['console'],
        summary: "each visible group's chart history: servers, requests/s, p95 against the SLA target, busy share",
      },
    },
    async (req) => {
      const visible = await visibleAccounts(ctx.store, principalOf(req));
      return { intervalMs: SAMPLE_INTERVAL_MS, groups: samplesFor(sampler, await db.listGroups(ctx.store), visible) };
    },
  );
}
