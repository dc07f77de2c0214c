/**
 * context is what the manager's components may share: the store, the drivers, the bus, the
 * dispatcher, the clock and the leadership state. Each feature of the manager (agent status,
 * decision loop, billing, placement, provisioning, console) is a Component built by its own
 * factory (createX(deps)) from the pieces of this context it declares, plus the other
 * components it needs; it holds its own state, so two managers in one process share nothing.
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
import type { Authenticator } from './auth.js';
import type { BootService } from './boot.js';
import type { ManagerConfig } from './config.js';
import type { Dispatcher } from './dispatcher.js';
import type { ManagerMetrics } from './metrics.js';

/** ManagerContext is the shared state components read and act through. */
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
  /** auth resolves API tokens; one per manager, so revoking clears every route's cache. */
  readonly auth: Authenticator;
  bmcFor(url: string): BmcDriver;
  /** isLeader tells whether this manager is the active one (it may act); standbys only watch. */
  isLeader(): boolean;
  /** fence, when the site runs a manager pair, throws E_NOT_LEADER inside a write transaction once this manager lost the lease. */
  readonly fence?: (tx: Sql) => Promise<void>;
}

/** Component is one feature of the manager, as its factory built it. */
export interface Component {
  readonly name: string;
  /** routes adds the component's HTTP routes; called before the API listens. */
  routes?(app: FastifyInstance): Promise<void>;
  /** start begins the component's background work once the API listens. */
  start?(): Promise<void>;
  /** stop ends that work (the manager stops components in reverse order); safe when start never ran. */
  stop?(): Promise<void>;
}
