/**
 * machine is one emulated stateless server behind the BMC: power, the boot override (the
 * seed's boot image pointer), the personality it installed, and the OS process that is its
 * running workload. Powering on is booting: scratch is wiped, the boot loader fetches the
 * pointer (or boots what is installed), and the runtime starts under the account's uid with
 * only that account's volume mounted. Powering off kills the process and wipes scratch, so
 * no state of one customer survives into the next (seed, Figures 3–5).
 *
 * Power operations run one at a time per machine, in the order the BMC accepted them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { Personality } from '../../core/model/personality.js';
import type { BootOverrideMode, Health, PowerState, ResetType } from '../../drivers/bmc/index.js';
import type { VolumeDriver } from '../../drivers/volumes/index.js';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import { checkPersonality } from '../../core/model/check-personality.js';
import { workloadPersonality } from '../../services/agent/config.js';

/** BOOT_TARGETS are the Boot.BootSourceOverrideTarget values an emulated machine offers. */
export const BOOT_TARGETS = ['None', 'Pxe', 'Hdd', 'UefiHttp'] as const;
/** BootTarget is one of BOOT_TARGETS. */
export type BootTarget = (typeof BOOT_TARGETS)[number];

/** POWER_RESTORE_POLICIES are the values of PowerRestorePolicy: what a machine does when the BMC comes back. */
export const POWER_RESTORE_POLICIES = ['AlwaysOn', 'AlwaysOff', 'LastState'] as const;
/** PowerRestorePolicy is one of POWER_RESTORE_POLICIES. */
export type PowerRestorePolicy = (typeof POWER_RESTORE_POLICIES)[number];

/** BootSettings is the persisted Boot override. */
export interface BootSettings {
  readonly enabled: BootOverrideMode;
  readonly target: BootTarget;
  readonly httpBootUri: string | null;
}

/** MachineRecord is what a machine persists in dataDir so a restarted BMC finds it again. */
export interface MachineRecord {
  readonly id: string;
  readonly uuid: string;
  readonly dataPort: number;
  /** power is the last power state the BMC set (LastState restores it). */
  readonly power: 'On' | 'Off';
  readonly powerRestorePolicy: PowerRestorePolicy;
  readonly boot: BootSettings;
  /** installed is the personality on the machine's (emulated) local disk, booted when no pointer is set. */
  readonly installed: Personality | null;
}

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

/** MachineLogger receives the machine's lifecycle events. */
export interface MachineLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** MachineDeps are what a machine needs from its BMC. */
export interface MachineDeps {
  /** dir holds state.json, console.log and scratch/. */
  readonly dir: string;
  readonly dataHost: string;
  readonly bootDelayMs: number;
  /** gracefulTimeoutMs bounds GracefulShutdown before the process is killed. */
  readonly gracefulTimeoutMs: number;
  /** bootFetchTimeoutMs bounds the boot pointer request. */
  readonly bootFetchTimeoutMs: number;
  readonly volumes: VolumeDriver | null;
  readonly log: MachineLogger;
  /** image is the bundled server runtime (see image.ts) every boot runs with node. */
  readonly image: string;
  /** agentImage is the bundled agent (buildAgentImage in image.ts), started next to the workload when the personality has an agent section; null runs none. */
  readonly agentImage?: string | null;
  /** clock dates the boot lines in the console; default systemClock. */
  readonly clock?: Clock;
}

/**
 * AGENT_UID is the uid (and gid) agents run as when the BMC runs as root: not root, and below
 * every customer account's uid (FIRST_ACCOUNT_UID), so customer code can neither read the
 * agent's environment (its bus token) through /proc nor signal it.
 */
export const AGENT_UID = 199_999;

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** freePort picks a free port on host below the kernel's ephemeral range (src/services/shared/ports.ts). */
export { freePort } from '../../services/shared/ports.js';

/** writeJsonAtomic writes a file by rename so a crash never leaves half a state file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * fetchBootPersonality is the boot loader's HTTP boot: it GETs the boot pointer with the
 * machine's UUID and answers the personality, or why the boot failed.
 */
export async function fetchBootPersonality(
  uri: string,
  machineUuid: string,
  timeoutMs: number,
): Promise<Personality | string> {
  let text: string;
  try {
    const res = await request(uri, {
      method: 'GET',
      headers: { accept: 'application/json', 'x-hostfleet-machine': machineUuid },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.body.text();
    if (res.statusCode !== 200) return `boot pointer ${uri} answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
  } catch (e) {
    return `boot pointer ${uri} did not answer: ${(e as Error).message}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `boot pointer ${uri} did not return JSON`;
  }
  const check = checkPersonality(body, machineUuid);
  if (!check.ok)
    return `boot pointer ${uri} returned an invalid personality: ${check.problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`;
  return check.personality;
}

/** Machine is one emulated server. */
export class Machine {
  private rec: MachineRecord;
  private powerState: PowerState;
  private health: Health = 'OK';
  private bootError: string | null = null;
  private child: ChildProcess | null = null;
  private agent: ChildProcess | null = null;
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
      workloadPid: this.child?.pid ?? null,
      agentPid: this.agent?.pid ?? null,
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
    await this.stopWorkload(true);
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
    await this.stopWorkload(graceful);
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
    const err = await this.startWorkload(personality);
    if (err !== null) return this.fail(err);
    this.powerState = 'On';
    this.bump();
  }

  /** fetchPersonality runs the boot loader's HTTP boot: the personality, or why the boot failed. */
  private fetchPersonality(uri: string): Promise<Personality | string> {
    return fetchBootPersonality(uri, this.uuid, this.deps.bootFetchTimeoutMs);
  }

  /** startWorkload spawns the runtime for personality; it returns why it could not, or null. */
  private async startWorkload(p: Personality): Promise<string | null> {
    const root = isRoot();
    if (root && (p.uid === 0 || p.gid === 0))
      return `refusing to run the workload of ${p.account.id} as root (uid ${p.uid}, gid ${p.gid})`;
    let volume: string | null = null;
    if (this.deps.volumes !== null) {
      const exported = await this.deps.volumes.exportedTo(this.uuid);
      // The machine mounts what storage exported to it; a mismatch would cross accounts.
      if (exported !== p.volume.id)
        return `volume ${p.volume.id} of account ${p.account.id} is not exported to machine ${this.uuid} (exported: ${exported ?? 'none'})`;
      volume = this.deps.volumes.mountPath(this.uuid);
    }
    if (root) {
      await chown(this.scratchDir, p.uid, p.gid);
      // The workload's uid must traverse the machine's directory to reach scratch (no listing).
      const s = await stat(this.deps.dir);
      if ((s.mode & 0o011) !== 0o011) await chmod(this.deps.dir, (s.mode & 0o7777) | 0o011);
    }
    const consolePath = join(this.deps.dir, 'console.log');
    const sz = await stat(consolePath).then(
      (s) => s.size,
      () => 0,
    );
    const fh = await open(consolePath, sz > 1_000_000 ? 'w' : 'a', 0o600);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: this.scratchDir,
      // The workload runs customer code: it never sees the agent section (the bus token).
      HOSTFLEET_PERSONALITY: JSON.stringify(workloadPersonality(p)),
      HOSTFLEET_SCRATCH: this.scratchDir,
      HOSTFLEET_LISTEN: this.dataAddress,
    };
    if (volume !== null) env.HOSTFLEET_VOLUME = volume;
    let child: ChildProcess;
    try {
      await fh.write(
        `--- boot ${(this.deps.clock ?? systemClock).now().toISOString()} ${p.server} (${p.account.id}/${p.group.id}) uid ${root ? p.uid : process.getuid?.()}\n`,
      );
      child = spawn(process.execPath, ['--enable-source-maps', this.deps.image], {
        cwd: this.scratchDir,
        env,
        stdio: ['ignore', fh.fd, fh.fd, 'ipc'],
        // Its own process group, so power-off kills everything the workload started.
        detached: true,
        ...(root ? { uid: p.uid, gid: p.gid } : {}),
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (e) {
      return `cannot start the workload: ${(e as Error).message}`;
    } finally {
      await fh.close();
    }
    this.child = child;
    child.on('message', () => undefined);
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      // The OS died under a powered machine: it stays on, Critical, until a reset.
      this.child = null;
      this.fail(`workload exited by itself (${signal ?? `code ${code}`})`);
    });
    this.deps.log.info(`machine ${this.id}: booted ${p.server} for ${p.account.id}/${p.group.id}, pid ${child.pid}`);
    await this.startAgent(p, child.pid ?? null, consolePath, root);
    return null;
  }

  /**
   * startAgent starts the agent process next to the workload, with the personality's agent
   * section (and so the bus token) in its environment only, under AGENT_UID when running as
   * root. An agent that cannot start or dies leaves the workload serving: the manager notices
   * the missing heartbeat.
   */
  private async startAgent(
    p: Personality,
    workloadPid: number | null,
    consolePath: string,
    root: boolean,
  ): Promise<void> {
    const image = this.deps.agentImage ?? null;
    if (image === null || p.agent === undefined) return;
    const host =
      this.deps.dataHost === '0.0.0.0' ? '127.0.0.1' : this.deps.dataHost === '::' ? '::1' : this.deps.dataHost;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOSTFLEET_PERSONALITY: JSON.stringify(p),
      HOSTFLEET_WORKLOAD_URL: `http://${host.includes(':') ? `[${host}]` : host}:${this.rec.dataPort}`,
    };
    if (workloadPid !== null) env.HOSTFLEET_WORKLOAD_PID = String(workloadPid);
    const fh = await open(consolePath, 'a', 0o600);
    let agent: ChildProcess;
    try {
      agent = spawn(process.execPath, ['--enable-source-maps', image], {
        cwd: '/',
        env,
        stdio: ['ignore', fh.fd, fh.fd, 'ipc'],
        detached: true,
        ...(root ? { uid: AGENT_UID, gid: AGENT_UID } : {}),
      });
      await new Promise<void>((resolve, reject) => {
        agent.once('spawn', resolve);
        agent.once('error', reject);
      });
    } catch (e) {
      this.deps.log.warn(`machine ${this.id}: cannot start the agent: ${(e as Error).message}`);
      return;
    } finally {
      await fh.close();
    }
    this.agent = agent;
    agent.on('message', () => undefined);
    agent.once('exit', (code, signal) => {
      if (this.agent !== agent) return;
      this.agent = null;
      this.deps.log.warn(`machine ${this.id}: agent exited by itself (${signal ?? `code ${code}`})`);
    });
  }

  /** stopWorkload ends the workload's process group: SIGTERM then SIGKILL after a bound, or SIGKILL at once. */
  private async stopWorkload(graceful: boolean): Promise<void> {
    const agent = this.agent;
    this.agent = null;
    const child = this.child;
    this.child = null;
    await Promise.all([this.stopProcess(agent, graceful, 'agent'), this.stopProcess(child, graceful, 'workload')]);
  }

  /** stopProcess ends one child's process group: SIGTERM then SIGKILL after a bound, or SIGKILL at once. */
  private async stopProcess(child: ChildProcess | null, graceful: boolean, what: string): Promise<void> {
    if (child === null) return;
    const pid = child.pid;
    const exited =
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const kill = (sig: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    kill(graceful ? 'SIGTERM' : 'SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(true), graceful ? this.deps.gracefulTimeoutMs : 5000)),
      ),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.deps.log.warn(`machine ${this.id}: ${what} ${pid} did not stop in time; killing it`);
      kill('SIGKILL');
      await Promise.race([exited, sleep(5000)]);
    }
    // Whatever the workload left behind in its group goes too.
    kill('SIGKILL');
    if (child.connected) child.disconnect();
  }
}
