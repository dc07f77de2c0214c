/**
 * provisioning is 004's database server inside the manager: the order form (public), domain
 * verification by a DNS TXT challenge, payment through a PaymentGateway, the operator review
 * queue, hosting accounts (argon2id passwords), assignment of each service to a service
 * server with spare capacity, the desired spec of every service, and the task store. It
 * nudges a service server's agent over the management bus with a signed short-lived token
 * naming the account; the agent fetches its tasks here and reports. Nothing is half created:
 * an account and all its services are written in one transaction after the payment is
 * authorised, and the authorisation is released if that transaction fails.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashPassword } from '../passwords.js';
import { HostfleetError, invalid } from '../../../core/errors.js';
import {
  PLANS,
  SERVICE_KINDS,
  applyChange,
  assignServices,
  challengeName,
  checkValue,
  initialSpecs,
  reconcile,
  validateOrder,
} from '../../../core/provisioning/index.js';
import type { Change, ServiceKind, TaskResult } from '../../../core/provisioning/index.js';
import { newSecret } from '../../../drivers/clock/index.js';
import { dnsResolver } from '../../../drivers/dns/index.js';
import type { TxtResolver } from '../../../drivers/dns/index.js';
import { testGateway } from '../../../drivers/payments/index.js';
import type { PaymentGateway } from '../../../drivers/payments/index.js';
import * as db from '../../../drivers/store/provisioning.js';
import { createAccount } from '../../../drivers/store/resources.js';
import { insertUser } from '../../../drivers/store/users.js';
import { newId } from '../../../drivers/clock/index.js';
import { subjects } from '../../../drivers/bus/index.js';
import { newSigningKey, signToken, verifyToken } from '../../provisioner/token.js';
import { principalOf } from '../principal.js';
import { canSee, issueApiToken, requireRole, visibleAccounts } from '../auth.js';
import type { Component, ManagerContext } from '../context.js';

/**
 * ProvisioningDeps are what the component reads, writes and nudges through; the payment
 * gateway and the DNS resolver default to the test gateway and the configured resolvers
 * (tests and other gateways replace them).
 */
export type ProvisioningDeps = Pick<
  ManagerContext,
  'cfg' | 'siteId' | 'store' | 'log' | 'clock' | 'bus' | 'auth' | 'isLeader'
> & {
  readonly gateway?: PaymentGateway;
  readonly resolver?: TxtResolver;
};

/** ProvisioningComponent is the provisioning component with the payment gateway it charges through. */
export interface ProvisioningComponent extends Component {
  gateway(): PaymentGateway;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
/** nudgeKey names one (service server, account) pair a nudge is for. */
const nudgeKey = (x: { serverId: string; accountId: string }): string => `${x.serverId}/${x.accountId}`;

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
const ServerBody = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$', description: 'a slug' }),
    services: Type.Array(
      Type.Unsafe<ServiceKind>({
        type: 'string',
        enum: [...SERVICE_KINDS],
        description: `one of ${SERVICE_KINDS.join(', ')}`,
      }),
      { minItems: 1, maxItems: 4, uniqueItems: true },
    ),
    capacity: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'account services it may hold' }),
    address: Type.String({ maxLength: 15, description: 'its public IPv4 address (written into zones)' }),
  },
  { additionalProperties: false },
);

/** createProvisioning returns the provisioning component with its drivers. */
export function createProvisioning(ctx: ProvisioningDeps): ProvisioningComponent {
  let gateway: PaymentGateway | undefined = ctx.gateway;
  const resolver: TxtResolver = ctx.resolver ?? dnsResolver(ctx.cfg.provisioning.resolvers);
  // The nudge key pair, parsed once: parsing PEM on every nudge and every agent call cost more
  // than the signatures themselves.
  let key: { privateKey: KeyObject; publicKey: KeyObject; publicPem: string } | undefined;
  const gw = () => (gateway ??= testGateway());

  // When each server was last nudged for each account, so the re-nudge loop leaves alone the
  // work that is still within its first renudgeMs (a batch in flight) instead of doubling it.
  const nudgedAt = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  async function nudge(serverId: string, accountId: string): Promise<void> {
    if (!key) return;
    nudgedAt.set(nudgeKey({ serverId, accountId }), ctx.clock.now().getTime());
    const token = signToken(key.privateKey, {
      server: serverId,
      account: accountId,
      exp: ctx.clock.now().getTime() + ctx.cfg.provisioning.tokenTtlMs,
    });
    await ctx.bus
      .publish(subjects.nudge(ctx.siteId, serverId), { token })
      .catch((e: unknown) => ctx.log.warn({ err: e, server: serverId }, 'could not nudge'));
  }
  const nudgeAll = async (services: readonly { serverId: string; accountId: string }[]) => {
    const seen = new Set<string>();
    for (const s of services) {
      const k = nudgeKey(s);
      if (!seen.has(k)) {
        seen.add(k);
        await nudge(s.serverId, s.accountId);
      }
    }
  };

  const orderFor = async (req: FastifyRequest, lock: boolean, sql = ctx.store) => {
    const id = (req.params as { id: string }).id;
    const o = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await db.getOrder(sql, id, lock) : null;
    const secret = req.headers['x-order-secret'];
    // The order routes are public (the secret is the customer's credential); an operator's bearer token is checked here.
    const p =
      req.principal ??
      (req.headers.authorization !== undefined ? await ctx.auth.authenticate(req.headers.authorization) : undefined);
    // An operator, and the reseller that placed the order, act on it without its secret.
    const trusted =
      p?.role === 'operator' ||
      (p?.role === 'reseller' && o !== null && o.resellerId !== null && o.resellerId === p.accountId);
    if (!o || (!trusted && (typeof secret !== 'string' || sha(secret) !== o.secretHash)))
      throw new HostfleetError(
        'E_NOT_FOUND',
        `order ${id} does not exist, or the X-Order-Secret header does not match it`,
      );
    return o;
  };

  /** changeService applies a change to one service of an account and nudges its server. */
  async function change(accountId: string, service: ServiceKind, ch: Change) {
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
          throw new HostfleetError(
            'E_CONFLICT',
            `the FTP user name ${ch.name} is taken on its server; choose another`,
            { fields: [{ field: 'body.name', problem: 'is taken' }] },
          );
      }
      const version = await db.nextVersion(tx);
      await db.putService(tx, { ...s, spec: out.spec, version });
      return { serverId: s.serverId, version };
    });
    await nudge(r.serverId, accountId);
    return r;
  }

  return {
    name: 'provisioning',
    gateway: gw,
    async routes(app: FastifyInstance) {
      const auth = ctx.auth;
      const pair = await db.signingKey(ctx.store, newSigningKey);
      key = {
        privateKey: createPrivateKey(pair.privatePem),
        publicKey: createPublicKey(pair.publicPem),
        publicPem: pair.publicPem,
      };
      const pub = { config: { public: true } };

      app.get('/v1/provisioning/key', { ...pub, schema: { tags: ['provisioning'] } }, async () => ({
        algorithm: 'ed25519',
        publicKey: key?.publicPem,
      }));

      app.put('/v1/provisioning/servers/:id', { schema: { tags: ['provisioning'], body: ServerBody } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        const b = req.body as typeof ServerBody.static;
        const e = checkValue('ipv4', 'body.address', b.address);
        if (e) throw invalid([e]);
        if (b.id !== (req.params as { id: string }).id)
          throw invalid([{ field: 'body.id', problem: 'must equal the id in the path' }]);
        await db.upsertServer(ctx.store, b);
        return { server: b };
      });
      app.get('/v1/provisioning/servers', { schema: { tags: ['provisioning'] } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        return { servers: await db.listServers(ctx.store) };
      });

      // ---- orders (public: a new customer has no token yet; the order secret proves it is theirs)
      // Optional auth: a reseller's bearer token makes the new account the reseller's customer.
      app.post('/v1/orders', { ...pub, schema: { tags: ['orders'] } }, async (req, reply) => {
        let resellerId: string | null = null;
        if (req.headers.authorization !== undefined) {
          const p = await auth.authenticate(req.headers.authorization);
          if (p.role === 'customer')
            throw new HostfleetError(
              'E_FORBIDDEN',
              'a customer token cannot place orders for others; order without a token (as a new customer) or ask your reseller',
            );
          if (p.role === 'reseller') resellerId = p.accountId;
        }
        const v = validateOrder(req.body);
        if (!v.ok) throw invalid(v.problems);
        const o = v.value;
        if (await db.domainTaken(ctx.store, o.domain))
          throw new HostfleetError('E_CONFLICT', `the domain ${o.domain} already has an account or an open order`, {
            fields: [{ field: 'body.domain', problem: 'is taken' }],
          });
        const id = newSecret(12);
        const secret = newSecret(24);
        const challenge = newSecret(24);
        await db.insertOrder(ctx.store, {
          id,
          secretHash: sha(secret),
          contact: o.contact,
          domain: o.domain,
          services: o.services,
          plan: o.plan,
          challenge,
          resellerId,
        });
        return reply
          .status(201)
          .send({
            order: { id, state: 'unverified', domain: o.domain, services: o.services, plan: o.plan, resellerId },
            secret,
            challenge: { type: 'TXT', name: challengeName(o.domain), value: challenge },
          });
      });
      app.get('/v1/orders/:id', { ...pub, schema: { tags: ['orders'] } }, async (req) => {
        const o = await orderFor(req, false);
        const { secretHash: _s, ...rest } = o;
        return { order: rest };
      });
      app.post('/v1/orders/:id/verify', { ...pub, schema: { tags: ['orders'] } }, async (req) => {
        const o = await orderFor(req, false);
        if (o.state !== 'unverified') return { order: { id: o.id, state: o.state } };
        let found: string[] = [];
        let why = '';
        try {
          found = await resolver.txt(challengeName(o.domain as string));
        } catch (e) {
          why = `the name servers did not answer (${(e as Error).message})`;
        }
        if (found.includes(o.challenge)) {
          await db.updateOrder(ctx.store, o.id, { state: 'verified' });
          return { order: { id: o.id, state: 'verified' } };
        }
        const attempts = o.verifyAttempts + 1;
        const reason =
          why ||
          `no TXT record ${challengeName(o.domain as string)} with the challenge value was found (found ${found.length} other record(s))`;
        const toReview = attempts >= ctx.cfg.provisioning.verifyAttempts;
        await db.updateOrder(ctx.store, o.id, {
          state: toReview ? 'review' : 'unverified',
          verifyAttempts: attempts,
          reasons: [...o.reasons, reason],
        });
        throw new HostfleetError(
          'E_CONFLICT',
          `${reason}; ${toReview ? 'the order now waits for an operator to review it' : `publish the record and verify again (${ctx.cfg.provisioning.verifyAttempts - attempts} attempt(s) before operator review)`}`,
          { details: { state: toReview ? 'review' : 'unverified' } },
        );
      });
      app.get(
        '/v1/orders',
        {
          schema: {
            tags: ['orders'],
            querystring: Type.Object({
              state: Type.Optional(
                Type.String({ enum: ['unverified', 'review', 'verified', 'completed', 'rejected'] }),
              ),
            }),
          },
        },
        async (req) => {
          // An operator sees every order; a reseller only those it placed for its customers.
          const p = principalOf(req);
          requireRole(p, ['operator', 'reseller']);
          const list = await db.listOrders(
            ctx.store,
            (req.query as { state?: 'review' }).state,
            500,
            p.role === 'reseller' ? (p.accountId ?? '') : undefined,
          );
          return { orders: list.map(({ secretHash: _s, ...o }) => o) };
        },
      );
      app.post('/v1/orders/:id/accept', { schema: { tags: ['orders'] } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        const o = await orderFor(req, false);
        if (o.state !== 'review' && o.state !== 'unverified')
          throw new HostfleetError('E_CONFLICT', `order ${o.id} is ${o.state}; only orders in review can be accepted`);
        await db.updateOrder(ctx.store, o.id, {
          state: 'verified',
          reasons: [...o.reasons, `accepted by ${principalOf(req).name}`],
        });
        return { order: { id: o.id, state: 'verified' } };
      });
      app.post(
        '/v1/orders/:id/reject',
        {
          schema: {
            tags: ['orders'],
            body: Type.Object(
              {
                reasons: Type.Array(
                  Type.String({
                    minLength: 1,
                    maxLength: 300,
                    pattern: '^[^\\u0000-\\u001f<>]+$',
                    description: 'printable text without < or >',
                  }),
                  { minItems: 1, maxItems: 10 },
                ),
              },
              { additionalProperties: false },
            ),
          },
        },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          const o = await orderFor(req, false);
          if (o.state === 'completed' || o.state === 'rejected')
            throw new HostfleetError('E_CONFLICT', `order ${o.id} is ${o.state} already`);
          await db.updateOrder(ctx.store, o.id, {
            state: 'rejected',
            reasons: (req.body as { reasons: string[] }).reasons,
            deleteData: true,
          });
          return { order: { id: o.id, state: 'rejected', reasons: (req.body as { reasons: string[] }).reasons } };
        },
      );

      app.post(
        '/v1/orders/:id/pay',
        { ...pub, schema: { tags: ['orders'], body: Type.Object({ card: Card }, { additionalProperties: false }) } },
        async (req, reply) => {
          const o = await orderFor(req, false);
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
          const pay = await gw().authorise(
            (req.body as { card: typeof Card.static }).card,
            plan.priceCents,
            plan.currency,
            ctx.clock.now(),
          );
          if (!pay.ok)
            throw new HostfleetError(
              'E_PAYMENT_DECLINED',
              `the payment was declined: ${pay.reason}; nothing was created and the order is kept, pay with another card`,
              {
                fields: [{ field: 'body.card', problem: `was declined: ${pay.reason}` }],
                details: { reason: pay.reason, gateway: gw().name, order: { id: o.id, state: 'verified' } },
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
              await createAccount(tx, { id: accountId, displayName: o.domain as string, resellerId: o.resellerId });
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
            await gw()
              .refund(pay.reference)
              .catch((x: unknown) =>
                ctx.log.error({ err: x, reference: pay.reference }, 'could not release a payment authorisation'),
              );
            throw e;
          }
          const cap = await gw().capture(pay.reference);
          if (!cap.ok)
            ctx.log.error(
              { reference: pay.reference, reason: cap.reason },
              'payment capture failed after the account was created',
            );
          await nudgeAll(created.services.map((s) => ({ serverId: s.serverId, accountId: created.accountId })));
          return reply
            .status(201)
            .send({
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

      // ---- accounts and their modifications (operators and resellers)
      const acctParam = (req: FastifyRequest) => {
        const id = (req.params as { id: string }).id;
        if (checkValue('slug', 'params.id', id))
          throw new HostfleetError('E_NOT_FOUND', `account ${id} does not exist`);
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
          const r = await change(acctParam(req), 'mail', {
            kind: 'putMailbox',
            local: b.local,
            passwordHash: await hashPassword(b.password),
          });
          return reply.status(201).send({ mailbox: b.local, ...r });
        },
      );
      app.delete(
        '/v1/provisioning/accounts/:id/mailboxes/:name',
        { schema: { tags: ['provisioning'] } },
        async (req) => {
          await requireAccountAccess(ctx, req, CUSTOMER_MAY);
          return change(acctParam(req), 'mail', {
            kind: 'deleteMailbox',
            local: (req.params as { name: string }).name,
          });
        },
      );
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
          const problems = [
            checkValue('ftpUser', 'body.name', b.name),
            checkValue('relPath', 'body.dir', b.dir),
          ].filter((x) => x !== null);
          if (problems.length) throw invalid(problems);
          const r = await change(acctParam(req), 'ftp', {
            kind: 'putFtpUser',
            name: b.name,
            dir: b.dir,
            passwordHash: await hashPassword(b.password),
          });
          return reply.status(201).send({ ftpUser: b.name, ...r });
        },
      );
      app.delete(
        '/v1/provisioning/accounts/:id/ftp-users/:name',
        { schema: { tags: ['provisioning'] } },
        async (req) => {
          await requireAccountAccess(ctx, req, CUSTOMER_MAY);
          return change(acctParam(req), 'ftp', { kind: 'deleteFtpUser', name: (req.params as { name: string }).name });
        },
      );
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
          await nudge(r, id);
          return { service: p.service, enabled: p.action === 'enable' };
        },
      );
      app.delete(
        '/v1/provisioning/accounts/:id/services/:service',
        { schema: { tags: ['provisioning'] } },
        async (req) => {
          await requireAccountAccess(ctx, req);
          const id = acctParam(req);
          const service = (req.params as { service: ServiceKind }).service;
          const s = (await db.servicesOfAccount(ctx.store, id)).find((x) => x.service === service);
          if (!s) throw new HostfleetError('E_NOT_FOUND', `account ${id} has no ${service} service`);
          await db.deleteService(ctx.store, id, service);
          await nudge(s.serverId, id);
          return { deleted: service };
        },
      );
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
        auth.forgetAccount(id);
        await nudgeAll(services.map((s) => ({ serverId: s.serverId, accountId: id })));
        return { deleted: id };
      });

      // ---- the management plane of service servers' agents: the nudge token is the credential
      const claimsOf = (req: FastifyRequest): { server: string; accounts: Set<string> } => {
        const server = (req.params as { server: string }).server;
        const tokens = (req.body as { tokens?: unknown }).tokens;
        if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > 1000)
          throw new HostfleetError('E_UNAUTHENTICATED', 'send the nudge tokens as {"tokens": [...]}');
        const accounts = new Set<string>();
        for (const t of tokens) {
          const v = verifyToken((key as { publicKey: KeyObject }).publicKey, t, server, ctx.clock.now().getTime());
          if (!v.ok)
            throw new HostfleetError(
              'E_UNAUTHENTICATED',
              `a nudge token was refused (${v.reason}); wait for the next nudge`,
            );
          accounts.add(v.claims.account);
        }
        return { server, accounts };
      };
      app.post('/v1/provisioning/agent/:server/tasks', { ...pub, schema: { tags: ['provisioning'] } }, async (req) => {
        const { server, accounts } = claimsOf(req);
        // Only the accounts the tokens name: the tasks of a batch, not the whole server's state.
        const desired = await db.desiredOfServer(ctx.store, server, [...accounts]);
        const held = await db.heldOfServer(ctx.store, server, [...accounts]);
        const tasks = reconcile(desired, held, accounts);
        await db.recordTasks(
          ctx.store,
          server,
          tasks.map((t) => ({
            accountId: t.account,
            service: t.service,
            action: t.kind,
            version: t.version,
            state: 'sent' as const,
          })),
        );
        return { tasks };
      });
      app.post(
        '/v1/provisioning/agent/:server/reports',
        { ...pub, schema: { tags: ['provisioning'] } },
        async (req) => {
          const { server, accounts } = claimsOf(req);
          const results = (req.body as { results?: TaskResult[] }).results ?? [];
          if (!Array.isArray(results) || results.length > 10_000)
            throw invalid([{ field: 'body.results', problem: 'must be a list of task results' }]);
          const mine = results.filter(
            (r) =>
              accounts.has(r.account) &&
              (SERVICE_KINDS as readonly string[]).includes(r.service) &&
              Number.isInteger(r.version) &&
              (r.action === 'put' || r.action === 'remove'),
          );
          await ctx.store.transaction(async (tx) => {
            await db.setHeld(
              tx,
              server,
              mine
                .filter((r) => r.kind === 'done')
                .map((r) => ({
                  accountId: r.account,
                  service: r.service,
                  version: r.action === 'put' ? r.version : null,
                })),
            );
            await db.recordTasks(
              tx,
              server,
              mine.map((r) => ({
                accountId: r.account,
                service: r.service,
                action: r.action,
                version: r.version,
                state: r.kind === 'done' ? ('done' as const) : ('failed' as const),
                error: r.kind === 'failed' ? String(r.error).slice(0, 2000) : null,
              })),
            );
          });
          return { recorded: mine.length };
        },
      );
    },
    async start() {
      let busy = false;
      timer = setInterval(() => {
        if (busy || !ctx.isLeader()) return;
        busy = true;
        db.serversOutOfStep(ctx.store)
          .then((rows) => {
            const now = ctx.clock.now().getTime();
            const out = new Set(rows.map(nudgeKey));
            for (const k of nudgedAt.keys()) if (!out.has(k)) nudgedAt.delete(k);
            return nudgeAll(
              rows.filter((r) => now - (nudgedAt.get(nudgeKey(r)) ?? -Infinity) >= ctx.cfg.provisioning.renudgeMs),
            );
          })
          .catch((e: unknown) => ctx.log.warn({ err: e }, 'provisioning re-nudge failed'))
          .finally(() => {
            busy = false;
          });
      }, ctx.cfg.provisioning.renudgeMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
    },
  };
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
