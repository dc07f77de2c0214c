/**
 * manager wires the site's manager: store, drivers (BMC, edge, volumes, hypervisor), boot
 * service, dispatcher and API. startManager returns once the API listens and interrupted moves
 * have been resumed. Every driver, the store and the clock can be handed in (tests run the
 * manager on fakes in one process); what is not handed in is built from the configuration.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { HostfleetError } from '../../core/errors.js';
import { migrate, openStore } from '../../drivers/store/index.js';
import type { Store } from '../../drivers/store/index.js';
import * as db from '../../drivers/store/resources.js';
import { redfishBmc } from '../../drivers/bmc/index.js';
import type { BmcDriver } from '../../drivers/bmc/index.js';
import { builtinEdge, haproxyEdge } from '../../drivers/edge/index.js';
import type { EdgeDriver } from '../../drivers/edge/index.js';
import { httpHypervisor } from '../../drivers/hypervisor/index.js';
import type { HypervisorDriver } from '../../drivers/hypervisor/index.js';
import { localVolumes } from '../../drivers/volumes/index.js';
import type { VolumeDriver } from '../../drivers/volumes/index.js';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import { openBus, startBusHub } from '../../drivers/bus/index.js';
import type { Bus } from '../../drivers/bus/index.js';
import { buildApi } from './api.js';
import { createAgents } from './components/agents.js';
import type { AgentsComponent } from './components/agents.js';
import { createBilling } from './components/billing/index.js';
import { createConsole } from './components/console/index.js';
import { createDecision } from './components/decision/index.js';
import type { DecisionComponent } from './components/decision/index.js';
import { createEdgeSync } from './components/edge-sync.js';
import { createPlacement } from './components/placement/index.js';
import type { PlacementComponent } from './components/placement/index.js';
import { createProvisioning } from './components/provisioning/index.js';
import type { ProvisioningComponent } from './components/provisioning/index.js';
import { createResources } from './components/resources.js';
import { createSla } from './components/sla.js';
import { createGlobal } from './components/global/index.js';
import type { GlobalComponent } from './components/global/index.js';
import type { Replicator } from '../../drivers/replication/index.js';
import { configuredReplication } from './components/global/replication.js';
import type { Component, ManagerContext } from './context.js';
import { Authenticator, ensureApiToken } from './auth.js';
import { BootService } from './boot.js';
import type { ManagerConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import type { HealthProbe } from './dispatcher.js';
import { alwaysLeader, startLease } from './lease.js';
import { ManagerMetrics } from './metrics.js';

/** ManagerComponents are the components of a manager that its owner (and tests) reach by name. */
export interface ManagerComponents {
  readonly agents: AgentsComponent;
  readonly provisioning: ProvisioningComponent;
  readonly placement: PlacementComponent;
  readonly decision: DecisionComponent;
  readonly global: GlobalComponent;
  /** all lists every component in start order. */
  readonly all: readonly Component[];
}

/**
 * wireComponents builds the manager's components in start order (they stop in reverse). Each
 * takes the pieces of the context it declares; the decision loop and the console read the one
 * agent status board the agents component feeds. Add a feature by writing its factory in
 * components/ and naming it here.
 */
function wireComponents(
  ctx: ManagerContext,
  site: { replicators: ReadonlyMap<string, Replicator>; urls: { api: string; edge: string } },
): ManagerComponents {
  const resources = createResources(ctx);
  const sla = createSla(ctx);
  const provisioning = createProvisioning(ctx);
  // agents must start before the decision loop and the console: it feeds the board they read
  // and declares the requests stream before the loop consumes it.
  const agents = createAgents(ctx);
  // global reads the decision loop's outlook; the loop and the edge reconciler read what it borrows.
  let decisionRef: DecisionComponent | null = null;
  const global = createGlobal({ ...ctx, ...site, loop: () => (decisionRef as DecisionComponent).loop });
  const edgeSync = createEdgeSync({ ...ctx, isRemote: (pool, server) => global.isRemote(pool, server) });
  const billing = createBilling(ctx);
  const consoleUi = createConsole({ ...ctx, board: agents.board });
  const placement = createPlacement(ctx);
  // decision comes last: it ticks only once the others run, and stops first, so no tick acts on
  // a stopped component.
  const decision = createDecision({ ...ctx, board: agents.board, remoteRps: (g) => global.remoteRps(g) });
  decisionRef = decision;
  return {
    agents,
    provisioning,
    placement,
    decision,
    global,
    all: [resources, sla, provisioning, agents, edgeSync, billing, consoleUi, placement, global, decision],
  };
}

/** Manager is a running manager. */
export interface Manager {
  readonly url: string;
  readonly ctx: ManagerContext;
  readonly components: ManagerComponents;
  readonly store: Store;
  readonly dispatcher: Dispatcher;
  readonly edge: EdgeDriver;
  readonly volumes: VolumeDriver;
  readonly hypervisor: HypervisorDriver;
  readonly log: Logger;
  /** app is the API, for in-process requests (app.inject) beside the listening socket. */
  readonly app: FastifyInstance;
  bmcFor(url: string): BmcDriver;
  close(): Promise<void>;
}

/**
 * ManagerOptions are what startManager takes beside its configuration. What is handed in is
 * used as given and left open at close (its owner closes it, so a test can restart a manager
 * on the same store and drivers); what is not is built from the configuration and closed.
 */
export interface ManagerOptions {
  readonly log?: Logger;
  readonly clock?: Clock;
  /** store replaces the configured database; it is migrated at start. */
  readonly store?: Store;
  /** bmcFor returns the driver of the BMC at a URL; default: a Redfish client per entry of cfg.bmcs. */
  readonly bmcFor?: (url: string) => BmcDriver;
  readonly edge?: EdgeDriver;
  readonly volumes?: VolumeDriver;
  readonly hypervisor?: HypervisorDriver;
  /** health asks a booting server for its health; default: HTTP GET /healthz on its address. */
  readonly health?: HealthProbe;
  /** replicators copy the site's volumes to other sites, by site; default: rsync to each of global.replication.targets. */
  readonly replicators?: ReadonlyMap<string, Replicator>;
}

/** runtimeTarget reads an HAProxy Runtime API address: host:port for TCP, otherwise a socket path. */
function runtimeTarget(s: string): string | { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  return m ? { host: m[1] as string, port: Number(m[2]) } : s;
}

/** openManagerBus connects the manager to its bus, hosting the hub when the bus is loopback. */
async function openManagerBus(
  cfg: ManagerConfig,
  log: Logger,
): Promise<{ bus: Bus; busUrl: string; closeBus: () => Promise<void> }> {
  const onError = (e: unknown) => log.warn({ err: e }, 'bus error');
  switch (cfg.bus.kind) {
    case 'loopback': {
      const hub = await startBusHub({
        host: cfg.bus.host,
        port: cfg.bus.port,
        token: cfg.bus.token,
        name: `manager-${cfg.site.id}`,
        onError,
      });
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

/** configuredBmcs builds a Redfish client per configured BMC and the lookup by URL. */
function configuredBmcs(cfg: ManagerConfig): { bmcFor: (url: string) => BmcDriver; close: () => Promise<unknown> } {
  const bmcs = new Map<string, BmcDriver>();
  for (const b of cfg.bmcs)
    bmcs.set(
      b.url.replace(/\/+$/, ''),
      redfishBmc({ url: b.url, username: b.username, password: b.password, auth: b.auth }),
    );
  return {
    bmcFor: (url) => {
      const b = bmcs.get(url.replace(/\/+$/, ''));
      if (!b)
        throw new HostfleetError(
          'E_CONFIG',
          `no credentials are configured for the BMC ${url}; add it under bmcs in the manager configuration`,
          { details: { bmc: url } },
        );
      return b;
    },
    close: () => Promise.allSettled([...bmcs.values()].map((b) => b.close())),
  };
}

/** configuredEdge builds the edge driver the configuration names. */
function configuredEdge(cfg: ManagerConfig): EdgeDriver {
  return cfg.edge.kind === 'builtin'
    ? builtinEdge({ adminUrl: cfg.edge.adminUrl, token: cfg.edge.token })
    : haproxyEdge({
        socket: runtimeTarget(cfg.edge.socket),
        hostsMap: cfg.edge.hostsMap,
        poolsMap: cfg.edge.poolsMap,
        ...(cfg.edge.ratesMap !== undefined ? { ratesMap: cfg.edge.ratesMap } : {}),
        slots: cfg.edge.slots,
        persistMaps: cfg.edge.persistMaps,
      });
}

/** startManager starts a manager from a validated configuration. */
export async function startManager(cfg: ManagerConfig, opts: ManagerOptions = {}): Promise<Manager> {
  const log = opts.log ?? pino({ level: cfg.log.level, base: { service: 'manager', site: cfg.site.id } });
  const clock = opts.clock ?? systemClock;
  // What this manager opens, it closes (in reverse order); what it is handed, its owner closes.
  const owned: Array<() => Promise<unknown>> = [];
  let store: Store;
  if (opts.store) {
    store = opts.store;
    await migrate(store);
  } else {
    const opened = await openStore({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, schema: cfg.databaseSchema });
    store = opened;
    owned.push(() => opened.close());
  }
  await db.upsertSite(store, { id: cfg.site.id, name: cfg.site.name, timeZone: cfg.site.timeZone });
  if (cfg.operatorToken)
    await ensureApiToken(store, {
      role: 'operator',
      accountId: null,
      name: 'operator (configured)',
      token: cfg.operatorToken,
    });

  // With a lease, only the manager holding it acts (moves, decision ticks); the other stands by.
  const leadership = cfg.lease.enabled
    ? await startLease(store, cfg.site.id, cfg.lease, log, { clock })
    : alwaysLeader();

  let bmcFor = opts.bmcFor;
  if (!bmcFor) {
    const configured = configuredBmcs(cfg);
    bmcFor = configured.bmcFor;
    owned.push(configured.close);
  }
  const edge = opts.edge ?? configuredEdge(cfg);
  if (!opts.edge) owned.push(() => edge.close());
  const hypervisor = opts.hypervisor ?? httpHypervisor();
  if (!opts.hypervisor) owned.push(() => hypervisor.close());
  const volumes = opts.volumes ?? localVolumes(cfg.volumes.root);
  const metrics = new ManagerMetrics(store);
  const boot = new BootService(
    cfg.publicUrl ?? `http://${cfg.listen.host}:${cfg.listen.port}`,
    cfg.bootPointerTtlMs,
    clock,
  );
  const dispatcher = new Dispatcher({
    store,
    clock,
    log: log.child({ component: 'dispatcher' }),
    bmcFor,
    edge,
    volumes,
    boot,
    moves: cfg.moves,
    metrics,
    ...(opts.health ? { health: opts.health } : {}),
    ...(cfg.lease.enabled ? { fence: (tx) => leadership.fence(tx) } : {}),
  });
  const { bus, busUrl, closeBus } = await openManagerBus(cfg, log);
  const auth = new Authenticator(store);
  const ctx: ManagerContext = {
    cfg,
    siteId: cfg.site.id,
    store,
    log,
    clock,
    bus,
    busUrl,
    dispatcher,
    edge,
    volumes,
    hypervisor,
    boot,
    metrics,
    auth,
    bmcFor,
    isLeader: () => leadership.isLeader(),
    ...(cfg.lease.enabled ? { fence: (tx) => leadership.fence(tx) } : {}),
  };
  const closeOwned = async (): Promise<void> => {
    for (const close of owned.reverse()) await close();
  };

  let app: FastifyInstance;
  let components: ManagerComponents;
  try {
    const replicators = opts.replicators ?? (await configuredReplication(cfg, clock, owned));
    components = wireComponents(ctx, {
      replicators,
      urls: {
        api: cfg.publicUrl ?? `http://${cfg.listen.host}:${cfg.listen.port}`,
        edge: cfg.edge.kind === 'builtin' ? (cfg.edge.publicUrl ?? '') : '',
      },
    });
    const all = components.all;
    app = await buildApi({
      store,
      siteId: cfg.site.id,
      boot,
      metrics,
      log,
      clock,
      auth,
      extend: async (a) => {
        for (const c of all) await c.routes?.(a);
      },
    });
    await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
  } catch (e) {
    await leadership.close();
    await closeBus();
    await closeOwned();
    throw e;
  }
  const addr = app.server.address();
  const url =
    typeof addr === 'object' && addr
      ? `http://${cfg.listen.host}:${addr.port}`
      : `http://${cfg.listen.host}:${cfg.listen.port}`;
  if (cfg.publicUrl === undefined && cfg.listen.port === 0) boot.setBaseUrl(url);
  // Moves in flight are resumed by whichever manager is active: now, or when it takes over.
  const resumed = leadership.isLeader() ? await dispatcher.resume() : [];
  leadership.onChange(async (leader) => {
    if (leader) await dispatcher.resume();
  });
  const started: Component[] = [];
  for (const c of components.all) {
    await c.start?.();
    started.push(c);
  }
  log.info({ url, store: store.kind, resumed: resumed.length }, 'manager listening');

  const sweeper = setInterval(() => {
    db.deleteExpiredBootPointers(store, clock.now()).catch((e: unknown) =>
      log.warn({ err: e }, 'could not sweep expired boot pointers'),
    );
  }, 60_000);
  sweeper.unref();

  return {
    url,
    ctx,
    components,
    store,
    dispatcher,
    edge,
    volumes,
    hypervisor,
    log,
    app,
    bmcFor,
    async close() {
      clearInterval(sweeper);
      for (const c of started.reverse())
        await c
          .stop?.()
          .catch((e: unknown) => log.warn({ err: e, component: c.name }, 'component did not stop cleanly'));
      await app.close();
      await dispatcher.close();
      await leadership.close();
      await closeBus();
      await closeOwned();
    },
  };
}
