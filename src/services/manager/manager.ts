/**
 * manager wires the site's manager: store, drivers (BMC, edge, volumes), boot service,
 * dispatcher and API. startManager returns once the API listens and interrupted moves have
 * been resumed.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { HostfleetError } from '../../core/errors.js';
import { openStore } from '../../drivers/store/index.js';
import type { Store } from '../../drivers/store/index.js';
import * as db from '../../drivers/store/resources.js';
import { redfishBmc } from '../../drivers/bmc/index.js';
import type { BmcDriver } from '../../drivers/bmc/index.js';
import { builtinEdge, haproxyEdge } from '../../drivers/edge/index.js';
import type { EdgeDriver } from '../../drivers/edge/index.js';
import { localVolumes } from '../../drivers/volumes/index.js';
import type { VolumeDriver } from '../../drivers/volumes/index.js';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import { openBus, startBusHub } from '../../drivers/bus/index.js';
import type { Bus } from '../../drivers/bus/index.js';
import { buildApi } from './api.js';
import { COMPONENTS } from './components/index.js';
import type { ManagerContext, Running } from './context.js';
import { ensureApiToken } from './auth.js';
import { BootService } from './boot.js';
import type { ManagerConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { alwaysLeader, startLease } from './lease.js';
import { ManagerMetrics } from './metrics.js';

/** Manager is a running manager. */
export interface Manager {
  readonly url: string;
  readonly ctx: ManagerContext;
  readonly store: Store;
  readonly dispatcher: Dispatcher;
  readonly edge: EdgeDriver;
  readonly volumes: VolumeDriver;
  readonly log: Logger;
  bmcFor(url: string): BmcDriver;
  close(): Promise<void>;
}

/** runtimeTarget reads an HAProxy Runtime API address: host:port for TCP, otherwise a socket path. */
function runtimeTarget(s: string): string | { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  return m ? { host: m[1] as string, port: Number(m[2]) } : s;
}

/** openManagerBus connects the manager to its bus, hosting the hub when the bus is loopback. */
async function openManagerBus(cfg: ManagerConfig, log: Logger): Promise<{ bus: Bus; busUrl: string; closeBus: () => Promise<void> }> {
  const onError = (e: unknown) => log.warn({ err: e }, 'bus error');
  switch (cfg.bus.kind) {
    case 'loopback': {
      const hub = await startBusHub({ host: cfg.bus.host, port: cfg.bus.port, token: cfg.bus.token, name: `manager-${cfg.site.id}`, onError });
      return { bus: hub.bus, busUrl: hub.url, closeBus: () => hub.close() };
    }
    case 'nats': {
      const bus = await openBus({ url: cfg.bus.url, token: cfg.bus.token, name: `manager-${cfg.site.id}`, onError });
      return { bus, busUrl: cfg.bus.url, closeBus: () => bus.close() };
    }
    case 'memory': {
      const bus = await openBus({ url: 'memory:', onError });
      return { bus, busUrl: 'memory:', closeBus: () => bus.close() };
    }
  }
}

/** startManager starts a manager from a validated configuration. */
export async function startManager(cfg: ManagerConfig, opts: { log?: Logger; clock?: Clock } = {}): Promise<Manager> {
  const log = opts.log ?? pino({ level: cfg.log.level, base: { service: 'manager', site: cfg.site.id } });
  const clock = opts.clock ?? systemClock;
  const store = await openStore({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, schema: cfg.databaseSchema });
  await db.upsertSite(store, { id: cfg.site.id, name: cfg.site.name, timeZone: cfg.site.timeZone });
  if (cfg.operatorToken) await ensureApiToken(store, { role: 'operator', accountId: null, name: 'operator (configured)', token: cfg.operatorToken });

  // With a lease, only the manager holding it acts (moves, decision ticks); the other stands by.
  const leadership = cfg.lease.enabled ? await startLease(store, cfg.site.id, cfg.lease, log) : alwaysLeader();

  const bmcs = new Map<string, BmcDriver>();
  for (const b of cfg.bmcs) bmcs.set(b.url.replace(/\/+$/, ''), redfishBmc({ url: b.url, username: b.username, password: b.password, auth: b.auth }));
  const bmcFor = (url: string): BmcDriver => {
    const b = bmcs.get(url.replace(/\/+$/, ''));
    if (!b) throw new HostfleetError('E_CONFIG', `no credentials are configured for the BMC ${url}; add it under bmcs in the manager configuration`, { details: { bmc: url } });
    return b;
  };
  const edge = cfg.edge.kind === 'builtin' ? builtinEdge({ adminUrl: cfg.edge.adminUrl, token: cfg.edge.token }) : haproxyEdge({ socket: runtimeTarget(cfg.edge.socket), hostsMap: cfg.edge.hostsMap, poolsMap: cfg.edge.poolsMap, ...(cfg.edge.ratesMap !== undefined ? { ratesMap: cfg.edge.ratesMap } : {}), slots: cfg.edge.slots, persistMaps: cfg.edge.persistMaps });
  const volumes = localVolumes(cfg.volumes.root);
  const metrics = new ManagerMetrics(store);
  const boot = new BootService(cfg.publicUrl ?? `http://${cfg.listen.host}:${cfg.listen.port}`, cfg.bootPointerTtlMs, clock);
  const dispatcher = new Dispatcher({ store, clock, log: log.child({ component: 'dispatcher' }), bmcFor, edge, volumes, boot, moves: cfg.moves, metrics, ...(cfg.lease.enabled ? { fence: (tx) => leadership.fence(tx) } : {}) });
  const { bus, busUrl, closeBus } = await openManagerBus(cfg, log);
  const ctx: ManagerContext = { cfg, siteId: cfg.site.id, store, log, clock, bus, busUrl, dispatcher, edge, volumes, boot, metrics, bmcFor, isLeader: () => leadership.isLeader(), ...(cfg.lease.enabled ? { fence: (tx) => leadership.fence(tx) } : {}) };

  let app: FastifyInstance;
  try {
    app = await buildApi({
      store,
      siteId: cfg.site.id,
      dispatcher,
      boot,
      metrics,
      log,
      isLeader: () => leadership.isLeader(),
      extend: async (a) => {
        for (const c of COMPONENTS) await c.routes?.(a, ctx);
      },
      discover: async (bmcUrl, systemId) => {
        const sys = await bmcFor(bmcUrl).getSystem(systemId);
        return { uuid: sys.uuid.toLowerCase() };
      },
    });
    await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
  } catch (e) {
    await leadership.close();
    await closeBus();
    await store.close();
    throw e;
  }
  const addr = app.server.address();
  const url = typeof addr === 'object' && addr ? `http://${cfg.listen.host}:${addr.port}` : `http://${cfg.listen.host}:${cfg.listen.port}`;
  if (cfg.publicUrl === undefined && cfg.listen.port === 0) boot.setBaseUrl(url);
  // Moves in flight are resumed by whichever manager is active: now, or when it takes over.
  const resumed = leadership.isLeader() ? await dispatcher.resume() : [];
  leadership.onChange(async (leader) => {
    if (leader) await dispatcher.resume();
  });
  const running: Running[] = [];
  for (const c of COMPONENTS) {
    if (c.start) running.push(await c.start(ctx));
  }
  log.info({ url, store: store.kind, resumed: resumed.length }, 'manager listening');

  const sweeper = setInterval(() => {
    db.deleteExpiredBootPointers(store, clock.now()).catch((e: unknown) => log.warn({ err: e }, 'could not sweep expired boot pointers'));
  }, 60_000);
  sweeper.unref();

  return {
    url,
    ctx,
    store,
    dispatcher,
    edge,
    volumes,
    log,
    bmcFor,
    async close() {
      clearInterval(sweeper);
      for (const r of running.reverse()) await r.close().catch((e: unknown) => log.warn({ err: e }, 'component did not stop cleanly'));
      await app.close();
      await dispatcher.close();
      await leadership.close();
      await Promise.allSettled([...bmcs.values()].map((b) => b.close()));
      await edge.close();
      await closeBus();
      await store.close();
    },
  };
}
