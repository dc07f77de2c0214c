/**
 * local is the Replicator between two directories of one machine, with Node's fs (mirror.ts)
 * instead of rsync and no channel in between. It keeps the same contract as the rsync driver
 * and exists so the in-process tests (and an embedded site) replicate without a daemon; a real
 * replica site is reached with rsyncReplicator.
 */
import { basename, dirname, join } from 'node:path';
import { HostfleetError } from '../../core/errors.js';
import { systemClock, type Clock } from '../clock/index.js';
import { prepareRoot, requireVolume, volumePath } from './layout.js';
import { mirror } from './mirror.js';
import { trackedReplicator } from './tracked.js';
import { REPLICATION_FAILED, type Replicator } from './types.js';

/** LocalReplicatorOptions name the two sites' roots (each laid out as `root/volumes/<id>`). */
export interface LocalReplicatorOptions {
  readonly homeRoot: string;
  readonly replicaRoot: string;
  /** replicaPrefix goes before the volume id to name its replica (default none). */
  readonly replicaPrefix?: string;
  readonly clock?: Clock;
}

/** localReplicator copies volumes from homeRoot to replicaRoot (sync) and back (restore). */
export function localReplicator(o: LocalReplicatorOptions): Replicator {
  return trackedReplicator(
    {
      async copy(direction, ids, owner) {
        const volumeId = ids.home;
        const home = { root: o.homeRoot, path: volumePath(o.homeRoot, ids.home) };
        const replica = { root: o.replicaRoot, path: volumePath(o.replicaRoot, ids.replica) };
        const [from, to] = direction === 'sync' ? [home, replica] : [replica, home];
        const what =
          direction === 'sync' ? `volume ${volumeId} does not exist at home` : `volume ${volumeId} has no replica`;
        await requireVolume(from.path, what, { volumeId, direction });
        try {
          await prepareRoot(to.root);
          // The staging directory sits beside the volumes, where no id can name it.
          return await mirror(from.path, to.path, join(dirname(to.path), `.${basename(to.path)}.staging`), owner);
        } catch (e) {
          if (e instanceof HostfleetError) throw e;
          throw new HostfleetError(
            REPLICATION_FAILED,
            `${direction} of volume ${volumeId} from ${from.path} to ${to.path} failed: ${(e as Error).message}; the copy at ${to.path} was left as it was unless the failure came while files were being switched over`,
            { details: { volumeId, direction }, cause: e },
          );
        }
      },
      replicaPath: (replicaId) => volumePath(o.replicaRoot, replicaId),
      close: async () => undefined,
    },
    {
      clock: o.clock ?? systemClock,
      name: `the local replicator (${o.homeRoot} → ${o.replicaRoot})`,
      replicaPrefix: o.replicaPrefix ?? '',
    },
  );
}
