/**
 * machine is one emulated stateless server behind the BMC: power, the boot override (the
 * seed's boot image pointer), the personality it installed, and the OS process that is its
 * running workload. Powering on is booting: scratch is wiped, the boot loader fetches the
 * pointer (or boots what is installed), and the runtime starts under the account's uid with
 * only that account's volume mounted. Powering off kills the process and wipes scratch, so
 * no state of one customer survives into the next (seed, Figures 3–5).
 *
 * Power operations run one at a time per machine, in the order the BMC accepted them. This
 * file is the power state machine; the record it persists is in machine-record.ts, the boot
 * loader in fetch-boot-personality.ts and the processes in workload-supervisor.ts.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Personality } from '../../core/model/personality.js';
import type { Health, PowerState, ResetType } from '../../drivers/bmc/index.js';
import { fetchBootPersonality } from './fetch-boot-personality.js';
import type { MachineDeps } from './machine-deps.js';
import type { BootSettings, MachineRecord, PowerRestorePolicy } from './machine-record.js';
import { WorkloadSupervisor } from './workload-supervisor.js';
import { writeJsonAtomic } from './write-json-atomic.js';

// Importers of machine.js (the hypervisor emulator, the tests and their fakes) keep their
// imports: the symbols that moved to the machine's parts are re-exported here.
/** BOOT_TARGETS, POWER_RESTORE_POLICIES and the record's types: see machine-record.ts. */
export {
  BOOT_TARGETS,
  POWER_RESTORE_POLICIES,
  type BootSettings,
  type BootTarget,
  type MachineRecord,
  type PowerRestorePolicy,
} from './machine-record.js';
/** MachineDeps and MachineLogger: see machine-deps.ts. */
export type { MachineDeps, MachineLogger } from './machine-deps.js';
/** AGENT_UID is the uid agents run as under a root BMC: see workload-supervisor.ts. */
export { AGENT_UID } from './workload-supervisor.js';
/** fetchBootPersonality is the boot loader's HTTP boot: see fetch-boot-personality.ts. */
export { fetchBootPersonality } from './fetch-boot-personality.js';
/** writeJsonAtomic writes a state file by rename: see write-json-atomic.ts. */
export { writeJsonAtomic } from './write-json-atomic.js';
/** freePort picks a free port on host below the kernel's ephemeral range (src/services/shared/ports.ts). */
export { freePort } from '../../services/shared/ports.js';

/** MachineView is a machine's current state as the Redfish resource shows it. */
export interface MachineView {
  readonly record: MachineRecord;
  readonly powerState: PowerState;
  readonly health: Health;
  readonly dataAddress: string;
  readonly workloadPid: number | null;
  /** agentPid is the agent's process id while it runs (absent or null when none). */
  readonly agentPid?: number | null;
  readonly bootError: string | null;
  /** version changes on every visible change; it is the resource's ETag. */
  readonly version: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Machine is one emulated server. */
export class Machine {
  private rec: MachineRecord;
  private powerState: PowerState;
  private health: Health = 'OK';
  private bootError: string | null = null;
  private readonly processes: WorkloadSupervisor;
  private version = 1;
  private ops: Promise<void> = Promise.resolve();
  private saves: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    record: MachineRecord,
    private readonly deps: MachineDeps,
  ) {
    this.rec = record;
    this.powerState = 'Off';
    this.processes = new WorkloadSupervisor(
      {
        id: record.id,
        uuid: record.uuid,
        scratchDir: this.scratchDir,
        dataAddress: this.dataAddress,
        dataPort: record.dataPort,
      },
      deps,
      // The OS died under a powered machine: it stays on, Critical, until a reset.
      (reason) => this.fail(reason),
    );
  }

  /** id is the Redfish system Id. */
  get id(): string {
    return this.rec.id;
  }

  /** uuid is the ComputerSystem UUID, which boot pointers are issued for and volumes exported to. */
  get uuid(): string {
    return this.rec.uuid;
  }

  /** scratchDir is the machine's local disk, wiped at every power transition. */
  get scratchDir(): string {
    return join(this.deps.dir, 'scratch');
  }

  /** dataAddress is the data-plane host:port the workload listens on. */
  get dataAddress(): string {
    const h = this.deps.dataHost.includes(':') ? `[${this.deps.dataHost}]` : this.deps.dataHost;
    return `${h}:${this.rec.dataPort}`;
  }

  /** view is the machine's state for the Redfish resource. */
  view(): MachineView {
    return {
      record: this.rec,
      powerState: this.powerState,
      health: this.health,
      dataAddress: this.dataAddress,
      workloadPid: this.processes.workloadPid,
      agentPid: this.processes.agentPid,
      bootError: this.bootError,
      version: this.version,
    };
  }

  /** setBoot changes the Boot override (already validated) and persists it; equal values change nothing. */
  async setBoot(boot: Partial<BootSettings>, policy?: PowerRestorePolicy): Promise<void> {
    const next: MachineRecord = {
      ...this.rec,
      boot: { ...this.rec.boot, ...boot },
      powerRestorePolicy: policy ?? this.rec.powerRestorePolicy,
    };
    if (JSON.stringify(next) === JSON.stringify(this.rec)) return;
    this.rec = next;
    this.bump();
    await this.save();
  }

  /**
   * reset queues a ComputerSystem.Reset and returns at once, as a BMC acknowledges a reset
   * before the machine has booted. On when on, and ForceOff/GracefulShutdown when off, do
   * nothing (the idempotency the BmcDriver contract promises).
   */
  reset(type: ResetType): void {
    this.enqueue(`reset ${type}`, async () => {
      switch (type) {
        case 'On':
          if (this.powerState === 'Off') await this.powerOn();
          return;
        case 'ForceOff':
          await this.powerOff(false);
          return;
        case 'GracefulShutdown':
          await this.powerOff(true);
          return;
        case 'GracefulRestart':
          await this.powerOff(true);
          await this.powerOn();
          return;
        case 'ForceRestart':
        case 'PowerCycle':
          await this.powerOff(false);
          await this.powerOn();
          return;
      }
    });
  }

  /** restore applies PowerRestorePolicy when the BMC starts: machines that were on boot again. */
  restore(): void {
    const on =
      this.rec.powerRestorePolicy === 'AlwaysOn' ||
      (this.rec.powerRestorePolicy === 'LastState' && this.rec.power === 'On');
    if (on) this.enqueue('power restore', () => this.powerOn());
    else if (this.rec.power === 'On') {
      this.rec = { ...this.rec, power: 'Off' };
      void this.save();
    }
  }

  /** settled resolves once every queued power operation has finished. */
  settled(): Promise<void> {
    return this.ops;
  }

  /**
   * shutdown is the BMC losing power: queued operations finish, the workload is stopped
   * (SIGTERM, then SIGKILL after the bound) and the persisted power state is kept, so the
   * machine comes back under its PowerRestorePolicy.
   */
  async shutdown(): Promise<void> {
    this.closed = true;
    await this.ops;
    await this.processes.stop(true);
    await this.saves;
  }

  private enqueue(what: string, op: () => Promise<void>): void {
    this.ops = this.ops.then(async () => {
      if (this.closed) return;
      try {
        await op();
      } catch (e) {
        this.deps.log.error(`machine ${this.id}: ${what} failed: ${(e as Error).message}`);
        this.fail(`${what} failed: ${(e as Error).message}`);
      }
    });
  }

  private bump(): void {
    this.version++;
  }

  private save(): Promise<void> {
    const rec = this.rec;
    this.saves = this.saves
      .then(() => writeJsonAtomic(join(this.deps.dir, 'state.json'), rec))
      .catch((e: unknown) => {
        this.deps.log.error(`machine ${this.id}: cannot persist state: ${(e as Error).message}`);
      });
    return this.saves;
  }

  private fail(reason: string): void {
    this.health = 'Critical';
    this.bootError = reason;
    if (this.powerState === 'PoweringOn') this.powerState = 'On';
    this.bump();
    this.deps.log.warn(`machine ${this.id}: ${reason}`);
  }

  private async wipeScratch(): Promise<void> {
    await rm(this.scratchDir, { recursive: true, force: true, maxRetries: 3 });
    await mkdir(this.scratchDir, { mode: 0o700 });
  }

  private async powerOff(graceful: boolean): Promise<void> {
    if (this.powerState === 'Off') return;
    this.powerState = 'PoweringOff';
    this.bump();
    await this.processes.stop(graceful);
    await this.wipeScratch();
    this.powerState = 'Off';
    this.health = 'OK';
    this.bootError = null;
    this.rec = { ...this.rec, power: 'Off' };
    this.bump();
    await this.save();
    this.deps.log.info(`machine ${this.id}: off`);
  }

  private async powerOn(): Promise<void> {
    this.powerState = 'PoweringOn';
    this.health = 'OK';
    this.bootError = null;
    this.rec = { ...this.rec, power: 'On' };
    this.bump();
    await this.save();
    await this.wipeScratch();
    // POST: the time a real machine spends before its boot loader runs.
    await sleep(this.deps.bootDelayMs);

    let personality: Personality | null = this.rec.installed;
    const b = this.rec.boot;
    if (b.enabled !== 'Disabled' && b.target !== 'None') {
      // A one-time override is consumed by the boot that uses it, whatever that boot's outcome.
      if (b.enabled === 'Once') this.rec = { ...this.rec, boot: { ...b, enabled: 'Disabled' } };
      if (b.target === 'UefiHttp') {
        // A new personality replaces the installed one; a failed fetch leaves nothing installed.
        this.rec = { ...this.rec, installed: null };
        await this.save();
        if (b.httpBootUri === null) return this.fail('UefiHttp boot selected but Boot.HttpBootUri is empty');
        const fetched = await this.fetchPersonality(b.httpBootUri);
        if (typeof fetched === 'string') return this.fail(fetched);
        personality = fetched;
        this.rec = { ...this.rec, installed: fetched };
      } else if (b.target === 'Pxe') {
        await this.save();
        return this.fail('PXE boot is not emulated; set BootSourceOverrideTarget to UefiHttp with an HttpBootUri');
      }
      await this.save();
    }
    if (personality === null) {
      // Nothing to boot: the machine is on and idle, as a blank server in the pool.
      this.powerState = 'On';
      this.bump();
      this.deps.log.info(`machine ${this.id}: on, nothing to boot`);
      return;
    }
    const err = await this.processes.start(personality);
    if (err !== null) return this.fail(err);
    this.powerState = 'On';
    this.bump();
  }

  /** fetchPersonality runs the boot loader's HTTP boot: the personality, or why the boot failed. */
  private fetchPersonality(uri: string): Promise<Personality | string> {
    return fetchBootPersonality(uri, this.uuid, this.deps.bootFetchTimeoutMs);
  }
}
