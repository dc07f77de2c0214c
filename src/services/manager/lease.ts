/**
 * lease makes a site's managers a fault-tolerant pair (the seed's master decision program run as
 * a pair): every manager tries to hold the site's lease row in the shared store; the holder is
 * the active manager and acts, the others stand by and retry. The lease carries a fencing token
 * that grows at every change of holder; the active manager's writes check it inside their
 * transaction (fence), so a manager that was deposed while it paused cannot write late.
 */
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Sql, Store } from '../../drivers/store/index.js';
import * as ldb from '../../drivers/store/decision.js';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';

/** LeaseOptions name this manager in the lease row (default: a random name) and give the clock its renewals are timed by. */
export interface LeaseOptions {
  readonly name?: string;
  readonly clock?: Clock;
}

/** LeaseSettings tune the lease: ttlMs bounds takeover time, renewMs must be well below it. */
export interface LeaseSettings {
  readonly ttlMs: number;
  readonly renewMs: number;
}

/** Leadership is a manager's view of the lease. */
export interface Leadership {
  /** holder is this manager's identity in the lease row. */
  readonly holder: string;
  isLeader(): boolean;
  /** token is the fencing token held, or 0 while standing by. */
  token(): number;
  /** fence throws E_NOT_LEADER inside tx unless this manager still holds the lease. */
  fence(tx: Sql): Promise<void>;
  /** onChange calls fn when this manager becomes active (true) or stops being active (false). */
  onChange(fn: (leader: boolean) => void | Promise<void>): void;
  /** close stops contending and gives the lease up, so a standby takes over at once. */
  close(): Promise<void>;
}

/** alwaysLeader is the leadership of a manager that runs alone (no lease configured). */
export function alwaysLeader(): Leadership {
  return {
    holder: 'single',
    isLeader: () => true,
    token: () => 0,
    fence: async () => undefined,
    onChange: () => undefined,
    close: async () => undefined,
  };
}

/**
 * startLease begins contending for the site's lease: it tries at once, then every renewMs. A
 * renewal that fails (store unreachable) counts as lost once the last successful renewal is
 * older than the ttl, because by then a standby may have taken over.
 */
export async function startLease(
  store: Store,
  siteId: string,
  s: LeaseSettings,
  log: Logger,
  opts: LeaseOptions = {},
): Promise<Leadership> {
  const name = opts.name ?? `manager-${randomUUID().slice(0, 8)}`;
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now().getTime();
  let token = 0;
  let leader = false;
  let lastOk = 0;
  let closed = false;
  const listeners: ((l: boolean) => void | Promise<void>)[] = [];
  const set = async (l: boolean) => {
    if (l === leader) return;
    leader = l;
    log.warn(
      { holder: name, token, leader: l },
      l ? 'this manager holds the lease: active' : 'this manager lost the lease: standing by',
    );
    for (const fn of listeners)
      await Promise.resolve(fn(l)).catch((e: unknown) => log.error({ err: e }, 'leadership listener failed'));
  };
  const round = async () => {
    const t0 = now();
    try {
      const t = await ldb.acquireLease(store, siteId, name, s.ttlMs);
      if (t === null) {
        token = 0;
        await set(false);
      } else {
        token = t;
        lastOk = t0;
        await set(true);
      }
    } catch (e) {
      log.warn({ err: e }, 'could not renew the lease');
      if (leader && now() - lastOk >= s.ttlMs) await set(false);
    }
  };
  await round();
  let timer: NodeJS.Timeout | null = null;
  const loop = () => {
    timer = setTimeout(() => {
      void round().finally(() => {
        if (!closed) loop();
      });
    }, s.renewMs);
  };
  loop();
  return {
    holder: name,
    isLeader: () => leader && now() - lastOk < s.ttlMs,
    token: () => token,
    fence: (tx) => ldb.fence(tx, siteId, name, token),
    onChange: (fn) => {
      listeners.push(fn);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (leader) await ldb.releaseLease(store, siteId, name).catch(() => undefined);
      leader = false;
    },
  };
}
