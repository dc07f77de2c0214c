/**
 * service-servers are 004's side of the service servers: operators register them with the
 * services and capacity each offers; their agents read the site's nudge key, fetch the tasks a
 * nudge token entitles them to (only the accounts it names, reconciled against what the server
 * reports holding) and report what they did. The agents' routes are public: the signed nudge
 * tokens are their credential.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError, invalid } from '../../../../core/errors.js';
import { SERVICE_KINDS, checkValue, reconcile } from '../../../../core/provisioning/index.js';
import type { ServiceKind, TaskResult } from '../../../../core/provisioning/index.js';
import * as db from '../../../../drivers/store/provisioning.js';
import { requireRole } from '../../auth.js';
import { principalOf } from '../../principal.js';
import type { RouteDeps } from './deps.js';
import { PUBLIC } from './orders.js';

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

/** serviceServerRoutes adds the service servers' routes and their agents'. */
export function serviceServerRoutes(app: FastifyInstance, ctx: RouteDeps): void {
  const pub = PUBLIC;
  app.get('/v1/provisioning/key', { ...pub, schema: { tags: ['provisioning'] } }, async () => ({
    algorithm: 'ed25519',
    publicKey: ctx.nudger.publicPem,
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

  // ---- the management plane of service servers' agents: the nudge token is the credential
  const claimsOf = (req: FastifyRequest): { server: string; accounts: Set<string> } => {
    const server = (req.params as { server: string }).server;
    const tokens = (req.body as { tokens?: unknown }).tokens;
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > 1000)
      throw new HostfleetError('E_UNAUTHENTICATED', 'send the nudge tokens as {"tokens": [...]}');
    return { server, accounts: ctx.nudger.accountsOf(server, tokens) };
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
  app.post('/v1/provisioning/agent/:server/reports', { ...pub, schema: { tags: ['provisioning'] } }, async (req) => {
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
  });
}
