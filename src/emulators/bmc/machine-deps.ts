/**
 * machine-deps are what the BMC hands each emulated machine: where it keeps its disk, how it
 * boots and where it logs. Kept apart from the Machine so the parts of a machine (its power
 * state machine, its process supervision) share them without importing one another.
 */
import type { Clock } from '../../drivers/clock/index.js';
import type { VolumeDriver } from '../../drivers/volumes/index.js';

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
