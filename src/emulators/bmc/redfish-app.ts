/**
 * redfish-app is the BMC's Redfish HTTP service (DMTF DSP0266): authentication (HTTP Basic or
 * a session token), Redfish error bodies and headers, and the resources: the service root, the
 * systems with their Reset action, and the session service. It answers from the machines and
 * sessions it is given; creating, restoring and stopping them is the emulator's job.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { redfishError, redfishMessage, type RedfishMessage } from '../../drivers/bmc/messages.js';
import type { Machine } from './machine.js';
import type { MachineLogger } from './machine-deps.js';
import {
  alreadyInPowerState,
  checkReset,
  checkSystemPatch,
  computerSystem,
  etagOf,
  ROOT,
  serviceRoot,
  SESSION_SERVICE,
  sessionCollection,
  sessionResource,
  SESSIONS,
  sessionServiceResource,
  systemCollection,
  SYSTEMS,
} from './resources.js';
import { sameSecret, type Sessions } from './sessions.js';

/** RedfishAppDeps are what the Redfish service answers from. */
export interface RedfishAppDeps {
  /** machines are the ComputerSystems by their Redfish Id. */
  readonly machines: ReadonlyMap<string, Machine>;
  readonly sessions: Sessions;
  /** serviceUuid is the service root's UUID, kept across restarts. */
  readonly serviceUuid: string;
  /** sessionTimeoutS is SessionService.SessionTimeout. */
  readonly sessionTimeoutS: number;
  readonly username: string;
  readonly password: string;
  /** refuseNoopResets answers 409 to resets that would change nothing (see BmcEmulatorOptions). */
  readonly refuseNoopResets: boolean;
  readonly log: MachineLogger;
}

/** redfishApp builds the Redfish service over deps; the caller listens on it and closes it. */
export function redfishApp(deps: RedfishAppDeps): FastifyInstance {
  const { machines, sessions, log } = deps;
  /** publicRoutes are the `METHOD url` pairs that need no credentials (service root, login). */
  const publicRoutes = new Set<string>();
  const app = Fastify({
    logger: false,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
  });

  function send(reply: FastifyReply, status: number, body?: unknown): FastifyReply {
    reply.code(status);
    if (body === undefined) return reply.send();
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  }

  function error(reply: FastifyReply, status: number, messages: readonly RedfishMessage[]): FastifyReply {
    return send(reply, status, redfishError(messages));
  }

  function authenticate(req: FastifyRequest): boolean {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && token !== '') return sessions.byToken(token) !== null;
    const h = req.headers.authorization;
    if (typeof h === 'string' && h.startsWith('Basic ')) {
      const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      const userOk = sameSecret(decoded.slice(0, colon), deps.username);
      const passOk = sameSecret(decoded.slice(colon + 1), deps.password);
      return userOk && passOk;
    }
    return false;
  }

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('odata-version', '4.0');
    reply.header('cache-control', 'no-cache');
    return payload;
  });

  app.addHook('onRequest', async (req, reply) => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (req.routeOptions.url !== undefined && publicRoutes.has(`${method} ${req.routeOptions.url}`)) return;
    if (!authenticate(req)) {
      reply.header('www-authenticate', 'Basic realm="hostfleet BMC"');
      return error(reply, 401, [redfishMessage('NoValidSession')]);
    }
  });

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 400 || status === 413 || status === 415)
      return error(reply, status, [redfishMessage('MalformedJSON')]);
    log.error(`bmc: ${req.method} ${req.url} failed: ${err.message}`);
    return error(reply, 500, [redfishMessage('InternalError')]);
  });

  app.setNotFoundHandler((req, reply) =>
    error(reply, 404, [redfishMessage('ResourceMissingAtURI', [req.url.split('?')[0] ?? req.url])]),
  );

  type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> | unknown;
  const WRITE_METHODS = ['POST', 'PATCH', 'PUT', 'DELETE'] as const;
  /** resource registers url's handlers, 405 (with Allow) for the other methods, and which methods need no credentials. */
  function resource(
    url: string,
    handlers: Partial<Record<'GET' | (typeof WRITE_METHODS)[number], Handler>>,
    publicMethods: readonly string[] = [],
  ): void {
    for (const m of publicMethods) publicRoutes.add(`${m} ${url}`);
    for (const [method, handler] of Object.entries(handlers)) app.route({ method, url, handler });
    const allow = ['GET', 'HEAD', ...WRITE_METHODS].filter((m) => m in handlers || (m === 'HEAD' && 'GET' in handlers));
    const missing = WRITE_METHODS.filter((m) => !(m in handlers));
    if (missing.length > 0) {
      app.route({
        method: missing as unknown as string[],
        url,
        handler: (_req, reply) => {
          reply.header('allow', allow.join(', '));
          return error(reply, 405, [redfishMessage('OperationNotAllowed')]);
        },
      });
    }
  }

  function machineOf(req: FastifyRequest, reply: FastifyReply): Machine | null {
    const id = (req.params as { id: string }).id;
    const m = machines.get(id);
    if (!m) {
      void error(reply, 404, [redfishMessage('ResourceMissingAtURI', [req.url.split('?')[0] ?? req.url])]);
      return null;
    }
    return m;
  }

  resource('/redfish', { GET: () => ({ v1: ROOT }) }, ['GET']);
  resource(ROOT, { GET: (_req, reply) => send(reply, 200, serviceRoot(deps.serviceUuid)) }, ['GET']);
  resource(SYSTEMS, { GET: (_req, reply) => send(reply, 200, systemCollection([...machines.keys()])) });
  resource(`${SYSTEMS}/:id`, {
    GET: (req, reply) => {
      const m = machineOf(req, reply);
      if (!m) return reply;
      const v = m.view();
      reply.header('etag', etagOf(v));
      return send(reply, 200, computerSystem(v));
    },
    PATCH: async (req, reply) => {
      const m = machineOf(req, reply);
      if (!m) return reply;
      const ifMatch = req.headers['if-match'];
      if (
        typeof ifMatch === 'string' &&
        ifMatch !== '*' &&
        !ifMatch
          .split(',')
          .map((s) => s.trim())
          .includes(etagOf(m.view()))
      ) {
        return error(reply, 412, [redfishMessage('PreconditionFailed')]);
      }
      const check = checkSystemPatch(req.body);
      if (!check.ok) return error(reply, 400, check.messages);
      await m.setBoot(check.patch.boot, check.patch.powerRestorePolicy);
      const v = m.view();
      reply.header('etag', etagOf(v));
      return send(reply, 200, computerSystem(v));
    },
  });
  resource(`${SYSTEMS}/:id/Actions/ComputerSystem.Reset`, {
    POST: (req, reply) => {
      const m = machineOf(req, reply);
      if (!m) return reply;
      const check = checkReset(req.body);
      if (!check.ok) return error(reply, 400, check.messages);
      if (deps.refuseNoopResets) {
        const power = m.view().powerState;
        const noop =
          (check.type === 'On' && power === 'On') ||
          ((check.type === 'ForceOff' || check.type === 'GracefulShutdown') && power === 'Off');
        if (noop) return error(reply, 409, [alreadyInPowerState(check.type, power)]);
      }
      m.reset(check.type);
      return send(reply, 204);
    },
  });
  resource(SESSION_SERVICE, { GET: (_req, reply) => send(reply, 200, sessionServiceResource(deps.sessionTimeoutS)) });
  resource(
    SESSIONS,
    {
      GET: (_req, reply) => send(reply, 200, sessionCollection(sessions.list())),
      // Login needs no session (DSP0266 §13.3.4): the credentials are in the body.
      POST: (req, reply) => {
        const b = req.body as { UserName?: unknown; Password?: unknown } | undefined;
        const missing: RedfishMessage[] = [];
        if (typeof b?.UserName !== 'string')
          missing.push(redfishMessage('PropertyMissing', ['UserName'], ['#/UserName']));
        if (typeof b?.Password !== 'string')
          missing.push(redfishMessage('PropertyMissing', ['Password'], ['#/Password']));
        if (missing.length > 0) return error(reply, 400, missing);
        const userOk = sameSecret(b?.UserName as string, deps.username);
        const passOk = sameSecret(b?.Password as string, deps.password);
        if (!userOk || !passOk) return error(reply, 401, [redfishMessage('NoValidSession')]);
        const s = sessions.create(deps.username);
        reply.header('x-auth-token', s.token);
        reply.header('location', `${SESSIONS}/${s.id}`);
        return send(reply, 201, sessionResource(s));
      },
    },
    ['POST'],
  );
  resource(`${SESSIONS}/:sid`, {
    GET: (req, reply) => {
      const s = sessions.get((req.params as { sid: string }).sid);
      return s
        ? send(reply, 200, sessionResource(s))
        : error(reply, 404, [redfishMessage('ResourceMissingAtURI', [req.url])]);
    },
    DELETE: (req, reply) => {
      const ok = sessions.delete((req.params as { sid: string }).sid);
      return ok ? send(reply, 204) : error(reply, 404, [redfishMessage('ResourceMissingAtURI', [req.url])]);
    },
  });

  return app;
}
