/**
 * edge is the driver through which the manager programs the data-plane switch (the seed's
 * "network switch", Figures 5–6): it routes each customer's domains to the healthy servers of
 * that customer's group, and drains a server before it leaves the group. Two implementations:
 * `builtinEdge` talks to hostfleet's own reverse proxy (src/services/edge) over its admin API;
 * `haproxyEdge` programs a running HAProxy through its Runtime API.
 *
 * Contract shared by every implementation (test/contract/edge.test.ts runs against each):
 * - Every method is safe to repeat. A dispatcher that crashed mid-move re-runs the step it was
 *   on, so "already done" is never an error: upserting a pool that exists sets its domains;
 *   removing an absent pool, detaching an absent server, and draining an absent server resolve
 *   normally (drain answers `{ drained: true, inflight: 0 }`).
 * - `attach` on a pool that does not exist fails with E_NOT_FOUND (upsert the pool first);
 *   attaching a server that is already attached updates its address and puts it back in
 *   service, even when it was draining.
 * - A domain belongs to at most one pool: upserting a pool with a domain another pool owns
 *   fails with E_CONFLICT and changes nothing.
 * - A pool balances by least-connections (default) or round-robin and may be sticky (a cookie
 *   sends a client back to the server that answered it); upsertPool without them keeps the
 *   pool's current choice. `pause` takes a server out of rotation without removing it and
 *   `play` puts it back; both fail with E_NOT_FOUND for an absent server and are idempotent.
 *   A paused server shows as `draining`.
 * - Invalid ids, domains or addresses fail with E_VALIDATION before anything is sent; an edge
 *   that refuses or does not answer fails with E_EDGE.
 */
export { BALANCE_POLICIES, MAX_RATE_LIMIT, SERVER_STATES, STICKY_COOKIE } from './types.js';
export type {
  BalancePolicy,
  EdgePoolSpec,
  EdgeDriver,
  EdgePoolStatus,
  EdgeServer,
  EdgeServerState,
  EdgeServerStatus,
  DrainResult,
} from './types.js';
export { builtinEdge } from './builtin.js';
export type { BuiltinEdgeOptions } from './builtin.js';
export { haproxyEdge } from './haproxy.js';
export type { HaproxyEdgeOptions } from './haproxy.js';
export { haproxyConfig } from './haproxy-config.js';
export type { HaproxyConfigOptions, HaproxyFiles } from './haproxy-config.js';
