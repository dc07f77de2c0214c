/**
 * steady is an open-loop load generator: it sends requests at a fixed rate per target through
 * the edge (Host header = the customer's domain), never waiting for answers before the next
 * send, and records outcomes and latencies. It stops when its signal aborts or its duration
 * ends, so every loop it runs is bounded.
 */
import { Agent, request } from 'undici';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';

/** LoadTarget is one customer domain and the paths to request on it. */
export interface LoadTarget {
  readonly domain: string;
  /** ratePerSec is the request rate for this domain. */
  readonly ratePerSec: number;
  /** paths are requested in turn, e.g. ['/', '/app/cart']. */
  readonly paths: readonly string[];
}

/** LoadStats are the counters of a run so far. */
export interface LoadStats {
  sent: number;
  ok: number;
  failed: number;
  byStatus: Record<string, number>;
  /** latenciesMs keeps the latest latencies (a bounded ring) for percentiles. */
  latenciesMs: number[];
  /** failures keeps the last few failures for diagnosis. */
  failures: { at: number; domain: string; path: string; status: number | string }[];
}

/** percentile returns the p-th percentile (0–100) of xs, or 0 for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

/** emptyStats returns counters for a new run. */
export function emptyStats(): LoadStats {
  return { sent: 0, ok: 0, failed: 0, byStatus: {}, latenciesMs: [], failures: [] };
}

/** LoadClient sends single requests through the edge and records them in one LoadStats. */
export interface LoadClient {
  /** send issues one request (not awaited by the sending loop) and counts it as sent. */
  send(domain: string, path: string): void;
  readonly inFlight: number;
  /** close waits for the requests in flight and closes the connections. */
  close(): Promise<void>;
}

/**
 * createLoadClient is the sending half of every load generator: keep-alive connections to the
 * edge, the Host header of the customer's domain, outcomes and latencies into stats (bounded
 * rings), and the requests in flight tracked so close() can wait for them. Latencies are
 * measured on the monotonic performance.now(); clock (default systemClock) dates failures.
 */
export function createLoadClient(edgeUrl: string, stats: LoadStats, clock: Clock = systemClock): LoadClient {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  const pending = new Set<Promise<void>>();
  let inFlight = 0;
  const one = async (domain: string, path: string) => {
    const t0 = performance.now();
    inFlight++;
    try {
      const r = await request(edgeUrl + path, {
        headers: { host: domain },
        dispatcher: agent,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      await r.body.dump();
      stats.byStatus[r.statusCode] = (stats.byStatus[r.statusCode] ?? 0) + 1;
      if (r.statusCode < 500) stats.ok++;
      else {
        stats.failed++;
        stats.failures.push({ at: clock.now().getTime(), domain, path, status: r.statusCode });
      }
    } catch (e) {
      stats.failed++;
      stats.byStatus.error = (stats.byStatus.error ?? 0) + 1;
      stats.failures.push({ at: clock.now().getTime(), domain, path, status: (e as Error).message });
    } finally {
      inFlight--;
      stats.latenciesMs.push(performance.now() - t0);
      if (stats.latenciesMs.length > 20_000) stats.latenciesMs.splice(0, 10_000);
      if (stats.failures.length > 50) stats.failures.splice(0, 25);
    }
  };
  return {
    send(domain, path) {
      stats.sent++;
      const p = one(domain, path);
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    get inFlight() {
      return inFlight;
    },
    async close() {
      await Promise.allSettled([...pending]);
      await agent.close();
    },
  };
}

/** runSteadyLoad sends load until signal aborts or durationMs passes; returns the stats. clock dates failures (default systemClock). */
export async function runSteadyLoad(opts: {
  edgeUrl: string;
  targets: readonly LoadTarget[];
  signal: AbortSignal;
  durationMs?: number;
  stats?: LoadStats;
  maxInFlight?: number;
  clock?: Clock;
}): Promise<LoadStats> {
  const stats: LoadStats = opts.stats ?? emptyStats();
  const client = createLoadClient(opts.edgeUrl, stats, opts.clock);
  const end = opts.durationMs === undefined ? Infinity : performance.now() + opts.durationMs;
  const maxInFlight = opts.maxInFlight ?? 512;
  const next = opts.targets.map(() => performance.now());
  const turn = opts.targets.map(() => 0);
  while (!opts.signal.aborted && performance.now() < end) {
    const now = performance.now();
    let soonest = Infinity;
    opts.targets.forEach((t, i) => {
      while ((next[i] as number) <= now && client.inFlight < maxInFlight) {
        const path = t.paths[(turn[i] as number) % t.paths.length] as string;
        turn[i] = (turn[i] as number) + 1;
        client.send(t.domain, path);
        next[i] = (next[i] as number) + 1000 / t.ratePerSec;
      }
      soonest = Math.min(soonest, next[i] as number);
    });
    const wait = Math.max(1, Math.min(50, soonest - performance.now()));
    await new Promise((r) => setTimeout(r, wait));
  }
  await client.close();
  return stats;
}
