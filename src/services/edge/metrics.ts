/**
 * metrics are the built-in edge's Prometheus series, served on the admin port at /metrics.
 * Each edge has its own registry (not prom-client's global one) so several edges can run in
 * one process, as they do in tests and in `hostfleet up`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SERVER_STATES } from '../../drivers/edge/types.js';
import type { RoutingTable } from './table.js';

/** EdgeMetrics are the series the data plane updates as requests flow. */
export interface EdgeMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'pool' | 'code'>;
  readonly upstreamSeconds: Histogram<'pool'>;
  readonly retries: Counter<'pool'>;
}

/** createMetrics builds the registry; gauges of outstanding requests and server states read the table when scraped. */
export function createMetrics<D>(table: RoutingTable<D>): EdgeMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'hostfleet_edge_requests_total',
    help: 'Requests answered by the edge, by pool (empty for unknown hosts) and HTTP status code.',
    labelNames: ['pool', 'code'] as const,
    registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: 'hostfleet_edge_upstream_seconds',
    help: 'Time from forwarding a request to an upstream server until its response headers arrive.',
    labelNames: ['pool'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'hostfleet_edge_retries_total',
    help: 'Requests forwarded again to another server after a server failed before answering.',
    labelNames: ['pool'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'hostfleet_edge_outstanding',
    help: 'Requests in flight to each server.',
    labelNames: ['pool', 'server'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of table.allServers()) this.set({ pool: s.poolId, server: s.id }, s.outstanding);
    },
  });
  new Gauge({
    name: 'hostfleet_edge_server_state',
    help: "Each server's state at the edge: 1 for its current state, 0 for the others.",
    labelNames: ['pool', 'server', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of table.allServers()) {
        const state = s.draining ? 'draining' : s.health;
        for (const st of SERVER_STATES) this.set({ pool: s.poolId, server: s.id, state: st }, st === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'hostfleet_edge_server_failures',
    help: 'Failed forwards and failed health checks of each server since it was attached.',
    labelNames: ['pool', 'server'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of table.allServers()) this.set({ pool: s.poolId, server: s.id }, s.failures);
    },
  });
  return { registry, requests, upstreamSeconds, retries };
}
