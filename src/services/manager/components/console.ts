/**
 * console serves the management console (the seed's console, 001 "Figure 11"; 003's control
 * panel; 004's reseller panel): the single-page app built into web/dist at `/`, login with
 * sessions kept in a cookie, live updates as server-sent events at /v1/events, the samples the
 * live charts draw, the decision surface per group, and the service actions customers and
 * resellers take (start, stop, restart, activate, disable). Everything the page shows comes
 * through these and the other /v1 routes, scoped by the caller's role and account.
 */
import { readFileSync, existsSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkPassword, hashPassword } from '../passwords.js';
import { FailureThrottle } from '../throttle.js';
import { HostfleetError } from '../../../core/errors.js';
import { API_ROLES } from '../../../core/model/records.js';
import type { ApiRole, GroupRecord, MoveEvent, MoveRecord, Principal } from '../../../core/model/records.js';
import { placeOf } from '../../../core/model/server.js';
import { defaultSla } from '../../../core/model/sla.js';
import { DEFAULT_FIS, compileFis, renderSurfaceSvg, sampleSurface } from '../../../core/agent/index.js';
import type { CompiledFis } from '../../../core/agent/index.js';
import { newId, newSecret } from '../../../drivers/clock/index.js';
import * as db from '../../../drivers/store/resources.js';
import type { StoredServer } from '../../../drivers/store/resources.js';
import * as users from '../../../drivers/store/users.js';
import { accountFacts } from '../../../drivers/store/account-facts.js';
import { roleAccountMismatch } from '../../../core/model/account-kind.js';
import type { ServiceState } from '../../../drivers/store/users.js';
import { principalOf } from '../api.js';
import { SESSION_COOKIE, canSee, hashToken, requireRole, sameOrigin, sessionSecretOf, visibleAccounts } from '../auth.js';
import type { ManagerComponent, ManagerContext, Running } from '../context.js';
import { IdParam } from '../schemas.js';

/** SESSION_TTL_MS is how long a console login lasts (a working day). */
export const SESSION_TTL_MS = 12 * 3600_000;
/** SAMPLE_INTERVAL_MS is how often the console samples each group's load for its charts. */
export const SAMPLE_INTERVAL_MS = 2000;
/** SAMPLE_HISTORY is how many samples per group the charts can show (10 minutes). */
export const SAMPLE_HISTORY = 300;
/** EVENT_INTERVAL_MS is how often /v1/events looks for changes to push while a move runs (steps last ~0.1 s). */
export const EVENT_INTERVAL_MS = 100;
/** IDLE_INTERVAL_MS is how often it looks when no move runs. */
export const IDLE_INTERVAL_MS = 500;

/** GROUP_ACTIONS are what the console can do to a customer's service (its group). */
export const GROUP_ACTIONS = ['start', 'stop', 'restart', 'activate', 'disable'] as const;
/** GroupAction is one of GROUP_ACTIONS. */
export type GroupAction = (typeof GROUP_ACTIONS)[number];

const WEB_DIST = fileURLToPath(new URL('../../../../web/dist/', import.meta.url));

const Login = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, description: 'the login name' }),
  password: Type.String({ minLength: 1, maxLength: 200, description: 'the password' }),
}, { additionalProperties: false });

/** ChangePassword is the body of POST /v1/session/password. */
const ChangePassword = Type.Object({
  current: Type.String({ minLength: 1, maxLength: 200, description: 'the current password' }),
  password: Type.String({ minLength: 12, maxLength: 200, description: 'the new password: at least 12 characters' }),
}, { additionalProperties: false });

/** SetPassword is the body of POST /v1/users/:name/password. */
const SetPassword = Type.Object({
  password: Type.String({ minLength: 12, maxLength: 200, description: 'the new password: at least 12 characters' }),
}, { additionalProperties: false });

/** CreateUser is the body of POST /v1/users. */
export const CreateUser = Type.Object({
  name: Type.String({ pattern: '^[a-z][a-z0-9._@-]{1,63}$', description: '2–64 lower-case letters, digits and . _ @ -, starting with a letter' }),
  password: Type.String({ minLength: 12, maxLength: 200, description: 'at least 12 characters' }),
  role: Type.Unsafe<ApiRole>({ type: 'string', enum: [...API_ROLES], description: `one of ${API_ROLES.join(', ')}` }),
  accountId: Type.Optional(Type.String({ pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$', description: 'the account a reseller or customer belongs to' })),
}, { additionalProperties: false });

const GroupActionBody = Type.Object({
  action: Type.Unsafe<GroupAction>({ type: 'string', enum: [...GROUP_ACTIONS], description: `one of ${GROUP_ACTIONS.join(', ')}` }),
}, { additionalProperties: false });

/** GroupSample is one point of a group's live charts. */
export interface GroupSample {
  readonly t: number;
  readonly servers: number;
  /** rps is requests per second the group's servers completed since the previous sample. */
  readonly rps: number;
  /** p95Ms is the highest of the servers' p95 response times over their last 10 s; null without traffic. */
  readonly p95Ms: number | null;
  /** targetMs is the p95 response-time target of the group's SLA (the default agreement's when none is recorded). */
  readonly targetMs: number;
  /** busy is the share of the group's worker slots in use, 0..1. */
  readonly busy: number;
}

/** ServerMeter is one server's latest load, read from its workload's own counters. */
export interface ServerMeter {
  readonly server: string;
  readonly groupId: string;
  /** busy is the share of its worker slots in use (the meter's top bar), 0..1. */
  readonly busy: number;
  /** queue is the share of its request queue in use (the meter's bottom bar), 0..1. */
  readonly queue: number;
  readonly rps: number;
  readonly p95Ms: number | null;
}

interface RuntimeStatsLite {
  requests: Record<string, number>;
  busySlots: number;
  concurrency: number;
  queued: number;
  maxQueue: number;
  responseTimeMs: { all: { count: number; p95: number } };
}

/** Sampler reads every active server's workload counters and keeps a short history per group. */
class Sampler {
  readonly history = new Map<string, GroupSample[]>();
  meters = new Map<string, ServerMeter>();
  private prev = new Map<string, { t: number; n: number }>();
  seq = 0;

  constructor(private readonly ctx: ManagerContext) {}

  async sample(): Promise<void> {
    const [groups, servers, slas] = await Promise.all([db.listGroups(this.ctx.store), db.listServers(this.ctx.store), db.listSlas(this.ctx.store)]);
    // A group without a recorded SLA runs under the default agreement (GET /v1/groups/{id}/sla
    // answers it, and the agents and the decision loop steer by it), so its target is that one.
    const target = new Map(slas.map((s) => [s.groupId, s.responseTargetMs]));
    const now = Date.now();
    const active = servers.filter((s) => s.groupId !== null && s.state === 'active');
    const read = await Promise.all(active.map(async (s) => ({ s, st: await this.read(s) })));
    const meters = new Map<string, ServerMeter>();
    for (const { s, st } of read) {
      if (!st) continue;
      const n = (st.requests.app ?? 0) + (st.requests.static ?? 0);
      const p = this.prev.get(s.id);
      const rps = p && now > p.t && n >= p.n ? ((n - p.n) * 1000) / (now - p.t) : 0;
      this.prev.set(s.id, { t: now, n });
      meters.set(s.id, {
        server: s.id,
        groupId: s.groupId as string,
        busy: st.concurrency > 0 ? Math.min(1, st.busySlots / st.concurrency) : 0,
        queue: st.maxQueue > 0 ? Math.min(1, st.queued / st.maxQueue) : 0,
        rps: Math.round(rps * 10) / 10,
        p95Ms: st.responseTimeMs.all.count > 0 ? st.responseTimeMs.all.p95 : null,
      });
    }
    this.meters = meters;
    for (const g of groups) {
      const ms = [...meters.values()].filter((m) => m.groupId === g.id);
      const p95s = ms.flatMap((m) => (m.p95Ms === null ? [] : [m.p95Ms]));
      const h = this.history.get(g.id) ?? [];
      h.push({
        t: now,
        servers: active.filter((s) => s.groupId === g.id).length,
        rps: Math.round(ms.reduce((a, m) => a + m.rps, 0) * 10) / 10,
        p95Ms: p95s.length ? Math.max(...p95s) : null,
        targetMs: target.get(g.id) ?? defaultSla(g.id).responseTargetMs,
        busy: ms.length ? ms.reduce((a, m) => a + m.busy, 0) / ms.length : 0,
      });
      if (h.length > SAMPLE_HISTORY) h.splice(0, h.length - SAMPLE_HISTORY);
      this.history.set(g.id, h);
    }
    this.seq++;
  }

  private async read(s: StoredServer): Promise<RuntimeStatsLite | null> {
    try {
      const r = await fetch(`http://${s.address}/_runtime/stats`, { signal: AbortSignal.timeout(800) });
      if (!r.ok) return null;
      return (await r.json()) as RuntimeStatsLite;
    } catch {
      return null;
    }
  }
}

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

async function takeSnapshot(ctx: ManagerContext): Promise<Snapshot> {
  const [groups, servers, running, recent, states, accounts] = await Promise.all([
    db.listGroups(ctx.store), db.listServers(ctx.store), db.listMoves(ctx.store, { status: 'running' }), db.listMoves(ctx.store, { limit: 40 }),
    users.getServiceStates(ctx.store), db.listAccounts(ctx.store),
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
    id: x.id, state: x.state, place: placeOf(x), groupId: x.groupId, moveId: x.moveId, address: op ? x.address : undefined, capacity: x.capacity,
    meter: sampler.meters.get(x.id) ?? null,
  });
  // Another customer's group is not named to a customer: a move from it shows as "elsewhere".
  const move = (m: MoveRecord) => ({
    id: m.id, serverId: m.serverId, step: m.step, status: m.status, createdAt: m.createdAt, finishedAt: m.finishedAt, error: m.error,
    fromGroup: op || (m.fromGroup !== null && ids.has(m.fromGroup)) ? m.fromGroup : m.fromGroup === null ? null : 'elsewhere',
    toGroup: op || (m.toGroup !== null && ids.has(m.toGroup)) ? m.toGroup : m.toGroup === null ? null : 'elsewhere',
    reason: op ? m.reason : undefined, requestedBy: op ? m.requestedBy : undefined,
    steps: (s.events.get(m.id) ?? []).map((e) => ({ step: e.step, outcome: e.outcome, at: e.at })),
  });
  const mine = (m: MoveRecord) => op || (m.toGroup !== null && ids.has(m.toGroup)) || (m.fromGroup !== null && ids.has(m.fromGroup));
  return {
    groups: groups.map((g) => ({ id: g.id, accountId: g.accountId, role: g.role, minSize: g.minSize, maxSize: g.maxSize, domains: g.domains, service: s.states.get(g.id) ?? 'active', servers: s.servers.filter((x) => x.groupId === g.id).map(server) })),
    accounts: s.accounts.filter((a) => canSee(visible, a.id)),
    pool: op ? s.servers.filter((x) => placeOf(x) === 'pool').map(server) : [],
    failed: op ? s.servers.filter((x) => placeOf(x) === 'failed').map(server) : [],
    moving: op ? s.servers.filter((x) => placeOf(x) === 'moving').map(server) : [],
    running: s.running.filter(mine).map(move),
    recent: s.recent.filter((m) => m.status !== 'running' && mine(m)).slice(0, 25).map(move),
  };
}

/** samplesFor returns the sampled history of the groups a principal may see. */
function samplesFor(sampler: Sampler, groups: readonly GroupRecord[], visible: Set<string> | 'all', since = 0): Record<string, GroupSample[]> {
  const out: Record<string, GroupSample[]> = {};
  for (const g of groups) if (canSee(visible, g.accountId)) out[g.id] = (sampler.history.get(g.id) ?? []).filter((x) => x.t > since);
  return out;
}

interface Subscriber {
  readonly p: Principal;
  readonly raw: ServerResponse;
  lastStatus: string;
  lastSeq: number;
  lastT: number;
}

/** EventHub pushes scoped status and chart samples to every open /v1/events stream. */
class EventHub {
  readonly subs = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private beat = 0;
  private lastAt = 0;
  private moving = false;

  constructor(private readonly ctx: ManagerContext, private readonly sampler: Sampler) {}

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
    const now = Date.now();
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

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of this.subs) s.raw.end();
    this.subs.clear();
  }
}

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.map': 'application/json', '.woff2': 'font/woff2', '.json': 'application/json',
};

// The page loads only its own script and styles; uPlot sets inline styles, so those are allowed.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function sendFile(reply: FastifyReply, rel: string, immutable: boolean): FastifyReply {
  const file = normalize(join(WEB_DIST, rel));
  if (!file.startsWith(WEB_DIST) || !existsSync(file)) {
    if (rel === 'index.html') return reply.status(503).type('text/plain; charset=utf-8').send('The console has not been built: run `npm run build:web` (hostfleet up builds it when it is missing).\n');
    throw new HostfleetError('E_NOT_FOUND', `no file ${rel} in the console`);
  }
  return reply
    .header('content-type', MIME[extname(file)] ?? 'application/octet-stream')
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .send(readFileSync(file));
}

function cookie(ctx: ManagerContext, req: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = ctx.cfg.publicUrl?.startsWith('https://') === true || req.protocol === 'https';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** loginKey is what failed logins of one name from one client address are counted under. */
const loginKey = (ip: string, name: string): string => `${ip}\n${name.toLowerCase()}`;

/** tooMany is the E_RATE_LIMITED error of a throttled attempt, with its Retry-After header set. */
function tooMany(reply: FastifyReply, waitMs: number, what: string): HostfleetError {
  const retryAfterS = Math.ceil(waitMs / 1000);
  reply.header('retry-after', String(retryAfterS));
  return new HostfleetError('E_RATE_LIMITED', `too many ${what}; try again in ${retryAfterS} s`, { details: { retryAfterS } });
}

async function groupFor(ctx: ManagerContext, p: Principal, id: string): Promise<GroupRecord> {
  const g = await db.getGroup(ctx.store, id);
  if (!g || !canSee(await visibleAccounts(ctx.store, p), g.accountId)) throw new HostfleetError('E_NOT_FOUND', `group ${id} does not exist`);
  return g;
}

/** runGroupAction carries out one service action by asking the dispatcher for moves. */
async function runGroupAction(ctx: ManagerContext, p: Principal, g: GroupRecord, action: GroupAction): Promise<{ state: ServiceState; moves: MoveRecord[] }> {
  const states = await users.getServiceStates(ctx.store);
  let state = states.get(g.id) ?? 'active';
  if (action === 'activate' || action === 'disable') {
    requireRole(p, ['operator', 'reseller']);
    state = action === 'activate' ? 'active' : 'disabled';
    await users.setServiceState(ctx.store, g.id, state, p.name);
  } else if (state === 'disabled') {
    throw new HostfleetError('E_CONFLICT', `the service ${g.id} is disabled; ask your reseller or an operator to activate it`, { details: { group: g.id } });
  }
  const servers = await db.listServers(ctx.store);
  const members = servers.filter((s) => s.groupId === g.id && s.moveId === null && s.state === 'active');
  const pool = servers.filter((s) => placeOf(s) === 'pool' && s.moveId === null).sort((a, b) => (a.state === 'pool-warm' ? 0 : 1) - (b.state === 'pool-warm' ? 0 : 1) || a.id.localeCompare(b.id));
  const by = `${p.name} (console)`;
  const moves: MoveRecord[] = [];
  const add = async (n: number, reason: string) => {
    if (n > 0 && pool.length === 0) throw new HostfleetError('E_CONFLICT', `the pool has no free server to start ${g.id} on; try again when a server is back in the pool`, { details: { group: g.id } });
    for (const s of pool.splice(0, n)) moves.push(await ctx.dispatcher.request({ serverId: s.id, toGroup: g.id, reason, requestedBy: by, force: false }));
  };
  const release = async (xs: readonly StoredServer[], reason: string) => {
    for (const s of xs) moves.push(await ctx.dispatcher.request({ serverId: s.id, toGroup: null, reason, requestedBy: by, force: true }));
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

let fis: CompiledFis | null = null;
// One sampler and hub per manager (tests run several managers in one process).
const hubs = new Map<ManagerContext, { sampler: Sampler; hub: EventHub }>();

/** consoleComponent adds the console's page, login, live events, charts and service actions. */
export const consoleComponent: ManagerComponent = {
  name: 'console',
  async routes(app: FastifyInstance, ctx: ManagerContext) {
    const sampler = new Sampler(ctx);
    const hub = new EventHub(ctx, sampler);
    const failures = new FailureThrottle(ctx.cfg.login.windowMs);
    hubs.set(ctx, { sampler, hub });
    const pub = { public: true };

    app.get('/', { schema: { hide: true }, config: pub }, async (_req, reply) => sendFile(reply, 'index.html', false));
    app.get('/assets/:file', { schema: { hide: true, params: Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }) }) }, config: pub }, async (req, reply) =>
      sendFile(reply, join('assets', (req.params as { file: string }).file), true));

    app.post('/v1/session', { schema: { tags: ['console'], summary: 'log in to the console; sets the session cookie', body: Login }, config: pub }, async (req, reply) => {
      if (req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.headers.host)) throw new HostfleetError('E_FORBIDDEN', 'log in from the console page itself');
      const b = req.body as typeof Login.static;
      const now = Date.now();
      const byName = loginKey(req.ip, b.name);
      const waitMs = Math.max(failures.blockedFor(byName, ctx.cfg.login.maxFailures, now), failures.blockedFor(req.ip, ctx.cfg.login.maxFailuresPerAddress, now));
      if (waitMs > 0) {
        req.log.warn({ user: b.name, ip: req.ip }, 'console login refused: too many failures');
        throw tooMany(reply, waitMs, 'failed logins');
      }
      const u = await users.findUserByName(ctx.store, b.name);
      const ok = await checkPassword(u && !u.disabled ? u.passwordHash : null, b.password);
      if (!u || !ok) {
        failures.fail(byName, now);
        failures.fail(req.ip, now);
        throw new HostfleetError('E_UNAUTHENTICATED', 'the name or the password is wrong');
      }
      failures.forget(byName);
      const secret = newSecret(32);
      await users.insertSession(ctx.store, { tokenHash: hashToken(secret), userId: u.id, expiresAt: new Date(Date.now() + SESSION_TTL_MS) });
      req.log.info({ user: u.name, role: u.role }, 'console login');
      return reply.header('set-cookie', cookie(ctx, req, secret, SESSION_TTL_MS / 1000)).send({ user: users.publicUser(u) });
    });
    app.get('/v1/session', { schema: { tags: ['console'], summary: 'who the caller is' } }, async (req) => {
      const p = principalOf(req);
      return { user: { name: p.name, role: p.role, accountId: p.accountId } };
    });
    // The page cannot read its HttpOnly cookie, so it asks here before choosing between the login
    // and the console. Not being logged in is an expected answer (200), not a failure: a fresh
    // visitor's browser logs no 401. It tells only whether this cookie names a live session;
    // GET /v1/session stays strict (401) for API callers.
    app.get('/v1/session/state', { schema: { tags: ['console'], summary: 'whether the caller\'s cookie names a live console session: {authenticated, user}, 200 either way' }, config: pub }, async (req, reply) => {
      const secret = sessionSecretOf(req.headers.cookie);
      const u = secret === null ? null : await users.findSession(ctx.store, hashToken(secret), new Date());
      if (u === null) {
        // A cookie of an ended session is dropped, so the browser stops sending it.
        if (secret !== null) void reply.header('set-cookie', cookie(ctx, req, '', 0));
        return { authenticated: false, user: null };
      }
      return { authenticated: true, user: { name: u.name, role: u.role, accountId: u.accountId } };
    });
    app.delete('/v1/session', { schema: { tags: ['console'], summary: 'log out: ends the session and clears the cookie' } }, async (req, reply) => {
      const secret = sessionSecretOf(req.headers.cookie);
      if (secret) await users.deleteSession(ctx.store, hashToken(secret));
      return reply.header('set-cookie', cookie(ctx, req, '', 0)).status(204).send();
    });

    app.post('/v1/session/password', { schema: { tags: ['console'], summary: "change the logged-in person's own password; ends their other sessions", body: ChangePassword } }, async (req, reply) => {
      // Only a console session names a person; an API token is not a password's holder.
      const secret = sessionSecretOf(req.headers.cookie);
      const me = secret && req.headers.authorization === undefined ? await users.findSession(ctx.store, hashToken(secret), new Date()) : null;
      if (!me) throw new HostfleetError('E_FORBIDDEN', 'log in to the console to change your password (an API token has no password)');
      const b = req.body as typeof ChangePassword.static;
      // Wrong current passwords count as failed logins: a borrowed session cannot guess its way on.
      const now = Date.now();
      const byName = loginKey(req.ip, me.name);
      const waitMs = failures.blockedFor(byName, ctx.cfg.login.maxFailures, now);
      if (waitMs > 0) throw tooMany(reply, waitMs, 'wrong passwords');
      const stored = await users.findUserByName(ctx.store, me.name);
      if (!(await checkPassword(stored?.passwordHash ?? null, b.current))) {
        failures.fail(byName, now);
        throw new HostfleetError('E_VALIDATION', 'the current password is wrong', { fields: [{ field: 'body.current', problem: 'is not your current password' }] });
      }
      if (b.password === b.current) throw new HostfleetError('E_VALIDATION', 'the new password is the current one', { fields: [{ field: 'body.password', problem: 'must differ from the current password' }] });
      const passwordHash = await hashPassword(b.password);
      await ctx.store.transaction((tx) => users.setPassword(tx, me.id, passwordHash, hashToken(secret as string)));
      req.log.info({ user: me.name }, 'password changed');
      return reply.status(204).send();
    });

    app.post('/v1/users/:name/password', { schema: { tags: ['console'], summary: "set another person's password (operator: anyone; reseller: its customers' users); ends all their sessions", params: Type.Object({ name: Type.String({ maxLength: 64 }) }), body: SetPassword } }, async (req, reply) => {
      const p = principalOf(req);
      requireRole(p, ['operator', 'reseller']);
      const name = (req.params as { name: string }).name;
      const u = await users.findUserByName(ctx.store, name);
      // A reseller may reset the users of the customers it sees, never an operator's or another reseller's.
      const mayReset = u !== null && (p.role === 'operator' || (u.role === 'customer' && u.accountId !== null && canSee(await visibleAccounts(ctx.store, p), u.accountId)));
      if (!u || !mayReset) throw new HostfleetError('E_NOT_FOUND', `user ${name} does not exist`);
      await users.setPassword(ctx.store, u.id, await hashPassword((req.body as typeof SetPassword.static).password));
      req.log.info({ user: u.name, by: p.name }, 'password set');
      return reply.status(204).send();
    });

    app.get('/v1/users', { schema: { tags: ['console'], summary: 'console users' } }, async (req) => {
      requireRole(principalOf(req), ['operator']);
      return { users: await users.listUsers(ctx.store) };
    });
    app.post('/v1/users', { schema: { tags: ['console'], summary: 'create a console user', body: CreateUser } }, async (req, reply) => {
      const p = principalOf(req);
      requireRole(p, ['operator', 'reseller']);
      const b = req.body as typeof CreateUser.static;
      if (p.role === 'reseller' && b.role !== 'customer') throw new HostfleetError('E_FORBIDDEN', 'a reseller creates customer users only');
      if (b.role !== 'operator' && b.accountId === undefined) throw new HostfleetError('E_VALIDATION', `a ${b.role} user needs accountId, the account it belongs to`, { fields: [{ field: 'body.accountId', problem: `is required for role ${b.role}` }] });
      if (b.role === 'operator' && b.accountId !== undefined) throw new HostfleetError('E_VALIDATION', 'an operator has no account', { fields: [{ field: 'body.accountId', problem: 'must be absent for role operator' }] });
      const account = b.accountId !== undefined && canSee(await visibleAccounts(ctx.store, p), b.accountId) ? await db.getAccount(ctx.store, b.accountId) : null;
      if (b.accountId !== undefined && !account) {
        throw new HostfleetError('E_VALIDATION', `account ${b.accountId} does not exist`, { fields: [{ field: 'body.accountId', problem: 'must name an existing account you manage' }] });
      }
      // Role and account together: no reseller login on a customer's account, nor the reverse.
      const mismatch = account ? roleAccountMismatch(b.role, await accountFacts(ctx.store, account)) : null;
      if (mismatch) throw mismatch;
      try {
        const u = await users.insertUser(ctx.store, { id: newId(), name: b.name, passwordHash: await hashPassword(b.password), role: b.role, accountId: b.accountId ?? null });
        return await reply.status(201).send({ user: u });
      } catch (e) {
        if (db.isUniqueViolation(e)) throw new HostfleetError('E_CONFLICT', `the user name ${b.name} is taken; choose another`, { fields: [{ field: 'body.name', problem: 'is taken' }] });
        throw e;
      }
    });

    app.get('/v1/events', { schema: { tags: ['console'], summary: 'server-sent events: `status` (groups, servers, pool, moves with their steps) whenever it changes, `samples` (chart points)' } }, async (req, reply) => {
      const p = principalOf(req);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      raw.write('retry: 2000\n\n');
      const sub: Subscriber = { p, raw, lastStatus: '', lastSeq: -1, lastT: 0 };
      hub.add(sub);
      req.raw.once('close', () => hub.remove(sub));
    });

    app.get('/v1/console/samples', { schema: { tags: ['console'], summary: "each visible group's chart history: servers, requests/s, p95 against the SLA target, busy share" } }, async (req) => {
      const visible = await visibleAccounts(ctx.store, principalOf(req));
      return { intervalMs: SAMPLE_INTERVAL_MS, groups: samplesFor(sampler, await db.listGroups(ctx.store), visible) };
    });

    app.get('/v1/groups/:id/surface', { schema: { tags: ['console'], summary: "the decision surface of the group's agents at the group's SLA priority, as SVG", params: IdParam } }, async (req) => {
      const g = await groupFor(ctx, principalOf(req), (req.params as { id: string }).id);
      const sla = await db.getSla(ctx.store, g.id);
      fis ??= compileFis(DEFAULT_FIS);
      const s = sampleSurface(fis, { nx: 41, ny: 41, fixed: { priority: sla.priority } });
      const svg = renderSurfaceSvg(s, { title: `${g.id}: need at priority ${sla.priority}`, xLabel: 'expected response (B scale: 0 = SLA target)', yLabel: 'probability of missing the target', width: 620, height: 480 });
      return { group: g.id, priority: sla.priority, responseTargetMs: sla.responseTargetMs, svg };
    });

    app.post('/v1/groups/:id/actions', { schema: { tags: ['console'], summary: 'start, stop or restart a service (customer, reseller, operator); activate or disable it (reseller, operator)', params: IdParam, body: GroupActionBody } }, async (req, reply) => {
      const p = principalOf(req);
      if (ctx.isLeader && !ctx.isLeader()) throw new HostfleetError('E_NOT_LEADER', 'this manager is the standby; send changes to the active manager');
      const g = await groupFor(ctx, p, (req.params as { id: string }).id);
      const out = await runGroupAction(ctx, p, g, (req.body as typeof GroupActionBody.static).action);
      return reply.status(202).send({ group: g.id, service: out.state, moves: out.moves });
    });
  },

  async start(ctx: ManagerContext): Promise<Running> {
    const h = hubs.get(ctx);
    const sampler = h?.sampler;
    let stopped = false;
    let sampling: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      if (!sampler || stopped) return;
      sampling = sampler.sample().catch((e: unknown) => ctx.log.warn({ err: e }, 'console sampler failed'));
    }, SAMPLE_INTERVAL_MS);
    const sweeper = setInterval(() => {
      users.deleteExpiredSessions(ctx.store, new Date()).catch((e: unknown) => ctx.log.warn({ err: e }, 'could not sweep expired sessions'));
    }, 600_000);
    sweeper.unref();
    return {
      async close() {
        stopped = true;
        clearInterval(timer);
        clearInterval(sweeper);
        h?.hub.close();
        await sampling;
        hubs.delete(ctx);
      },
    };
  },
};
