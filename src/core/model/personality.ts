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

/** PERSONALITY_KIND is the personality format this version of hostfleet issues and accepts. */
export const PERSONALITY_KIND = 'hostfleet.personality/v1';

/** Personality is the boot image pointer's payload. */
export interface Personality {
  readonly kind: typeof PERSONALITY_KIND;
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

/**
 * PersonalityParts is what a personality is made of, named from the issuer's side: a server
 * of the resource database booting for a group, or a component a hardware node runs for a
 * virtual server configuration.
 */
export interface PersonalityParts {
  /** machine is the system UUID (or the node's component id) the personality is issued for. */
  readonly machine: string;
  readonly server: string;
  /** account is the customer the machine serves; uid and gid are the ones its workload runs as. */
  readonly account: { readonly id: string; readonly name: string; readonly uid: number; readonly gid: number };
  readonly group: Personality['group'];
  readonly image: string;
  readonly runtime: RuntimeConfig;
  /** volume is the id of the customer's storage portion. */
  readonly volume: string;
  /** config is the workload's configuration; none when absent. */
  readonly config?: Readonly<Record<string, string>>;
  /** agent is the agent section, present only when the machine's agent can reach the bus. */
  readonly agent?: PersonalityAgent;
}

/** buildPersonality is the one place a personality is put together; the issuers only name its parts. */
export function buildPersonality(parts: PersonalityParts): Personality {
  const { account, agent } = parts;
  return {
    kind: PERSONALITY_KIND,
    machine: parts.machine,
    server: parts.server,
    account: { id: account.id, name: account.name },
    group: parts.group,
    image: parts.image,
    runtime: parts.runtime,
    volume: { id: parts.volume },
    uid: account.uid,
    gid: account.gid,
    config: parts.config ?? {},
    ...(agent === undefined ? {} : { agent }),
  };
}
