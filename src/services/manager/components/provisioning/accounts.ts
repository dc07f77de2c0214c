/**
 * accounts serve the hosting accounts provisioning created: their services with the version
 * each server holds, and their modifications — mailboxes and FTP users (the customer too),
 * enabling, disabling and deleting services and deleting the account (its reseller and
 * operators). Every change bumps the service's version and nudges its server.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError, invalid } from '../../../../core/errors.js';
import { PLANS, SERVICE_KINDS, applyChange, checkValue } from '../../../../core/provisioning/index.js';
import type { Change, ServiceKind } from '../../../../core/provisioning/index.js';
import * as db from '../../../../drivers/store/provisioning.js';
import { canSee, requireRole, visibleAccounts } from '../../auth.js';
import type { ManagerContext } from '../../context.js';
import { hashPassword } from '../../passwords.js';
import { principalOf } from '../../principal.js';
import type { RouteDeps } from './deps.js';

/** change applies a change to one service of an account and nudges its server. */
async function change(ctx: RouteDeps, accountId: string, service: ServiceKind, ch: Change) {
  const r = await ctx.store.transaction(async (tx) => {
    const a = await db.getAccount(tx, accountId);
    if (!a) throw new HostfleetError('E_NOT_FOUND', `account ${accountId} does not exist`);
    const s = (await db.servicesOfAccount(tx, accountId, true)).find((x) => x.service === service);
    if (!s) throw new HostfleetError('E_NOT_FOUND', `account ${accountId} has no ${service} service; order it first`);
    const limit = service === 'mail' ? PLANS[a.plan].mailboxes : PLANS[a.plan].ftpUsers;
    const out = applyChange(s.spec, ch, limit);
    if (!out.ok)
      throw out.status === 'not_found'
        ? new HostfleetError('E_NOT_FOUND', out.problems[0]?.problem ?? 'not found')
        : out.status === 'limit'
          ? new HostfleetError('E_CONFLICT', out.problems[0]?.problem ?? 'limit', { fields: out.problems })
          : invalid(out.problems);
    if (ch.kind === 'putFtpUser') {
      // FTP user names are one namespace per server: refuse a name another account holds there.
      if (await db.ftpUserTaken(tx, s.serverId, ch.name, accountId))
        throw new HostfleetError('E_CONFLICT', `the FTP user name ${ch.name} is taken on its server; choose another`, {
          fields: [{ field: 'body.name', problem: 'is taken' }],
        });
    }
    const version = await db.nextVersion(tx);
    await db.putService(tx, { ...s, spec: out.spec, version });
    return { serverId: s.serverId, version };
  });
  await ctx.nudger.nudge(r.serverId, accountId);
  return r;
}

/** accountRoutes adds the hosting accounts' routes. */
export function accountRoutes(app: FastifyInstance, ctx: RouteDeps): void {
  // ---- accounts and their modifications (operators and resellers)
  const acctParam = (req: FastifyRequest) => {
    const id = (req.params as { id: string }).id;
    if (checkValue('slug', 'params.id', id)) throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
    return id;
  };
  app.get('/v1/provisioning/accounts/:id', { schema: { tags: ['provisioning'] } }, async (req) => {
    await requireAccountAccess(ctx, req, CUSTOMER_MAY);
    const a = await db.getAccount(ctx.store, acctParam(req));
    if (!a) throw new HostfleetError('E_NOT_FOUND', `account ${acctParam(req)} does not exist`);
    const services = await db.servicesOfAccount(ctx.store, a.id);
    const tasks = await db.tasksOfAccount(ctx.store, a.id);
    const held = new Map<string, number>();
    for (const s of services)
      for (const h of await db.heldOfServer(ctx.store, s.serverId, [a.id]))
        if (h.service === s.service) held.set(h.service, h.version);
    const { passwordHash: _p, ...acct } = a;
    return {
      account: acct,
      services: services.map((s) => ({
        service: s.service,
        serverId: s.serverId,
        enabled: s.enabled,
        version: s.version,
        heldVersion: held.get(s.service) ?? null,
        live: s.enabled ? held.get(s.service) === s.version : !held.has(s.service),
      })),
      tasks,
    };
  });
  const PasswordBody = (extra: Record<string, ReturnType<typeof Type.String>>) =>
    Type.Object(
      {
        ...extra,
        password: Type.String({
          minLength: 10,
          maxLength: 128,
          pattern: '^[\\x21-\\x7e]+$',
          description: '10–128 printable ASCII characters without spaces',
        }),
      },
      { additionalProperties: false },
    );
  app.post(
    '/v1/provisioning/accounts/:id/mailboxes',
    { schema: { tags: ['provisioning'], body: PasswordBody({ local: Type.String({ maxLength: 64 }) }) } },
    async (req, reply) => {
      await requireAccountAccess(ctx, req, CUSTOMER_MAY);
      const b = req.body as { local: string; password: string };
      const e = checkValue('mailbox', 'body.local', b.local);
      if (e) throw invalid([e]);
      const r = await change(ctx, acctParam(req), 'mail', {
        kind: 'putMailbox',
        local: b.local,
        passwordHash: await hashPassword(b.password),
      });
      return reply.status(201).send({ mailbox: b.local, ...r });
    },
  );
  app.delete('/v1/provisioning/accounts/:id/mailboxes/:name', { schema: { tags: ['provisioning'] } }, async (req) => {
    await requireAccountAccess(ctx, req, CUSTOMER_MAY);
    return change(ctx, acctParam(req), 'mail', {
      kind: 'deleteMailbox',
      local: (req.params as { name: string }).name,
    });
  });
  app.post(
    '/v1/provisioning/accounts/:id/ftp-users',
    {
      schema: {
        tags: ['provisioning'],
        body: PasswordBody({
          name: Type.String({ maxLength: 32 }),
          dir: Type.String({ maxLength: 200, default: '' }),
        }),
      },
    },
    async (req, reply) => {
      await requireAccountAccess(ctx, req, CUSTOMER_MAY);
      const b = req.body as { name: string; dir: string; password: string };
      const problems = [checkValue('ftpUser', 'body.name', b.name), checkValue('relPath', 'body.dir', b.dir)].filter(
        (x) => x !== null,
      );
      if (problems.length) throw invalid(problems);
      const r = await change(ctx, acctParam(req), 'ftp', {
        kind: 'putFtpUser',
        name: b.name,
        dir: b.dir,
        passwordHash: await hashPassword(b.password),
      });
      return reply.status(201).send({ ftpUser: b.name, ...r });
    },
  );
  app.delete('/v1/provisioning/accounts/:id/ftp-users/:name', { schema: { tags: ['provisioning'] } }, async (req) => {
    await requireAccountAccess(ctx, req, CUSTOMER_MAY);
    return change(ctx, acctParam(req), 'ftp', { kind: 'deleteFtpUser', name: (req.params as { name: string }).name });
  });
  app.post(
    '/v1/provisioning/accounts/:id/services/:service/:action',
    {
      schema: {
        tags: ['provisioning'],
        params: Type.Object({
          id: Type.String(),
          service: Type.String({ enum: [...SERVICE_KINDS] }),
          action: Type.String({ enum: ['enable', 'disable'] }),
        }),
      },
    },
    async (req) => {
      await requireAccountAccess(ctx, req);
      const p = req.params as { service: ServiceKind; action: 'enable' | 'disable' };
      const id = acctParam(req);
      const r = await ctx.store.transaction(async (tx) => {
        const s = (await db.servicesOfAccount(tx, id, true)).find((x) => x.service === p.service);
        if (!s) throw new HostfleetError('E_NOT_FOUND', `account ${id} has no ${p.service} service`);
        await db.putService(tx, { ...s, enabled: p.action === 'enable', version: await db.nextVersion(tx) });
        return s.serverId;
      });
      await ctx.nudger.nudge(r, id);
      return { service: p.service, enabled: p.action === 'enable' };
    },
  );
  app.delete('/v1/provisioning/accounts/:id/services/:service', { schema: { tags: ['provisioning'] } }, async (req) => {
    await requireAccountAccess(ctx, req);
    const id = acctParam(req);
    const service = (req.params as { service: ServiceKind }).service;
    const s = (await db.servicesOfAccount(ctx.store, id)).find((x) => x.service === service);
    if (!s) throw new HostfleetError('E_NOT_FOUND', `account ${id} has no ${service} service`);
    await db.deleteService(ctx.store, id, service);
    await ctx.nudger.nudge(s.serverId, id);
    return { deleted: service };
  });
  app.delete('/v1/provisioning/accounts/:id', { schema: { tags: ['provisioning'] } }, async (req) => {
    await requireAccountAccess(ctx, req);
    const id = acctParam(req);
    const services = await db.servicesOfAccount(ctx.store, id);
    const gone = await ctx.store.transaction(async (tx) => {
      const ok = await db.deleteAccount(tx, id);
      if (ok) await db.revokeAccountAccess(tx, id);
      return ok;
    });
    if (!gone) throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
    ctx.auth.forgetAccount(id);
    await ctx.nudger.nudgeAll(services.map((s) => ({ serverId: s.serverId, accountId: id })));
    return { deleted: id };
  });
}

/**
 * CUSTOMER_MAY marks the actions a customer may take on its own account: read it, and add,
 * delete or change the password of its mailboxes and FTP users. Disabling, enabling or
 * deleting a service and deleting the account change what is billed, so they stay with the
 * reseller and the operator.
 */
const CUSTOMER_MAY = ['operator', 'reseller', 'customer'] as const;

/**
 * requireAccountAccess lets operators act on every hosting account, a reseller only on the
 * accounts it may see (its own and its customers'), and, where roles allow it, a customer only
 * on its own; anything else answers as if the account did not exist.
 */
async function requireAccountAccess(
  ctx: Pick<ManagerContext, 'store'>,
  req: FastifyRequest,
  roles: readonly ('operator' | 'reseller' | 'customer')[] = ['operator', 'reseller'],
): Promise<void> {
  const p = principalOf(req);
  requireRole(p, roles);
  if (p.role === 'operator') return;
  const id = (req.params as { id: string }).id;
  if (!canSee(await visibleAccounts(ctx.store, p), id))
    throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
}
