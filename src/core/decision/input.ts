/**
 * input holds what one decision tick reads — snapshots of the resource database (servers and
 * where they are), the SLA database (levels in servers, priority), the requests of the tick
 * and the recent move history — and the settings that bound it. Everything is plain data, so
 * a tick can be replayed from a recorded input.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';

/** POOL_TEMPS are the two kinds of pool server: warm (booted, not in rotation) and cold (off). */
export const POOL_TEMPS = ['warm', 'cold'] as const;
/** PoolTemp is one of POOL_TEMPS. */
export type PoolTemp = (typeof POOL_TEMPS)[number];

/** SERVER_SPOTS are where a server is, as the decision logic sees it (placeOf plus the pool's temperature). */
export const SERVER_SPOTS = ['group', 'pool', 'moving', 'failed'] as const;
/** ServerSpot is one of SERVER_SPOTS. */
export type ServerSpot = (typeof SERVER_SPOTS)[number];

/** DecisionServer is one server in the tick's snapshot. */
export interface DecisionServer {
  readonly id: string;
  readonly spot: ServerSpot;
  /** groupId is the group it serves ('group'), or the group whose personality a warm pool server holds. */
  readonly groupId: string | null;
  /** temp is the pool temperature for a pool server ('warm' also for a server moving in a warm-up); null elsewhere. */
  readonly temp: PoolTemp | null;
  /** movedAt is when the server last finished a move (ms since the epoch), null if never. */
  readonly movedAt: number | null;
}

/** DecisionGroup is one group with its SLA levels in servers. */
export interface DecisionGroup {
  readonly id: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly committed: number;
  readonly burst: number;
  readonly extended: number;
  /** priority in [0, 1] from the SLA. */
  readonly priority: number;
  /** joining counts moves in flight to this group (already counted as held, see heldOf). */
  readonly joining: number;
}

/** REQUEST_KINDS are what a request asks for. */
export const REQUEST_KINDS = ['add', 'release'] as const;
/** RequestKind is one of REQUEST_KINDS. */
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * REQUEST_SOURCES say who asked: an agent's FIS, the predictor's horizon, failure replacement,
 * the SLA itself (a group below its committed level), an operator.
 */
export const REQUEST_SOURCES = ['agent', 'predicted', 'failure', 'sla', 'operator'] as const;
/** RequestSource is one of REQUEST_SOURCES. */
export type RequestSource = (typeof REQUEST_SOURCES)[number];

/** DecisionRequest is one add or release request of a group. */
export interface DecisionRequest {
  readonly id: string;
  readonly groupId: string;
  readonly kind: RequestKind;
  /** count is how many servers (at least 1). */
  readonly count: number;
  /** urgency in [0, 1]: the FIS's need (1 for failure replacement). */
  readonly urgency: number;
  readonly source: RequestSource;
  /** serverId is the server whose agent asked, if any: it keeps its group's decider state, so it is the last to leave. */
  readonly serverId?: string | null;
}

/** RecentMove is a finished move the cool-downs look at. */
export interface RecentMove {
  readonly serverId: string;
  readonly fromGroup: string | null;
  readonly toGroup: string | null;
  readonly at: number;
}

/** DecisionSettings bound a tick; validate with checkDecisionSettings. */
export interface DecisionSettings {
  /** maxMovesPerTick bounds the plan: a tick never starts more moves than this. */
  readonly maxMovesPerTick: number;
  /** serverCooldownMs: a server that finished a move this recently is not taken from a group. */
  readonly serverCooldownMs: number;
  /** groupCooldownMs: a group that received a server this recently neither donates nor releases. */
  readonly groupCooldownMs: number;
  /** reverseCooldownMs: no server goes from X to Y this soon after one went from Y to X. */
  readonly reverseCooldownMs: number;
  /** warmPoolSize is how many pool servers should be kept warm (the tick sets it each tick, see tick.ts). */
  readonly warmPoolSize: number;
}

/**
 * DEFAULT_DECISION_SETTINGS suit a site of tens to thousands of servers with moves of seconds.
 * The warm pool's size is not a default of decide's: `tick` works it out every tick (or takes
 * the operator's number) and passes it on.
 */
export const DEFAULT_DECISION_SETTINGS: DecisionSettings = {
  maxMovesPerTick: 16,
  serverCooldownMs: 30_000,
  groupCooldownMs: 20_000,
  reverseCooldownMs: 120_000,
  warmPoolSize: 0,
};

/** checkDecisionSettings throws E_VALIDATION naming every bad field (prefix names where they came from). */
export function checkDecisionSettings(s: DecisionSettings, prefix = 'decision'): DecisionSettings {
  const bad: FieldProblem[] = [];
  const int = (k: keyof DecisionSettings, min: number) => {
    const v = s[k];
    if (!Number.isInteger(v) || v < min)
      bad.push({ field: `${prefix}.${k}`, problem: `must be an integer ≥ ${min}; got ${String(v)}` });
  };
  int('maxMovesPerTick', 1);
  int('serverCooldownMs', 0);
  int('groupCooldownMs', 0);
  int('reverseCooldownMs', 0);
  int('warmPoolSize', 0);
  if (bad.length > 0) throw invalid(bad);
  return s;
}

/** DecisionInput is one tick's snapshot. */
export interface DecisionInput {
  /** tickId names the tick (plans and reasons refer to it). */
  readonly tickId: string;
  /** now is the tick's time in ms since the epoch. */
  readonly now: number;
  readonly servers: readonly DecisionServer[];
  readonly groups: readonly DecisionGroup[];
  readonly requests: readonly DecisionRequest[];
  readonly recent: readonly RecentMove[];
  readonly settings: DecisionSettings;
}
