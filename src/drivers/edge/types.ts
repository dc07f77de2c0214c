/**
 * types are the edge driver's data shapes and the EdgeDriver interface; index.ts states the
 * contract every implementation keeps.
 */
/** SERVER_STATES are the states a server can have at the edge. */
export const SERVER_STATES = ['up', 'down', 'draining'] as const;
/** EdgeServerState is one of SERVER_STATES: up takes traffic, down failed its checks, draining takes no new requests (drained or paused). */
export type EdgeServerState = (typeof SERVER_STATES)[number];

/**
 * BALANCE_POLICIES are how a pool spreads new requests over its servers: least-connections
 * (the fewest outstanding requests, ties in turn; the default) or round-robin (strictly in turn,
 * whatever is outstanding).
 */
export const BALANCE_POLICIES = ['least-connections', 'round-robin'] as const;
/** BalancePolicy is one of BALANCE_POLICIES. */
export type BalancePolicy = (typeof BALANCE_POLICIES)[number];

/** STICKY_COOKIE is the cookie a sticky pool sets so a client's next requests go to the same server. */
export const STICKY_COOKIE = 'HFSRV';

/**
 * EdgePoolSpec is a pool as the manager programs it. balance and sticky, when omitted, keep the
 * pool's current ones (a new pool: least-connections, not sticky).
 */
export interface EdgePoolSpec {
  readonly id: string;
  readonly domains: readonly string[];
  readonly balance?: BalancePolicy;
  /** sticky sets a cookie (STICKY_COOKIE) naming the server that answered; requests carrying it go back there while it is up and in service. */
  readonly sticky?: boolean;
  /**
   * rateLimit caps the pool's requests per second (1–MAX_RATE_LIMIT; billing's throttle); the
   * requests beyond it are answered 429 with Retry-After. null lifts the cap.
   */
  readonly rateLimit?: number | null;
}

/** MAX_RATE_LIMIT is the largest per-pool rate limit, in requests per second. */
export const MAX_RATE_LIMIT = 1_000_000;

/** EdgeServer is a server as the manager attaches it: its id and its `host:port` on the data plane. */
export interface EdgeServer {
  readonly id: string;
  readonly address: string;
}

/** EdgeServerStatus is one server's state and counters (`failures` counts failed forwards and health checks). */
export interface EdgeServerStatus {
  id: string;
  address: string;
  state: EdgeServerState;
  outstanding: number;
  served: number;
  failures: number;
}

/** EdgePoolStatus is one pool (one group's routing entry): its domains and servers. */
export interface EdgePoolStatus {
  id: string;
  domains: string[];
  balance: BalancePolicy;
  sticky: boolean;
  /** rateLimit is the pool's cap in requests per second, or null. */
  rateLimit: number | null;
  servers: EdgeServerStatus[];
}

/** DrainResult says whether a drain finished in time and how many requests were still in flight. */
export interface DrainResult {
  drained: boolean;
  inflight: number;
}

/** EdgeDriver is what the manager uses to program the edge; see the module comment for its contract. */
export interface EdgeDriver {
  /** upsertPool creates the pool or sets its domains to exactly `domains`; idempotent. */
  upsertPool(pool: EdgePoolSpec): Promise<void>;
  /** removePool removes the pool, its domains and servers; an absent pool is already done. */
  removePool(poolId: string): Promise<void>;
  /** attach puts the server in the pool and in service at once (the manager checked its health); idempotent. */
  attach(poolId: string, server: EdgeServer): Promise<void>;
  /** drain stops new requests to the server and waits up to timeoutMs for in-flight ones; absent = drained. */
  drain(poolId: string, serverId: string, opts: { timeoutMs: number }): Promise<DrainResult>;
  /** pause takes the server out of rotation without removing it (no new request; in-flight ones finish); E_NOT_FOUND when absent; idempotent. */
  pause(poolId: string, serverId: string): Promise<void>;
  /** play puts a paused (or draining) server back in service; E_NOT_FOUND when absent; idempotent. */
  play(poolId: string, serverId: string): Promise<void>;
  /** detach removes the server from the pool; an absent server or pool is already done. */
  detach(poolId: string, serverId: string): Promise<void>;
  /** status lists every pool with its domains and servers, ordered by pool id then server id. */
  status(): Promise<EdgePoolStatus[]>;
  /** close releases the driver's connections; the edge itself keeps running. */
  close(): Promise<void>;
}
