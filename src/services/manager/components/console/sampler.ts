/**
 * sampler keeps what the console's live charts and server meters draw: every SAMPLE_INTERVAL_MS
 * it reads each active server's latest status from the agent status board — what its agent
 * reported over the management bus — and appends one point per group to a short history. The
 * manager watches the customers' servers over the management channel only, never over the
 * customer network.
 */
import { defaultSla } from '../../../../core/model/sla.js';
import * as db from '../../../../drivers/store/resources.js';
import type { ManagerContext } from '../../context.js';
import type { AgentStatusBoard } from '../agent-status-board.js';
import { isWarmStatus } from '../decision/index.js';

/** SAMPLE_INTERVAL_MS is how often the console samples each group's load for its charts. */
export const SAMPLE_INTERVAL_MS = 2000;
/** SAMPLE_HISTORY is how many samples per group the charts can show (10 minutes). */
export const SAMPLE_HISTORY = 300;

/** GroupSample is one point of a group's live charts. */
export interface GroupSample {
  readonly t: number;
  readonly servers: number;
  /** rps is requests per second the group's servers completed, as their agents last reported. */
  readonly rps: number;
  /** p95Ms is the highest of the servers' p95 response times over their agents' last tick; null without traffic. */
  readonly p95Ms: number | null;
  /** targetMs is the p95 response-time target of the group's SLA (the default agreement's when none is recorded). */
  readonly targetMs: number;
  /** busy is the share of the group's worker slots in use, 0..1. */
  readonly busy: number;
}

/** ServerMeter is one server's latest load, as its agent reported it on the management bus. */
export interface ServerMeter {
  readonly server: string;
  readonly groupId: string;
  /** busy is the share of its worker slots in use (the meter's top bar), 0..1. */
  readonly busy: number;
  /** queue is the share of its request queue in use (the meter's bottom bar), 0..1. */
  readonly queue: number;
  readonly rps: number;
  readonly p95Ms: number | null;
}

/** SamplerDeps are what the sampler reads. */
export type SamplerDeps = Pick<ManagerContext, 'store' | 'clock'> & { readonly board: AgentStatusBoard };

/** Sampler reads every active server's latest agent status and keeps a short history per group. */
export class Sampler {
  readonly history = new Map<string, GroupSample[]>();
  meters = new Map<string, ServerMeter>();
  /** seq counts samples, so a stream knows when there are new points to push. */
  seq = 0;

  constructor(private readonly ctx: SamplerDeps) {}

  /** sample takes one point per group. */
  async sample(): Promise<void> {
    const [groups, servers, slas] = await Promise.all([
      db.listGroups(this.ctx.store),
      db.listServers(this.ctx.store),
      db.listSlas(this.ctx.store),
    ]);
    // A group without a recorded SLA runs under the default agreement (GET /v1/groups/{id}/sla
    // answers it, and the agents and the decision loop steer by it), so its target is that one.
    const target = new Map(slas.map((s) => [s.groupId, s.responseTargetMs]));
    // The shares are of the capacity the group's servers were booted with (the group's runtime).
    const runtime = new Map(groups.map((g) => [g.id, g.runtime]));
    const now = this.ctx.clock.now().getTime();
    const active = servers.filter((s) => s.groupId !== null && s.state === 'active');
    const meters = new Map<string, ServerMeter>();
    for (const s of active) {
      const groupId = s.groupId as string;
      const l = this.ctx.board.latest(s.id, now);
      // Only a live agent speaking for the group the server serves now: not a silent one, not a
      // report from its previous group, not a warm boot not yet told it serves.
      if (l === null || l.stale || !l.status.healthy || l.status.group !== groupId || isWarmStatus(l.status)) continue;
      const load = l.status.load;
      const rt = runtime.get(groupId);
      meters.set(s.id, {
        server: s.id,
        groupId,
        busy: rt && rt.concurrency > 0 ? Math.min(1, load.inFlight / rt.concurrency) : 0,
        queue: rt && rt.maxQueue > 0 ? Math.min(1, load.queued / rt.maxQueue) : 0,
        rps: Math.round(load.rps * 10) / 10,
        p95Ms: load.p95Ms,
      });
    }
    this.meters = meters;
    for (const g of groups) {
      const ms = [...meters.values()].filter((m) => m.groupId === g.id);
      const p95s = ms.flatMap((m) => (m.p95Ms === null ? [] : [m.p95Ms]));
      const h = this.history.get(g.id) ?? [];
      h.push({
        t: now,
        servers: active.filter((s) => s.groupId === g.id).length,
        rps: Math.round(ms.reduce((a, m) => a + m.rps, 0) * 10) / 10,
        p95Ms: p95s.length ? Math.max(...p95s) : null,
        targetMs: target.get(g.id) ?? defaultSla(g.id).responseTargetMs,
        busy: ms.length ? ms.reduce((a, m) => a + m.busy, 0) / ms.length : 0,
      });
      if (h.length > SAMPLE_HISTORY) h.splice(0, h.length - SAMPLE_HISTORY);
      this.history.set(g.id, h);
    }
    this.seq++;
  }
}
