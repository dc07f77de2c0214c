/**
 * admin is the built-in edge's admin API, on its own port: pools and servers CRUD matching the
 * EdgeDriver, drain, status, and Prometheus /metrics. Every route but /healthz needs
 * `Authorization: Bearer <token>`. Bodies are JSON; errors use the catalogue's JSON shape.
 *
 *   GET    /v1/pools                                  → EdgePoolStatus[]   (also /v1/status)
 *   PUT    /v1/pools/:poolId           {domains, balance?, sticky?, rateLimit?} → 204
 *   DELETE /v1/pools/:poolId                          → 204 (absent: 204)
 *   PUT    /v1/pools/:poolId/servers/:serverId {address} → 204
 *   POST   /v1/pools/:poolId/servers/:serverId/drain {timeoutMs} → {drained, inflight}
 *   POST   /v1/pools/:poolId/servers/:serverId/pause  → 204 (absent: 404)
 *   POST   /v1/pools/:poolId/servers/:serverId/play   → 204 (absent: 404)
 *   DELETE /v1/pools/:poolId/servers/:serverId        → 204 (absent: 204)
 *   GET    /metrics                                   → Prometheus text
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Dispatcher } from 'undici';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import {
  assertPool,
  assertPoolId,
  assertServer,
  assertServerId,
  assertTimeoutMs,
} from '../../drivers/edge/validate.js';
import type { RoutingTable } from './table.js';
import type { EdgeMetrics } from './metrics.js';

/** AdminDeps are what the admin API acts on. */
export interface AdminDeps {
  readonly table: RoutingTable<Dispatcher>;
  readonly metrics: EdgeMetrics;
  readonly token: string;
  /** persisted resolves once the table's last change is in the state file (or at once without one). */
  readonly persisted: () => Promise<void>;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** buildAdmin builds the admin Fastify app (not listening; the caller listens or injects). */
export function buildAdmin(deps: AdminDeps): FastifyInstance {
  const { table, metrics, persisted } = deps;
  const want = digest(`Bearer ${deps.token}`);
  const app = Fastify({ logger: false, bodyLimit: 1 << 20 });

  app.addHook('onRequest', async (req) => {
    if (req.url === '/healthz') return;
    // Compare digests so the comparison takes the same time whatever the length of the guess.
    const got = digest(req.headers.authorization ?? '');
    if (!timingSafeEqual(got, want)) {
      throw new HostfleetError(
        'E_UNAUTHENTICATED',
        'the edge admin API needs the header "Authorization: Bearer <token>" with the edge\'s admin token (HOSTFLEET_EDGE_TOKEN)',
      );
    }
  });

  app.setErrorHandler((err, _req, reply) => {
    if (isHostfleetError(err)) return reply.status(err.status).send(err.toJSON());
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const e = new HostfleetError('E_VALIDATION', `invalid request: ${(err as Error).message}`);
      return reply.status(400).send(e.toJSON());
    }
    const e = new HostfleetError('E_INTERNAL', 'the edge failed to handle the request; see its log');
    return reply.status(500).send(e.toJSON());
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/v1/pools', async () => table.status());
  app.get('/v1/status', async () => table.status());

  app.put<{
    Params: { poolId: string };
    Body: { domains?: unknown; balance?: unknown; sticky?: unknown; rateLimit?: unknown } | null;
  }>('/v1/pools/:poolId', async (req, reply) => {
    const pool = assertPool({
      id: req.params.poolId,
      domains: req.body?.domains,
      balance: req.body?.balance,
      sticky: req.body?.sticky,
      rateLimit: req.body?.rateLimit,
    });
    table.upsertPool(pool.id, pool.domains, { balance: pool.balance, sticky: pool.sticky, rateLimit: pool.rateLimit });
    await persisted();
    return reply.status(204).send();
  });

  app.delete<{ Params: { poolId: string } }>('/v1/pools/:poolId', async (req, reply) => {
    table.removePool(assertPoolId(req.params.poolId));
    await persisted();
    return reply.status(204).send();
  });

  app.put<{ Params: { poolId: string; serverId: string }; Body: { address?: unknown } | null }>(
    '/v1/pools/:poolId/servers/:serverId',
    async (req, reply) => {
      const poolId = assertPoolId(req.params.poolId);
      const server = assertServer({ id: req.params.serverId, address: req.body?.address });
      table.attach(poolId, server);
      await persisted();
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { poolId: string; serverId: string }; Body: { timeoutMs?: unknown } | null }>(
    '/v1/pools/:poolId/servers/:serverId/drain',
    async (req) => {
      const poolId = assertPoolId(req.params.poolId);
      const serverId = assertServerId(req.params.serverId);
      const timeoutMs = assertTimeoutMs(req.body?.timeoutMs);
      const entry = table.startDrain(poolId, serverId);
      if (!entry) return { drained: true, inflight: 0 };
      await persisted();
      const drained = await table.waitIdle(entry, timeoutMs);
      return { drained, inflight: entry.outstanding };
    },
  );

  for (const [action, paused] of [
    ['pause', true],
    ['play', false],
  ] as const) {
    app.post<{ Params: { poolId: string; serverId: string } }>(
      `/v1/pools/:poolId/servers/:serverId/${action}`,
      async (req, reply) => {
        table.setPaused(assertPoolId(req.params.poolId), assertServerId(req.params.serverId), paused);
        await persisted();
        return reply.status(204).send();
      },
    );
  }

  app.delete<{ Params: { poolId: string; serverId: string } }>(
    '/v1/pools/:poolId/servers/:serverId',
    async (req, reply) => {
      table.detach(assertPoolId(req.params.poolId), assertServerId(req.params.serverId));
      await persisted();
      return reply.status(204).send();
    },
  );

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  return app;
}
