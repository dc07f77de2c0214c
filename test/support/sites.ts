/**
 * sites starts several embedded sites on one machine for the multi-site tests and the disaster
 * bench: the global coordinator on a loopback hub in this process, and each site as the
 * product's own processes (BMC emulator with its machines, edge, manager) under a supervisor,
 * so a test can kill every process of a site at once, as a power cut would.
 */
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startBusHub } from '../../src/drivers/bus/index.js';
import type { BusHub } from '../../src/drivers/bus/index.js';
import { newSecret, systemClock } from '../../src/drivers/clock/index.js';
import { redfishBmc } from '../../src/drivers/bmc/index.js';
import { localVolumes } from '../../src/drivers/volumes/index.js';
import { DEFAULT_GLOBAL_SETTINGS } from '../../src/core/global/index.js';
import type { GlobalSettings } from '../../src/core/global/index.js';
import { startCoordinator } from '../../src/services/global/coordinator.js';
import type { Coordinator } from '../../src/services/global/coordinator.js';
import { Supervisor } from '../../src/cli/supervisor.js';
import { ensureState, startSiteProcesses } from '../../src/cli/up.js';
import { fillDemoGroups, seedDemo } from '../../src/cli/demo.js';
import type { DemoCustomer } from '../../src/cli/demo.js';
import type { Client } from '../../src/cli/client.js';
import { freePort } from '../../src/services/shared/ports.js';
import { endStaleDaemon } from '../../src/drivers/replication/index.js';

/** until polls f every 250 ms until it returns something truthy, or fails after ms naming what it waited for. */
export async function until<T>(what: string, ms: number, f: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** GlobalHarness is the coordinator and the hub the sites join. */
export interface GlobalHarness {
  readonly hub: BusHub;
  readonly coord: Coordinator;
  readonly busToken: string;
  close(): Promise<void>;
}

/** startGlobalHarness starts the hub and the coordinator (rounds every 500 ms). */
export async function startGlobalHarness(settings: Partial<GlobalSettings> = {}): Promise<GlobalHarness> {
  const busToken = newSecret(24);
  const hub = await startBusHub({ host: '127.0.0.1', port: await freePort(), token: busToken, name: 'global' });
  const coord = await startCoordinator({
    bus: hub.bus,
    clock: systemClock,
    log: pino({ level: 'silent' }),
    roundMs: 500,
    settings: { ...DEFAULT_GLOBAL_SETTINGS, ...settings },
  });
  return {
    hub,
    coord,
    busToken,
    async close() {
      await coord.close();
      await hub.close();
    },
  };
}

/** SitePlan names a site, its time zone and uid range, its machines and its customers. */
export interface SitePlan {
  readonly id: string;
  readonly timeZone: string;
  readonly firstUid: number;
  readonly machines: number;
  readonly customers: readonly DemoCustomer[];
}

/** Replication is each site's rsync daemon port and secret. */
export type Replication = ReadonlyMap<string, { readonly port: number; readonly secret: string }>;

/** replicationFor gives every planned site a free port and a secret for its rsync daemon. */
export async function replicationFor(plans: readonly SitePlan[]): Promise<Replication> {
  const out = new Map<string, { port: number; secret: string }>();
  for (const p of plans) out.set(p.id, { port: await freePort(), secret: newSecret(20) });
  return out;
}

/** globalSection is a site's `global` configuration: the hub, its daemon, and every other site as a replica target. */
export function globalSection(
  h: GlobalHarness,
  site: string,
  rep: Replication,
  everyMs = 2000,
): Record<string, unknown> {
  const mine = rep.get(site) as { port: number; secret: string };
  return {
    bus: { url: h.hub.url, token: h.busToken },
    reportMs: 500,
    askHoldMs: 3000,
    keepIdle: 0,
    replication: {
      everyMs,
      daemon: { host: '127.0.0.1', port: mine.port, user: 'replica', secret: mine.secret },
      targets: [...rep]
        .filter(([id]) => id !== site)
        .map(([id, t]) => ({
          site: id,
          url: `rsync://127.0.0.1:${t.port}/replicas`,
          user: 'replica',
          secret: t.secret,
        })),
    },
  };
}

/** ProcessSite is a site whose every process runs under its own supervisor. */
export interface ProcessSite {
  readonly dir: string;
  readonly client: Client;
  readonly edgeUrl: string;
  /** volumesRoot is where the site's volumes (and its replicas of other sites' data) live. */
  readonly volumesRoot: string;
  /** kill SIGKILLs every process of the site at once. */
  kill(): Promise<void>;
  /** restart starts the site's processes again on the same directory (after kill), as a site that comes back. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** startProcessSite starts a site's processes in a new directory, seeds its customers and fills their groups. */
export async function startProcessSite(plan: SitePlan, global: Record<string, unknown>): Promise<ProcessSite> {
  const dir = mkdtempSync(join(tmpdir(), `hf-${plan.id}-`));
  chmodSync(dir, 0o711);
  const base = await freePort();
  const st = ensureState(dir, { portsFrom: Math.min(base, 60_000) });
  let sup = new Supervisor(dir, () => undefined);
  const start = () =>
    startSiteProcesses(sup, {
      dataDir: dir,
      st,
      machines: plan.machines,
      prefix: `${plan.id}-`,
      site: { id: plan.id, name: plan.id, timeZone: plan.timeZone, firstUid: plan.firstUid },
      global,
    });
  try {
    const { bmcUrl, edgeUrl, client } = await start();
    const bmc = redfishBmc({ url: bmcUrl, username: st.bmcUser, password: st.bmcPassword, auth: 'basic' });
    await seedDemo(client, bmc, bmcUrl, localVolumes(join(dir, 'volumes')), () => undefined, plan.customers);
    await bmc.close();
    await fillDemoGroups(client, () => undefined, plan.customers);
    let stopped = false;
    return {
      dir,
      client,
      edgeUrl,
      volumesRoot: join(dir, 'volumes'),
      async kill() {
        stopped = true;
        await sup.kill();
        await endStaleDaemon(join(dir, 'rsyncd.pid'));
      },
      async restart() {
        sup = new Supervisor(dir, () => undefined);
        await start();
        stopped = false;
      },
      async stop() {
        if (!stopped) await sup.stop();
        stopped = true;
        // A killed manager leaves its rsync daemon behind (it runs in a group of its own).
        await endStaleDaemon(join(dir, 'rsyncd.pid'));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await sup.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
