/**
 * site starts a whole embedded site for integration tests and benchmarks: the Redfish BMC
 * emulator and the built-in edge in this process (their machines are real OS processes), and
 * the manager either in this process or as its own child process (so a test can kill -9 it
 * and start it again on the same store and port).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { startBmcEmulator } from '../../src/emulators/bmc/emulator.js';
import type { BmcEmulator } from '../../src/emulators/bmc/emulator.js';
import { startEdge } from '../../src/services/edge/edge.js';
import type { RunningEdge } from '../../src/services/edge/edge.js';
import { startManager } from '../../src/services/manager/manager.js';
import type { Manager } from '../../src/services/manager/manager.js';
import { loadManagerConfig } from '../../src/services/manager/config.js';
import { localVolumes } from '../../src/drivers/volumes/index.js';
import type { VolumeDriver } from '../../src/drivers/volumes/index.js';
import { newSecret } from '../../src/drivers/clock/index.js';
import { Client } from '../../src/cli/client.js';
import { writeSite } from '../../src/cli/demo.js';
import type { AccountRecord, MoveRecord } from '../../src/core/model/records.js';
import { followMove } from '../../src/cli/move.js';
import pino from 'pino';

const BIN = fileURLToPath(new URL('../../bin/hostfleet.js', import.meta.url));

import { freePort } from '../../src/services/shared/ports.js';
export { freePort };

/** TestSite is a running embedded site. */
export interface TestSite {
  readonly dir: string;
  readonly bmc: BmcEmulator;
  /** bmcPassword is the emulated BMCs' password for the user admin. */
  readonly bmcPassword: string;
  edge: RunningEdge;
  readonly managerUrl: string;
  readonly token: string;
  readonly client: Client;
  readonly volumes: VolumeDriver;
  /** volumesRoot is the local volume driver's root (replicas from other sites arrive under it too). */
  readonly volumesRoot: string;
  /** manager is the in-process manager, when the site runs one. */
  manager: Manager | null;
  startManager(): Promise<void>;
  /** stopEdge stops the edge; startEdge starts it again on the same ports with an empty table. */
  stopEdge(): Promise<void>;
  startEdge(): Promise<void>;
  /** killManager kills the manager's process (SIGKILL) or, in process, closes it. */
  killManager(): Promise<void>;
  /** customer creates an account with a web group, its domains and its site files. */
  customer(
    id: string,
    domains: readonly string[],
    opts?: {
      minSize?: number;
      maxSize?: number;
      runtime?: { serviceTimeMs: number; concurrency: number; maxQueue: number };
    },
  ): Promise<AccountRecord>;
  /** registerAll registers every emulated machine (srv-01 …) into the pool. */
  registerAll(): Promise<string[]>;
  /** moveAndWait moves a server and waits for the move's end. */
  moveAndWait(server: string, to: string, force?: boolean): Promise<MoveRecord>;
  stop(): Promise<void>;
}

/** startTestSite starts a site with `machines` machines. */
export async function startTestSite(opts: {
  machines: number;
  managerProcess?: boolean;
  databaseUrl?: string;
  databaseSchema?: string;
  quiet?: boolean;
  /** site names the site (default test), its time zone and the first uid of its accounts. */
  site?: { id: string; timeZone?: string; firstUid?: number };
  /** config is merged into the manager's configuration (top-level sections replaced). */
  config?: Record<string, unknown>;
}): Promise<TestSite> {
  const dir = mkdtempSync(join(tmpdir(), 'hf-site-'));
  chmodSync(dir, 0o711);
  const volumesRoot = join(dir, 'volumes');
  mkdirSync(volumesRoot, { mode: 0o711 });
  const bmcPassword = newSecret(12);
  const edgeToken = newSecret(24);
  const token = `hf_${newSecret(32)}`;
  const silent = pino({ level: 'silent' });
  const bmc = await startBmcEmulator({
    machines: opts.machines,
    username: 'admin',
    password: bmcPassword,
    dataDir: join(dir, 'machines'),
    volumesRoot,
    bootDelayMs: 100,
  });
  const edge = await startEdge({
    host: '127.0.0.1',
    port: 0,
    adminHost: '127.0.0.1',
    adminPort: 0,
    token: edgeToken,
    healthIntervalMs: 500,
    logger: silent,
  });
  const edgePorts = { port: Number(new URL(edge.url).port), adminPort: Number(new URL(edge.adminUrl).port) };
  let edgeUp = true;
  const port = await freePort();
  // The bus keeps its port across manager restarts, so agents reconnect to the same address.
  const busPort = await freePort();
  const busToken = newSecret(24);
  const cfgFile = join(dir, 'manager.yaml');
  writeFileSync(
    cfgFile,
    YAML.stringify({
      site: opts.site ?? { id: 'test' },
      dataDir: dir,
      listen: { host: '127.0.0.1', port },
      ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
      ...(opts.databaseSchema ? { databaseSchema: opts.databaseSchema } : {}),
      bmcs: [{ url: bmc.url, username: 'admin', password: bmcPassword, auth: 'session' }],
      edge: { kind: 'builtin', adminUrl: edge.adminUrl, token: edgeToken },
      volumes: { kind: 'local', root: volumesRoot },
      bus: { kind: 'loopback', host: '127.0.0.1', port: busPort, token: busToken },
      operatorToken: token,
      moves: { bootTimeoutMs: 30_000, drainTimeoutMs: 5000 },
      log: { level: opts.quiet === false ? 'info' : 'warn' },
      ...(opts.config ?? {}),
    }),
  );
  const managerUrl = `http://127.0.0.1:${port}`;
  const client = new Client(managerUrl, token);
  const volumes = localVolumes(volumesRoot);
  let proc: ChildProcess | null = null;

  const site: TestSite = {
    dir,
    bmc,
    bmcPassword,
    edge,
    managerUrl,
    token,
    client,
    volumes,
    manager: null,
    async startManager() {
      if (opts.managerProcess) {
        const p = spawn(process.execPath, [BIN, 'manager', '--config', cfgFile], {
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        });
        proc = p;
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('manager did not start in 60 s')), 60_000);
          p.on('message', (m: { kind?: string }) => {
            if (m.kind === 'ready') {
              clearTimeout(t);
              resolve();
            }
          });
          p.once('exit', (code) => {
            clearTimeout(t);
            reject(new Error(`manager exited with ${code} while starting`));
          });
        });
      } else {
        site.manager = await startManager(loadManagerConfig(cfgFile, {}), { log: pino({ level: 'warn' }) });
      }
    },
    async stopEdge() {
      if (edgeUp) await site.edge.close();
      edgeUp = false;
    },
    async startEdge() {
      site.edge = await startEdge({
        host: '127.0.0.1',
        ...edgePorts,
        adminHost: '127.0.0.1',
        token: edgeToken,
        healthIntervalMs: 500,
        logger: silent,
      });
      edgeUp = true;
    },
    async killManager() {
      if (proc) {
        const p = proc;
        proc = null;
        if (p.exitCode === null) {
          const gone = new Promise((r) => p.once('exit', r));
          p.kill('SIGKILL');
          await gone;
        }
      } else if (site.manager) {
        await site.manager.close();
        site.manager = null;
      }
    },
    volumesRoot,
    async customer(id, domains, o = {}) {
      const { account } = await client.call<{ account: AccountRecord }>('POST', '/v1/accounts', {
        id,
        displayName: `Customer ${id}`,
      });
      await client.call('POST', '/v1/groups', {
        id: `${id}-web`,
        accountId: id,
        role: 'front-end',
        minSize: o.minSize ?? 0,
        maxSize: o.maxSize ?? 8,
        domains,
        runtime: o.runtime ?? { serviceTimeMs: 20, concurrency: 8, maxQueue: 500 },
      });
      await writeSite(volumes, account, {
        id,
        displayName: `Customer ${id}`,
        domains,
        colour: '#333',
        tagline: `the site of ${id}`,
      });
      return account;
    },
    async registerAll() {
      const ids: string[] = [];
      for (const [i, m] of bmc.machines.entries()) {
        const id = `srv-${String(i + 1).padStart(2, '0')}`;
        await client.call('POST', '/v1/servers', { id, bmcUrl: bmc.url, systemId: m.id, address: m.dataAddress });
        ids.push(id);
      }
      return ids;
    },
    async moveAndWait(server, to, force = false) {
      const { move } = await client.call<{ move: MoveRecord }>('POST', '/v1/moves', {
        server,
        to,
        force,
        reason: 'test',
      });
      return followMove(client, move.id, () => undefined, 90_000);
    },
    async stop() {
      await site.killManager();
      await site.stopEdge();
      await bmc.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await site.startManager();
  return site;
}
