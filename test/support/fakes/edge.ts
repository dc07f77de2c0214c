/**
 * edge is the in-memory fake of the EdgeDriver. It keeps its pools in the built-in edge's own
 * routing table (src/services/edge/table.ts), so the rules are the real ones: domains owned by
 * one pool, servers in service unless draining, paused or down, drains that wait for in-flight
 * requests, balance and stickiness kept across upserts. There is no data plane; a test opens
 * requests with `request(host)` to have something in flight, and marks servers down with
 * `markDown` as failed health checks would.
 */
import { HostfleetError } from '../../../src/core/errors.js';
import type { DrainResult, EdgeDriver, EdgePoolStatus } from '../../../src/drivers/edge/index.js';
import {
  assertPool,
  assertPoolId,
  assertServer,
  assertServerId,
  assertTimeoutMs,
} from '../../../src/drivers/edge/validate.js';
import { HEALTH_FAILURES_TO_DOWN, RoutingTable } from '../../../src/services/edge/table.js';
import { Faults } from './faults.js';

/** EDGE_OPS are the EdgeDriver methods a test can fail or stall. */
export const EDGE_OPS = ['upsertPool', 'removePool', 'attach', 'drain', 'pause', 'play', 'detach', 'status'] as const;
/** EdgeOp is one of EDGE_OPS. */
export type EdgeOp = (typeof EDGE_OPS)[number];

/** InFlight is one request the test holds open on a server. */
export interface InFlight {
  /** server is the id of the server the pool chose. */
  readonly server: string;
  /** finish ends the request (a drain waiting for the server wakes when it was the last). */
  finish(): void;
}

/** FakeEdge is an EdgeDriver over an in-memory routing table, with the test's controls. */
export interface FakeEdge extends EdgeDriver {
  readonly faults: Faults<EdgeOp>;
  /** request routes one request for host as the edge would and holds it open; null when no server can take it (404 or 503). */
  request(host: string): InFlight | null;
  /** markDown records failed health checks of a server until it is down (as the edge's checker would). */
  markDown(poolId: string, serverId: string): void;
  /** restart empties the table, as an edge restarted without its state file. */
  restart(): void;
}

/** fakeEdge returns an empty fake edge. */
export function fakeEdge(): FakeEdge {
  let table = new RoutingTable<null>({ makeUpstream: () => ({ dispatcher: null, close: async () => undefined }) });
  const faults = new Faults<EdgeOp>(
    (op) =>
      new HostfleetError('E_EDGE', `the fake edge did not answer ${op} (injected); check that it runs`, {
        details: { op },
      }),
  );
  let closed = false;

  async function enter(op: EdgeOp, args: readonly unknown[]): Promise<void> {
    if (closed) throw new HostfleetError('E_EDGE', `the edge driver is closed; cannot ${op}`, { details: { op } });
    await faults.enter(op, args);
  }

  return {
    faults,
    request(host) {
      const pool = table.lookup(host.toLowerCase().replace(/:\d+$/, ''));
      const s = pool && table.admit(pool) ? table.pick(pool) : undefined;
      if (!s) return null;
      table.begin(s);
      let open = true;
      return {
        server: s.id,
        finish() {
          if (!open) return;
          open = false;
          table.end(s, true);
        },
      };
    },
    markDown(poolId, serverId) {
      const s = table.server(poolId, serverId);
      if (!s) throw new Error(`the fake edge has no server ${serverId} in pool ${poolId}`);
      for (let i = 0; i < HEALTH_FAILURES_TO_DOWN; i++) table.recordHealth(s, false);
    },
    restart() {
      table = new RoutingTable<null>({ makeUpstream: () => ({ dispatcher: null, close: async () => undefined }) });
    },

    async upsertPool(spec) {
      const pool = assertPool(spec);
      await enter('upsertPool', [pool]);
      table.upsertPool(pool.id, pool.domains, {
        balance: pool.balance,
        sticky: pool.sticky,
        rateLimit: pool.rateLimit,
      });
      await faults.leave('upsertPool');
    },
    async removePool(poolId) {
      assertPoolId(poolId);
      await enter('removePool', [poolId]);
      table.removePool(poolId);
      await faults.leave('removePool');
    },
    async attach(poolId, server) {
      assertPoolId(poolId);
      const s = assertServer(server);
      await enter('attach', [poolId, s]);
      table.attach(poolId, s);
      await faults.leave('attach');
    },
    async drain(poolId, serverId, opts): Promise<DrainResult> {
      assertPoolId(poolId);
      assertServerId(serverId);
      const timeoutMs = assertTimeoutMs(opts.timeoutMs);
      await enter('drain', [poolId, serverId, { timeoutMs }]);
      const entry = table.startDrain(poolId, serverId);
      if (!entry) return { drained: true, inflight: 0 };
      const drained = await table.waitIdle(entry, timeoutMs);
      await faults.leave('drain');
      return { drained, inflight: entry.outstanding };
    },
    async pause(poolId, serverId) {
      await enter('pause', [assertPoolId(poolId), assertServerId(serverId)]);
      table.setPaused(poolId, serverId, true);
      await faults.leave('pause');
    },
    async play(poolId, serverId) {
      await enter('play', [assertPoolId(poolId), assertServerId(serverId)]);
      table.setPaused(poolId, serverId, false);
      await faults.leave('play');
    },
    async detach(poolId, serverId) {
      await enter('detach', [assertPoolId(poolId), assertServerId(serverId)]);
      table.detach(poolId, serverId);
      await faults.leave('detach');
    },
    async status(): Promise<EdgePoolStatus[]> {
      await enter('status', []);
      return table.status();
    },
    async close() {
      closed = true;
    },
  };
}
