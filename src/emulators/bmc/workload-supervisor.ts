/**
 * workload-supervisor runs an emulated machine's OS processes: the workload (the runtime under
 * the account's uid, with only that account's volume mounted) and, next to it, the agent. It
 * starts them when the machine boots and ends their process groups when it powers off; a
 * workload that exits by itself is reported to the machine, which decides what that means.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Personality } from '../../core/model/personality.js';
import { systemClock } from '../../drivers/clock/index.js';
import { workloadPersonality } from '../../services/agent/config.js';
import { makeTraversable } from './check-reachable.js';
import { isRoot } from './is-root.js';
import type { MachineDeps } from './machine-deps.js';

/**
 * AGENT_UID is the uid (and gid) agents run as when the BMC runs as root: not root, and below
 * every customer account's uid (FIRST_ACCOUNT_UID), so customer code can neither read the
 * agent's environment (its bus token) through /proc nor signal it.
 */
export const AGENT_UID = 199_999;

/** SupervisedMachine is what the supervisor needs to know of its machine; none of it changes over the machine's life. */
export interface SupervisedMachine {
  /** id names the machine in log lines. */
  readonly id: string;
  /** uuid is what storage exports the account's volume to. */
  readonly uuid: string;
  readonly scratchDir: string;
  /** dataAddress is the host:port the workload listens on. */
  readonly dataAddress: string;
  readonly dataPort: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** WorkloadSupervisor starts and stops one machine's workload and agent processes. */
export class WorkloadSupervisor {
  private child: ChildProcess | null = null;
  private agent: ChildProcess | null = null;

  /** crashed hears of a workload that exited by itself, with why: the OS died under a powered machine. */
  constructor(
    private readonly machine: SupervisedMachine,
    private readonly deps: MachineDeps,
    private readonly crashed: (reason: string) => void,
  ) {}

  /** workloadPid is the workload's process id while it runs, else null. */
  get workloadPid(): number | null {
    return this.child?.pid ?? null;
  }

  /** agentPid is the agent's process id while it runs, else null. */
  get agentPid(): number | null {
    return this.agent?.pid ?? null;
  }

  /** start spawns the runtime for personality (and its agent); it returns why it could not, or null. */
  async start(p: Personality): Promise<string | null> {
    const root = isRoot();
    if (root && (p.uid === 0 || p.gid === 0))
      return `refusing to run the workload of ${p.account.id} as root (uid ${p.uid}, gid ${p.gid})`;
    let volume: string | null = null;
    if (this.deps.volumes !== null) {
      const exported = await this.deps.volumes.exportedTo(this.machine.uuid);
      // The machine mounts what storage exported to it; a mismatch would cross accounts.
      if (exported !== p.volume.id)
        return `volume ${p.volume.id} of account ${p.account.id} is not exported to machine ${this.machine.uuid} (exported: ${exported ?? 'none'})`;
      volume = this.deps.volumes.mountPath(this.machine.uuid);
    }
    if (root) {
      await chown(this.machine.scratchDir, p.uid, p.gid);
      // The workload's uid must traverse the machine's directory to reach scratch (no listing).
      await makeTraversable(this.deps.dir);
    }
    const consolePath = join(this.deps.dir, 'console.log');
    const sz = await stat(consolePath).then(
      (s) => s.size,
      () => 0,
    );
    const fh = await open(consolePath, sz > 1_000_000 ? 'w' : 'a', 0o600);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: this.machine.scratchDir,
      // The workload runs customer code: it never sees the agent section (the bus token).
      HOSTFLEET_PERSONALITY: JSON.stringify(workloadPersonality(p)),
      HOSTFLEET_SCRATCH: this.machine.scratchDir,
      HOSTFLEET_LISTEN: this.machine.dataAddress,
    };
    if (volume !== null) env.HOSTFLEET_VOLUME = volume;
    let child: ChildProcess;
    try {
      await fh.write(
        `--- boot ${(this.deps.clock ?? systemClock).now().toISOString()} ${p.server} (${p.account.id}/${p.group.id}) uid ${root ? p.uid : process.getuid?.()}\n`,
      );
      child = spawn(process.execPath, ['--enable-source-maps', this.deps.image], {
        cwd: this.machine.scratchDir,
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
      this.child = null;
      this.crashed(`workload exited by itself (${signal ?? `code ${code}`})`);
    });
    this.deps.log.info(
      `machine ${this.machine.id}: booted ${p.server} for ${p.account.id}/${p.group.id}, pid ${child.pid}`,
    );
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
      HOSTFLEET_WORKLOAD_URL: `http://${host.includes(':') ? `[${host}]` : host}:${this.machine.dataPort}`,
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
      this.deps.log.warn(`machine ${this.machine.id}: cannot start the agent: ${(e as Error).message}`);
      return;
    } finally {
      await fh.close();
    }
    this.agent = agent;
    agent.on('message', () => undefined);
    agent.once('exit', (code, signal) => {
      if (this.agent !== agent) return;
      this.agent = null;
      this.deps.log.warn(`machine ${this.machine.id}: agent exited by itself (${signal ?? `code ${code}`})`);
    });
  }

  /** stop ends the workload's and the agent's process groups: SIGTERM then SIGKILL after a bound, or SIGKILL at once. */
  async stop(graceful: boolean): Promise<void> {
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
      this.deps.log.warn(`machine ${this.machine.id}: ${what} ${pid} did not stop in time; killing it`);
      kill('SIGKILL');
      await Promise.race([exited, sleep(5000)]);
    }
    // Whatever the workload left behind in its group goes too.
    kill('SIGKILL');
    if (child.connected) child.disconnect();
  }
}
