/**
 * failures decides which servers have failed (claim 5): a server whose agent stopped sending
 * status, whose edge health checks fail, or whose BMC reports it powered off while it should
 * serve. A failed server is detached and replaced at once (a 'failure' request for its group),
 * and power-cycled to recover; a server that fails again within the quarantine window is
 * quarantined (switched off and left out of the pool) instead.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';

/** FAILURE_CAUSES are the signals that mark a server failed. */
export const FAILURE_CAUSES = ['heartbeat', 'edge', 'power', 'bmc-health'] as const;
/** FailureCause is one of FAILURE_CAUSES. */
export type FailureCause = (typeof FAILURE_CAUSES)[number];

/** FAILURE_ACTIONS are what follows: recycle (power-cycle, back to the pool) or quarantine. */
export const FAILURE_ACTIONS = ['recycle', 'quarantine'] as const;
/** FailureAction is one of FAILURE_ACTIONS. */
export type FailureAction = (typeof FAILURE_ACTIONS)[number];

/** HealthObservation is what the manager knows of one serving server at the tick. */
export interface HealthObservation {
  readonly serverId: string;
  readonly groupId: string;
  /** activeSince is when the server last became active in its group (ms). */
  readonly activeSince: number;
  /** lastStatusAt is when its agent last sent status (ms), null if never. */
  readonly lastStatusAt: number | null;
  /** edgeDownSince is since when the edge has seen it down (ms), null while it is up or unknown. */
  readonly edgeDownSince: number | null;
  /** power is the BMC's power state, null when unknown (the BMC did not answer). */
  readonly power: 'On' | 'Off' | null;
  /** bmcCritical is true when the BMC reports the system's health Critical (its workload died). */
  readonly bmcCritical?: boolean;
  /** recentFailures counts this server's failures within the quarantine window. */
  readonly recentFailures: number;
}

/** FailureSettings bound detection; validate with checkFailureSettings. */
export interface FailureSettings {
  /** heartbeatTimeoutMs: an agent silent this long (after it once spoke) means failed. */
  readonly heartbeatTimeoutMs: number;
  /** edgeDownMs: down at the edge this long means failed (the edge already retried its checks). */
  readonly edgeDownMs: number;
  /** graceMs: a server that became active this recently is not judged (it is still warming up). */
  readonly graceMs: number;
  /** quarantineAfter: the failure count (this one included) at which a server is quarantined. */
  readonly quarantineAfter: number;
  /** quarantineWindowMs: failures older than this are forgiven. */
  readonly quarantineWindowMs: number;
}

/** DEFAULT_FAILURE_SETTINGS: three missed 1 s heartbeats, one failed edge round, a second failure within an hour quarantines. */
export const DEFAULT_FAILURE_SETTINGS: FailureSettings = {
  heartbeatTimeoutMs: 3_000,
  edgeDownMs: 500,
  graceMs: 2_000,
  quarantineAfter: 2,
  quarantineWindowMs: 3_600_000,
};

/** checkFailureSettings throws E_VALIDATION naming every bad field. */
export function checkFailureSettings(s: FailureSettings, prefix = 'failures'): FailureSettings {
  const bad: FieldProblem[] = [];
  for (const k of ['heartbeatTimeoutMs', 'edgeDownMs', 'graceMs', 'quarantineWindowMs'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 0)
      bad.push({ field: `${prefix}.${k}`, problem: `must be an integer ≥ 0; got ${String(s[k])}` });
  }
  if (!Number.isInteger(s.quarantineAfter) || s.quarantineAfter < 1)
    bad.push({
      field: `${prefix}.quarantineAfter`,
      problem: `must be an integer ≥ 1; got ${String(s.quarantineAfter)}`,
    });
  if (bad.length > 0) throw invalid(bad);
  return s;
}

/** FailureVerdict is one server judged failed, why, and what to do with it. */
export interface FailureVerdict {
  readonly serverId: string;
  readonly groupId: string;
  readonly causes: readonly FailureCause[];
  readonly action: FailureAction;
}

/**
 * detectFailures judges every observation. A missed heartbeat counts only for a server whose
 * agent has spoken since it became active: a workload without an agent is judged by the edge
 * and the BMC alone, so a site without agents does not fail every server.
 */
export function detectFailures(
  now: number,
  observations: readonly HealthObservation[],
  s: FailureSettings = DEFAULT_FAILURE_SETTINGS,
): FailureVerdict[] {
  const out: FailureVerdict[] = [];
  for (const o of observations) {
    const causes: FailureCause[] = [];
    // Power off and a Critical BMC are certain at once; the other signals wait out the grace after a boot.
    if (o.power === 'Off') causes.push('power');
    if (o.bmcCritical === true) causes.push('bmc-health');
    if (now - o.activeSince >= s.graceMs) {
      if (o.lastStatusAt !== null && o.lastStatusAt >= o.activeSince && now - o.lastStatusAt > s.heartbeatTimeoutMs)
        causes.push('heartbeat');
      if (o.edgeDownSince !== null && now - o.edgeDownSince >= s.edgeDownMs) causes.push('edge');
    }
    if (causes.length === 0) continue;
    out.push({
      serverId: o.serverId,
      groupId: o.groupId,
      causes,
      action: o.recentFailures + 1 >= s.quarantineAfter ? 'quarantine' : 'recycle',
    });
  }
  return out;
}
