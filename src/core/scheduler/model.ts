/**
 * model is the placement scheduler's vocabulary (seed 003): a configuration is a set of tiers
 * (load balancers, web, application and database servers); each tier holds components, the
 * virtual servers with their resources, operating system, software and behaviour hints; the
 * configuration carries the customer's risk and the connections between components. A hardware
 * node has a capacity, may be an isolated node (for risky configurations) and hosts components.
 * parseConfiguration and parseNode are the only ways in: bad input fails here, with every
 * problem named, never later inside the pipeline.
 */
import { invalid, type FieldProblem } from '../errors.js';
import { settleProblems, unknownKeys } from '../keys.js';
import { checkSlug } from '../model/names.js';

/** RESOURCES are the allocatable resources of a node: RAM in MB, CPU in the seed's "CPU cycles" (one unit per fleet, e.g. MHz), disk in GB, network bandwidth in Mbps. */
export const RESOURCES = ['ram', 'cpu', 'disk', 'bandwidth'] as const;
/** Resource is one of RESOURCES. */
export type Resource = (typeof RESOURCES)[number];
/** RESOURCE_UNITS names the unit of every resource, for messages and docs. */
export const RESOURCE_UNITS: Readonly<Record<Resource, string>> = { ram: 'MB', cpu: 'cycles', disk: 'GB', bandwidth: 'Mbps' };
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
export const ROLE_INTENSITY: Readonly<Record<TierRole, Intensity>> = { 'load-balancer': 'network', web: 'network', app: 'storage', db: 'storage' };

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

// ---- parsing -------------------------------------------------------------------------------

// The keys each level of a configuration may hold (docs/SCHEDULER.md); anything else is refused,
// since a misspelt hint (`behavior:`, `antiaffinity:`) would otherwise quietly take its default.
const CONFIGURATION_KEYS = ['id', 'account', 'risk', 'tiers', 'connections'] as const;
const TIER_KEYS = ['name', 'role', 'antiAffinity', 'components'] as const;
const COMPONENT_KEYS = ['id', 'resources', 'os', 'software', 'intensity', 'behaviour'] as const;
const BEHAVIOUR_KEYS = ['traffic', 'compression', 'packetRate', 'packetSize'] as const;
const CONNECTION_KEYS = ['from', 'to'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function oneOf<T extends string>(problems: FieldProblem[], field: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  problems.push({ field, problem: `must be one of ${allowed.join(', ')}` });
  return dflt;
}

function number(problems: FieldProblem[], field: string, v: unknown, dflt: number | undefined, max = 1e12): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max) return v;
  problems.push({ field, problem: `must be a number from 0 to ${max}` });
  return 0;
}

function bool(problems: FieldProblem[], field: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  problems.push({ field, problem: 'must be true or false' });
  return dflt;
}

function slug(problems: FieldProblem[], field: string, v: unknown): string {
  const p = checkSlug(field, v);
  if (p) problems.push(p);
  return typeof v === 'string' ? v : '';
}

function resources(problems: FieldProblem[], field: string, v: unknown, required: boolean): ResourceVector {
  if (v === undefined && !required) return ZERO;
  if (!isObj(v)) {
    problems.push({ field, problem: `must be an object with ${RESOURCES.map((r) => `${r} (${RESOURCE_UNITS[r]})`).join(', ')}` });
    return ZERO;
  }
  problems.push(...unknownKeys(v, RESOURCES, field));
  return {
    ram: number(problems, `${field}.ram`, v.ram, required ? undefined : 0),
    cpu: number(problems, `${field}.cpu`, v.cpu, required ? undefined : 0),
    disk: number(problems, `${field}.disk`, v.disk, required ? undefined : 0),
    bandwidth: number(problems, `${field}.bandwidth`, v.bandwidth, required ? undefined : 0),
  };
}

function behaviour(problems: FieldProblem[], field: string, v: unknown): Behaviour {
  if (v === undefined) return DEFAULT_BEHAVIOUR;
  if (!isObj(v)) {
    problems.push({ field, problem: 'must be an object with traffic, compression, packetRate, packetSize' });
    return DEFAULT_BEHAVIOUR;
  }
  problems.push(...unknownKeys(v, BEHAVIOUR_KEYS, field));
  return {
    traffic: oneOf(problems, `${field}.traffic`, v.traffic, TRAFFIC_LEVELS, 'normal'),
    compression: bool(problems, `${field}.compression`, v.compression, false),
    packetRate: number(problems, `${field}.packetRate`, v.packetRate, 0, 1e9),
    packetSize: number(problems, `${field}.packetSize`, v.packetSize, 0, 65535),
  };
}

function risk(problems: FieldProblem[], field: string, v: unknown): Risk {
  if (v === undefined) return NO_RISK;
  if (!isObj(v)) {
    problems.push({ field, problem: `must be an object grading ${RISKS.join(', ')} as ${RISK_LEVELS.join('|')}` });
    return NO_RISK;
  }
  problems.push(...unknownKeys(v, RISKS, field));
  return {
    spam: oneOf(problems, `${field}.spam`, v.spam, RISK_LEVELS, 'none'),
    hacking: oneOf(problems, `${field}.hacking`, v.hacking, RISK_LEVELS, 'none'),
    fraud: oneOf(problems, `${field}.fraud`, v.fraud, RISK_LEVELS, 'none'),
  };
}

/**
 * parseConfiguration validates a configuration as it arrives (JSON, or YAML parsed by the
 * caller) and returns it with every default filled in. It throws E_VALIDATION naming every
 * bad field: ids are slugs and unique within the configuration, every tier has a known role
 * and at least one component, resources are non-negative numbers, connections name existing
 * components, and no level holds a key it does not know. outerKeys are top-level keys the
 * caller reads itself (the manager's `edge`), allowed beside the configuration's own.
 */
export function parseConfiguration(input: unknown, outerKeys: readonly string[] = []): Configuration {
  const problems: FieldProblem[] = [];
  if (!isObj(input)) throw invalid([{ field: 'configuration', problem: 'must be an object with id, account, tiers' }]);
  problems.push(...unknownKeys(input, [...CONFIGURATION_KEYS, ...outerKeys], ''));
  const id = slug(problems, 'id', input.id);
  const account = slug(problems, 'account', input.account);
  const tiersIn = input.tiers;
  const tiers: Tier[] = [];
  const seen = new Set<string>();
  const tierNames = new Set<string>();
  let count = 0;
  if (!Array.isArray(tiersIn) || tiersIn.length === 0) problems.push({ field: 'tiers', problem: 'must be a non-empty list of tiers' });
  else {
    tiersIn.forEach((t: unknown, ti) => {
      const f = `tiers[${ti}]`;
      if (!isObj(t)) {
        problems.push({ field: f, problem: 'must be an object with name, role, components' });
        return;
      }
      problems.push(...unknownKeys(t, TIER_KEYS, f));
      const name = slug(problems, `${f}.name`, t.name);
      if (tierNames.has(name)) problems.push({ field: `${f}.name`, problem: `duplicate tier name ${name}` });
      tierNames.add(name);
      const role = oneOf(problems, `${f}.role`, t.role, TIER_ROLES, 'web');
      const antiAffinity = bool(problems, `${f}.antiAffinity`, t.antiAffinity, true);
      const components: Component[] = [];
      if (!Array.isArray(t.components) || t.components.length === 0) problems.push({ field: `${f}.components`, problem: 'must be a non-empty list of components' });
      else {
        t.components.forEach((c: unknown, ci) => {
          const cf = `${f}.components[${ci}]`;
          if (!isObj(c)) {
            problems.push({ field: cf, problem: 'must be an object with id and resources' });
            return;
          }
          problems.push(...unknownKeys(c, COMPONENT_KEYS, cf));
          const cid = slug(problems, `${cf}.id`, c.id);
          if (seen.has(cid)) problems.push({ field: `${cf}.id`, problem: `duplicate component id ${cid}; ids are unique within a configuration` });
          seen.add(cid);
          const software = c.software === undefined ? [] : c.software;
          if (!Array.isArray(software) || !software.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 64)) {
            problems.push({ field: `${cf}.software`, problem: 'must be a list of package names (1–64 characters)' });
          }
          components.push({
            id: cid,
            resources: resources(problems, `${cf}.resources`, c.resources, true),
            os: oneOf(problems, `${cf}.os`, c.os, OPERATING_SYSTEMS, 'debian'),
            software: Array.isArray(software) ? (software.filter((s) => typeof s === 'string') as string[]) : [],
            intensity: oneOf(problems, `${cf}.intensity`, c.intensity, INTENSITIES, ROLE_INTENSITY[role]),
            behaviour: behaviour(problems, `${cf}.behaviour`, c.behaviour),
          });
          count++;
        });
      }
      tiers.push({ name, role, antiAffinity, components });
    });
  }
  if (count > MAX_COMPONENTS) problems.push({ field: 'tiers', problem: `at most ${MAX_COMPONENTS} components per configuration (got ${count}); split it into several configurations` });
  const connections: Connection[] = [];
  if (input.connections !== undefined) {
    if (!Array.isArray(input.connections)) problems.push({ field: 'connections', problem: 'must be a list of { from, to } component ids' });
    else {
      input.connections.forEach((c: unknown, i) => {
        const f = `connections[${i}]`;
        problems.push(...unknownKeys(c, CONNECTION_KEYS, f));
        if (!isObj(c) || typeof c.from !== 'string' || typeof c.to !== 'string' || !seen.has(c.from) || !seen.has(c.to) || c.from === c.to) {
          problems.push({ field: f, problem: 'must be { from, to } naming two different components of this configuration' });
          return;
        }
        connections.push({ from: c.from, to: c.to });
      });
    }
  }
  const r = risk(problems, 'risk', input.risk);
  if (problems.length > 0) throw invalid(settleProblems(problems));
  return { id, account, risk: r, tiers, connections };
}

/** parseNode validates a hardware node record (capacity required; reserved, isolated, state and hosted default to empty, false, up, none). */
export function parseNode(input: unknown): HardwareNode {
  const problems: FieldProblem[] = [];
  if (!isObj(input)) throw invalid([{ field: 'node', problem: 'must be an object with id and capacity' }]);
  const id = typeof input.id === 'string' && input.id.length > 0 && input.id.length <= 64 ? input.id : '';
  if (id === '') problems.push({ field: 'id', problem: 'must be a string of 1–64 characters' });
  const capacity = resources(problems, 'capacity', input.capacity, true);
  const reserved = resources(problems, 'reserved', input.reserved, false);
  const hosted: HostedComponent[] = [];
  if (input.hosted !== undefined) {
    if (!Array.isArray(input.hosted)) problems.push({ field: 'hosted', problem: 'must be a list of hosted components' });
    else {
      input.hosted.forEach((h: unknown, i) => {
        const f = `hosted[${i}]`;
        if (!isObj(h)) {
          problems.push({ field: f, problem: 'must be an object' });
          return;
        }
        hosted.push({
          configuration: slug(problems, `${f}.configuration`, h.configuration),
          component: slug(problems, `${f}.component`, h.component),
          tier: slug(problems, `${f}.tier`, h.tier),
          resources: resources(problems, `${f}.resources`, h.resources, true),
          intensity: oneOf(problems, `${f}.intensity`, h.intensity, INTENSITIES, 'neutral'),
          os: oneOf(problems, `${f}.os`, h.os, OPERATING_SYSTEMS, 'debian'),
        });
      });
    }
  }
  const node: HardwareNode = {
    id,
    capacity,
    reserved,
    isolated: bool(problems, 'isolated', input.isolated, false),
    state: oneOf(problems, 'state', input.state, NODE_STATES, 'up'),
    hosted,
  };
  if (problems.length > 0) throw invalid(problems);
  return node;
}
