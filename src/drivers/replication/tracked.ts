/**
 * tracked turns a Copier — the part of a driver that moves bytes one way — into a Replicator:
 * it checks ids and owners before anything runs, names the replica (replicaPrefix + volume id),
 * runs one copy per volume at a time, times each copy on the injected clock, and keeps each
 * volume's last successful sync.
 */
import { HostfleetError } from '../../core/errors.js';
import type { Clock } from '../clock/index.js';
import { checkVolumeId } from '../volumes/ids.js';
import { checkOwner, checkReplicaPrefix } from './layout.js';
import type { Direction, Owner, ReplicaStatus, Replicator, SyncResult } from './types.js';

/** CopyCounts is what a Copier reports of one copy. */
export interface CopyCounts {
  readonly bytesSent: number;
  readonly filesTransferred: number;
}

/** VolumeIds name one volume at each site: its id at home and its replica's at the replica site. */
export interface VolumeIds {
  readonly home: string;
  readonly replica: string;
}

/** Copier copies one volume in one direction; ids and owners reach it already checked. */
export interface Copier {
  copy(direction: Direction, ids: VolumeIds, owner: Owner): Promise<CopyCounts>;
  /** replicaPath is the directory of the replica named replicaId. */
  replicaPath(replicaId: string): string;
  /** close ends copies in flight, which then reject. */
  close(): Promise<void>;
}

/** TrackOptions: the clock, the name errors give the replicator, and the replicas' id prefix. */
export interface TrackOptions {
  readonly clock: Clock;
  readonly name: string;
  readonly replicaPrefix: string;
}

/** trackedReplicator is the Replicator over copier. */
export function trackedReplicator(copier: Copier, o: TrackOptions): Replicator {
  checkReplicaPrefix(o.replicaPrefix);
  const replicaId = (volumeId: string) =>
    checkVolumeId(
      'replica volume id (replicaPrefix and volumeId)',
      o.replicaPrefix + checkVolumeId('volumeId', volumeId),
    );
  const statuses = new Map<string, ReplicaStatus>();
  // The tail of each volume's queue: a copy starts when the one before it has settled.
  const queues = new Map<string, Promise<unknown>>();
  let closed = false;

  function refuseWhenClosed(volumeId: string): void {
    if (closed) {
      throw new HostfleetError('E_CONFLICT', `${o.name} is closed; volume ${volumeId} was not copied`, {
        details: { volumeId },
      });
    }
  }

  function queued<T>(volumeId: string, job: () => Promise<T>): Promise<T> {
    const next = (queues.get(volumeId) ?? Promise.resolve()).then(job, job);
    const tail = next.catch(() => undefined);
    queues.set(volumeId, tail);
    void tail.then(() => {
      if (queues.get(volumeId) === tail) queues.delete(volumeId);
    });
    return next;
  }

  async function copy(direction: Direction, volumeId: string, owner: Owner): Promise<SyncResult> {
    const ids = { home: volumeId, replica: replicaId(volumeId) };
    checkOwner(owner);
    refuseWhenClosed(volumeId);
    return queued(volumeId, async () => {
      refuseWhenClosed(volumeId);
      const startedAt = o.clock.now();
      const counts = await copier.copy(direction, ids, owner);
      const finishedAt = o.clock.now();
      if (direction === 'sync') {
        statuses.set(volumeId, { volumeId, lastSyncStartedAt: startedAt, lastSyncFinishedAt: finishedAt });
      }
      return { volumeId, direction, startedAt, finishedAt, ...counts };
    });
  }

  return {
    sync: (volumeId, owner) => copy('sync', volumeId, owner),
    restore: (volumeId, owner) => copy('restore', volumeId, owner),
    status: (volumeId) => statuses.get(checkVolumeId('volumeId', volumeId)) ?? null,
    replicaPath: (volumeId) => copier.replicaPath(replicaId(volumeId)),
    async close() {
      closed = true;
      await copier.close();
      await Promise.all([...queues.values()]);
    },
  };
}
