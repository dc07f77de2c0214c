/**
 * orders are 004's order form: a new customer (or a reseller for its customer) orders hosting
 * for a domain, proves the domain is theirs with a DNS TXT challenge, and pays (payment.ts);
 * an order that fails verification too often waits for an operator, who accepts or rejects it.
 * The order routes are public: the order's secret, given once, is the customer's credential.
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError, invalid } from '../../../../core/errors.js';
import { challengeName, validateOrder } from '../../../../core/provisioning/index.js';
import { newSecret } from '../../../../drivers/clock/index.js';
import type { Sql } from '../../../../drivers/store/index.js';
import * as db from '../../../../drivers/store/provisioning.js';
import { requireRole } from '../../auth.js';
import { principalOf } from '../../principal.js';
import type { RouteDeps } from './deps.js';

/** sha is the stored form of an order's secret. */
export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** PUBLIC marks a route the API lets through without a token (the route checks what it needs). */
export const PUBLIC = { config: { public: true } } as const;

/**
 * orderFor returns the order a request names, to an operator, to the reseller that placed it,
 * or to whoever presents its secret (X-Order-Secret); to anyone else it does not exist.
 */
export async function orderFor(
  ctx: Pick<RouteDeps, 'store' | 'auth'>,
  req: FastifyRequest,
  lock: boolean,
  sql: Sql = ctx.store,
): Promise<db.Order> {
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
}

/** orderRoutes adds the order form's routes but payment. */
export function orderRoutes(app: FastifyInstance, ctx: RouteDeps): void {
  const pub = PUBLIC;
  // ---- orders (public: a new customer has no token yet; the order secret proves it is theirs)
  // Optional auth: a reseller's bearer token makes the new account the reseller's customer.
  app.post('/v1/orders', { ...pub, schema: { tags: ['orders'] } }, async (req, reply) => {
    let resellerId: string | null = null;
    if (req.headers.authorization !== undefined) {
      const p = await ctx.auth.authenticate(req.headers.authorization);
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
    return reply.status(201).send({
      order: { id, state: 'unverified', domain: o.domain, services: o.services, plan: o.plan, resellerId },
      secret,
      challenge: { type: 'TXT', name: challengeName(o.domain), value: challenge },
    });
  });
  app.get('/v1/orders/:id', { ...pub, schema: { tags: ['orders'] } }, async (req) => {
    const o = await orderFor(ctx, req, false);
    const { secretHash: _s, ...rest } = o;
    return { order: rest };
  });
  app.post('/v1/orders/:id/verify', { ...pub, schema: { tags: ['orders'] } }, async (req) => {
    const o = await orderFor(ctx, req, false);
    if (o.state !== 'unverified') return { order: { id: o.id, state: o.state } };
    let found: string[] = [];
    let why = '';
    try {
      found = await ctx.resolver.txt(challengeName(o.domain as string));
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
          state: Type.Optional(Type.String({ enum: ['unverified', 'review', 'verified', 'completed', 'rejected'] })),
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
    const o = await orderFor(ctx, req, false);
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
      const o = await orderFor(ctx, req, false);
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
}
