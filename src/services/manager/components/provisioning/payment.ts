/**
 * payment turns a verified order into a hosting account: the payment is authorised first, then
 * the account, its console user, its API token and all its services are written in one
 * transaction, each service assigned to a service server with spare capacity, and only then is
 * the payment captured and the servers nudged. Nothing is half created: the authorisation is
 * released if that transaction fails.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HostfleetError, invalid } from '../../../../core/errors.js';
import { PLANS, assignServices, initialSpecs } from '../../../../core/provisioning/index.js';
import type { ServiceKind } from '../../../../core/provisioning/index.js';
import { newId, newSecret } from '../../../../drivers/clock/index.js';
import * as db from '../../../../drivers/store/provisioning.js';
import { createAccount } from '../../../../drivers/store/resources.js';
import { insertUser } from '../../../../drivers/store/users.js';
import { issueApiToken } from '../../auth.js';
import { hashPassword } from '../../passwords.js';
import type { RouteDeps } from './deps.js';
import { orderFor, PUBLIC } from './orders.js';

const Card = Type.Object(
  {
    number: Type.String({ pattern: '^[0-9]{12,19}$', description: 'a card number of 12–19 digits' }),
    expMonth: Type.Integer({ minimum: 1, maximum: 12, description: 'the expiry month, 1–12' }),
    expYear: Type.Integer({ minimum: 2000, maximum: 2100, description: 'the expiry year, such as 2030' }),
    cvc: Type.String({ pattern: '^[0-9]{3,4}$', description: '3 or 4 digits' }),
    holder: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[^\\u0000-\\u001f<>]+$',
      description: "the cardholder's name (printable, without < or >)",
    }),
  },
  { additionalProperties: false },
);

/** paymentRoutes adds POST /v1/orders/{id}/pay. */
export function paymentRoutes(app: FastifyInstance, ctx: RouteDeps): void {
  const pub = PUBLIC;
  app.post(
    '/v1/orders/:id/pay',
    { ...pub, schema: { tags: ['orders'], body: Type.Object({ card: Card }, { additionalProperties: false }) } },
    async (req, reply) => {
      const o = await orderFor(ctx, req, false);
      if (o.state !== 'verified')
        throw new HostfleetError(
          'E_CONFLICT',
          `order ${o.id} is ${o.state}; ${o.state === 'unverified' ? 'verify the domain first' : 'it cannot be paid'}`,
        );
      const plan = PLANS[o.plan];
      const servers = await db.listServers(ctx.store);
      const pre = assignServices(o.services, servers);
      if (!pre.ok)
        throw new HostfleetError(
          'E_CONFLICT',
          `no service server has spare capacity for ${pre.unplaced.map((u) => u.service).join(', ')}; nothing was charged, try again later`,
          { details: { unplaced: pre.unplaced } },
        );
      const pay = await ctx
        .payments()
        .authorise((req.body as { card: typeof Card.static }).card, plan.priceCents, plan.currency, ctx.clock.now());
      if (!pay.ok)
        throw new HostfleetError(
          'E_PAYMENT_DECLINED',
          `the payment was declined: ${pay.reason}; nothing was created and the order is kept, pay with another card`,
          {
            fields: [{ field: 'body.card', problem: `was declined: ${pay.reason}` }],
            details: { reason: pay.reason, gateway: ctx.payments().name, order: { id: o.id, state: 'verified' } },
          },
        );
      const password = newSecret(15);
      const passwordHash = await hashPassword(password);
      let created: { accountId: string; token: string; services: { service: ServiceKind; serverId: string }[] };
      try {
        created = await ctx.store.transaction(async (tx) => {
          const cur = await db.getOrder(tx, o.id, true);
          if (!cur || cur.state !== 'verified')
            throw new HostfleetError('E_CONFLICT', `order ${o.id} changed meanwhile (${cur?.state ?? 'gone'})`);
          const all = await db.listServers(tx, true);
          const a = assignServices(o.services, all);
          if (!a.ok)
            throw new HostfleetError(
              'E_CONFLICT',
              `no service server has spare capacity for ${a.unplaced.map((u) => u.service).join(', ')}; nothing was charged`,
            );
          const uid = await db.nextUid(tx);
          const accountId = `c${uid}`;
          const addresses = Object.fromEntries(
            Object.entries(a.servers).map(([k, sid]) => [k, all.find((s) => s.id === sid)?.address]),
          );
          const specs = initialSpecs({
            domain: o.domain as string,
            services: o.services,
            uid,
            addresses,
            nameservers: ctx.cfg.provisioning.nameservers,
            ftpUser: { name: accountId, passwordHash, dir: '' },
          });
          if (!specs.ok) throw invalid(specs.problems);
          // The product's account of the same id first: tokens, visibility, billing and the console know the customer.
          await createAccount(
            tx,
            { id: accountId, displayName: o.domain as string, resellerId: o.resellerId },
            ctx.cfg.site.firstUid,
          );
          await db.insertAccount(tx, {
            id: accountId,
            orderId: o.id,
            domain: o.domain as string,
            plan: o.plan,
            uid,
            passwordHash,
            email: o.contact?.email ?? '',
          });
          // The customer logs in to the console as the account id with the account's password, and gets an API token once.
          await insertUser(tx, { id: newId(), name: accountId, passwordHash, role: 'customer', accountId });
          const token = await issueApiToken(tx, {
            role: 'customer',
            accountId,
            name: `${accountId} (order ${o.id})`,
          });
          const out: { service: ServiceKind; serverId: string }[] = [];
          const versions = await db.nextVersions(tx, o.services.length);
          for (const [i, service] of o.services.entries()) {
            const spec = specs.value[service];
            const serverId = a.servers[service];
            if (!spec || !serverId) continue;
            await db.putService(tx, {
              accountId,
              service,
              serverId,
              enabled: true,
              spec,
              version: versions[i] as number,
            });
            out.push({ service, serverId });
          }
          await db.updateOrder(tx, o.id, { state: 'completed', paymentRef: pay.reference, accountId });
          return { accountId, token, services: out };
        });
      } catch (e) {
        await ctx
          .payments()
          .refund(pay.reference)
          .catch((x: unknown) =>
            ctx.log.error({ err: x, reference: pay.reference }, 'could not release a payment authorisation'),
          );
        throw e;
      }
      const cap = await ctx.payments().capture(pay.reference);
      if (!cap.ok)
        ctx.log.error(
          { reference: pay.reference, reason: cap.reason },
          'payment capture failed after the account was created',
        );
      await ctx.nudger.nudgeAll(created.services.map((s) => ({ serverId: s.serverId, accountId: created.accountId })));
      return reply.status(201).send({
        account: {
          id: created.accountId,
          domain: o.domain,
          password,
          login: created.accountId,
          token: created.token,
          resellerId: o.resellerId,
          ftpUser: o.services.includes('ftp') ? created.accountId : undefined,
        },
        services: created.services,
        payment: { last4: pay.last4 },
      });
    },
  );
}
