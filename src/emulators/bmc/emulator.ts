/**
 * emulator is the embedded fleet's BMC: one Redfish service (DMTF DSP0266) for N emulated
 * machines. The manager drives it through the very same client (src/drivers/bmc) it uses for
 * real BMCs, so the code path of a move is the one production runs: PATCH Boot (the boot
 * pointer), POST ComputerSystem.Reset, poll PowerState and the workload's health.
 *
 * This file checks the options, prepares dataDir, loads the machines (machine-record.ts) and
 * wires them to the Redfish service (redfish-app.ts), which it starts and stops.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import { localVolumes } from '../../drivers/volumes/index.js';
import { checkReachable, makeTraversable } from './check-reachable.js';
import { configError } from './config-error.js';
import { buildAgentImage, buildRuntimeImage } from './image.js';
import { isRoot } from './is-root.js';
import { Machine } from './machine.js';
import type { MachineLogger } from './machine-deps.js';
import { loadMachineRecord } from './machine-record.js';
import { redfishApp } from './redfish-app.js';
import { Sessions } from './sessions.js';
import { writeJsonAtomic } from './write-json-atomic.js';

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

/** startBmcEmulator starts the Redfish service and restores its machines (PowerRestorePolicy). */
export async function startBmcEmulator(opts: BmcEmulatorOptions): Promise<BmcEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const dataHost = opts.dataHost ?? '127.0.0.1';
  const dataPortBase = opts.dataPortBase ?? 0;
  const log = opts.logger ?? SILENT;
  const sessionTimeoutS = opts.sessionTimeoutS ?? 1800;
  const clock = opts.clock ?? systemClock;
  if (!Number.isInteger(opts.machines) || opts.machines < 1 || opts.machines > 4096)
    throw configError('machines', `must be an integer from 1 to 4096, got ${opts.machines}`);
  if (!opts.username || !opts.password)
    throw configError('username/password', 'must both be set; the BMC never runs without credentials');
  if (!Number.isInteger(dataPortBase) || dataPortBase < 0 || dataPortBase + opts.machines > 65536)
    throw configError('dataPortBase', `must leave room for ${opts.machines} ports below 65536, got ${dataPortBase}`);
  if (!opts.dataDir) throw configError('dataDir', 'must be set');

  await mkdir(join(opts.dataDir, 'machines'), { recursive: true, mode: 0o711 });
  if (isRoot()) {
    await checkReachable(opts.dataDir, 'dataDir');
    if (opts.volumesRoot) await checkReachable(opts.volumesRoot, 'volumesRoot');
    // Workloads run under their account's uid and must traverse to their scratch disk.
    await makeTraversable(opts.dataDir);
    await makeTraversable(join(opts.dataDir, 'machines'));
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
    const rec = await loadMachineRecord(dir, id, i, dataHost, dataPortBase, taken);
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

  const app = redfishApp({
    machines,
    sessions,
    serviceUuid,
    sessionTimeoutS,
    username: opts.username,
    password: opts.password,
    refuseNoopResets: opts.refuseNoopResets ?? false,
    log,
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
