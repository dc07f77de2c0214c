/**
 * agent-status-board is the manager's one view of its agents: the latest status each agent
 * sent over the management bus and a bounded history of the figures operators graph. The
 * agents component feeds it; the API, the decision loop (heartbeats, the decider's rate, warm
 * agents) and the console's charts all read this one board, so the site's agents are followed
 * once.
 */
import type { AgentStatus } from '../../../core/agent/messages.js';

/** HISTORY_MS is how far back the manager keeps each server's status points. */
export const HISTORY_MS = 10 * 60_000;
/** HISTORY_POINTS bounds each server's history whatever its tick (10 minutes at 1 s). */
export const HISTORY_POINTS = 600;
/** MAX_SERVERS bounds how many servers' statuses are kept, so a flood of invented server ids cannot exhaust memory. */
export const MAX_SERVERS = 20_000;

/** StatusPoint is one history entry: the figures an operator graphs, not the whole status. */
export interface StatusPoint {
  readonly at: number;
  readonly group: string;
  readonly rps: number;
  readonly p95Ms: number | null;
  readonly queued: number;
  readonly errorRate: number;
  readonly cpuPct: number | null;
  readonly need: number | null;
  readonly healthy: boolean;
}

/** pointOf reduces a status to a history point. */
export function pointOf(s: AgentStatus): StatusPoint {
  return {
    at: s.at,
    group: s.group,
    rps: s.load.rps,
    p95Ms: s.load.p95Ms,
    queued: s.load.queued,
    errorRate: s.load.errorRate,
    cpuPct: s.load.cpuPct,
    need: s.decision?.need ?? null,
    healthy: s.healthy,
  };
}

interface Entry {
  latest: AgentStatus;
  /** receivedAt is the manager's clock when the latest arrived (ms since the epoch). */
  receivedAt: number;
  readonly ring: (StatusPoint | undefined)[];
  next: number;
  size: number;
}

/**
 * AgentStatusBoard keeps the latest status per server and a ring of history points per
 * server, bounded in time (HISTORY_MS), in points (HISTORY_POINTS) and in servers (MAX_SERVERS,
 * the one heard from longest ago is dropped first).
 */
export class AgentStatusBoard {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limits: { points: number; historyMs: number; servers: number } = {
      points: HISTORY_POINTS,
      historyMs: HISTORY_MS,
      servers: MAX_SERVERS,
    },
  ) {}

  /** record keeps a status received at receivedAt; a status older than the latest (a reordered or replayed one) is ignored. */
  record(s: AgentStatus, receivedAt: number): boolean {
    let e = this.entries.get(s.server);
    if (e !== undefined && (s.at < e.latest.at || (s.boot === e.latest.boot && s.seq <= e.latest.seq))) return false;
    if (e === undefined) {
      if (this.entries.size >= this.limits.servers) this.evictOldest();
      e = { latest: s, receivedAt, ring: new Array<StatusPoint | undefined>(this.limits.points), next: 0, size: 0 };
      this.entries.set(s.server, e);
    }
    e.latest = s;
    e.receivedAt = receivedAt;
    e.ring[e.next] = pointOf(s);
    e.next = (e.next + 1) % this.limits.points;
    if (e.size < this.limits.points) e.size++;
    // Map order is insertion order: re-inserting keeps the least recently heard first.
    this.entries.delete(s.server);
    this.entries.set(s.server, e);
    return true;
  }

  private evictOldest(): void {
    const first = this.entries.keys().next();
    if (!first.done) this.entries.delete(first.value);
  }

  /** latest is a server's latest status with when it arrived (the manager's clock) and its age, or null. */
  latest(
    server: string,
    now: number,
  ): { status: AgentStatus; receivedAt: number; ageMs: number; stale: boolean } | null {
    const e = this.entries.get(server);
    if (e === undefined) return null;
    const ageMs = Math.max(0, now - e.receivedAt);
    return { status: e.latest, receivedAt: e.receivedAt, ageMs, stale: ageMs > 3 * e.latest.tickMs };
  }

  /** history is a server's points newer than now − historyMs, oldest first; `group` keeps only points taken while it served that group. */
  history(server: string, now: number, group?: string): StatusPoint[] {
    const e = this.entries.get(server);
    if (e === undefined) return [];
    const out: StatusPoint[] = [];
    const n = this.limits.points;
    for (let i = 0; i < e.size; i++) {
      const p = e.ring[(e.next - e.size + i + n) % n];
      if (p === undefined || now - p.at > this.limits.historyMs) continue;
      if (group !== undefined && p.group !== group) continue;
      out.push(p);
    }
    return out;
  }

  /** servers lists the servers whose latest status names group (all servers without a group). */
  servers(group?: string): string[] {
    const out: string[] = [];
    for (const [id, e] of this.entries) if (group === undefined || e.latest.group === group) out.push(id);
    return out.sort();
  }

  /** forget drops servers not heard from for longer than the history window. */
  sweep(now: number): void {
    for (const [id, e] of this.entries) if (now - e.receivedAt > this.limits.historyMs) this.entries.delete(id);
  }

  /** size is how many servers are tracked. */
  get size(): number {
    return this.entries.size;
  }
}
