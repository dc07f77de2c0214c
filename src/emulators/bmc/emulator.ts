/**
 * emulator is the embedded fleet's BMC: one Redfish service (DMTF DSP0266) for N emulated
 * machines. The manager drives it through the very same client (src/drivers/bmc) it uses for
 * real BMCs, so the code path of a move is the one production runs: PATCH Boot (the boot
 * pointer), POST ComputerSystem.Reset, poll PowerState and the workload's health.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { HostfleetError } from '../../core/errors.js';
import { redfishError, redfishMessage, type RedfishMessage } from '../../drivers/bmc/messages.js';
import { localVolumes } from '../../drivers/volumes/index.js';
import { buildAgentImage, buildRuntimeImage } from './image.js';
import {
  freePort,
  Machine,
  POWER_RESTORE_POLICIES,
  BOOT_TARGETS,
  writeJsonAtomic,
  type MachineLogger,
  type MachineRecord,
} from './machine.js';
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
import { sameSecret, Sessions } from './sessions.js';
import { BOOT_OVERRIDE_MODES } from '../../drivers/bmc/index.js';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';

/** BmcEmulatorOptions configures startBmcEmulator. */
export interface BmcEmulatorOptions {
  /** host the Redfish service listens on (the management network); default 127.0.0.1. */
  readonly host?: string;
  /** port of the Redfish service; 0 (default) picks a free one. */
  readonly port?: number;
  /** machines is how many machines this BMC manages (ids m1…mN). */
  readonly machines: number;
  readonly username: string;
  readonly password: string;
  /** dataDir persists the machines (state.json), their consoles and scratch disks. */
  readonly dataDir: string;
  /** dataHost is the data-plane address workloads listen on; default 127.0.0.1. */
  readonly dataHost?: string;
  /** dataPortBase: machine i (0-based) serves data on dataPortBase + i; 0 (default) picks free ports once and keeps them. */
  readonly dataPortBase?: number;
  /** bootDelayMs is the simulated POST time; default 150. */
  readonly bootDelayMs?: number;
  /** volumesRoot is the local volume driver's root the machines mount their export from; none when absent. */
  readonly volumesRoot?: string | null;
  readonly logger?: MachineLogger;
  /** sessionTimeoutS is SessionService.SessionTimeout; default 1800. */
  readonly sessionTimeoutS?: number;
  /** gracefulTimeoutMs bounds GracefulShutdown and the emulator's own shutdown per machine; default 5000. */
  readonly gracefulTimeoutMs?: number;
  /** bootFetchTimeoutMs bounds the boot pointer request; default 5000. */
  readonly bootFetchTimeoutMs?: number;
  /**
   * refuseNoopResets makes the BMC answer 409 to On when on and ForceOff/GracefulShutdown when
   * off, as many vendor BMCs do; default false (accept and do nothing). It exists so the client's
   * "already done" handling is tested against that behaviour too.
   */
  readonly refuseNoopResets?: boolean;
  /** agents starts each booted personality's agent next to its workload; default true. */
  readonly agents?: boolean;
  /** clock expires sessions and dates the machines' boot lines; default systemClock. */
  readonly clock?: Clock;
}

/** EmulatedMachine describes one machine to the caller. */
export interface EmulatedMachine {
  readonly id: string;
  readonly uuid: string;
  readonly dataAddress: string;
  /** scratch is the machine's local disk directory (for tests that prove it is wiped). */
  readonly scratch: string;
  /** pids are the machine's running processes now: its workload and its agent (null when not running). */
  pids(): { readonly workload: number | null; readonly agent: number | null };
}

/** BmcEmulator is a started emulator. */
export interface BmcEmulator {
  /** url is the BMC's base URL; the service root is url + /redfish/v1/. */
  readonly url: string;
  readonly machines: readonly EmulatedMachine[];
  /** settled resolves once every machine has finished its queued power operations. */
  settled(): Promise<void>;
  /** close stops every machine's workload (nothing is left running) and the Redfish service; machine state stays on disk. */
  close(): Promise<void>;
}

const SILENT: MachineLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function config(field: string, problem: string): HostfleetError {
  return new HostfleetError('E_CONFIG', `BMC emulator: ${field} ${problem}`, { fields: [{ field, problem }] });
}

function checkRecord(v: unknown, id: string, file: string): MachineRecord {
  const r = v as Partial<MachineRecord> | null;
  const ok =
    r !== null &&
    typeof r === 'object' &&
    r.id === id &&
    typeof r.uuid === 'string' &&
    Number.isInteger(r.dataPort) &&
    (r.power === 'On' || r.power === 'Off') &&
    (POWER_RESTORE_POLICIES as readonly unknown[]).includes(r.powerRestorePolicy) &&
    typeof r.boot === 'object' &&
    r.boot !== null &&
    (BOOT_OVERRIDE_MODES as readonly unknown[]).includes(r.boot.enabled) &&
    (BOOT_TARGETS as readonly unknown[]).includes(r.boot.target) &&
    (r.boot.httpBootUri === null || typeof r.boot.httpBootUri === 'string');
  if (!ok) throw config('dataDir', `holds an unreadable machine state in ${file}; fix or delete that file`);
  return r as MachineRecord;
}

async function loadOrCreate(
  dir: string,
  id: string,
  index: number,
  dataHost: string,
  dataPortBase: number,
  taken: Set<number>,
): Promise<MachineRecord> {
  const file = join(dir, 'state.json');
  let rec: MachineRecord;
  try {
    rec = checkRecord(JSON.parse(await readFile(file, 'utf8')), id, file);
    if (dataPortBase > 0) rec = { ...rec, dataPort: dataPortBase + index };
    if (rec.installed === undefined) rec = { ...rec, installed: null };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw e instanceof HostfleetError
        ? e
        : config('dataDir', `holds an unreadable machine state in ${file} (${(e as Error).message})`);
    rec = {
      id,
      uuid: randomUUID(),
      dataPort: dataPortBase > 0 ? dataPortBase + index : await uniqueFreePort(dataHost, taken),
      power: 'Off',
      powerRestorePolicy: 'LastState',
      boot: { enabled: 'Disabled', target: 'None', httpBootUri: null },
      installed: null,
    };
  }
  taken.add(rec.dataPort);
  await writeJsonAtomic(file, rec);
  return rec;
}

/** uniqueFreePort asks the OS for free ports until one is not already given to another machine. */
async function uniqueFreePort(host: string, taken: ReadonlySet<number>): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort(host);
    if (!taken.has(p)) return p;
  }
  throw config('dataHost', `has no free ports left on ${host}`);
}

/**
 * checkReachable fails start-up when path lies below a directory other users cannot traverse
 * (such as /root): workloads run under per-account uids and would fail every boot otherwise.
 */
async function checkReachable(path: string, field: string): Promise<void> {
  let p = resolve(path);
  for (let i = 0; i < 256; i++) {
    const parent = dirname(p);
    if (parent === p) return;
    const s = await stat(parent).catch(() => null);
    if (s !== null && (s.mode & 0o001) === 0) {
      throw config(
        field,
        `${path} lies below ${parent} (mode ${(s.mode & 0o777).toString(8)}), which workload uids cannot traverse; choose another directory or run chmod o+x ${parent}`,
      );
    }
    p = parent;
  }
}

async function traversable(dir: string): Promise<void> {
  const s = await stat(dir);
  if ((s.mode & 0o011) !== 0o011) await chmod(dir, (s.mode & 0o7777) | 0o011);
}

/** startBmcEmulator starts the Redfish service and restores its machines (PowerRestorePolicy). */
export async function startBmcEmulator(opts: BmcEmulatorOptions): Promise<BmcEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const dataHost = opts.dataHost ?? '127.0.0.1';
  const dataPortBase = opts.dataPortBase ?? 0;
  const log = opts.logger ?? SILENT;
  const sessionTimeoutS = opts.sessionTimeoutS ?? 1800;
  const clock = opts.clock ?? systemClock;
  if (!Number.isInteger(opts.machines) || opts.machines < 1 || opts.machines > 4096)
    throw config('machines', `must be an integer from 1 to 4096, got ${opts.machines}`);
  if (!opts.username || !opts.password)
    throw config('username/password', 'must both be set; the BMC never runs without credentials');
  if (!Number.isInteger(dataPortBase) || dataPortBase < 0 || dataPortBase + opts.machines > 65536)
    throw config('dataPortBase', `must leave room for ${opts.machines} ports below 65536, got ${dataPortBase}`);
  if (!opts.dataDir) throw config('dataDir', 'must be set');

  await mkdir(join(opts.dataDir, 'machines'), { recursive: true, mode: 0o711 });
  if (isRoot()) {
    await checkReachable(opts.dataDir, 'dataDir');
    if (opts.volumesRoot) await checkReachable(opts.volumesRoot, 'volumesRoot');
    // Workloads run under their account's uid and must traverse to their scratch disk.
    await traversable(opts.dataDir);
    await traversable(join(opts.dataDir, 'machines'));
  }
  const bmcFile = join(opts.dataDir, 'bmc.json');
  let serviceUuid: string;
  try {
    serviceUuid = (JSON.parse(await readFile(bmcFile, 'utf8')) as { uuid: string }).uuid;
  } catch {
    serviceUuid = randomUUID();
    await writeJsonAtomic(bmcFile, { uuid: serviceUuid });
  }

  const volumes = opts.volumesRoot ? localVolumes(opts.volumesRoot) : null;
  const [image, agentImage] = await Promise.all([
    buildRuntimeImage(join(opts.dataDir, 'images')),
    opts.agents === false ? Promise.resolve(null) : buildAgentImage(join(opts.dataDir, 'images')),
  ]);
  if (isRoot()) await checkReachable(image, 'the boot image');
  const machines = new Map<string, Machine>();
  const taken = new Set<number>();
  for (let i = 0; i < opts.machines; i++) {
    const id = `m${i + 1}`;
    const dir = join(opts.dataDir, 'machines', id);
    await mkdir(dir, { recursive: true, mode: 0o711 });
    const rec = await loadOrCreate(dir, id, i, dataHost, dataPortBase, taken);
    machines.set(
      id,
      new Machine(rec, {
        dir,
        dataHost,
        bootDelayMs: opts.bootDelayMs ?? 150,
        gracefulTimeoutMs: opts.gracefulTimeoutMs ?? 5000,
        bootFetchTimeoutMs: opts.bootFetchTimeoutMs ?? 5000,
        volumes,
        log,
        image,
        agentImage,
        clock,
      }),
    );
  }
  const sessions = new Sessions(sessionTimeoutS, clock);

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
      const userOk = sameSecret(decoded.slice(0, colon), opts.username);
      const passOk = sameSecret(decoded.slice(colon + 1), opts.password);
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
  resource(ROOT, { GET: (_req, reply) => send(reply, 200, serviceRoot(serviceUuid)) }, ['GET']);
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
      if (opts.refuseNoopResets) {
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
  resource(SESSION_SERVICE, { GET: (_req, reply) => send(reply, 200, sessionServiceResource(sessionTimeoutS)) });
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
        const userOk = sameSecret(b?.UserName as string, opts.username);
        const passOk = sameSecret(b?.Password as string, opts.password);
        if (!userOk || !passOk) return error(reply, 401, [redfishMessage('NoValidSession')]);
        const s = sessions.create(opts.username);
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

  await app.listen({ host, port: opts.port ?? 0 });
  const addr = app.server.address() as { port: number };
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  log.info(`bmc: Redfish service for ${machines.size} machines on ${url}`);

  for (const m of machines.values()) m.restore();

  let closing: Promise<void> | null = null;
  return {
    url,
    machines: [...machines.values()].map((m) => ({
      id: m.id,
      uuid: m.uuid,
      dataAddress: m.dataAddress,
      scratch: m.scratchDir,
      pids: () => {
        const v = m.view();
        return { workload: v.workloadPid, agent: v.agentPid ?? null };
      },
    })),
    async settled() {
      await Promise.all([...machines.values()].map((m) => m.settled()));
    },
    close() {
      closing ??= (async () => {
        await app.close();
        await Promise.all([...machines.values()].map((m) => m.shutdown()));
        log.info('bmc: stopped');
      })();
      return closing;
    },
  };
}
