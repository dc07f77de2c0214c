/**
 * model is the placement scheduler's vocabulary (seed 003): a configuration is a set of tiers
 * (load balancers, web, application and database servers); each tier holds components, the
 * virtual servers with their resources, operating system, software and behaviour hints; the
 * configuration carries the customer's risk and the connections between components. A hardware
 * node has a capacity, may be an isolated node (for risky configurations) and hosts components.
 * parseConfiguration and parseNode (model-parse.ts) are the only ways in: bad input fails
 * there, with every problem named, never later inside the pipeline.
 */

/** RESOURCES are the allocatable resources of a node: RAM in MB, CPU in the seed's "CPU cycles" (one unit per fleet, e.g. MHz), disk in GB, network bandwidth in Mbps. */
export const RESOURCES = ['ram', 'cpu', 'disk', 'bandwidth'] as const;
/** Resource is one of RESOURCES. */
export type Resource = (typeof RESOURCES)[number];
/** RESOURCE_UNITS names the unit of every resource, for messages and docs. */
export const RESOURCE_UNITS: Readonly<Record<Resource, string>> = {
  ram: 'MB',
  cpu: 'cycles',
  disk: 'GB',
  bandwidth: 'Mbps',
};
/** ResourceVector is an amount of every resource. */
export type ResourceVector = Readonly<Record<Resource, number>>;

/** TIER_ROLES are the kinds of tier 003's control panel offers. */
export const TIER_ROLES = ['load-balancer', 'web', 'app', 'db'] as const;
/** TierRole is one of TIER_ROLES. */
export type TierRole = (typeof TIER_ROLES)[number];

/** INTENSITIES say which shared node resource a component mostly competes for (003: web servers are network-intensive, data and application servers storage-intensive). */
export const INTENSITIES = ['network', 'storage', 'neutral'] as const;
/** Intensity is one of INTENSITIES. */
export type Intensity = (typeof INTENSITIES)[number];

/** ROLE_INTENSITY is the default intensity of a tier's components when a component names none. */
export const ROLE_INTENSITY: Readonly<Record<TierRole, Intensity>> = {
  'load-balancer': 'network',
  web: 'network',
  app: 'storage',
  db: 'storage',
};

/** OPERATING_SYSTEMS are the images a component can run; licence co-location applies to the licensed ones (settings.licensedOs). */
export const OPERATING_SYSTEMS = ['debian', 'ubuntu', 'rhel', 'windows-server', 'freebsd'] as const;
/** OperatingSystem is one of OPERATING_SYSTEMS. */
export type OperatingSystem = (typeof OPERATING_SYSTEMS)[number];

/** TRAFFIC_LEVELS are the customer's expected traffic for a component (003: heavy or light traffic loads). */
export const TRAFFIC_LEVELS = ['light', 'normal', 'heavy'] as const;
/** TrafficLevel is one of TRAFFIC_LEVELS. */
export type TrafficLevel = (typeof TRAFFIC_LEVELS)[number];

/** RISK_LEVELS grade each customer risk (003: spam for blogs, hacking for sensitive data, fraud for payments). */
export const RISK_LEVELS = ['none', 'low', 'medium', 'high'] as const;
/** RiskLevel is one of RISK_LEVELS. */
export type RiskLevel = (typeof RISK_LEVELS)[number];
/** RISKS are the risk kinds a configuration is graded on. */
export const RISKS = ['spam', 'hacking', 'fraud'] as const;
/** RiskKind is one of RISKS. */
export type RiskKind = (typeof RISKS)[number];
/** Risk grades a configuration on every risk kind. */
export type Risk = Readonly<Record<RiskKind, RiskLevel>>;

/** NODE_STATES are the scheduler's view of a node: only `up` nodes receive components. */
export const NODE_STATES = ['up', 'draining', 'down'] as const;
/** NodeState is one of NODE_STATES. */
export type NodeState = (typeof NODE_STATES)[number];

/** Behaviour holds the customer's hints about a component's load; the behaviour score looks for headroom above the request for them. */
export interface Behaviour {
  readonly traffic: TrafficLevel;
  /** compression costs extra CPU and RAM to decompress (003). */
  readonly compression: boolean;
  /** packetRate (packets/s) times packetSize (bytes) is an expected bandwidth; 0 when unknown. */
  readonly packetRate: number;
  readonly packetSize: number;
}

/** Component is one virtual server of a configuration. */
export interface Component {
  readonly id: string;
  readonly resources: ResourceVector;
  readonly os: OperatingSystem;
  readonly software: readonly string[];
  readonly intensity: Intensity;
  readonly behaviour: Behaviour;
}

/** Tier is a set of components with one role; antiAffinity spreads them over distinct nodes. */
export interface Tier {
  readonly name: string;
  readonly role: TierRole;
  readonly antiAffinity: boolean;
  readonly components: readonly Component[];
}

/** Connection is a link between two components; the deployer verifies it after placement (003). */
export interface Connection {
  readonly from: string;
  readonly to: string;
}

/** Configuration is one customer's multi-tier virtual server configuration. */
export interface Configuration {
  readonly id: string;
  readonly account: string;
  readonly risk: Risk;
  readonly tiers: readonly Tier[];
  readonly connections: readonly Connection[];
}

/** HostedComponent is a component as a node hosts it: enough to account for its resources, mix and licence. */
export interface HostedComponent {
  readonly configuration: string;
  readonly component: string;
  readonly tier: string;
  readonly resources: ResourceVector;
  readonly intensity: Intensity;
  readonly os: OperatingSystem;
}

/** HardwareNode is one node of the grid; unallocated resources are capacity minus reserved minus what it hosts. */
export interface HardwareNode {
  readonly id: string;
  readonly capacity: ResourceVector;
  /** reserved is held back for the hypervisor and anything the scheduler does not place. */
  readonly reserved: ResourceVector;
  /** isolated nodes take only risky configurations, so an attack on one cannot take others down (003). */
  readonly isolated: boolean;
  readonly state: NodeState;
  readonly hosted: readonly HostedComponent[];
}

/** ZERO is the empty resource vector. */
export const ZERO: ResourceVector = { ram: 0, cpu: 0, disk: 0, bandwidth: 0 };

/** DEFAULT_BEHAVIOUR is a component's behaviour when the customer gives no hints. */
export const DEFAULT_BEHAVIOUR: Behaviour = { traffic: 'normal', compression: false, packetRate: 0, packetSize: 0 };

/** NO_RISK grades a configuration with no known risk. */
export const NO_RISK: Risk = { spam: 'none', hacking: 'none', fraud: 'none' };

/** MAX_COMPONENTS bounds one configuration, so one request cannot stall the scheduler. */
export const MAX_COMPONENTS = 256;

/** componentsOf lists a configuration's components with their tier, in declaration order. */
export function componentsOf(config: Configuration): { readonly tier: Tier; readonly component: Component }[] {
  const out: { tier: Tier; component: Component }[] = [];
  for (const tier of config.tiers) for (const component of tier.components) out.push({ tier, component });
  return out;
}

/** riskRank orders risk levels so they can be compared with a threshold. */
export function riskRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

/** isRisky tells whether any risk of the configuration reaches the threshold (settings.riskThreshold). */
export function isRisky(risk: Risk, threshold: RiskLevel): boolean {
  const t = riskRank(threshold);
  return RISKS.some((k) => riskRank(risk[k]) >= t);
}
