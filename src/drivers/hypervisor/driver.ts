/**
 * driver holds the HypervisorDriver contract and its data shapes; index.ts is the public surface.
 */
import type { Personality } from '../../core/model/personality.js';

/**
 * COMPONENT_ID_RE is the grammar of a component id on a node (`<configuration>.<component>`):
 * ids outside it are refused before anything is sent, so no id can name another route.
 */
export const COMPONENT_ID_RE = /^[a-z0-9][a-z0-9.-]{0,99}$/;

/** HypervisorNode is how the manager reaches one hardware node: its API URL and bearer token. */
export interface HypervisorNode {
  readonly url: string;
  readonly token: string;
}

/** ComponentInfo is one component (virtual server) running on a node. */
export interface ComponentInfo {
  readonly id: string;
  /** address is the component's data-plane host:port. */
  readonly address: string;
  /** pid is the component's process id on the node (0 when the node does not say). */
  readonly pid: number;
}

/**
 * NodeDescription is what a node reports of itself. capacity is the node's word, unchecked:
 * the manager parses it (parseNode) and names every bad field.
 */
export interface NodeDescription {
  readonly id: string;
  readonly capacity: unknown;
  readonly components: readonly ComponentInfo[];
}

/** ComponentUsage is what a component used so far, as a hypervisor reads it, and its runtime's own counters. */
export interface ComponentUsage {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  /** stats are the runtime's /_runtime/stats, or null when it did not answer. */
  readonly stats: { readonly requests?: Readonly<Record<string, number>>; readonly errors?: number } | null;
}

/** CallOptions bound one call. */
export interface CallOptions {
  /** timeoutMs bounds the whole call; each method names its default. */
  readonly timeoutMs?: number;
}

/**
 * HypervisorDriver is how the manager's deployer starts and stops components on hardware nodes
 * (seed 003's hosting nodes) and how its monitor and collector watch them. One driver serves
 * every node: each call names the node.
 *
 * Contract (test/contract/hypervisor.test.ts runs against every implementation), so a deployer
 * that re-runs a half-done change does nothing twice:
 * - start of a component already running answers the running one (same address and pid) and
 *   starts nothing: "already done". Concurrent starts of one id start it once.
 * - stop of a component that is not running resolves ("already done").
 * - usage of a component that is not running is E_NOT_FOUND.
 * - healthy never throws: a node that refuses or does not answer in time is simply not healthy.
 * - A component id outside COMPONENT_ID_RE is E_VALIDATION before anything is sent; a
 *   personality the node refuses is E_VALIDATION naming the fields.
 * - Every other failure is E_HYPERVISOR naming the node's URL; details.status carries the HTTP
 *   status when the node answered (401: wrong token), and is absent when it did not answer.
 */
export interface HypervisorDriver {
  /** describe asks the node for its id, capacity and running components (default timeout 20 s). */
  describe(node: HypervisorNode, opts?: CallOptions): Promise<NodeDescription>;
  /** healthy tells whether the node answers its health check within timeoutMs. */
  healthy(node: Pick<HypervisorNode, 'url'>, timeoutMs: number): Promise<boolean>;
  /** start runs the component with its personality and answers once it is ready (default timeout 20 s); idempotent. */
  start(
    node: HypervisorNode,
    componentId: string,
    personality: Personality,
    opts?: CallOptions,
  ): Promise<ComponentInfo>;
  /** stop ends the component and wipes its scratch (default timeout 20 s); an absent one is already stopped. */
  stop(node: HypervisorNode, componentId: string, opts?: CallOptions): Promise<void>;
  /** usage reads what the component used so far (default timeout 20 s); E_NOT_FOUND when it is not running. */
  usage(node: HypervisorNode, componentId: string, opts?: CallOptions): Promise<ComponentUsage>;
  /** close releases the driver's connections; the nodes and their components keep running. */
  close(): Promise<void>;
}
