/**
 * api builds the manager's HTTP API (fastify): JSON-schema-validated input, errors in the one
 * catalogue's shape, bearer-token authentication on every /v1 route (and billing's lock on a
 * customer's changes), the OpenAPI document at /openapi.json, health, Prometheus /metrics and
 * the boot service at /boot/{token}. The /v1 routes themselves are the components' (extend).
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { Type } from '@sinclair/typebox';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import type { FieldProblem } from '../../core/errors.js';
import type { Clock } from '../../drivers/clock/index.js';
import type { Store } from '../../drivers/store/index.js';
import { getRestriction } from '../../drivers/store/billing.js';
import { authenticateRequest, requireRole } from './auth.js';
import type { Authenticator } from './auth.js';
import { MACHINE_HEADER } from './boot.js';
import type { BootService } from './boot.js';
import type { ManagerMetrics } from './metrics.js';
import { principalOf } from './principal.js';

/** ApiDeps are what the API itself reads and acts through; the /v1 resources are its components'. */
export interface ApiDeps {
  readonly store: Store;
  readonly siteId: string;
  readonly boot: BootService;
  readonly metrics: ManagerMetrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly auth: Authenticator;
  /** extend adds the routes of the manager's components before the API listens. */
  readonly extend?: (app: FastifyInstance) => Promise<void>;
}

/** fieldsOf turns fastify/ajv validation errors into field problems that name the field. */
function fieldsOf(err: FastifyError): FieldProblem[] {
  const all = (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    const base = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const ctx = err.validationContext ?? 'body';
    if (typeof params.missingProperty === 'string')
      return { field: [ctx, base, params.missingProperty].filter(Boolean).join('.'), problem: 'is required' };
    if (typeof params.additionalProperty === 'string')
      return {
        field: [ctx, base, params.additionalProperty].filter(Boolean).join('.'),
        problem: 'is not a known field; remove it',
      };
    const desc = (v as unknown as { parentSchema?: { description?: string } }).parentSchema?.description;
    return {
      field: [ctx, base].filter(Boolean).join('.'),
      problem: desc ? `must be ${desc}` : (v.message ?? 'is invalid'),
    };
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
    ajv: {
      customOptions: { allErrors: true, verbose: true, removeAdditional: false, coerceTypes: false, useDefaults: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'hostfleet manager API',
        version: '1',
        description: 'Sites, accounts, groups, servers, the pool and moves of one hostfleet site.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let he: HostfleetError;
    if (isHostfleetError(err)) he = err;
    else if (err.validation) {
      const fields = fieldsOf(err);
      he = new HostfleetError(
        'E_VALIDATION',
        `invalid input: ${fields.map((f) => `${f.field} ${f.problem}`).join('; ')}`,
        { fields },
      );
    } else if (err.statusCode === 400 || err.statusCode === 415 || err.statusCode === 413) {
      he = new HostfleetError('E_VALIDATION', `invalid request: ${err.message}`, {
        fields: [{ field: 'body', problem: err.message }],
      });
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
    if (
      PUBLIC.has(req.routeOptions.url ?? '') ||
      (req.routeOptions.config as { public?: boolean } | undefined)?.public === true
    )
      return;
    req.principal = await authenticateRequest(d.auth, d.store, req, d.clock.now());
    // Billing's cut-off and failed payments can lock a customer's administrative controls
    // (seed 003): reading stays allowed, changing is refused until an operator lifts it.
    const p = req.principal;
    if (
      p.role === 'customer' &&
      p.accountId !== null &&
      req.method !== 'GET' &&
      req.method !== 'HEAD' &&
      req.routeOptions.url !== '/v1/session'
    ) {
      const r = await getRestriction(d.store, p.accountId);
      if (r && (r.action === 'lock-admin-only' || r.action === 'suspend')) {
        throw new HostfleetError(
          'E_FORBIDDEN',
          `the account's administrative controls are locked (${r.action}: ${r.reason}); settle the account or ask an operator to lift it`,
          { details: { account: p.accountId, restriction: r.action } },
        );
      }
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    d.metrics.http.inc({
      route: req.routeOptions.url ?? 'unknown',
      method: req.method,
      status: String(reply.statusCode),
    });
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', site: d.siteId }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (req, reply: FastifyReply) => {
    requireRole(principalOf(req), ['operator']);
    void reply.header('content-type', d.metrics.registry.contentType);
    return d.metrics.registry.metrics();
  });

  app.get(
    '/boot/:token',
    { schema: { hide: true, params: Type.Object({ token: Type.String({ maxLength: 200 }) }) } },
    async (req, reply) => {
      const machine = req.headers[MACHINE_HEADER];
      try {
        const p = await d.boot.redeem(d.store, req.params.token, typeof machine === 'string' ? machine : undefined);
        req.log.info({ machine, server: p.server, group: p.group.id }, 'boot pointer redeemed');
        return p;
      } catch (e) {
        req.log.warn({ machine, ip: req.ip }, 'boot pointer refused');
        return reply.status(403).send((e as HostfleetError).toJSON());
      }
    },
  );

  await d.extend?.(app as unknown as FastifyInstance);
  return app as unknown as FastifyInstance;
}
