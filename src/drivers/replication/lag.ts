/**
 * lag is the replication lag, the measure of what losing the home site would cost now.
 */
import type { ReplicaStatus } from './types.js';

/**
 * replicationLagMs is the time from the start of the last successful sync to now: everything
 * written before that start is on the replica, so this is the window of recent writes that
 * would be lost with the home site. Never negative (a clock stepped back reads as no lag).
 */
export function replicationLagMs(status: Pick<ReplicaStatus, 'lastSyncStartedAt'>, now: Date): number {
  return Math.max(0, now.getTime() - status.lastSyncStartedAt.getTime());
}
