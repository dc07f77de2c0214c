/**
 * personality is what a machine receives when it boots from its boot pointer: which customer
 * it now serves, in which role, with which runtime configuration and which volume. The seed
 * calls this the personality module; the boot service hands it only to the machine it was
 * issued for.
 */
import type { ProbeOverrides } from '../agent/probes.js';
import type { Role } from './names.js';

/** RuntimeConfig configures the demo server runtime: a finite, wall-clock capacity. */
export interface RuntimeConfig {
  /** serviceTimeMs is how long one dynamic request holds a worker slot. */
  readonly serviceTimeMs: number;
  /** concurrency is the number of dynamic requests served at once; the rest queue. */
  readonly concurrency: number;
  /** maxQueue bounds the queue; past it the runtime answers 503. */
  readonly maxQueue: number;
}

/** Personality is the boot image pointer's payload. */
export interface Personality {
  readonly kind: 'hostfleet.personality/v1';
  /** machine is the Redfish ComputerSystem UUID the personality was issued for. */
  readonly machine: string;
  readonly server: string;
  readonly account: { readonly id: string; readonly name: string };
  readonly group: { readonly id: string; readonly name: string; readonly role: Role };
  /** image names the runtime to start; the embedded fleet ships 'hostfleet/demo-runtime'. */
  readonly image: string;
  readonly runtime: RuntimeConfig;
  /** volume is the customer's storage portion; the machine mounts what the volume driver exported to it. */
  readonly volume: { readonly id: string };
  /** uid and gid the workload runs as (per customer account), where the BMC can switch users. */
  readonly uid: number;
  readonly gid: number;
  /** config is free key/value configuration for the workload (validated keys and values). */
  readonly config: Readonly<Record<string, string>>;
  /**
   * agent configures the server's agent (the seed's local decision software); absent when the
   * site's bus cannot reach machines (an in-memory bus), and then no agent is started. It holds
   * the bus token, so the boot loader hands it to the agent only — never to the workload.
   */
  readonly agent?: PersonalityAgent;
}

/** PersonalityAgent is the agent section of a personality. */
export interface PersonalityAgent {
  /** busUrl is the management bus the agent joins (hfbus://… for the embedded hub, nats://… in production). */
  readonly busUrl: string;
  /** busToken authenticates the agent to the bus; null when the bus needs none. */
  readonly busToken: string | null;
  readonly site: string;
  readonly group: string;
  readonly server: string;
  /** tickMs is how often the agent samples and publishes status; default 1000. */
  readonly tickMs?: number;
  /** probes overrides the probes' windows and bounds (merged onto DEFAULT_PROBE_SPECS). */
  readonly probes?: ProbeOverrides;
  /** priority in [0, 1] and responseTargetMs are the group's SLA inputs at boot; the manager pushes changes. */
  readonly priority: number;
  readonly responseTargetMs: number;
  /** rules names the FIS rule base ('default' is DEFAULT_FIS). */
  readonly rules: string;
  /** stepSeconds is the predictor's observation step; horizonSeconds how far it looks ahead (a cold server's join time). */
  readonly stepSeconds?: number;
  readonly horizonSeconds?: number;
}

/** DEFAULT_RUNTIME is the demo runtime's configuration when a group sets none. */
export const DEFAULT_RUNTIME: RuntimeConfig = { serviceTimeMs: 50, concurrency: 8, maxQueue: 200 };
