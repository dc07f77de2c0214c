/**
 * resources serves the resource database of the site: its groups, servers, the pool and moves
 * in flight as each caller may see them (/v1/status), and the accounts, groups, servers, pool,
 * moves and API tokens themselves. Operators change them; resellers create their customers'
 * accounts; customers read their own. Changes are taken by the active manager only.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HostfleetError } from '../../../core/errors.js';
import { DEFAULT_RUNTIME } from '../../../core/model/personality.js';
import type { ApiRole } from '../../../core/model/records.js';
import type { Role } from '../../../core/model/names.js';
import { placeOf } from '../../../core/model/server.js';
import * as db from '../../../drivers/store/resources.js';
import type { StoredServer } from '../../../drivers/store/resources.js';
import { canSee, issueApiToken, requireRole, visibleAccounts } from '../auth.js';
import type { Component, ManagerContext } from '../context.js';
import { principalOf, requireLeader } from '../principal.js';
import { CreateAccount, CreateGroup, CreateMove, CreateToken, IdParam, RegisterServer } from '../schemas.js';

/** ResourcesDeps are what the resource routes read and act through: registering a server asks its BMC for the system's UUID. */
export type ResourcesDeps = Pick<ManagerContext, 'cfg' | 'store' | 'siteId' | 'dispatcher' | 'bmcFor' | 'isLeader'>;

/** serverOut is a server as a caller sees it: operators also see how it is reached and what it is warm for. */
export function serverOut(s: StoredServer, full: boolean) {
  return {
    id: s.id,
    siteId: s.siteId,
    state: s.state,
    place: placeOf(s),
    groupId: s.groupId,
    moveId: s.moveId,
    address: s.address,
    capacity: s.capacity,
    ...(full ? { bmcUrl: s.bmcUrl, systemId: s.systemId, warmFor: s.warmFor ?? null } : {}),
  };
}

/** createResources returns the component of the resource and move routes. */
export function createResources(d: ResourcesDeps): Component {
  return {
    name: 'resources',
    async routes(fastify: FastifyInstance) {
      // The routes' bodies are typed from their TypeBox schemas.
      const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
      app.get(
        '/v1/status',
        {
          schema: {
            summary: 'Groups, servers, the pool and moves in flight, as this caller may see them',
            tags: ['status'],
          },
        },
        async (req) => {
          const p = principalOf(req);
          const visible = await visibleAccounts(d.store, p);
          const [groups, servers, moves] = await Promise.all([
            db.listGroups(d.store),
            db.listServers(d.store),
            db.listMoves(d.store, { status: 'running' }),
          ]);
          const vGroups = groups.filter((g) => canSee(visible, g.accountId));
          const vIds = new Set(vGroups.map((g) => g.id));
          const op = p.role === 'operator';
          return {
            site: d.siteId,
            groups: vGroups.map((g) => ({
              ...g,
              servers: servers.filter((s) => s.groupId === g.id).map((s) => serverOut(s, op)),
            })),
            pool: op ? servers.filter((s) => placeOf(s) === 'pool').map((s) => serverOut(s, op)) : [],
            failed: op ? servers.filter((s) => placeOf(s) === 'failed').map((s) => serverOut(s, op)) : [],
            // A customer sees its own side of a move; the other customer's group is not named.
            moves: moves
              .filter(
                (m) =>
                  op || (m.toGroup !== null && vIds.has(m.toGroup)) || (m.fromGroup !== null && vIds.has(m.fromGroup)),
              )
              .map((m) =>
                op
                  ? m
                  : {
                      ...m,
                      fromGroup: m.fromGroup !== null && vIds.has(m.fromGroup) ? m.fromGroup : null,
                      toGroup: m.toGroup !== null && vIds.has(m.toGroup) ? m.toGroup : null,
                      reason: '',
                      requestedBy: '',
                    },
              ),
          };
        },
      );

      app.get('/v1/sites', { schema: { tags: ['sites'] } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        return { sites: await db.listSites(d.store) };
      });

      app.get('/v1/accounts', { schema: { tags: ['accounts'] } }, async (req) => {
        const visible = await visibleAccounts(d.store, principalOf(req));
        return { accounts: (await db.listAccounts(d.store)).filter((a) => canSee(visible, a.id)) };
      });
      app.get('/v1/accounts/:id', { schema: { tags: ['accounts'], params: IdParam } }, async (req) => {
        const visible = await visibleAccounts(d.store, principalOf(req));
        const a = canSee(visible, req.params.id) ? await db.getAccount(d.store, req.params.id) : null;
        // An account the caller may not see answers exactly like one that does not exist.
        if (!a) throw new HostfleetError('E_NOT_FOUND', `account ${req.params.id} does not exist`);
        return { account: a, groups: await db.listGroups(d.store, a.id) };
      });
      app.post('/v1/accounts', { schema: { tags: ['accounts'], body: CreateAccount } }, async (req, reply) => {
        const p = principalOf(req);
        requireRole(p, ['operator', 'reseller']);
        requireLeader(d.isLeader);
        const resellerId = p.role === 'reseller' ? p.accountId : (req.body.resellerId ?? null);
        if (resellerId !== null && resellerId !== p.accountId && !(await db.getAccount(d.store, resellerId))) {
          throw new HostfleetError('E_VALIDATION', `resellerId ${resellerId} is not an account`, {
            fields: [{ field: 'body.resellerId', problem: 'must name an existing account' }],
          });
        }
        const a = await db.createAccount(
          d.store,
          { id: req.body.id, displayName: req.body.displayName, resellerId },
          d.cfg.site.firstUid,
        );
        return reply.status(201).send({ account: a });
      });

      app.get('/v1/groups', { schema: { tags: ['groups'] } }, async (req) => {
        const visible = await visibleAccounts(d.store, principalOf(req));
        return { groups: (await db.listGroups(d.store)).filter((g) => canSee(visible, g.accountId)) };
      });
      app.get('/v1/groups/:id', { schema: { tags: ['groups'], params: IdParam } }, async (req) => {
        const p = principalOf(req);
        const visible = await visibleAccounts(d.store, p);
        const g = await db.getGroup(d.store, req.params.id);
        if (!g || !canSee(visible, g.accountId))
          throw new HostfleetError('E_NOT_FOUND', `group ${req.params.id} does not exist`);
        const servers = (await db.listServers(d.store))
          .filter((s) => s.groupId === g.id)
          .map((s) => serverOut(s, p.role === 'operator'));
        return { group: g, servers };
      });
      app.post('/v1/groups', { schema: { tags: ['groups'], body: CreateGroup } }, async (req, reply) => {
        requireRole(principalOf(req), ['operator']);
        requireLeader(d.isLeader);
        const b = req.body;
        if (b.minSize > b.maxSize)
          throw new HostfleetError('E_VALIDATION', `minSize ${b.minSize} is above maxSize ${b.maxSize}`, {
            fields: [{ field: 'body.minSize', problem: `must be at most maxSize (${b.maxSize})` }],
          });
        if (!(await db.getAccount(d.store, b.accountId)))
          throw new HostfleetError('E_VALIDATION', `account ${b.accountId} does not exist`, {
            fields: [{ field: 'body.accountId', problem: 'must name an existing account' }],
          });
        const g = await d.store.transaction((tx) =>
          db.createGroup(tx, {
            id: b.id,
            accountId: b.accountId,
            siteId: d.siteId,
            role: b.role as Role,
            minSize: b.minSize,
            maxSize: b.maxSize,
            runtime: b.runtime ?? DEFAULT_RUNTIME,
            domains: b.domains,
          }),
        );
        return reply.status(201).send({ group: g });
      });

      app.get('/v1/servers', { schema: { tags: ['servers'] } }, async (req) => {
        const p = principalOf(req);
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
        const p = principalOf(req);
        const s = await db.getServer(d.store, req.params.id);
        const g = s?.groupId ? await db.getGroup(d.store, s.groupId) : null;
        const visible = await visibleAccounts(d.store, p);
        if (!s || (p.role !== 'operator' && !(g && canSee(visible, g.accountId))))
          throw new HostfleetError('E_NOT_FOUND', `server ${req.params.id} does not exist`);
        return { server: serverOut(s, p.role === 'operator') };
      });
      app.post('/v1/servers', { schema: { tags: ['servers'], body: RegisterServer } }, async (req, reply) => {
        requireRole(principalOf(req), ['operator']);
        requireLeader(d.isLeader);
        const b = req.body;
        const uuid = (await d.bmcFor(b.bmcUrl).getSystem(b.systemId)).uuid.toLowerCase();
        const s = await db.registerServer(d.store, {
          id: b.id,
          siteId: d.siteId,
          bmcUrl: b.bmcUrl,
          systemId: b.systemId,
          uuid,
          address: b.address,
          capacity: b.capacity ?? 1,
        });
        return reply.status(201).send({ server: serverOut(s, true) });
      });

      app.get('/v1/pool', { schema: { tags: ['pool'] } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        const servers = (await db.listServers(d.store)).filter((s) => placeOf(s) === 'pool');
        return {
          cold: servers.filter((s) => s.state !== 'pool-warm').map((s) => serverOut(s, true)),
          warm: servers.filter((s) => s.state === 'pool-warm').map((s) => serverOut(s, true)),
        };
      });

      app.post('/v1/moves', { schema: { tags: ['moves'], body: CreateMove } }, async (req, reply) => {
        const p = principalOf(req);
        requireRole(p, ['operator']);
        requireLeader(d.isLeader);
        const m = await d.dispatcher.request({
          serverId: req.body.server,
          toGroup: req.body.to === 'pool' ? null : req.body.to,
          reason: req.body.reason,
          requestedBy: p.name,
          force: req.body.force,
        });
        return reply.status(202).header('location', `/v1/moves/${m.id}`).send({ move: m });
      });
      app.get(
        '/v1/moves',
        {
          schema: {
            tags: ['moves'],
            querystring: Type.Object({
              status: Type.Optional(
                Type.Union(['running', 'done', 'failed', 'rolled-back'].map((s) => Type.Literal(s))),
              ),
              limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
            }),
          },
        },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          const q = req.query as { status?: 'running' | 'done' | 'failed' | 'rolled-back'; limit?: string };
          return {
            moves: await db.listMoves(d.store, {
              ...(q.status ? { status: q.status } : {}),
              limit: q.limit ? Number(q.limit) : 100,
            }),
          };
        },
      );
      app.get('/v1/moves/:id', { schema: { tags: ['moves'], params: IdParam } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        const m = await db.getMove(d.store, req.params.id);
        if (!m) throw new HostfleetError('E_NOT_FOUND', `move ${req.params.id} does not exist`);
        return { move: m, events: await db.listMoveEvents(d.store, m.id) };
      });

      app.post('/v1/tokens', { schema: { tags: ['tokens'], body: CreateToken } }, async (req, reply) => {
        requireRole(principalOf(req), ['operator']);
        const b = req.body;
        if (b.role !== 'operator' && b.accountId === undefined)
          throw new HostfleetError('E_VALIDATION', `a ${b.role} token needs an accountId`, {
            fields: [{ field: 'body.accountId', problem: `is required for role ${b.role}` }],
          });
        if (b.accountId !== undefined && !(await db.getAccount(d.store, b.accountId)))
          throw new HostfleetError('E_VALIDATION', `account ${b.accountId} does not exist`, {
            fields: [{ field: 'body.accountId', problem: 'must name an existing account' }],
          });
        const token = await issueApiToken(d.store, {
          role: b.role as ApiRole,
          accountId: b.accountId ?? null,
          name: b.name,
        });
        return reply.status(201).send({ token, role: b.role, accountId: b.accountId ?? null });
      });
    },
  };
}
