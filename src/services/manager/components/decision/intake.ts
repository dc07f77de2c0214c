/**
 * intake is the decision loop's side of the agents' add/release requests: it consumes the
 * durable requests stream (consumer `manager`) while this manager is active, keeps each request
 * in the balance until it is answered or expires, and sizes it every tick from what happened
 * since the agent asked — servers that joined or left, and the decider's measured rate.
 */
import { parseAgentRequest } from '../../../../core/agent/messages.js';
import { perServerRps, serversFor, TARGET_UTILISATION } from '../../../../core/decision/index.js';
import type { DecisionRequest } from '../../../../core/decision/index.js';
import type { GroupRecord } from '../../../../core/model/records.js';
import { streams } from '../../../../drivers/bus/index.js';
import type { Subscription } from '../../../../drivers/bus/index.js';
import type { AgentStatusBoard } from '../agent-status-board.js';
import type { DecisionDeps } from './loop.js';
import { isWarmStatus } from './warm.js';

/** PendingRequest is an agent's request waiting in the balance. */
interface PendingRequest {
  readonly req: DecisionRequest;
  /** servers is how many servers the agent counted when it asked (null when unknown). */
  readonly servers: number | null;
  readonly receivedAt: number;
}

/** RequestIntake holds the agents' requests between ticks. */
export class RequestIntake {
  private readonly pending = new Map<string, PendingRequest>();
  private sub: Subscription | null = null;

  constructor(private readonly ctx: Pick<DecisionDeps, 'siteId' | 'bus' | 'clock' | 'board'>) {}

  /** size is how many requests wait in the balance. */
  get size(): number {
    return this.pending.size;
  }

  /** follow consumes the durable requests while this manager is active, and stops while it stands by (so a standby never eats requests). */
  async follow(active: boolean): Promise<void> {
    if (active && this.sub === null) {
      const st = streams.requests(this.ctx.siteId);
      await this.ctx.bus.durable.ensureStream({ ...st, maxAgeMs: 3_600_000 });
      this.sub = await this.ctx.bus.durable.consume(st.name, 'manager', (data) => this.take(data), {
        ackWaitMs: 10_000,
      });
    } else if (!active && this.sub !== null) {
      const s = this.sub;
      this.sub = null;
      await s.unsubscribe();
    }
  }

  private take(data: unknown): void {
    const r = parseAgentRequest(data);
    if (!r || r.site !== this.ctx.siteId || this.pending.has(r.id)) return;
    this.pending.set(r.id, {
      // An add asked before the target is missed now (urgency below 1) comes from the predictor's horizon.
      req: {
        id: r.id,
        groupId: r.group,
        kind: r.kind,
        count: 1,
        urgency: r.urgency,
        source: r.kind === 'add' && r.urgency < 1 ? 'predicted' : 'agent',
        serverId: r.server,
      },
      servers: r.servers,
      receivedAt: this.ctx.clock.now().getTime(),
    });
  }

  /**
   * balance returns the requests still open this tick, each sized: the agent counted its group
   * when it asked, and servers that joined or left since answer it. An add is sized from the
   * decider's measured arrival rate (sizing.ts), so a spike is met in one tick rather than one
   * server per agent cool-down. Expired requests, those of groups no longer held, and those
   * fully answered leave the balance.
   */
  balance(
    now: number,
    ttlMs: number,
    held: ReadonlyMap<string, number>,
    groups: readonly GroupRecord[],
  ): DecisionRequest[] {
    const out: DecisionRequest[] = [];
    for (const [id, p] of this.pending) {
      if (now - p.receivedAt > ttlMs || !held.has(p.req.groupId)) {
        this.pending.delete(id);
        continue;
      }
      const h = held.get(p.req.groupId) ?? 0;
      const joined = p.servers === null ? 0 : Math.max(0, h - p.servers);
      let count =
        p.servers === null
          ? p.req.count
          : p.req.kind === 'add'
            ? p.req.count - joined
            : p.req.count - Math.max(0, p.servers - h);
      const g = groups.find((x) => x.id === p.req.groupId);
      const rate = deciderRate(this.ctx.board, p.req.groupId, now);
      if (p.req.kind === 'add' && g && rate !== null) {
        // At least the one server asked for; once servers joined since the ask, only what the rate still needs.
        const need = serversFor(rate, perServerRps(g.runtime), TARGET_UTILISATION);
        if (need !== null) count = joined > 0 ? need - h : Math.max(1, need - h);
      }
      if (count <= 0) {
        // A sized add stays in the balance until it expires: the rate may still be climbing.
        if (p.req.kind !== 'add' || rate === null) this.pending.delete(id);
        continue;
      }
      out.push({ ...p.req, count });
    }
    return out;
  }

  /**
   * answerReleases drops the release requests after a tick. A release is answered at once
   * (served or not: the agent offers again). An add stays until it expires, re-sized every tick
   * from the decider's rate, so a spike whose rate is still climbing when the agent asks is met
   * as it grows, within the agent's one request.
   */
  answerReleases(): void {
    for (const [id, p] of this.pending) if (p.req.kind === 'release') this.pending.delete(id);
  }

  /** close stops consuming requests. */
  async close(): Promise<void> {
    await this.sub?.unsubscribe();
    this.sub = null;
  }
}

/** deciderRate is the arrival rate the group's decider last reported on the board, or null. */
export function deciderRate(board: AgentStatusBoard, groupId: string, now: number): number | null {
  let best: { at: number; rps: number } | null = null;
  for (const id of board.servers(groupId)) {
    const l = board.latest(id, now);
    if (l === null) continue;
    const { receivedAt: at, status } = l;
    if (!status.decider || status.decision === null || isWarmStatus(status)) continue;
    if (best === null || at > best.at) best = { at, rps: status.decision.arrivalRps };
  }
  return best === null || !Number.isFinite(best.rps) ? null : best.rps;
}
