/**
 * loop is the decision loop's tick (the seed's master decision program, Figure 11). Its steps
 * run in this order, each needing the one before: follow the requests stream (active manager
 * only), judge failures (so failed servers are out of the snapshot and replaced in the same
 * plan), snapshot the resource and SLA databases, balance the requests against it, ask the pure
 * logic for a plan and check its invariants, hand its moves to the dispatcher in order, then
 * the warm pool's actions with what room is left, and record the plan with its reasons.
 */
import type { AgentStatus } from '../../../../core/agent/messages.js';
import { checkPlan, newTickState, tick } from '../../../../core/decision/index.js';
import type {
  DecisionRequest,
  FailureVerdict,
  Plan,
  Sizing,
  TickResult,
  WarmAction,
} from '../../../../core/decision/index.js';
import { newId } from '../../../../drivers/clock/index.js';
import * as ddb from '../../../../drivers/store/decision.js';
import * as db from '../../../../drivers/store/resources.js';
import * as wdb from '../../../../drivers/store/warm.js';
import type { ManagerContext } from '../../context.js';
import type { AgentStatusBoard } from '../agent-status-board.js';
import { FailureHandler } from './failures.js';
import { deciderRates, RequestIntake } from './intake.js';
import { outcomeOf } from './outcome.js';
import type { MoveOutcome } from './outcome.js';
import { snapshotOf, tickGroups } from './snapshot.js';
import { carryOutWarm, nudgeServing } from './warm.js';

/**
 * DecisionDeps are what the decision loop judges, decides and acts through. board is the site's
 * agent status board (the agents component feeds it from the bus): heartbeats, the decider's
 * rate and warm agents are read there, not followed a second time.
 */
export type DecisionDeps = Pick<
  ManagerContext,
  | 'cfg'
  | 'siteId'
  | 'store'
  | 'log'
  | 'clock'
  | 'bus'
  | 'dispatcher'
  | 'edge'
  | 'volumes'
  | 'bmcFor'
  | 'isLeader'
  | 'fence'
> & {
  readonly board: AgentStatusBoard;
  /** remoteRps, when the site borrows servers of other sites, adds what they serve to a group's measured rate. */
  readonly remoteRps?: (groupId: string) => number;
};

/**
 * SiteOutlook is what the last tick concluded about each of the site's groups, for the report
 * to the global coordinator: servers wanted (the sizing, capped at the extended level), held
 * here, and left unmet for want of supply.
 */
export interface SiteOutlook {
  readonly at: number;
  readonly groups: ReadonlyMap<string, { readonly want: number; readonly held: number; readonly unmet: number }>;
}

/** TickRecord is what a tick recorded: the pure plan, what the dispatcher made of it, failures and warm-pool actions. */
export interface TickRecord {
  readonly plan: Plan;
  readonly outcomes: readonly MoveOutcome[];
  readonly failures: readonly FailureVerdict[];
  readonly warm: readonly WarmAction[];
  /** warmOutcomes says what became of each warm action carried out this tick (bounded per tick). */
  readonly warmOutcomes: readonly MoveOutcome[];
  readonly requests: readonly DecisionRequest[];
  readonly violations: readonly unknown[];
  /** sizings are the tick's conclusion for each group that asked: its quantile level, upper rate bound and servers wanted. */
  readonly sizings: readonly Sizing[];
  readonly warmTarget: number;
  /** offsite is demand the site could not supply (what it would ask other sites for). */
  readonly offsite: TickResult['offsite'];
}

/** DEFAULT_LEAD_MS is the lead of a site that has not yet moved a server from its pool: a typical cold boot. */
export const DEFAULT_LEAD_MS = 120_000;

/** DecisionLoop is the running loop; the component wraps it, tests and benches drive tick() directly. */
export class DecisionLoop {
  private readonly intake: RequestIntake;
  private readonly failures: FailureHandler;
  private ticking: Promise<TickRecord | null> | null = null;
  private lastTick: { at: number; moves: number } | null = null;
  private lastUnmet = '[]';
  private readonly state = newTickState();
  private lead: { at: number; ms: number; known: boolean } | null = null;
  /** outlook is the last tick's conclusion per group (null before the first tick as the active manager). */
  outlook: SiteOutlook | null = null;

  constructor(private readonly ctx: DecisionDeps) {
    this.intake = new RequestIntake(ctx);
    this.failures = new FailureHandler(ctx);
  }

  private get d() {
    return this.ctx.cfg.decision;
  }

  /** summary describes the loop for GET /v1/decision. */
  summary() {
    return {
      active: this.ctx.isLeader(),
      enabled: this.d.enabled,
      pendingRequests: this.intake.size,
      agentsHeard: this.ctx.board.size,
      lastTick: this.lastTick,
    };
  }

  /** lastStatus returns the latest status heard from a server's agent (from the board). */
  lastStatus(serverId: string): AgentStatus | null {
    return this.ctx.board.latest(serverId, this.ctx.clock.now().getTime())?.status ?? null;
  }

  /** tick runs one decision tick (at most one at a time); null when this manager is not active. */
  tick(): Promise<TickRecord | null> {
    this.ticking ??= this.runTick().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async runTick(): Promise<TickRecord | null> {
    const active = this.ctx.isLeader();
    await this.intake.follow(active);
    if (!active) return null;
    const { store, siteId } = this.ctx;
    const now = this.ctx.clock.now().getTime();
    const tickId = newId();
    const cooldownWindow = Math.max(this.d.serverCooldownMs, this.d.groupCooldownMs, this.d.reverseCooldownMs);
    const [servers, groups, slas, running, recent, failCounts, kinds] = await Promise.all([
      db.listServers(store),
      db.listGroups(store),
      db.listSlas(store),
      db.listMoves(store, { status: 'running', limit: 1000 }),
      ddb.recentMoves(store, cooldownWindow),
      ddb.recentFailureCounts(store, this.d.quarantineWindowMs),
      wdb.runningKinds(store),
    ]);
    const site = groups.filter((g) => g.siteId === siteId);
    const failed = await this.failures.judge(now, servers, failCounts);
    const snap = snapshotOf({ servers, groups: site, slas, running, recent, kinds, failed });
    const asks = this.intake.asks(now, this.d.requestTtlMs, new Set(site.map((g) => g.id)));
    const requests = [...this.replacements(failed, tickId), ...this.committedShortfalls(snap, failed)];
    const leadMs = await this.leadMs();
    const result = tick(this.state, {
      tickId,
      now,
      groups: tickGroups(snap, site, asks, (g) => this.rates(g, now)),
      servers: snap.servers,
      requests,
      recent,
      settings: {
        maxMovesPerTick: this.d.maxMovesPerTick,
        serverCooldownMs: this.d.serverCooldownMs,
        groupCooldownMs: this.d.groupCooldownMs,
        reverseCooldownMs: this.d.reverseCooldownMs,
        warmPoolSize: 0,
        warmPool: this.d.warmPoolSize,
        cost: { violationCost: this.d.violationCost },
        leadMs,
        holdMs: leadMs,
      },
    });
    const unmet = new Map(result.offsite.map((u) => [u.groupId, u.count]));
    const wants = new Map(result.sizings.map((z) => [z.groupId, z.want]));
    this.outlook = {
      at: now,
      groups: new Map(
        snap.groups.map((g) => [
          g.id,
          {
            want: Math.min(g.extended, wants.get(g.id) ?? snap.held.get(g.id) ?? 0),
            held: snap.held.get(g.id) ?? 0,
            unmet: unmet.get(g.id) ?? 0,
          },
        ]),
      ),
    };
    const plan = result.plan;
    const input = result.input;
    const violations = input === null ? [] : checkPlan(input, plan);
    const warm = violations.length === 0 ? result.warm : [];
    const outcomes: MoveOutcome[] = [];
    if (violations.length > 0) {
      this.ctx.log.error(
        { tick: tickId, violations },
        'the decision logic produced a plan that breaks its invariants; nothing was moved',
      );
    } else {
      for (const m of plan.moves) {
        const o = await outcomeOf(m.serverId, () =>
          this.ctx.dispatcher.request({
            serverId: m.serverId,
            toGroup: m.toGroup,
            reason: reasonText(m),
            requestedBy: `decision ${tickId}`,
          }),
        );
        outcomes.push(o.outcome);
        if (o.stop) break;
      }
    }
    const room = Math.max(0, this.d.maxMovesPerTick - plan.moves.length);
    const warmOutcomes = violations.length === 0 ? await carryOutWarm(this.ctx, warm, tickId, room) : [];
    await nudgeServing(this.ctx, servers, now);

    this.intake.answer(new Set(plan.moves.flatMap((m) => (m.toGroup === null ? [] : [m.toGroup]))));
    const asked = new Set(result.requests.map((r) => r.groupId));
    const record: TickRecord = {
      plan,
      outcomes,
      failures: failed,
      warm,
      warmOutcomes,
      requests: result.requests,
      violations,
      // Only the groups that asked: the sizings explain the moves, and a site of a thousand groups
      // would otherwise store a thousand with every plan.
      sizings: result.sizings.filter((z) => asked.has(z.groupId)),
      warmTarget: result.warmTarget,
      offsite: result.offsite,
    };
    this.lastTick = { at: now, moves: outcomes.filter((o) => o.moveId !== null).length };
    await this.remember(record, tickId, now);
    return record;
  }

  /** rates are the decider's measured and forecast rates, plus what servers lent by other sites serve. */
  private rates(groupId: string, now: number): { measuredRps: number | null; forecastRps: number | null } {
    const r = deciderRates(this.ctx.board, groupId, now);
    const extra = this.ctx.remoteRps?.(groupId) ?? 0;
    if (extra <= 0) return r;
    return {
      measuredRps: (r.measuredRps ?? 0) + extra,
      forecastRps: r.forecastRps === null ? null : r.forecastRps + extra,
    };
  }

  /**
   * leadMs is decision.leadMs, or with 'auto' the median of the site's recent joins from the
   * pool: re-read every minute once known, every few seconds until the site has joined a server.
   */
  private async leadMs(): Promise<number> {
    if (this.d.leadMs !== 'auto') return this.d.leadMs;
    const now = this.ctx.clock.now().getTime();
    if (this.lead === null || now - this.lead.at > (this.lead.known ? 60_000 : 5_000)) {
      const ms = await ddb.medianJoinMs(this.ctx.store, this.ctx.siteId).catch(() => null);
      const known = ms !== null && ms > 0;
      this.lead = { at: now, known, ms: known ? Math.max(100, Math.round(ms)) : DEFAULT_LEAD_MS };
    }
    return this.lead.ms;
  }

  /** replacements asks for a server for the group of every server failed this tick. */
  private replacements(failed: readonly FailureVerdict[], tickId: string): DecisionRequest[] {
    return failed.map((v) => ({
      id: `failure-${v.serverId}-${tickId}`,
      groupId: v.groupId,
      kind: 'add',
      count: 1,
      urgency: 1,
      source: 'failure',
    }));
  }

  /** committedShortfalls brings groups with a recorded SLA up to their committed level (and minimum size) without waiting for a request. */
  private committedShortfalls(
    snap: ReturnType<typeof snapshotOf>,
    failed: readonly FailureVerdict[],
  ): DecisionRequest[] {
    if (!this.d.fillCommitted) return [];
    const out: DecisionRequest[] = [];
    for (const g of snap.groups) {
      if (!snap.slaOf.has(g.id)) continue;
      const short =
        Math.max(g.committed, g.minSize) - (snap.held.get(g.id) ?? 0) - failed.filter((f) => f.groupId === g.id).length;
      if (short > 0)
        out.push({ id: `sla-${g.id}`, groupId: g.id, kind: 'add', count: short, urgency: 1, source: 'sla' });
    }
    return out;
  }

  /**
   * remember records a tick when it did something, or when what it could not do changed (an
   * unmet demand repeated every tick would bury the plans that moved servers).
   */
  private async remember(record: TickRecord, tickId: string, now: number): Promise<void> {
    const { plan, failures, violations, warmOutcomes } = record;
    const unmetSig = JSON.stringify(plan.unmet);
    const changed = unmetSig !== this.lastUnmet;
    this.lastUnmet = unmetSig;
    const did =
      plan.moves.length > 0 ||
      warmOutcomes.some((o) => o.moveId !== null) ||
      failures.length > 0 ||
      violations.length > 0;
    if (!did && !(changed && plan.unmet.length > 0)) return;
    const row = {
      id: tickId,
      siteId: this.ctx.siteId,
      at: new Date(now),
      leaderToken: 0,
      moves: this.lastTick?.moves ?? 0,
      plan: record,
    };
    await ddb
      .insertPlan(this.ctx.store, row)
      .catch((e: unknown) => this.ctx.log.warn({ err: e }, 'could not record the plan'));
  }

  /** close stops consuming requests and waits for a tick in progress. */
  async close(): Promise<void> {
    await this.ticking?.catch(() => undefined);
    await this.intake.close();
  }
}

/** reasonText is the one-line reason a move record carries (the full trace is in the plan). */
export function reasonText(m: Plan['moves'][number]): string {
  const src = m.source === 'donor' || m.source === 'offered-release' ? `${m.source} ${m.fromGroup}` : m.source;
  return m.toGroup === null
    ? `release: ${m.fromGroup} offered a server back to the pool`
    : `${m.tier} demand of ${m.toGroup}, served from ${src}`;
}
