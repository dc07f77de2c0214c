/**
 * fleet is the scheduler's working index of the hardware grid: struct-of-arrays of typed arrays
 * (capacity, used, the network/storage mix, operating-system counts), so filters and scores on
 * 10,000 nodes touch flat memory and allocate nothing. It is built from immutable HardwareNode
 * records and changes only through host/unhost (applying a committed plan) and setNodeState
 * (recording a fact such as a failure); plans themselves never change it. It also records
 * where every component of every configuration is, which a failure or a change needs.
 */
import { HostfleetError } from '../errors.js';
import {
  NODE_STATES,
  OPERATING_SYSTEMS,
  RESOURCES,
  type HardwareNode,
  type HostedComponent,
  type Intensity,
  type NodeState,
  type OperatingSystem,
  type Resource,
  type ResourceVector,
} from './model.js';

/** R is the number of resources; arrays indexed by resource use RESOURCES' order. */
export const R = RESOURCES.length;
/** OS_COUNT is the number of operating systems; osCount is indexed node * OS_COUNT + os. */
export const OS_COUNT = OPERATING_SYSTEMS.length;
/** STATE_UP is the state code of an up node (the index of 'up' in NODE_STATES). */
export const STATE_UP = 0;
/** EPSILON absorbs floating-point drift when used amounts are added and subtracted many times. */
export const EPSILON = 1e-9;

/** osIndex maps an operating system to its index in OPERATING_SYSTEMS. */
export function osIndex(os: OperatingSystem): number {
  return OPERATING_SYSTEMS.indexOf(os);
}

/** FleetClassStats summarise the up nodes of one isolation class, for unresolvable checks. */
export interface FleetClassStats {
  readonly upNodes: number;
  readonly maxCapacity: ResourceVector;
}

/** Fleet is the typed-array index of the grid (see the file comment for why it is mutable). */
export class Fleet {
  readonly size: number;
  readonly ids: readonly string[];
  /** cap[n * R + k] is node n's capacity of resource k (one node's resources sit together in memory). */
  readonly cap: Float64Array;
  /** invCap[n * R + k] is 1 / cap, or 0 when the node has none of k (scores multiply, not divide). */
  readonly invCap: Float64Array;
  /** used[n * R + k] is what node n has committed: its reserved share plus every hosted component. */
  readonly used: Float64Array;
  /** pending[n * R + k] is held by the decision in progress (zero outside a decision). */
  readonly pending: Float64Array;
  readonly state: Uint8Array;
  readonly isolated: Uint8Array;
  /** net[n] and sto[n] count the network- and storage-intensive components node n hosts. */
  readonly net: Int32Array;
  readonly sto: Int32Array;
  readonly osCount: Int32Array;
  private readonly reservedOf: ResourceVector[];
  private readonly index = new Map<string, number>();
  private readonly byNode: Map<string, HostedComponent>[];
  private readonly placements = new Map<string, Map<string, number>>();
  private stats: [FleetClassStats, FleetClassStats] | null = null;
  private meanCap: number[] | null = null;

  private constructor(nodes: readonly HardwareNode[]) {
    const n = nodes.length;
    this.size = n;
    this.ids = nodes.map((x) => x.id);
    const mk = (): Float64Array => new Float64Array(n * R);
    this.cap = mk();
    this.invCap = mk();
    this.used = mk();
    this.pending = mk();
    this.state = new Uint8Array(n);
    this.isolated = new Uint8Array(n);
    this.net = new Int32Array(n);
    this.sto = new Int32Array(n);
    this.osCount = new Int32Array(n * OS_COUNT);
    this.reservedOf = nodes.map((x) => x.reserved);
    this.byNode = nodes.map(() => new Map());
    nodes.forEach((node, i) => {
      if (this.index.has(node.id))
        throw new HostfleetError('E_VALIDATION', `duplicate node id ${node.id}; node ids are unique in a fleet`, {
          details: { node: node.id },
        });
      this.index.set(node.id, i);
      RESOURCES.forEach((r, k) => {
        const c = node.capacity[r];
        this.cap[i * R + k] = c;
        this.invCap[i * R + k] = c > 0 ? 1 / c : 0;
        this.used[i * R + k] = node.reserved[r];
      });
      this.state[i] = NODE_STATES.indexOf(node.state);
      this.isolated[i] = node.isolated ? 1 : 0;
      for (const h of node.hosted) this.host(i, h);
    });
  }

  /** from builds the index from node records (their hosted components included). */
  static from(nodes: readonly HardwareNode[]): Fleet {
    return new Fleet(nodes);
  }

  /** indexOf returns a node's index, or throws E_NOT_FOUND naming the node. */
  indexOf(id: string): number {
    const i = this.index.get(id);
    if (i === undefined)
      throw new HostfleetError(
        'E_NOT_FOUND',
        `no hardware node ${id} in the fleet; list the fleet's nodes and use one of their ids`,
        { details: { node: id } },
      );
    return i;
  }

  /** nodeState is node i's state. */
  nodeState(i: number): NodeState {
    return NODE_STATES[this.state[i]!]!;
  }

  /** setNodeState records a fact about a node, e.g. that it failed ('down'); placed components stay recorded until a plan moves them. */
  setNodeState(id: string, state: NodeState): void {
    this.state[this.indexOf(id)] = NODE_STATES.indexOf(state);
    this.stats = null;
    this.meanCap = null;
  }

  /** host records a component on node i and charges its resources, mix and operating system. */
  host(i: number, h: HostedComponent): void {
    const key = `${h.configuration}/${h.component}`;
    let conf = this.placements.get(h.configuration);
    if (!conf) this.placements.set(h.configuration, (conf = new Map()));
    if (conf.has(h.component))
      throw new HostfleetError(
        'E_CONFLICT',
        `component ${key} is already placed on ${this.ids[conf.get(h.component)!]}; release it before placing it again`,
        { details: { configuration: h.configuration, component: h.component } },
      );
    conf.set(h.component, i);
    this.byNode[i]!.set(key, h);
    for (let k = 0; k < R; k++) this.used[i * R + k]! += h.resources[RESOURCES[k]!];
    this.mix(i, h.intensity, 1);
    this.osCount[i * OS_COUNT + osIndex(h.os)]! += 1;
  }

  /** unhost removes a placed component and returns what it held; it throws E_NOT_FOUND when the component is not placed. */
  unhost(configuration: string, component: string): { readonly node: number; readonly hosted: HostedComponent } {
    const conf = this.placements.get(configuration);
    const i = conf?.get(component);
    if (conf === undefined || i === undefined)
      throw new HostfleetError('E_NOT_FOUND', `component ${configuration}/${component} is not placed`, {
        details: { configuration, component },
      });
    const key = `${configuration}/${component}`;
    const h = this.byNode[i]!.get(key)!;
    this.byNode[i]!.delete(key);
    conf.delete(component);
    if (conf.size === 0) this.placements.delete(configuration);
    for (let k = 0; k < R; k++) {
      const v = this.used[i * R + k]! - h.resources[RESOURCES[k]!];
      // Snap drift back to the reserved floor so an emptied node is exactly empty again.
      this.used[i * R + k] = this.byNode[i]!.size === 0 ? this.reservedOf[i]![RESOURCES[k]!] : v;
    }
    this.mix(i, h.intensity, -1);
    this.osCount[i * OS_COUNT + osIndex(h.os)]! -= 1;
    return { node: i, hosted: h };
  }

  private mix(i: number, intensity: Intensity, d: number): void {
    if (intensity === 'network') this.net[i]! += d;
    else if (intensity === 'storage') this.sto[i]! += d;
  }

  /** placementOf returns where each placed component of a configuration is (component id → node index). */
  placementOf(configuration: string): ReadonlyMap<string, number> {
    return this.placements.get(configuration) ?? new Map();
  }

  /** configurations lists the ids of every configuration with a placed component, sorted. */
  configurations(): string[] {
    return [...this.placements.keys()].sort();
  }

  /** hostedOn lists the components node i hosts. */
  hostedOn(i: number): HostedComponent[] {
    return [...this.byNode[i]!.values()];
  }

  /** free is node i's unallocated amount of resource k (committed state only). */
  free(i: number, k: number): number {
    return this.cap[i * R + k]! - this.used[i * R + k]!;
  }

  /** node returns node i as an immutable record, as the resource database would store it. */
  node(i: number): HardwareNode {
    const vec = (a: Float64Array): ResourceVector =>
      Object.fromEntries(RESOURCES.map((r, k) => [r, a[i * R + k]!])) as Record<Resource, number>;
    return {
      id: this.ids[i]!,
      capacity: vec(this.cap),
      reserved: this.reservedOf[i]!,
      isolated: this.isolated[i] === 1,
      state: this.nodeState(i),
      hosted: this.hostedOn(i),
    };
  }

  /** snapshot returns every node as a record; Fleet.from(snapshot()) rebuilds an equal fleet. */
  snapshot(): HardwareNode[] {
    const out: HardwareNode[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.node(i));
    return out;
  }

  /** classStats summarises the up nodes that are (isolated = true) or are not isolated. */
  classStats(isolated: boolean): FleetClassStats {
    if (!this.stats) {
      const mk = (): { upNodes: number; max: number[] } => ({ upNodes: 0, max: RESOURCES.map(() => 0) });
      const s = [mk(), mk()];
      for (let i = 0; i < this.size; i++) {
        if (this.state[i] !== STATE_UP) continue;
        const c = s[this.isolated[i]!]!;
        c.upNodes++;
        for (let k = 0; k < R; k++)
          c.max[k] = Math.max(c.max[k]!, this.cap[i * R + k]! - this.reservedOf[i]![RESOURCES[k]!]);
      }
      const fin = (c: { upNodes: number; max: number[] }): FleetClassStats => ({
        upNodes: c.upNodes,
        maxCapacity: Object.fromEntries(RESOURCES.map((r, k) => [r, c.max[k]!])) as Record<Resource, number>,
      });
      this.stats = [fin(s[0]!), fin(s[1]!)];
    }
    return this.stats[isolated ? 1 : 0];
  }

  /** meanCapacity is the mean capacity of the up nodes per resource, the yardstick of "largest component first". */
  meanCapacity(): readonly number[] {
    if (this.meanCap) return this.meanCap;
    const sum = RESOURCES.map(() => 0);
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (this.state[i] !== STATE_UP) continue;
      n++;
      for (let k = 0; k < R; k++) sum[k]! += this.cap[i * R + k]!;
    }
    this.meanCap = sum.map((s) => (n > 0 ? s / n : 0));
    return this.meanCap;
  }
}
