/**
 * api is the manager's HTTP API (fastify): JSON-schema-validated input, bearer-token
 * authentication and role checks on every /v1 route, the OpenAPI document at /openapi.json,
 * the boot service at /boot/{token}, and Prometheus /metrics.
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { Type } from '@sinclair/typebox';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import type { FieldProblem } from '../../core/errors.js';
import { DEFAULT_RUNTIME } from '../../core/model/personality.js';
import type { ApiRole, Principal } from '../../core/model/records.js';
import type { Role } from '../../core/model/names.js';
import { placeOf } from '../../core/model/server.js';
import type { Store } from '../../drivers/store/index.js';
import * as db from '../../drivers/store/resources.js';
import { getRestriction } from '../../drivers/store/billing.js';
import type { StoredServer } from '../../drivers/store/resources.js';
import { Authenticator, authenticateRequest, canSee, issueApiToken, requireRole, visibleAccounts } from './auth.js';
import { MACHINE_HEADER } from './boot.js';
import type { BootService } from './boot.js';
import type { Dispatcher } from './dispatcher.js';
import type { ManagerMetrics } from './metrics.js';
import { CreateAccount, CreateGroup, CreateMove, CreateToken, IdParam, RegisterServer } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** ApiDeps are what the API reads and acts through. */
export interface ApiDeps {
  readonly store: Store;
  readonly siteId: string;
  readonly dispatcher: Dispatcher;
  readonly boot: BootService;
  readonly metrics: ManagerMetrics;
  readonly log: Logger;
  /** discover asks a BMC for a system's UUID (to register a server). */
  readonly discover: (bmcUrl: string, systemId: string) => Promise<{ uuid: string }>;
  /** isLeader tells whether this manager may act (always true until standby managers exist). */
  readonly isLeader?: () => boolean;
  /** extend adds the routes of the manager's components before the API listens. */
  readonly extend?: (app: FastifyInstance) => Promise<void>;
}

const serverOut = (s: StoredServer, full: boolean) => ({
  id: s.id,
  siteId: s.siteId,
  state: s.state,
  place: placeOf(s),
  groupId: s.groupId,
  moveId: s.moveId,
  address: s.address,
  capacity: s.capacity,
  ...(full ? { bmcUrl: s.bmcUrl, systemId: s.systemId, warmFor: s.warmFor ?? null } : {}),
});

/** principalOf returns the authenticated caller of a /v1 request (routes of components use it too). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new HostfleetError('E_UNAUTHENTICATED', 'authentication required');
  return req.principal;
}

/** fieldsOf turns fastify/ajv validation errors into field problems that name the field. */
function fieldsOf(err: FastifyError): FieldProblem[] {
  const all = (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    const base = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const ctx = err.validationContext ?? 'body';
    if (typeof params.missingProperty === 'string') return { field: [ctx, base, params.missingProperty].filter(Boolean).join('.'), problem: 'is required' };
    if (typeof params.additionalProperty === 'string') return { field: [ctx, base, params.additionalProperty].filter(Boolean).join('.'), problem: 'is not a known field; remove it' };
    const desc = (v as unknown as { parentSchema?: { description?: string } }).parentSchema?.description;
    return { field: [ctx, base].filter(Boolean).join('.'), problem: desc ? `must be ${desc}` : (v.message ?? 'is invalid') };
  });
  // One problem per field: the alternatives of a union each report, the first says enough.
  const seen = new Set<string>();
  return all.filter((f) => !seen.has(f.field) && seen.add(f.field) !== undefined);
}

/** buildApi returns the manager's fastify app, ready to listen. */
export async function buildApi(d: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: d.log.child({ component: 'api' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { allErrors: true, verbose: true, removeAdditional: false, coerceTypes: false, useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const auth = Authenticator.for(d.store);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'hostfleet manager API', version: '1', description: 'Sites, accounts, groups, servers, the pool and moves of one hostfleet site.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let he: HostfleetError;
    if (isHostfleetError(err)) he = err;
    else if (err.validation) {
      const fields = fieldsOf(err);
      he = new HostfleetError('E_VALIDATION', `invalid input: ${fields.map((f) => `${f.field} ${f.problem}`).join('; ')}`, { fields });
    } else if (err.statusCode === 400 || err.statusCode === 415 || err.statusCode === 413) {
      he = new HostfleetError('E_VALIDATION', `invalid request: ${err.message}`, { fields: [{ field: 'body', problem: err.message }] });
    } else {
      req.log.error({ err }, 'unhandled error');
      he = new HostfleetError('E_INTERNAL', 'internal error; the manager log has the details');
    }
    void reply.status(he.status).send(he.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    const he = new HostfleetError('E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}; see /openapi.json`);
    void reply.status(404).send(he.toJSON());
  });

  const PUBLIC = new Set(['/healthz', '/openapi.json', '/boot/:token']);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    // Routes mark themselves public with config: { public: true } (a login page, static assets).
    if (PUBLIC.has(req.routeOptions.url ?? '') || (req.routeOptions.config as { public?: boolean } | undefined)?.public === true) return;
    req.principal = await authenticateRequest(auth, d.store, req);
    // Billing's cut-off and failed payments can lock a customer's administrative controls
    // (seed 003): reading stays allowed, changing is refused until an operator lifts it.
    const p = req.principal;
    if (p.role === 'customer' && p.accountId !== null && req.method !== 'GET' && req.method !== 'HEAD' && req.routeOptions.url !== '/v1/session') {
      const r = await getRestriction(d.store, p.accountId);
      if (r && (r.action === 'lock-admin-only' || r.action === 'suspend')) {
        throw new HostfleetError('E_FORBIDDEN', `the account's administrative controls are locked (${r.action}: ${r.reason}); settle the account or ask an operator to lift it`, { details: { account: p.accountId, restriction: r.action } });
      }
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    d.metrics.http.inc({ route: req.routeOptions.url ?? 'unknown', method: req.method, status: String(reply.statusCode) });
  });
  const who = principalOf;
  const leaderOnly = () => {
    if (d.isLeader && !d.isLeader()) throw new HostfleetError('E_NOT_LEADER', 'this manager is the standby; send changes to the active manager');
  };

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', site: d.siteId }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (req, reply: FastifyReply) => {
    requireRole(who(req), ['operator']);
    void reply.header('content-type', d.metrics.registry.contentType);
    return d.metrics.registry.metrics();
  });

  app.get('/boot/:token', { schema: { hide: true, params: Type.Object({ token: Type.String({ maxLength: 200 }) }) } }, async (req, reply) => {
    const machine = req.headers[MACHINE_HEADER];
    try {
      const p = await d.boot.redeem(d.store, req.params.token, typeof machine === 'string' ? machine : undefined);
      req.log.info({ machine, server: p.server, group: p.group.id }, 'boot pointer redeemed');
      return p;
    } catch (e) {
      req.log.warn({ machine, ip: req.ip }, 'boot pointer refused');
      return reply.status(403).send((e as HostfleetError).toJSON());
    }
  });

  app.get('/v1/status', { schema: { summary: 'Groups, servers, the pool and moves in flight, as this caller may see them', tags: ['status'] } }, async (req) => {
    const p = who(req);
    const visible = await visibleAccounts(d.store, p);
    const [groups, servers, moves] = await Promise.all([db.listGroups(d.store), db.listServers(d.store), db.listMoves(d.store, { status: 'running' })]);
    const vGroups = groups.filter((g) => canSee(visible, g.accountId));
    const vIds = new Set(vGroups.map((g) => g.id));
    const op = p.role === 'operator';
    return {
      site: d.siteId,
      groups: vGroups.map((g) => ({ ...g, servers: servers.filter((s) => s.groupId === g.id).map((s) => serverOut(s, op)) })),
      pool: op ? servers.filter((s) => placeOf(s) === 'pool').map((s) => serverOut(s, op)) : [],
      failed: op ? servers.filter((s) => placeOf(s) === 'failed').map((s) => serverOut(s, op)) : [],
      // A customer sees its own side of a move; the other customer's group is not named.
      moves: moves
        .filter((m) => op || (m.toGroup !== null && vIds.has(m.toGroup)) || (m.fromGroup !== null && vIds.has(m.fromGroup)))
        .map((m) => (op ? m : { ...m, fromGroup: m.fromGroup !== null && vIds.has(m.fromGroup) ? m.fromGroup : null, toGroup: m.toGroup !== null && vIds.has(m.toGroup) ? m.toGroup : null, reason: '', requestedBy: '' })),
    };
  });

  app.get('/v1/sites', { schema: { tags: ['sites'] } }, async (req) => {
    requireRole(who(req), ['operator']);
    return { sites: await db.listSites(d.store) };
  });

  app.get('/v1/accounts', { schema: { tags: ['accounts'] } }, async (req) => {
    const visible = await visibleAccounts(d.store, who(req));
    return { accounts: (await db.listAccounts(d.store)).filter((a) => canSee(visible, a.id)) };
  });
  app.get('/v1/accounts/:id', { schema: { tags: ['accounts'], params: IdParam } }, async (req) => {
    const visible = await visibleAccounts(d.store, who(req));
    const a = canSee(visible, req.params.id) ? await db.getAccount(d.store, req.params.id) : null;
    // An account the caller may not see answers exactly like one that does not exist.
    if (!a) throw new HostfleetError('E_NOT_FOUND', `account ${req.params.id} does not exist`);
    return { account: a, groups: await db.listGroups(d.store, a.id) };
  });
  app.post('/v1/accounts', { schema: { tags: ['accounts'], body: CreateAccount } }, async (req, reply) => {
    const p = who(req);
    requireRole(p, ['operator', 'reseller']);
    leaderOnly();
    const resellerId = p.role === 'reseller' ? p.accountId : (req.body.resellerId ?? null);
    if (resellerId !== null && resellerId !== p.accountId && !(await db.getAccount(d.store, resellerId))) {
      throw new HostfleetError('E_VALIDATION', `resellerId ${resellerId} is not an account`, { fields: [{ field: 'body.resellerId', problem: 'must name an existing account' }] });
    }
    const a = await db.createAccount(d.store, { id: req.body.id, displayName: req.body.displayName, resellerId });
    return reply.status(201).send({ account: a });
  });

  app.get('/v1/groups', { schema: { tags: ['groups'] } }, async (req) => {
    const visible = await visibleAccounts(d.store, who(req));
    return { groups: (await db.listGroups(d.store)).filter((g) => canSee(visible, g.accountId)) };
  });
  app.get('/v1/groups/:id', { schema: { tags: ['groups'], params: IdParam } }, async (req) => {
    const p = who(req);
    const visible = await visibleAccounts(d.store, p);
    const g = await db.getGroup(d.store, req.params.id);
    if (!g || !canSee(visible, g.accountId)) throw new HostfleetError('E_NOT_FOUND', `group ${req.params.id} does not exist`);
    const servers = (await db.listServers(d.store)).filter((s) => s.groupId === g.id).map((s) => serverOut(s, p.role === 'operator'));
    return { group: g, servers };
  });
  app.post('/v1/groups', { schema: { tags: ['groups'], body: CreateGroup } }, async (req, reply) => {
    requireRole(who(req), ['operator']);
    leaderOnly();
    const b = req.body;
    if (b.minSize > b.maxSize) throw new HostfleetError('E_VALIDATION', `minSize ${b.minSize} is above maxSize ${b.maxSize}`, { fields: [{ field: 'body.minSize', problem: `must be at most maxSize (${b.maxSize})` }] });
    if (!(await db.getAccount(d.store, b.accountId))) throw new HostfleetError('E_VALIDATION', `account ${b.accountId} does not exist`, { fields: [{ field: 'body.accountId', problem: 'must name an existing account' }] });
    const g = await d.store.transaction((tx) =>
      db.createGroup(tx, { id: b.id, accountId: b.accountId, siteId: d.siteId, role: b.role as Role, minSize: b.minSize, maxSize: b.maxSize, runtime: b.runtime ?? DEFAULT_RUNTIME, domains: b.domains }),
    );
    return reply.status(201).send({ group: g });
  });

  app.get('/v1/servers', { schema: { tags: ['servers'] } }, async (req) => {
    const p = who(req);
    const visible = await visibleAccounts(d.store, p);
    const groups = new Map((await db.listGroups(d.store)).map((g) => [g.id, g]));
    const servers = (await db.listServers(d.store)).filter((s) => {
      if (p.role === 'operator') return true;
      const g = s.groupId === null ? undefined : groups.get(s.groupId);
      return g !== undefined && canSee(visible, g.accountId);
    });
    return { servers: servers.map((s) => serverOut(s, p.role === 'operator')) };
  });
  app.get('/v1/servers/:id', { schema: { tags: ['servers'], params: IdParam } }, async (req) => {
    const p = who(req);
    const s = await db.getServer(d.store, req.params.id);
    const g = s?.groupId ? await db.getGroup(d.store, s.groupId) : null;
    const visible = await visibleAccounts(d.store, p);
    if (!s || (p.role !== 'operator' && !(g && canSee(visible, g.accountId)))) throw new HostfleetError('E_NOT_FOUND', `server ${req.params.id} does not exist`);
    return { server: serverOut(s, p.role === 'operator') };
  });
  app.post('/v1/servers', { schema: { tags: ['servers'], body: RegisterServer } }, async (req, reply) => {
    requireRole(who(req), ['operator']);
    leaderOnly();
    const b = req.body;
    const { uuid } = await d.discover(b.bmcUrl, b.systemId);
    const s = await db.registerServer(d.store, { id: b.id, siteId: d.siteId, bmcUrl: b.bmcUrl, systemId: b.systemId, uuid, address: b.address, capacity: b.capacity ?? 1 });
    return reply.status(201).send({ server: serverOut(s, true) });
  });

  app.get('/v1/pool', { schema: { tags: ['pool'] } }, async (req) => {
    requireRole(who(req), ['operator']);
    const servers = (await db.listServers(d.store)).filter((s) => placeOf(s) === 'pool');
    return { cold: servers.filter((s) => s.state !== 'pool-warm').map((s) => serverOut(s, true)), warm: servers.filter((s) => s.state === 'pool-warm').map((s) => serverOut(s, true)) };
  });

  app.post('/v1/moves', { schema: { tags: ['moves'], body: CreateMove } }, async (req, reply) => {
    const p = who(req);
    requireRole(p, ['operator']);
    leaderOnly();
    const m = await d.dispatcher.request({ serverId: req.body.server, toGroup: req.body.to === 'pool' ? null : req.body.to, reason: req.body.reason, requestedBy: p.name, force: req.body.force });
    return reply.status(202).header('location', `/v1/moves/${m.id}`).send({ move: m });
  });
  app.get('/v1/moves', { schema: { tags: ['moves'], querystring: Type.Object({ status: Type.Optional(Type.Union(['running', 'done', 'failed', 'rolled-back'].map((s) => Type.Literal(s)))), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }) } }, async (req) => {
    requireRole(who(req), ['operator']);
    const q = req.query as { status?: 'running' | 'done' | 'failed' | 'rolled-back'; limit?: string };
    return { moves: await db.listMoves(d.store, { ...(q.status ? { status: q.status } : {}), limit: q.limit ? Number(q.limit) : 100 }) };
  });
  app.get('/v1/moves/:id', { schema: { tags: ['moves'], params: IdParam } }, async (req) => {
    requireRole(who(req), ['operator']);
    const m = await db.getMove(d.store, req.params.id);
    if (!m) throw new HostfleetError('E_NOT_FOUND', `move ${req.params.id} does not exist`);
    return { move: m, events: await db.listMoveEvents(d.store, m.id) };
  });

  app.post('/v1/tokens', { schema: { tags: ['tokens'], body: CreateToken } }, async (req, reply) => {
    requireRole(who(req), ['operator']);
    const b = req.body;
    if (b.role !== 'operator' && b.accountId === undefined) throw new HostfleetError('E_VALIDATION', `a ${b.role} token needs an accountId`, { fields: [{ field: 'body.accountId', problem: `is required for role ${b.role}` }] });
    if (b.accountId !== undefined && !(await db.getAccount(d.store, b.accountId))) throw new HostfleetError('E_VALIDATION', `account ${b.accountId} does not exist`, { fields: [{ field: 'body.accountId', problem: 'must name an existing account' }] });
    const token = await issueApiToken(d.store, { role: b.role as ApiRole, accountId: b.accountId ?? null, name: b.name });
    return reply.status(201).send({ token, role: b.role, accountId: b.accountId ?? null });
  });

  await d.extend?.(app as unknown as FastifyInstance);
  return app as unknown as FastifyInstance;
}
