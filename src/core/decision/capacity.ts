/**
 * capacity answers "how many servers carry this rate within the SLA": a group's c servers with w
 * workers each form one M/M/(c·w) queue (src/core/agent's Erlang C), and the SLA is met when
 * P(T ≤ target) ≥ percentile. The decision tick sizes groups with it and the simulator judges
 * minutes with the same table, so what the policy aims for and what it is judged on agree.
 *
 * Aggregation: P(T ≤ target) falls as the arrival rate rises, so for every server count c there
 * is one largest rate λmax[c] that still meets the SLA. The table is computed once per
 * (service time, workers, target, percentile) by bisection, and each question then costs a
 * binary search instead of an Erlang C evaluation.
 */
import { responseCdf } from '../agent/index.js';

/** QueueSpec describes one customer's servers and SLA target. */
export interface QueueSpec {
  /** serviceMs is the mean service time of one request on one worker. */
  readonly serviceMs: number;
  /** workers per server: requests one server serves at once. */
  readonly workers: number;
  readonly targetMs: number;
  /** percentile the target applies to (0.95 = p95). */
  readonly percentile: number;
}

/** CapacityTable holds λmax[c] for c = 0 … length − 1 (requests per second). */
export interface CapacityTable {
  readonly spec: QueueSpec;
  readonly lamMax: Float64Array;
}

function meets(spec: QueueSpec, lambda: number, c: number): boolean {
  const mu = 1000 / spec.serviceMs;
  return responseCdf(spec.targetMs / 1000, lambda, mu, c * spec.workers) >= spec.percentile;
}

/** capacityTable computes λmax for 0 … maxServers servers (λmax[0] = 0: no server serves nothing). */
export function capacityTable(spec: QueueSpec, maxServers: number): CapacityTable {
  const lamMax = new Float64Array(maxServers + 1);
  const mu = 1000 / spec.serviceMs;
  for (let c = 1; c <= maxServers; c++) {
    if (!meets(spec, 1e-9, c)) {
      lamMax[c] = 0; // the target is below what even an idle server gives: never met
      continue;
    }
    let lo = lamMax[c - 1] as number;
    let hi = c * spec.workers * mu;
    for (let i = 0; i < 48 && hi - lo > 1e-6 * hi; i++) {
      const mid = (lo + hi) / 2;
      if (meets(spec, mid, c)) lo = mid;
      else hi = mid;
    }
    lamMax[c] = lo;
  }
  return { spec, lamMax };
}

/** serversNeeded is the smallest c with λ ≤ λmax[c], or the table's length when even its largest c is not enough. */
export function serversNeeded(t: CapacityTable, lambda: number): number {
  if (!(lambda > 0)) return 0;
  const a = t.lamMax;
  let lo = 1;
  let hi = a.length - 1;
  if ((a[hi] as number) < lambda) return a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) >= lambda) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// One table per queue spec, shared by every caller: a table is a pure function of its spec.
// Callers that keep their spec objects (the simulator, a manager between ticks) hit the
// identity cache and skip building the key.
const tables = new Map<string, CapacityTable>();
const bySpec = new WeakMap<QueueSpec, CapacityTable>();

/** tableFor returns the table of a queue spec covering at least maxServers (memoised: the decision tick asks every tick). */
export function tableFor(spec: QueueSpec, maxServers: number): CapacityTable {
  const hit = bySpec.get(spec);
  if (hit !== undefined && hit.lamMax.length > maxServers) return hit;
  const key = `${spec.serviceMs}/${spec.workers}/${spec.targetMs}/${spec.percentile}`;
  let t = tables.get(key);
  if (t === undefined || t.lamMax.length <= maxServers) {
    t = capacityTable(spec, Math.max(maxServers, 2 * ((t?.lamMax.length ?? 32) - 1)));
    tables.set(key, t);
  }
  bySpec.set(spec, t);
  return t;
}
