/**
 * fake-site runs a whole manager in this process on the fake drivers (test/support/fakes): an
 * in-memory PGlite store, the memory bus, a fake BMC whose machines boot from the manager's
 * own boot service, a fake edge, fake volumes and a fake hypervisor. Requests go through
 * `app.inject()`; a move from the pool to a group takes milliseconds. The manager can be
 * stopped and started again on the same store, drivers and port, as a crashed manager is.
 */
import pino from 'pino';
import { HostfleetError } from '../../src/core/errors.js';
import type { MoveEvent, MoveRecord } from '../../src/core/model/records.js';
import type { Clock } from '../../src/drivers/clock/index.js';
import { openPglite } from '../../src/drivers/store/index.js';
import type { Store } from '../../src/drivers/store/index.js';
import { ManagerConfigSchema } from '../../src/services/manager/config.js';
import type { ManagerConfig } from '../../src/services/manager/config.js';
import type { HealthProbe } from '../../src/services/manager/dispatcher.js';
import { startManager } from '../../src/services/manager/manager.js';
import type { Manager } from '../../src/services/manager/manager.js';
import { loadConfig } from '../../src/services/shared/config.js';
import { freePort } from '../../src/services/shared/ports.js';
import { fakeBmc, fakeEdge, fakeHypervisor, fakeVolumes, Faults } from './fakes/index.js';
import type { FakeBmc, FakeEdge, FakeHypervisor, FakeVolumes } from './fakes/index.js';

/** OPERATOR_TOKEN is the fake site's operator API token. */
export const OPERATOR_TOKEN = `hf_${'o'.repeat(43)}`;

/** Reply is an answer of the API: its status and JSON body. */
export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Readonly<Record<string, unknown>>;
}

/** FakeSite is a manager on fakes, with the test's controls. */
export interface FakeSite {
  readonly store: Store;
  readonly bmc: FakeBmc;
  readonly edge: FakeEdge;
  readonly volumes: FakeVolumes;
  readonly hypervisor: FakeHypervisor;
  /** health holds the faults of the machines' health endpoints (op 'probe'). */
  readonly health: Faults<'probe'>;
  /** manager is the running manager (null while stopped). */
  readonly manager: Manager | null;
  /** call sends a request through app.inject, as the operator unless a token is given. */
  call<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    token?: string | null,
  ): Promise<Reply<T>>;
  /** customer creates an account and its web group (min 0, max 8 unless told) with domains. */
  customer(id: string, domains: readonly string[], opts?: { minSize?: number; maxSize?: number }): Promise<void>;
  /** registerAll registers every machine of the BMC as srv-01, srv-02, …, in the pool. */
  registerAll(): Promise<string[]>;
  /** move requests a move and waits for its end. */
  move(server: string, to: string, force?: boolean): Promise<MoveRecord>;
  /** events lists a move's recorded events. */
  events(moveId: string): Promise<MoveEvent[]>;
  /** server reads a server as the operator sees it. */
  server(id: string): Promise<{
    id: string;
    state: string;
    groupId: string | null;
    moveId: string | null;
    address: string;
    systemId: string;
  }>;
  /** stopManager closes the manager; the store, drivers and their state stay. */
  stopManager(): Promise<void>;
  /** startManager starts a manager again on the same store, drivers and port. */
  startManager(): Promise<Manager>;
  stop(): Promise<void>;
}

/** FakeSiteOptions choose the size of the site, its clock and its move settings. */
export interface FakeSiteOptions {
  readonly machines?: number;
  readonly clock?: Clock;
  readonly moves?: Partial<ManagerConfig['moves']>;
}

/** startFakeSite starts a manager on fresh fakes. */
export async function startFakeSite(opts: FakeSiteOptions = {}): Promise<FakeSite> {
  const store = await openPglite(null);
  const volumes = fakeVolumes();
  const bmc = fakeBmc({ machines: opts.machines ?? 3, volumes });
  const edge = fakeEdge();
  const hypervisor = fakeHypervisor();
  const health = new Faults<'probe'>(() => new Error('connect ECONNREFUSED (injected)'));
  const probe: HealthProbe = async (address, timeoutMs) => {
    await health.enter('probe', [address]);
    const answer = await bmc.probe(address, timeoutMs);
    await health.leave('probe');
    return answer;
  };
  // One port for every manager of the site: boot pointers issued before a restart stay reachable.
  const cfg = loadConfig(ManagerConfigSchema, {
    env: {},
    overrides: {
      site: { id: 'test' },
      dataDir: '/nonexistent/hostfleet-fake-site',
      listen: { host: '127.0.0.1', port: await freePort() },
      edge: { kind: 'builtin', adminUrl: 'http://edge.fake', token: 'fake-edge-token-0123' },
      volumes: { kind: 'local', root: '/nonexistent/hostfleet-fake-volumes' },
      bus: { kind: 'memory' },
      operatorToken: OPERATOR_TOKEN,
      moves: {
        drainTimeoutMs: 10_000,
        bootTimeoutMs: 60_000,
        healthPollMs: 10,
        maxAttempts: 3,
        retryBaseMs: 1,
        ...opts.moves,
      },
      // A fake clock runs ahead of the wall clock while the dispatcher polls: pointers must outlive that.
      bootPointerTtlMs: 3_600_000,
      decision: { enabled: false },
      log: { level: 'silent' },
    },
  });
  const start = () =>
    startManager(cfg, {
      log: pino({ level: 'silent' }),
      store,
      bmcFor: () => bmc,
      edge,
      volumes,
      hypervisor,
      health: probe,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  let manager: Manager | null = await start();

  const running = (): Manager => {
    if (!manager) throw new Error('the fake site has no manager running');
    return manager;
  };
  const call: FakeSite['call'] = async (method, url, body, token = OPERATOR_TOKEN) => {
    const r = await running().app.inject({
      method,
      url,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    return { status: r.statusCode, body: (r.body === '' ? {} : r.json()) as never, headers: r.headers };
  };
  const ok = async <T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> => {
    const r = await call<T>(method, url, body);
    if (r.status >= 300)
      throw new HostfleetError('E_INTERNAL', `${method} ${url} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  const site: FakeSite = {
    store,
    bmc,
    edge,
    volumes,
    hypervisor,
    health,
    get manager() {
      return manager;
    },
    call,
    async customer(id, domains, o = {}) {
      await ok('POST', '/v1/accounts', { id, displayName: `Customer ${id}` });
      await ok('POST', '/v1/groups', {
        id: `${id}-web`,
        accountId: id,
        role: 'web',
        minSize: o.minSize ?? 0,
        maxSize: o.maxSize ?? 8,
        domains,
      });
    },
    async registerAll() {
      const ids: string[] = [];
      for (const [i, m] of bmc.machines.entries()) {
        const id = `srv-${String(i + 1).padStart(2, '0')}`;
        await ok('POST', '/v1/servers', { id, bmcUrl: bmc.url, systemId: m.id, address: m.dataAddress });
        ids.push(id);
      }
      return ids;
    },
    async move(server, to, force = false) {
      const { move } = await ok<{ move: MoveRecord }>('POST', '/v1/moves', { server, to, force, reason: 'test' });
      return running().dispatcher.wait(move.id, 30_000);
    },
    async events(moveId) {
      return (await ok<{ events: MoveEvent[] }>('GET', `/v1/moves/${moveId}`)).events;
    },
    async server(id) {
      return (await ok<{ server: Awaited<ReturnType<FakeSite['server']>> }>('GET', `/v1/servers/${id}`)).server;
    },
    async stopManager() {
      const m = manager;
      manager = null;
      await m?.close();
    },
    async startManager() {
      if (manager) throw new Error('a manager is already running');
      manager = await start();
      return manager;
    },
    async stop() {
      await site.stopManager();
      await store.close();
    },
  };
  return site;
}
