/**
 * snapshot turns the resource and SLA databases, as one tick read them, into the pure decision
 * logic's input: every server's spot (group, pool, moving, failed) and temperature, and every
 * group's size limits, SLA levels, priority and servers joining.
 */
import type {
  AgentAsk,
  DecisionGroup,
  DecisionServer,
  FailureVerdict,
  QueueSpec,
  TickGroup,
} from '../../../../core/decision/index.js';
import type { GroupRecord, MoveRecord } from '../../../../core/model/records.js';
import { placeOf } from '../../../../core/model/server.js';
import type { StoredServer } from '../../../../core/model/server.js';
import { defaultSla, serverLevels } from '../../../../core/model/sla.js';
import type { Sla } from '../../../../core/model/sla.js';
import type { MoveKind } from '../../../../core/dispatch/move.js';

/** SnapshotInput is what a tick read from the store, and the servers it failed this tick. */
export interface SnapshotInput {
  readonly servers: readonly StoredServer[];
  /** groups are the site's groups. */
  readonly groups: readonly GroupRecord[];
  readonly slas: readonly Sla[];
  /** running are the moves in flight. */
  readonly running: readonly MoveRecord[];
  /** recent are the moves within the cool-down window (when each server last moved). */
  readonly recent: readonly { readonly serverId: string; readonly at: number }[];
  /** kinds are the kinds of the moves in flight, by server. */
  readonly kinds: ReadonlyMap<string, MoveKind>;
  readonly failed: readonly FailureVerdict[];
}

/** Snapshot is the decision logic's view of the site, and what the tick's requests are sized against. */
export interface Snapshot {
  readonly servers: DecisionServer[];
  readonly groups: DecisionGroup[];
  /** held is how many servers each group holds or has joining. */
  readonly held: Map<string, number>;
  /** slaOf has the recorded SLAs (groups without one run under the default agreement). */
  readonly slaOf: ReadonlyMap<string, Sla>;
}

/** snapshotOf builds the tick's snapshot. */
export function snapshotOf(x: SnapshotInput): Snapshot {
  const failedIds = new Set(x.failed.map((f) => f.serverId));
  const movedAt = new Map<string, number>();
  for (const m of x.recent) movedAt.set(m.serverId, Math.max(movedAt.get(m.serverId) ?? 0, m.at));
  // A warm server (or one warming up) is in the pool with the personality of its warmFor group:
  // the logic takes it first for that group, and counts warm-ups in flight towards the warm pool.
  const warmingUp = (s: StoredServer) => s.moveId !== null && x.kinds.get(s.id) === 'warm-up';
  const servers: DecisionServer[] = x.servers.map((s) => ({
    id: s.id,
    spot: failedIds.has(s.id) || s.state === 'off' || s.state === 'failed' ? 'failed' : placeOf(s),
    groupId: failedIds.has(s.id) ? null : s.state === 'pool-warm' || warmingUp(s) ? (s.warmFor ?? null) : s.groupId,
    temp: s.state === 'pool-warm' || warmingUp(s) ? 'warm' : s.state === 'pool-cold' ? 'cold' : null,
    movedAt: movedAt.get(s.id) ?? null,
  }));
  const slaOf = new Map(x.slas.map((s) => [s.groupId, s]));
  const joining = new Map<string, number>();
  for (const m of x.running) if (m.toGroup !== null) joining.set(m.toGroup, (joining.get(m.toGroup) ?? 0) + 1);
  const groups: DecisionGroup[] = x.groups.map((g) => {
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
  for (const g of groups) held.set(g.id, g.joining);
  for (const s of servers)
    if (s.spot === 'group' && s.groupId !== null) held.set(s.groupId, (held.get(s.groupId) ?? 0) + 1);
  return { servers, groups, held, slaOf };
}

/**
 * SLA_PERCENTILE is the share of requests the response-time target applies to: hostfleet's
 * SLAs promise a p95 (the agents and the console report p95 too).
 */
export const SLA_PERCENTILE = 0.95;

/** queueOf is a group's capacity model: its runtime's workers and service time against its SLA target. */
export function queueOf(g: GroupRecord, sla: Sla): QueueSpec | null {
  const { serviceTimeMs, concurrency } = g.runtime;
  if (!(serviceTimeMs > 0) || !(concurrency >= 1)) return null;
  return { serviceMs: serviceTimeMs, workers: concurrency, targetMs: sla.responseTargetMs, percentile: SLA_PERCENTILE };
}

/**
 * tickGroups adds to the snapshot's groups what the decision tick sizes them with: servers
 * active, the capacity model, the decider's measured and forecast rates (rates) and what the
 * group's agents ask (asks).
 */
export function tickGroups(
  snap: Snapshot,
  records: readonly GroupRecord[],
  asks: ReadonlyMap<string, AgentAsk>,
  rates: (groupId: string) => { measuredRps: number | null; forecastRps: number | null },
): TickGroup[] {
  const active = new Map<string, number>();
  for (const s of snap.servers)
    if (s.spot === 'group' && s.groupId !== null) active.set(s.groupId, (active.get(s.groupId) ?? 0) + 1);
  const byId = new Map(records.map((r) => [r.id, r]));
  return snap.groups.map((g) => {
    const rec = byId.get(g.id);
    const sla = snap.slaOf.get(g.id) ?? defaultSla(g.id);
    return {
      ...g,
      active: active.get(g.id) ?? 0,
      queue: rec ? queueOf(rec, sla) : null,
      ...rates(g.id),
      agent: asks.get(g.id) ?? null,
    };
  });
}
