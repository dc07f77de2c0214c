/**
 * decision is the manager's decision loop (the seed's master decision program, Figure 11): every
 * tick the active manager collects the agents' add/release requests (durable consumer
 * `manager` on the site's requests stream) and statuses, judges failures (silent agents,
 * servers down at the edge, machines the BMC reports off), builds snapshots of the resource and
 * SLA databases, asks the pure logic in src/core/decision for a plan, hands its moves to the
 * dispatcher in order and records the plan with its reasons (GET /v1/plans, `hostfleet explain`).
 * Failed servers are detached at once, replaced through the same plan, and power-cycled back to
 * the cold pool — or quarantined (switched off, out of the pool) when they fail again.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { parseAgentRequest } from '../../../core/agent/messages.js';
import type { AgentStatus } from '../../../core/agent/messages.js';
import {
  checkPlan,
  decide,
  detectFailures,
  perServerRps,
  planWarmPool,
  serversFor,
  TARGET_UTILISATION,
} from '../../../core/decision/index.js';
import type {
  DecisionGroup,
  DecisionRequest,
  DecisionServer,
  FailureSettings,
  FailureVerdict,
  HealthObservation,
  Plan,
  WarmAction,
} from '../../../core/decision/index.js';
import { HostfleetError, isHostfleetError } from '../../../core/errors.js';
import { placeOf } from '../../../core/model/server.js';
import { defaultSla, serverLevels } from '../../../core/model/sla.js';
import { newId } from '../../../drivers/clock/index.js';
import { streams, subjects } from '../../../drivers/bus/index.js';
import type { Subscription } from '../../../drivers/bus/index.js';
import * as ddb from '../../../drivers/store/decision.js';
import * as db from '../../../drivers/store/resources.js';
import type { StoredServer } from '../../../drivers/store/resources.js';
import * as wdb from '../../../drivers/store/warm.js';
import { principalOf } from '../principal.js';
import { requireRole } from '../auth.js';
import type { Component, ManagerContext } from '../context.js';
import type { AgentStatusBoard } from './agent-status-board.js';
import { IdParam } from '../schemas.js';

/** PLANS_KEPT bounds the plans the store keeps (plans that moved nothing are kept a minute). */
export const PLANS_KEPT = 2000;

/**
 * WARM_ACTIONS_PER_TICK bounds the warm-ups and cool-downs one tick starts (within what
 * maxMovesPerTick leaves after the plan's moves): pre-booting is never urgent, and a burst of
 * boots would compete with the moves that serve demand now.
 */
export const WARM_ACTIONS_PER_TICK = 2;

/**
 * SERVING_NUDGE is what the manager sends on `subjects.nudge(site, server)` to the agent of a
 * server that joined its group from the warm pool: until then the agent ran warm (publishing
 * its status marked `warm: true`, counted by nobody, asking nothing). Sent every tick while the
 * agent still reports warm, so a lost message only delays it by a tick.
 */
export interface ServingNudge {
  readonly v: 1;
  readonly kind: 'serving';
  readonly server: string;
  readonly group: string;
}

/** PendingRequest is an agent's request waiting in the balance. */
interface PendingRequest {
  readonly req: DecisionRequest;
  /** servers is how many servers the agent counted when it asked (null when unknown). */
  readonly servers: number | null;
  readonly receivedAt: number;
}

/** MoveOutcome is what became of a planned move when the dispatcher was asked for it. */
export interface MoveOutcome {
  readonly serverId: string;
  readonly moveId: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
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
}

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
};

/** DecisionLoop is the running loop; the component wraps it, tests and benches drive tick() directly. */
export class DecisionLoop {
  private readonly pending = new Map<string, PendingRequest>();
  private readonly edgeDown = new Map<string, number>();
  private readonly power = new Map<string, { at: number; state: 'On' | 'Off' | null; critical: boolean }>();
  private readonly recovering = new Set<string>();
  private requestsSub: Subscription | null = null;
  private ticking: Promise<TickRecord | null> | null = null;
  private lastTick: { at: number; moves: number } | null = null;
  private lastUnmet = '[]';

  constructor(private readonly ctx: DecisionDeps) {}

  private get d() {
    return this.ctx.cfg.decision;
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  /** follow consumes the durable requests while this manager is active, and stops while it stands by (so a standby never eats requests). */
  private async follow(active: boolean): Promise<void> {
    if (active && this.requestsSub === null) {
      const st = streams.requests(this.ctx.siteId);
      await this.ctx.bus.durable.ensureStream({ ...st, maxAgeMs: 3_600_000 });
      this.requestsSub = await this.ctx.bus.durable.consume(
        st.name,
        'manager',
        (data) => {
          const r = parseAgentRequest(data);
          if (!r || r.site !== this.ctx.siteId) return;
          if (this.pending.has(r.id)) return;
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
            receivedAt: this.now(),
          });
        },
        { ackWaitMs: 10_000 },
      );
    } else if (!active && this.requestsSub !== null) {
      const s = this.requestsSub;
      this.requestsSub = null;
      await s.unsubscribe();
    }
  }

  /** status summarises the loop for GET /v1/decision. */
  summary() {
    return {
      active: this.ctx.isLeader(),
      enabled: this.d.enabled,
      pendingRequests: this.pending.size,
      agentsHeard: this.ctx.board.size,
      lastTick: this.lastTick,
    };
  }

  /** lastStatus returns the latest status heard from a server's agent (from the board). */
  lastStatus(serverId: string): AgentStatus | null {
    return this.ctx.board.latest(serverId, this.now())?.status ?? null;
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
    await this.follow(active);
    if (!active) return null;
    const now = this.now();
    const tickId = newId();
    const cooldownWindow = Math.max(this.d.serverCooldownMs, this.d.groupCooldownMs, this.d.reverseCooldownMs);
    const [servers, groups, slas, running, recent, failCounts, kinds] = await Promise.all([
      db.listServers(this.ctx.store),
      db.listGroups(this.ctx.store),
      db.listSlas(this.ctx.store),
      db.listMoves(this.ctx.store, { status: 'running', limit: 1000 }),
      ddb.recentMoves(this.ctx.store, cooldownWindow),
      ddb.recentFailureCounts(this.ctx.store, this.d.quarantineWindowMs),
      wdb.runningKinds(this.ctx.store),
    ]);
    const site = groups.filter((g) => g.siteId === this.ctx.siteId);

    // ---- failures ---------------------------------------------------------------------------
    const failSettings: FailureSettings = {
      heartbeatTimeoutMs: this.d.heartbeatTimeoutMs,
      edgeDownMs: this.d.edgeDownMs,
      graceMs: this.d.graceMs,
      quarantineAfter: this.d.quarantineAfter,
      quarantineWindowMs: this.d.quarantineWindowMs,
    };
    const serving = servers.filter((s) => s.state === 'active' && s.moveId === null && s.groupId !== null);
    await this.observeEdge(now);
    await this.observePower(serving, now);
    const observations: HealthObservation[] = serving.map((s) => ({
      serverId: s.id,
      groupId: s.groupId as string,
      activeSince: Date.parse(s.updatedAt),
      lastStatusAt: this.ctx.board.latest(s.id, now)?.receivedAt ?? null,
      edgeDownSince: this.edgeDown.get(s.id) ?? null,
      power: this.power.get(s.id)?.state ?? null,
      bmcCritical: this.power.get(s.id)?.critical ?? false,
      recentFailures: failCounts.get(s.id) ?? 0,
    }));
    const verdicts = detectFailures(now, observations, failSettings);
    const failed: FailureVerdict[] = [];
    for (const v of verdicts) {
      if (await this.markFailed(v)) failed.push(v);
    }
    // Every failed machine not yet being recovered is power-cycled (moves that failed after a reset end here too).
    for (const s of servers) {
      if (
        s.state === 'failed' &&
        s.moveId === null &&
        !this.recovering.has(s.id) &&
        !failed.some((f) => f.serverId === s.id)
      ) {
        const n = failCounts.get(s.id) ?? 0;
        void this.recover(s.id, n >= this.d.quarantineAfter ? 'quarantine' : 'recycle', n === 0);
      }
    }
    for (const v of failed) void this.recover(v.serverId, v.action, false);

    // ---- snapshot ---------------------------------------------------------------------------
    const failedIds = new Set(failed.map((f) => f.serverId));
    const movedAt = new Map<string, number>();
    for (const m of recent) movedAt.set(m.serverId, Math.max(movedAt.get(m.serverId) ?? 0, m.at));
    // A warm server (or one warming up) is in the pool with the personality of its warmFor group:
    // the logic takes it first for that group, and counts warm-ups in flight towards the warm pool.
    const warmingUp = (s: StoredServer) => s.moveId !== null && kinds.get(s.id) === 'warm-up';
    const snapshot: DecisionServer[] = servers.map((s) => ({
      id: s.id,
      spot: failedIds.has(s.id) || s.state === 'off' || s.state === 'failed' ? 'failed' : placeOf(s),
      groupId: failedIds.has(s.id) ? null : s.state === 'pool-warm' || warmingUp(s) ? (s.warmFor ?? null) : s.groupId,
      temp: s.state === 'pool-warm' || warmingUp(s) ? 'warm' : s.state === 'pool-cold' ? 'cold' : null,
      movedAt: movedAt.get(s.id) ?? null,
    }));
    const slaOf = new Map(slas.map((x) => [x.groupId, x]));
    const joining = new Map<string, number>();
    for (const m of running) if (m.toGroup !== null) joining.set(m.toGroup, (joining.get(m.toGroup) ?? 0) + 1);
    const dgroups: DecisionGroup[] = site.map((g) => {
      const sla = slaOf.get(g.id) ?? defaultSla(g.id);
      const lv = serverLevels(sla);
      return {
        id: g.id,
        minSize: g.minSize,
        maxSize: g.maxSize,
        committed: lv.committed,
        burst: lv.burst,
        extended: lv.extended,
        priority: sla.priority,
        joining: joining.get(g.id) ?? 0,
      };
    });
    const held = new Map<string, number>();
    for (const g of dgroups) held.set(g.id, g.joining);
    for (const s of snapshot)
      if (s.spot === 'group' && s.groupId !== null) held.set(s.groupId, (held.get(s.groupId) ?? 0) + 1);

    // ---- requests ---------------------------------------------------------------------------
    const requests: DecisionRequest[] = [];
    for (const [id, p] of this.pending) {
      if (now - p.receivedAt > this.d.requestTtlMs || !held.has(p.req.groupId)) {
        this.pending.delete(id);
        continue;
      }
      // The agent counted its group when it asked; servers that joined or left since answer it.
      // An add is sized from the decider's measured arrival rate (sizing.ts), so a spike is met
      // in one tick rather than one server per agent cool-down.
      const h = held.get(p.req.groupId) ?? 0;
      const joined = p.servers === null ? 0 : Math.max(0, h - p.servers);
      let count =
        p.servers === null
          ? p.req.count
          : p.req.kind === 'add'
            ? p.req.count - joined
            : p.req.count - Math.max(0, p.servers - h);
      const g = site.find((x) => x.id === p.req.groupId);
      const rate = this.deciderRate(p.req.groupId, now);
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
      requests.push({ ...p.req, count });
    }
    for (const v of failed)
      requests.push({
        id: `failure-${v.serverId}-${tickId}`,
        groupId: v.groupId,
        kind: 'add',
        count: 1,
        urgency: 1,
        source: 'failure',
      });
    if (this.d.fillCommitted) {
      for (const g of dgroups) {
        if (!slaOf.has(g.id)) continue;
        const short =
          Math.max(g.committed, g.minSize) - (held.get(g.id) ?? 0) - failed.filter((f) => f.groupId === g.id).length;
        if (short > 0)
          requests.push({ id: `sla-${g.id}`, groupId: g.id, kind: 'add', count: short, urgency: 1, source: 'sla' });
      }
    }

    // ---- decide and act ---------------------------------------------------------------------
    const input = {
      tickId,
      now,
      servers: snapshot,
      groups: dgroups,
      requests,
      recent,
      settings: {
        maxMovesPerTick: this.d.maxMovesPerTick,
        serverCooldownMs: this.d.serverCooldownMs,
        groupCooldownMs: this.d.groupCooldownMs,
        reverseCooldownMs: this.d.reverseCooldownMs,
        warmPoolSize: this.d.warmPoolSize,
      },
    };
    const plan = decide(input);
    const violations = checkPlan(input, plan);
    const warm = violations.length === 0 ? planWarmPool(input, plan) : [];
    const outcomes: MoveOutcome[] = [];
    if (violations.length > 0) {
      this.ctx.log.error(
        { tick: tickId, violations },
        'the decision logic produced a plan that breaks its invariants; nothing was moved',
      );
    } else {
      for (const m of plan.moves) {
        try {
          const rec = await this.ctx.dispatcher.request({
            serverId: m.serverId,
            toGroup: m.toGroup,
            reason: reasonText(m),
            requestedBy: `decision ${tickId}`,
          });
          outcomes.push({ serverId: m.serverId, moveId: rec.id, error: null });
        } catch (e) {
          const err = isHostfleetError(e)
            ? { code: e.code, message: e.message }
            : { code: 'E_INTERNAL', message: (e as Error).message };
          outcomes.push({ serverId: m.serverId, moveId: null, error: err });
          if (isHostfleetError(e, 'E_NOT_LEADER')) break;
        }
      }
    }
    const warmOutcomes =
      violations.length === 0
        ? await this.carryOutWarm(warm, tickId, Math.max(0, this.d.maxMovesPerTick - plan.moves.length))
        : [];
    await this.nudgeServing(servers, now);
    // A release is answered at once (served or not: the agent offers again). An add stays until
    // it expires, re-sized every tick from the decider's rate, so a spike whose rate is still
    // climbing when the agent asks is met as it grows, within the agent's one request.
    for (const [id, p] of this.pending) if (p.req.kind === 'release') this.pending.delete(id);

    const record: TickRecord = { plan, outcomes, failures: failed, warm, warmOutcomes, requests, violations };
    this.lastTick = { at: now, moves: outcomes.filter((o) => o.moveId !== null).length };
    // A tick is recorded when it did something, or when what it could not do changed (an unmet
    // demand repeated every tick would bury the plans that moved servers).
    const unmetSig = JSON.stringify(plan.unmet);
    const changed = unmetSig !== this.lastUnmet;
    this.lastUnmet = unmetSig;
    if (
      plan.moves.length > 0 ||
      warmOutcomes.some((o) => o.moveId !== null) ||
      failed.length > 0 ||
      violations.length > 0 ||
      (changed && plan.unmet.length > 0)
    ) {
      await ddb
        .insertPlan(this.ctx.store, {
          id: tickId,
          siteId: this.ctx.siteId,
          at: new Date(now),
          leaderToken: 0,
          moves: this.lastTick.moves,
          plan: record,
        })
        .catch((e: unknown) => this.ctx.log.warn({ err: e }, 'could not record the plan'));
    }
    return record;
  }

  /**
   * carryOutWarm starts the warm pool's warm-ups and cool-downs, at most WARM_ACTIONS_PER_TICK
   * and at most `room` (what maxMovesPerTick leaves), in the plan's order (most likely group
   * first). A refusal (the server changed meanwhile) is recorded and retried by a later tick's
   * plan; E_NOT_LEADER stops the tick's actions at once.
   */
  private async carryOutWarm(actions: readonly WarmAction[], tickId: string, room: number): Promise<MoveOutcome[]> {
    const out: MoveOutcome[] = [];
    for (const a of actions.slice(0, Math.min(WARM_ACTIONS_PER_TICK, room))) {
      try {
        const reason =
          a.kind === 'warm'
            ? `warm pool: pre-booted for ${a.groupId ?? '?'}, the group most likely to need a server next`
            : 'warm pool: more warm servers than decision.warmPoolSize';
        const rec = await this.ctx.dispatcher.warm({
          serverId: a.serverId,
          groupId: a.kind === 'warm' ? a.groupId : null,
          reason,
          requestedBy: `decision ${tickId}`,
        });
        out.push({ serverId: a.serverId, moveId: rec.id, error: null });
      } catch (e) {
        const err = isHostfleetError(e)
          ? { code: e.code, message: e.message }
          : { code: 'E_INTERNAL', message: (e as Error).message };
        out.push({ serverId: a.serverId, moveId: null, error: err });
        if (isHostfleetError(e, 'E_NOT_LEADER')) break;
      }
    }
    return out;
  }

  /** nudgeServing tells the agents of servers that joined their group from the warm pool that they now serve (see ServingNudge). */
  private async nudgeServing(servers: readonly StoredServer[], now: number): Promise<void> {
    for (const s of servers) {
      if (s.state !== 'active' || s.moveId !== null || s.groupId === null) continue;
      const st = this.ctx.board.latest(s.id, now)?.status;
      if (st === undefined || !isWarmStatus(st) || st.group !== s.groupId) continue;
      const msg: ServingNudge = { v: 1, kind: 'serving', server: s.id, group: s.groupId };
      await this.ctx.bus
        .publish(subjects.nudge(this.ctx.siteId, s.id), msg)
        .catch((e: unknown) =>
          this.ctx.log.warn({ err: e, server: s.id }, 'could not tell a warm agent it serves now; retrying next tick'),
        );
    }
  }

  /** deciderRate is the arrival rate the group's decider last reported, or null. */
  private deciderRate(groupId: string, now: number): number | null {
    let best: { at: number; rps: number } | null = null;
    for (const id of this.ctx.board.servers(groupId)) {
      const l = this.ctx.board.latest(id, now);
      if (l === null) continue;
      const { receivedAt: at, status } = l;
      if (!status.decider || status.decision === null || isWarmStatus(status)) continue;
      if (best === null || at > best.at) best = { at, rps: status.decision.arrivalRps };
    }
    return best === null || !Number.isFinite(best.rps) ? null : best.rps;
  }

  /** observeEdge remembers since when each server has been down at the edge. */
  private async observeEdge(now: number): Promise<void> {
    let pools;
    try {
      pools = await this.ctx.edge.status();
    } catch {
      // An unreachable edge says nothing about the servers behind it.
      this.edgeDown.clear();
      return;
    }
    const seen = new Set<string>();
    for (const p of pools) {
      for (const s of p.servers) {
        seen.add(s.id);
        if (s.state === 'down') {
          if (!this.edgeDown.has(s.id)) this.edgeDown.set(s.id, now);
        } else this.edgeDown.delete(s.id);
      }
    }
    for (const id of [...this.edgeDown.keys()]) if (!seen.has(id)) this.edgeDown.delete(id);
  }

  /** observePower asks the BMCs for the power state of serving servers, at most every powerPollMs each. */
  private async observePower(serving: readonly StoredServer[], now: number): Promise<void> {
    const due = serving.filter((s) => now - (this.power.get(s.id)?.at ?? 0) >= this.d.powerPollMs);
    const ids = new Set(serving.map((s) => s.id));
    for (const id of [...this.power.keys()]) if (!ids.has(id)) this.power.delete(id);
    await Promise.all(
      due.map(async (s) => {
        let state: 'On' | 'Off' | null;
        let critical = false;
        try {
          const sys = await this.ctx.bmcFor(s.bmcUrl).getSystem(s.systemId);
          state = sys.powerState === 'Off' ? 'Off' : sys.powerState === 'On' ? 'On' : null;
          critical = sys.health === 'Critical';
        } catch {
          state = null;
        }
        this.power.set(s.id, { at: now, state, critical });
      }),
    );
  }

  /** markFailed takes a serving server out of its group and the edge; false when it changed meanwhile. */
  private async markFailed(v: FailureVerdict): Promise<boolean> {
    const ok = await this.ctx.store
      .transaction(async (tx) => {
        await this.ctx.fence?.(tx);
        const s = await db.getServer(tx, v.serverId, true);
        if (!s || s.state !== 'active' || s.moveId !== null || s.groupId !== v.groupId) return false;
        await db.setServerPosition(tx, s.id, { state: 'failed', groupId: null, moveId: null });
        await db.closeAllocation(tx, s.id, this.ctx.clock.now());
        await ddb.insertFailure(tx, { serverId: s.id, groupId: v.groupId, causes: v.causes, action: v.action });
        return true;
      })
      .catch((e: unknown) => {
        this.ctx.log.warn({ err: e, server: v.serverId }, 'could not mark the server failed');
        return false;
      });
    if (!ok) return false;
    this.ctx.log.warn(
      { server: v.serverId, group: v.groupId, causes: v.causes, action: v.action },
      'server failed; detached and replaced',
    );
    await this.ctx.edge
      .detach(v.groupId, v.serverId)
      .catch((e: unknown) =>
        this.ctx.log.warn(
          { err: e, server: v.serverId },
          'could not detach the failed server at the edge (edge-sync retries)',
        ),
      );
    this.edgeDown.delete(v.serverId);
    this.power.delete(v.serverId);
    return true;
  }

  /**
   * recover power-cycles a failed machine: its boot pointer is cleared, it is switched off
   * (which wipes its scratch state), its volume export withdrawn, and it returns to the cold
   * pool — its next power-on is the cycle's second half, with a fresh personality. A machine
   * that failed again is quarantined: left off, out of the pool, for an operator.
   */
  private async recover(serverId: string, action: 'recycle' | 'quarantine', record: boolean): Promise<void> {
    if (this.recovering.has(serverId)) return;
    this.recovering.add(serverId);
    try {
      const s = await db.getServer(this.ctx.store, serverId);
      if (!s || s.state !== 'failed' || s.moveId !== null) return;
      if (record) await ddb.insertFailure(this.ctx.store, { serverId, groupId: null, causes: ['move'], action });
      const bmc = this.ctx.bmcFor(s.bmcUrl);
      await bmc.clearBootPointer(s.systemId).catch(() => undefined);
      await bmc.reset(s.systemId, 'ForceOff');
      await this.ctx.volumes.unexport(s.uuid).catch(() => undefined);
      await this.ctx.store.transaction(async (tx) => {
        await this.ctx.fence?.(tx);
        const cur = await db.getServer(tx, serverId, true);
        if (!cur || cur.state !== 'failed' || cur.moveId !== null) return;
        await db.setServerPosition(tx, serverId, {
          state: action === 'recycle' ? 'pool-cold' : 'off',
          groupId: null,
          moveId: null,
        });
        if (action === 'recycle') await ddb.markRecovered(tx, serverId);
      });
      this.ctx.log.warn(
        { server: serverId, action },
        action === 'recycle'
          ? 'failed server power-cycled back to the cold pool'
          : 'server failed again: quarantined (off, out of the pool)',
      );
    } catch (e) {
      this.ctx.log.warn({ err: e, server: serverId }, 'could not recover the failed server; retrying next tick');
    } finally {
      this.recovering.delete(serverId);
    }
  }

  /** close stops consuming requests and waits for a tick in progress. */
  async close(): Promise<void> {
    await this.ticking?.catch(() => undefined);
    await this.requestsSub?.unsubscribe();
    this.requestsSub = null;
  }
}

/**
 * isWarmStatus tells whether a status comes from the agent of a warm pool server: it carries
 * `warm: true` beside the AgentStatus fields (parseAgentStatus keeps unknown fields), and counts
 * as nobody's member — not for the decider's rate, not as a group's server.
 */
export function isWarmStatus(s: AgentStatus): boolean {
  return (s as AgentStatus & { warm?: unknown }).warm === true;
}

/** reasonText is the one-line reason a move record carries (the full trace is in the plan). */
export function reasonText(m: Plan['moves'][number]): string {
  const src = m.source === 'donor' || m.source === 'offered-release' ? `${m.source} ${m.fromGroup}` : m.source;
  return m.toGroup === null
    ? `release: ${m.fromGroup} offered a server back to the pool`
    : `${m.tier} demand of ${m.toGroup}, served from ${src}`;
}

// Query values arrive as strings (the API does not coerce types).
const PlansQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,3}$', description: 'most plans to return (1–500, default 20)' }),
    ),
    moves: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: only plans that started moves' }),
    ),
  },
  { additionalProperties: false },
);

/** DecisionComponent is the decision component with its loop (tests and benches drive tick()). */
export interface DecisionComponent extends Component {
  readonly loop: DecisionLoop;
}

/** createDecision returns the component that runs the decision loop every decision.tickMs and serves its plans. */
export function createDecision(ctx: DecisionDeps): DecisionComponent {
  const loop = new DecisionLoop(ctx);
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let prunedAt = 0;
  const run = async () => {
    try {
      await loop.tick();
      const now = ctx.clock.now().getTime();
      if (now - prunedAt > 60_000) {
        prunedAt = now;
        await ddb.prunePlans(ctx.store, PLANS_KEPT);
      }
    } catch (e) {
      ctx.log.warn({ err: e }, 'decision tick failed; retrying at the next tick');
    }
    if (!stopped) timer = setTimeout(() => void run(), ctx.cfg.decision.tickMs);
  };
  return {
    name: 'decision',
    loop,
    async routes(app: FastifyInstance) {
      app.get(
        '/v1/plans',
        {
          schema: {
            tags: ['decision'],
            summary: 'recent decision plans with their reason traces, newest first',
            querystring: PlansQuery,
          },
        },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          const q = req.query as typeof PlansQuery.static;
          return {
            plans: await ddb.listPlans(ctx.store, {
              limit: q.limit === undefined ? 20 : Number(q.limit),
              withMoves: q.moves === 'true',
            }),
          };
        },
      );
      app.get(
        '/v1/plans/:id',
        { schema: { tags: ['decision'], summary: 'one decision plan', params: IdParam } },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          const id = (req.params as { id: string }).id;
          const p = await ddb.getPlan(ctx.store, id);
          if (!p)
            throw new HostfleetError(
              'E_NOT_FOUND',
              `plan ${id} does not exist (plans that moved nothing are kept one minute); list plans with GET /v1/plans`,
            );
          return p;
        },
      );
      app.get(
        '/v1/failures',
        { schema: { tags: ['decision'], summary: 'recent server failures and what was done' } },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          return { failures: await ddb.listFailures(ctx.store, 100) };
        },
      );
      app.get(
        '/v1/decision',
        { schema: { tags: ['decision'], summary: "the decision loop's state and the site lease" } },
        async (req) => {
          requireRole(principalOf(req), ['operator']);
          return { ...loop.summary(), lease: await ddb.getLease(ctx.store, ctx.siteId) };
        },
      );
    },
    async start() {
      if (!ctx.cfg.decision.enabled) return;
      timer = setTimeout(() => void run(), ctx.cfg.decision.tickMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await loop.close();
    },
  };
}
