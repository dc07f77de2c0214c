/**
 * warm carries out the warm pool's part of a tick: the warm-ups and cool-downs the pure logic
 * planned (planWarmPool), and the nudge that tells the agent of a server that joined its group
 * from the warm pool that it serves now.
 */
import type { AgentStatus } from '../../../../core/agent/messages.js';
import type { WarmAction } from '../../../../core/decision/index.js';
import type { StoredServer } from '../../../../core/model/server.js';
import { subjects } from '../../../../drivers/bus/index.js';
import type { DecisionDeps } from './loop.js';
import { outcomeOf } from './outcome.js';
import type { MoveOutcome } from './outcome.js';

/**
 * WARM_ACTIONS_PER_TICK bounds the warm-ups and cool-downs one tick starts (within what
 * maxMovesPerTick leaves after the plan's moves): pre-booting is never urgent, and a burst of
 * boots would compete with the moves that serve demand now.
 */
export const WARM_ACTIONS_PER_TICK = 2;

/**
 * ServingNudge is what the manager sends on `subjects.nudge(site, server)` to the agent of a
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

/**
 * isWarmStatus tells whether a status comes from the agent of a warm pool server: it carries
 * `warm: true` beside the AgentStatus fields (parseAgentStatus keeps unknown fields), and counts
 * as nobody's member — not for the decider's rate, not as a group's server.
 */
export function isWarmStatus(s: AgentStatus): boolean {
  return (s as AgentStatus & { warm?: unknown }).warm === true;
}

/**
 * carryOutWarm starts the warm pool's warm-ups and cool-downs, at most WARM_ACTIONS_PER_TICK
 * and at most `room` (what maxMovesPerTick leaves), in the plan's order (most likely group
 * first). A refusal (the server changed meanwhile) is recorded and retried by a later tick's
 * plan; E_NOT_LEADER stops the tick's actions at once.
 */
export async function carryOutWarm(
  ctx: Pick<DecisionDeps, 'dispatcher'>,
  actions: readonly WarmAction[],
  tickId: string,
  room: number,
): Promise<MoveOutcome[]> {
  const out: MoveOutcome[] = [];
  for (const a of actions.slice(0, Math.min(WARM_ACTIONS_PER_TICK, room))) {
    const reason =
      a.kind === 'warm'
        ? `warm pool: pre-booted for ${a.groupId ?? '?'}, the group most likely to need a server next`
        : 'warm pool: more warm servers than decision.warmPoolSize';
    const o = await outcomeOf(a.serverId, () =>
      ctx.dispatcher.warm({
        serverId: a.serverId,
        groupId: a.kind === 'warm' ? a.groupId : null,
        reason,
        requestedBy: `decision ${tickId}`,
      }),
    );
    out.push(o.outcome);
    if (o.stop) break;
  }
  return out;
}

/** nudgeServing tells the agents of servers that joined their group from the warm pool that they now serve (see ServingNudge). */
export async function nudgeServing(
  ctx: Pick<DecisionDeps, 'board' | 'bus' | 'siteId' | 'log'>,
  servers: readonly StoredServer[],
  now: number,
): Promise<void> {
  for (const s of servers) {
    if (s.state !== 'active' || s.moveId !== null || s.groupId === null) continue;
    const st = ctx.board.latest(s.id, now)?.status;
    if (st === undefined || !isWarmStatus(st) || st.group !== s.groupId) continue;
    const msg: ServingNudge = { v: 1, kind: 'serving', server: s.id, group: s.groupId };
    await ctx.bus
      .publish(subjects.nudge(ctx.siteId, s.id), msg)
      .catch((e: unknown) =>
        ctx.log.warn({ err: e, server: s.id }, 'could not tell a warm agent it serves now; retrying next tick'),
      );
  }
}
