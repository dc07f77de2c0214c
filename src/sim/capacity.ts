/**
 * capacity is the simulator's ground truth for response times: a customer's c servers with w
 * workers each form one M/M/(c·w) queue, and a minute violates the SLA when its p95 response
 * time is above the target. The table of largest rates per server count is the decision
 * logic's (src/core/decision/capacity.ts), so the policy sizes with what it is judged on.
 */
import { mmc } from '../core/agent/index.js';
import type { CapacityTable, QueueSpec } from '../core/decision/capacity.js';

export { capacityTable, serversNeeded, type CapacityTable, type QueueSpec } from '../core/decision/capacity.js';

/** violates tells whether `servers` active servers miss the SLA at rate λ. */
export function violates(t: CapacityTable, lambda: number, servers: number): boolean {
  if (!(lambda > 0)) return false;
  const a = t.lamMax;
  const c = servers < a.length ? servers : a.length - 1;
  return lambda > (a[c] as number);
}

/** meanResponseMs is E[T] in ms of the ground-truth queue (Infinity when overloaded): what a server's probe measures. */
export function meanResponseMs(spec: QueueSpec, lambda: number, servers: number): number {
  if (servers <= 0) return Number.POSITIVE_INFINITY;
  return mmc(lambda, 1000 / spec.serviceMs, servers * spec.workers).meanResponse * 1000;
}
