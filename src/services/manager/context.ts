/**
 * context is what the manager's components share: the store, the drivers, the bus, the
 * dispatcher, the clock and the leadership state. Each feature of the manager (agent status,
 * decision loop, billing, placement, provisioning, console) is a ManagerComponent that adds its
 * routes and background work through this one interface, so features stay in their own files.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Bus } from '../../drivers/bus/index.js';
import type { BmcDriver } from '../../drivers/bmc/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import type { EdgeDriver } from '../../drivers/edge/index.js';
import type { HypervisorDriver } from '../../drivers/hypervisor/index.js';
import type { Sql, Store } from '../../drivers/store/index.js';
import type { VolumeDriver } from '../../drivers/volumes/index.js';
import type { BootService } from './boot.js';
import type { ManagerConfig } from './config.js';
import type { Dispatcher } from './dispatcher.js';
import type { ManagerMetrics } from './metrics.js';

/** ManagerContext is the shared state every component reads and acts through. */
export interface ManagerContext {
  readonly cfg: ManagerConfig;
  readonly siteId: string;
  readonly store: Store;
  readonly log: Logger;
  readonly clock: Clock;
  /** bus is the manager's connection to the management bus. */
  readonly bus: Bus;
  /** busUrl is the URL agents use to reach the same bus (hfbus://… or nats://…). */
  readonly busUrl: string;
  readonly dispatcher: Dispatcher;
  readonly edge: EdgeDriver;
  readonly volumes: VolumeDriver;
  /** hypervisor reaches the hardware nodes of the placement grid. */
  readonly hypervisor: HypervisorDriver;
  readonly boot: BootService;
  readonly metrics: ManagerMetrics;
  bmcFor(url: string): BmcDriver;
  /** isLeader tells whether this manager is the active one (it may act); standbys only watch. */
  isLeader(): boolean;
  /** fence, when the site runs a manager pair, throws E_NOT_LEADER inside a write transaction once this manager lost the lease. */
  readonly fence?: (tx: Sql) => Promise<void>;
}

/** Running is a component's background work, stopped when the manager stops. */
export interface Running {
  close(): Promise<void>;
}

/** ManagerComponent is one feature of the manager. */
export interface ManagerComponent {
  readonly name: string;
  /** routes adds the component's HTTP routes; called before the API listens. */
  routes?(app: FastifyInstance, ctx: ManagerContext): Promise<void>;
  /** start begins the component's background work once the API listens. */
  start?(ctx: ManagerContext): Promise<Running>;
}
