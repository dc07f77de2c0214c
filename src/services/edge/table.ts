/**
 * table is the built-in edge's routing table: pools (one per group) with their domains and
 * servers, the per-server counters, and the balancing choice. It is the one place the data
 * plane, the health checker and the admin API share, so every rule about who may take a new
 * request lives here: a server takes new requests only when it is healthy and not draining.
 */
import { HostfleetError } from '../../core/errors.js';
import type { BalancePolicy, EdgePoolStatus, EdgeServerStatus } from '../../drivers/edge/types.js';

/** Upstream is what the table keeps per server to reach it: a keep-alive client and its release. */
export interface Upstream<D> {
  readonly dispatcher: D;
  close(): Promise<void>;
}

/** ServerEntry is one attached server with its live counters. */
export interface ServerEntry<D> {
  readonly id: string;
  readonly poolId: string;
  address: string;
  upstream: Upstream<D>;
  health: 'up' | 'down';
  draining: boolean;
  outstanding: number;
  served: number;
  failures: number;
  /** consecutiveHealthFailures counts failed health checks in a row; two make the server down. */
  consecutiveHealthFailures: number;
  /** idleWaiters are drains waiting for outstanding to reach zero. */
  idleWaiters: Array<() => void>;
}

/** PoolEntry is one pool: its domains, balancing choice, servers in attach order, and the round-robin cursor. */
export interface PoolEntry<D> {
  readonly id: string;
  domains: string[];
  balance: BalancePolicy;
  sticky: boolean;
  /** rateLimit is the pool's cap in requests per second (null: none), enforced by a token bucket holding one second's worth. */
  rateLimit: number | null;
  bucket: { tokens: number; at: number };
  servers: Map<string, ServerEntry<D>>;
  cursor: number;
}

/** PersistedState is what the state file holds: enough to route again at once after a restart. */
export interface PersistedState {
  readonly version: 1;
  readonly pools: ReadonlyArray<{
    readonly id: string;
    readonly domains: readonly string[];
    readonly balance?: BalancePolicy;
    readonly sticky?: boolean;
    readonly rateLimit?: number | null;
    readonly servers: ReadonlyArray<{ readonly id: string; readonly address: string; readonly draining: boolean }>;
  }>;
}

/** HEALTH_FAILURES_TO_DOWN is how many consecutive failed health checks mark a server down. */
export const HEALTH_FAILURES_TO_DOWN = 2;

/** RoutingTable holds the pools and servers; makeUpstream builds a server's keep-alive client. */
export class RoutingTable<D> {
  private readonly pools = new Map<string, PoolEntry<D>>();
  private readonly byDomain = new Map<string, PoolEntry<D>>();
  private readonly makeUpstream: (address: string) => Upstream<D>;
  private readonly onChange: () => void;

  constructor(opts: { makeUpstream: (address: string) => Upstream<D>; onChange?: () => void }) {
    this.makeUpstream = opts.makeUpstream;
    this.onChange = opts.onChange ?? (() => {});
  }

  /** lookup finds the pool owning a host name (already lower-cased and without port). */
  lookup(host: string): PoolEntry<D> | undefined {
    return this.byDomain.get(host);
  }

  /** pool returns the pool with this id. */
  pool(id: string): PoolEntry<D> | undefined {
    return this.pools.get(id);
  }

  /** server returns one server of one pool. */
  server(poolId: string, serverId: string): ServerEntry<D> | undefined {
    return this.pools.get(poolId)?.servers.get(serverId);
  }

  /** allServers lists every server of every pool (for the health checker and metrics). */
  allServers(): Array<ServerEntry<D>> {
    const out: Array<ServerEntry<D>> = [];
    for (const p of this.pools.values()) out.push(...p.servers.values());
    return out;
  }

  /** upsertPool creates the pool or sets its domains (and balance and stickiness when given); a domain of another pool is E_CONFLICT and changes nothing. */
  upsertPool(
    id: string,
    domains: readonly string[],
    opts: {
      balance?: BalancePolicy | undefined;
      sticky?: boolean | undefined;
      rateLimit?: number | null | undefined;
    } = {},
  ): void {
    for (const d of domains) {
      const owner = this.byDomain.get(d);
      if (owner && owner.id !== id) {
        throw new HostfleetError(
          'E_CONFLICT',
          `domain ${d} already routes to pool ${owner.id}; remove it there first`,
          { details: { domain: d, pool: owner.id } },
        );
      }
    }
    let pool = this.pools.get(id);
    if (!pool) {
      pool = {
        id,
        domains: [],
        balance: 'least-connections',
        sticky: false,
        rateLimit: null,
        bucket: { tokens: 0, at: 0 },
        servers: new Map(),
        cursor: 0,
      };
      this.pools.set(id, pool);
    }
    if (opts.balance !== undefined) pool.balance = opts.balance;
    if (opts.sticky !== undefined) pool.sticky = opts.sticky;
    if (opts.rateLimit !== undefined && opts.rateLimit !== pool.rateLimit) {
      pool.rateLimit = opts.rateLimit;
      pool.bucket = { tokens: opts.rateLimit ?? 0, at: performance.now() };
    }
    for (const d of pool.domains) this.byDomain.delete(d);
    pool.domains = [...domains].sort();
    for (const d of pool.domains) this.byDomain.set(d, pool);
    this.onChange();
  }

  /**
   * admit takes one request from the pool's rate limit: true when it may go on (no limit, or a
   * token left). The bucket holds at most one second's worth and refills continuously.
   */
  admit(pool: PoolEntry<D>, now = performance.now()): boolean {
    const limit = pool.rateLimit;
    if (limit === null) return true;
    const b = pool.bucket;
    b.tokens = Math.min(limit, b.tokens + ((now - b.at) / 1000) * limit);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** removePool removes the pool, its domains and servers; absent is already done. */
  removePool(id: string): void {
    const pool = this.pools.get(id);
    if (!pool) return;
    for (const d of pool.domains) this.byDomain.delete(d);
    for (const s of pool.servers.values()) this.release(s);
    this.pools.delete(id);
    this.onChange();
  }

  /** attach adds the server or updates its address, and puts it in service at once (up, not draining). */
  attach(poolId: string, server: { id: string; address: string }, opts: { draining?: boolean } = {}): ServerEntry<D> {
    const pool = this.pools.get(poolId);
    if (!pool)
      throw new HostfleetError(
        'E_NOT_FOUND',
        `pool ${poolId} does not exist; upsert the pool before attaching servers`,
        { details: { pool: poolId } },
      );
    let entry = pool.servers.get(server.id);
    if (entry && entry.address !== server.address) {
      const old = entry.upstream;
      entry.address = server.address;
      entry.upstream = this.makeUpstream(server.address);
      void old.close().catch(() => {});
    }
    if (!entry) {
      entry = {
        id: server.id,
        poolId,
        address: server.address,
        upstream: this.makeUpstream(server.address),
        health: 'up',
        draining: false,
        outstanding: 0,
        served: 0,
        failures: 0,
        consecutiveHealthFailures: 0,
        idleWaiters: [],
      };
      pool.servers.set(server.id, entry);
    }
    entry.health = 'up';
    entry.consecutiveHealthFailures = 0;
    entry.draining = opts.draining ?? false;
    this.onChange();
    return entry;
  }

  /** startDrain marks the server draining so it gets no new request; absent returns undefined. */
  startDrain(poolId: string, serverId: string): ServerEntry<D> | undefined {
    const entry = this.server(poolId, serverId);
    if (!entry) return undefined;
    if (!entry.draining) {
      entry.draining = true;
      this.onChange();
    }
    return entry;
  }

  /** setPaused pauses (no new request, stays attached) or plays (back in service) a server; absent is E_NOT_FOUND. */
  setPaused(poolId: string, serverId: string, paused: boolean): ServerEntry<D> {
    const entry = this.server(poolId, serverId);
    if (!entry)
      throw new HostfleetError('E_NOT_FOUND', `server ${serverId} is not attached to pool ${poolId}; attach it first`, {
        details: { pool: poolId, server: serverId },
      });
    if (entry.draining !== paused) {
      entry.draining = paused;
      this.onChange();
    }
    return entry;
  }

  /** detach removes the server; its in-flight requests finish on the old client; absent is already done. */
  detach(poolId: string, serverId: string): void {
    const pool = this.pools.get(poolId);
    const entry = pool?.servers.get(serverId);
    if (!pool || !entry) return;
    pool.servers.delete(serverId);
    this.release(entry);
    this.onChange();
  }

  /**
   * pick chooses the server for a new request among servers that are up, not draining (or
   * paused) and not in `exclude` (servers this request already failed on). A sticky pool first
   * honours `preferred` (the server named by the client's cookie) when it can take requests.
   * least-connections takes the least outstanding, ties in turn, so equal servers share the
   * load evenly even when every request is quick; round-robin takes the next in turn.
   */
  pick(pool: PoolEntry<D>, exclude?: ReadonlySet<ServerEntry<D>>, preferred?: string): ServerEntry<D> | undefined {
    if (pool.sticky && preferred !== undefined) {
      const s = pool.servers.get(preferred);
      if (s && s.health === 'up' && !s.draining && !exclude?.has(s)) return s;
    }
    const list = [...pool.servers.values()];
    const n = list.length;
    const rr = pool.balance === 'round-robin';
    let best: ServerEntry<D> | undefined;
    let bestIndex = -1;
    for (let k = 0; k < n; k++) {
      const i = (pool.cursor + k) % n;
      const s = list[i]!;
      if (s.health !== 'up' || s.draining || exclude?.has(s)) continue;
      if (!best || (!rr && s.outstanding < best.outstanding)) {
        best = s;
        bestIndex = i;
      }
    }
    if (best) pool.cursor = (bestIndex + 1) % n;
    return best;
  }

  /** begin counts a request sent to the server. */
  begin(entry: ServerEntry<D>): void {
    entry.outstanding += 1;
  }

  /** end counts a request finished (served or failed) and wakes drains waiting for the server to be idle. */
  end(entry: ServerEntry<D>, served: boolean): void {
    entry.outstanding -= 1;
    if (served) entry.served += 1;
    if (entry.outstanding === 0 && entry.idleWaiters.length > 0) {
      const waiters = entry.idleWaiters;
      entry.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** markFailed records a failed forward: the server is down until a health check succeeds. */
  markFailed(entry: ServerEntry<D>): void {
    entry.failures += 1;
    entry.health = 'down';
  }

  /** recordHealth applies one health-check result: two failures in a row → down, one success → up. */
  recordHealth(entry: ServerEntry<D>, ok: boolean): void {
    if (ok) {
      entry.consecutiveHealthFailures = 0;
      entry.health = 'up';
      return;
    }
    entry.failures += 1;
    entry.consecutiveHealthFailures += 1;
    if (entry.consecutiveHealthFailures >= HEALTH_FAILURES_TO_DOWN) entry.health = 'down';
  }

  /** waitIdle resolves true when the server has no outstanding request, or false after timeoutMs. */
  waitIdle(entry: ServerEntry<D>, timeoutMs: number): Promise<boolean> {
    if (entry.outstanding === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        entry.idleWaiters = entry.idleWaiters.filter((w) => w !== done);
        resolve(entry.outstanding === 0);
      }, timeoutMs);
      entry.idleWaiters.push(done);
    });
  }

  /** status reports every pool and server, ordered by id, in the driver's shape. */
  status(): EdgePoolStatus[] {
    return [...this.pools.values()]
      .sort((a, b) => cmp(a.id, b.id))
      .map((p) => ({
        id: p.id,
        domains: [...p.domains],
        balance: p.balance,
        sticky: p.sticky,
        rateLimit: p.rateLimit,
        servers: [...p.servers.values()].sort((a, b) => cmp(a.id, b.id)).map(serverStatus),
      }));
  }

  /** snapshot is the persisted form of the table. */
  snapshot(): PersistedState {
    return {
      version: 1,
      pools: [...this.pools.values()].map((p) => ({
        id: p.id,
        domains: [...p.domains],
        balance: p.balance,
        sticky: p.sticky,
        rateLimit: p.rateLimit,
        servers: [...p.servers.values()].map((s) => ({ id: s.id, address: s.address, draining: s.draining })),
      })),
    };
  }

  /** closeAll releases every server's client (the edge is stopping). */
  async closeAll(): Promise<void> {
    await Promise.all(this.allServers().map((s) => s.upstream.close().catch(() => {})));
  }

  private release(entry: ServerEntry<D>): void {
    // A removed server gets no new request (draining keeps stale references from picking it);
    // its in-flight requests still finish on the old client, which closes once they are done,
    // and still wake drains waiting on it.
    entry.draining = true;
    void entry.upstream.close().catch(() => {});
  }
}

/** serverStatus is one server's status in the driver's shape. */
export function serverStatus<D>(s: ServerEntry<D>): EdgeServerStatus {
  return {
    id: s.id,
    address: s.address,
    state: s.draining ? 'draining' : s.health,
    outstanding: s.outstanding,
    served: s.served,
    failures: s.failures,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
