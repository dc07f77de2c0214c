/**
 * intake is the decision loop's side of the agents' add/release requests: it consumes the
 * durable requests stream (consumer `manager`) while this manager is active, keeps each request
 * until it is answered or expires, and hands the decision tick what each group's agents ask.
 * It also reads the deciders' measured and forecast rates off the agent status board.
 */
import { parseAgentRequest } from '../../../../core/agent/messages.js';
import type { AgentStatus } from '../../../../core/agent/messages.js';
import type { AgentAsk, DecisionRequest } from '../../../../core/decision/index.js';
import { streams } from '../../../../drivers/bus/index.js';
import type { Subscription } from '../../../../drivers/bus/index.js';
import type { AgentStatusBoard } from '../agent-status-board.js';
import type { DecisionDeps } from './loop.js';
import { isWarmStatus } from './warm.js';

/** PendingRequest is an agent's request waiting in the balance. */
interface PendingRequest {
  readonly req: DecisionRequest;
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
      receivedAt: this.ctx.clock.now().getTime(),
    });
  }

  /**
   * asks returns, per group, what its agents ask this tick: the most urgent open request (an
   * add before a release, then the latest). The tick sizes groups itself; an agent's add says
   * its response time is off target now, which earns the group one server even when the
   * forecast bound does not. Expired requests and those of groups no longer held leave.
   */
  asks(now: number, ttlMs: number, groups: ReadonlySet<string>): Map<string, AgentAsk> {
    const out = new Map<string, { ask: AgentAsk; at: number }>();
    for (const [id, p] of this.pending) {
      if (now - p.receivedAt > ttlMs || !groups.has(p.req.groupId)) {
        this.pending.delete(id);
        continue;
      }
      const ask: AgentAsk = {
        id: p.req.id,
        kind: p.req.kind,
        urgency: p.req.urgency,
        serverId: p.req.serverId ?? null,
      };
      const was = out.get(p.req.groupId);
      const better =
        was === undefined ||
        (ask.kind === 'add' && was.ask.kind === 'release') ||
        (ask.kind === was.ask.kind && p.receivedAt > was.at);
      if (better) out.set(p.req.groupId, { ask, at: p.receivedAt });
    }
    return new Map([...out].map(([g, v]) => [g, v.ask]));
  }

  /**
   * answer drops a tick's answered requests: every release (served or not, the agent offers
   * again) and the adds of groups that received a server this tick. An unanswered add stays
   * until it expires, so an agent is heard until its group gets a server.
   */
  answer(served: ReadonlySet<string>): void {
    for (const [id, p] of this.pending)
      if (p.req.kind === 'release' || served.has(p.req.groupId)) this.pending.delete(id);
  }

  /** close stops consuming requests. */
  async close(): Promise<void> {
    await this.sub?.unsubscribe();
    this.sub = null;
  }
}

/**
 * deciderRates are the arrival rate the group's decider last measured and the forecast it last
 * reported (null when no decider has reported, or an older agent sends no forecast), from one
 * walk over the group's latest statuses on the board.
 */
export function deciderRates(
  board: AgentStatusBoard,
  groupId: string,
  now: number,
): { measuredRps: number | null; forecastRps: number | null } {
  let best: { at: number; decision: NonNullable<AgentStatus['decision']> } | null = null;
  for (const id of board.servers(groupId)) {
    const l = board.latest(id, now);
    if (l === null) continue;
    const { receivedAt: at, status } = l;
    if (!status.decider || status.decision === null || isWarmStatus(status)) continue;
    if (best === null || at > best.at) best = { at, decision: status.decision };
  }
  if (best === null) return { measuredRps: null, forecastRps: null };
  const { arrivalRps, forecastRps } = best.decision;
  return { measuredRps: Number.isFinite(arrivalRps) ? arrivalRps : null, forecastRps: forecastRps ?? null };
}
