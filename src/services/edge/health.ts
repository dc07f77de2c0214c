/**
 * health is the built-in edge's active health checker: every interval it GETs the health path
 * of every attached server. Two consecutive failures mark a server down, one success marks it
 * up again (the rule lives in RoutingTable.recordHealth). A check still running when the next
 * tick comes is not started twice, so a hung server cannot pile up checks.
 */
import { Agent, request } from 'undici';
import type { Logger } from 'pino';
import type { RoutingTable, ServerEntry } from './table.js';

/** HealthChecker runs the checks until stopped. */
export interface HealthChecker {
  /** checkNow runs one round of checks and resolves when all of them have answered. */
  checkNow(): Promise<void>;
  stop(): Promise<void>;
}

/** startHealthChecks starts checking every intervalMs; each check times out after min(intervalMs, 2 s). */
export function startHealthChecks<D>(opts: {
  table: RoutingTable<D>;
  intervalMs: number;
  path: string;
  logger: Logger;
}): HealthChecker {
  const { table, intervalMs, path, logger } = opts;
  const timeoutMs = Math.max(50, Math.min(intervalMs, 2000));
  // A dispatcher of its own: health checks must not queue behind busy data-plane connections.
  const agent = new Agent({
    keepAliveTimeout: Math.max(intervalMs * 2, 1000),
    connections: 4,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs },
  });
  const running = new Set<ServerEntry<D>>();
  let stopped = false;

  const checkOne = async (s: ServerEntry<D>): Promise<void> => {
    if (running.has(s)) return;
    running.add(s);
    const address = s.address;
    let ok: boolean;
    try {
      const r = await request(`http://${address}${path}`, {
        dispatcher: agent,
        method: 'GET',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await r.body.dump();
      ok = r.statusCode >= 200 && r.statusCode < 400;
    } catch {
      ok = false;
    } finally {
      running.delete(s);
    }
    // The server may have been detached or re-addressed while the check ran; then it says nothing.
    if (stopped || table.server(s.poolId, s.id) !== s || s.address !== address) return;
    const before = s.health;
    table.recordHealth(s, ok);
    if (before !== s.health)
      logger.info({ pool: s.poolId, server: s.id, address, health: s.health }, 'edge: server health changed');
  };

  const checkNow = async (): Promise<void> => {
    await Promise.all(table.allServers().map(checkOne));
  };
  const timer = setInterval(() => {
    void checkNow();
  }, intervalMs);
  timer.unref();

  return {
    checkNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await agent.destroy().catch(() => {});
    },
  };
}
