/**
 * types holds the Replicator contract and the data it answers with (re-exported by index.ts).
 */
import type { ErrorCode } from '../../core/errors.js';

/** Owner is the per-account uid/gid every file of a volume (and of its replica) belongs to. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** DIRECTIONS are the two ways a copy goes: home → replica (sync) and replica → home (restore). */
export const DIRECTIONS = ['sync', 'restore'] as const;

/** Direction is one of DIRECTIONS. */
export type Direction = (typeof DIRECTIONS)[number];

/** SyncResult describes one finished copy of a volume. */
export interface SyncResult {
  readonly volumeId: string;
  readonly direction: Direction;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /**
   * bytesSent is what the copying side sent towards the copy being written, as the tool counts
   * it: rsync's "Total bytes sent" (its "received" for a restore, which pulls), protocol
   * included; the local driver's bytes of file contents copied.
   */
  readonly bytesSent: number;
  /** filesTransferred counts the regular files whose contents were sent. */
  readonly filesTransferred: number;
}

/** ReplicaStatus is what is known of a volume's replica: its last successful sync. */
export interface ReplicaStatus {
  readonly volumeId: string;
  /** lastSyncStartedAt bounds the data on the replica: everything written before it is there. */
  readonly lastSyncStartedAt: Date;
  readonly lastSyncFinishedAt: Date;
}

/**
 * REPLICATION_FAILED is the code of a copy that the tool or the file system refused. The
 * catalogue has no code of its own for replication yet; this is the one place to change.
 */
export const REPLICATION_FAILED: ErrorCode = 'E_INTERNAL';

/**
 * Replicator copies customer volumes from the home site (`root/volumes/<volumeId>`, see
 * src/drivers/volumes) to the replica site and back.
 *
 * Contract:
 * - After sync resolves, the replica holds exactly the home volume's directories, regular
 *   files and symbolic links as they were when the run started, and files gone from home are
 *   deleted from it. A copy is not a snapshot: a file written during the run may arrive as a
 *   mix of its old and new contents, and the next sync sends it again.
 * - Incremental: a file whose size and modification time match on both sides is not sent.
 * - Modes and modification times are the home's; when the receiving side runs as root every
 *   entry belongs to `owner`. The volume directory keeps its home mode (0700, which the
 *   volume driver enforces), so only the account's uid can read its replica.
 * - Per file atomic, switched over at the end: new and changed files are written under
 *   temporary names and renamed into place once all have arrived, so a reader sees each file
 *   whole as it was read. A run that fails rejects and leaves the replica as it was; only a
 *   failure during the final renames can leave a mix of whole old and whole new files, and
 *   so does an rsync run that could not read some files (exit 23: what arrived is switched
 *   over, nothing is deleted).
 * - status is the last successful sync, kept in memory by this Replicator (a new process has
 *   none until its first sync). A failed sync leaves it unchanged, so the lag keeps growing.
 * - restore is sync the other way — the replica's copy wins — with the same guarantees for the
 *   home volume, which it creates if absent. It does not change status.
 * - Calls for one volume run one at a time in call order; different volumes copy in parallel.
 * - The replica of volume V is named replicaPrefix + V (an option of each driver, default
 *   empty), so one root can hold a site's own volumes and the replicas of other sites'.
 * - Ids follow VOLUME_ID_RE, the prefixed replica id too, and owners are non-negative
 *   integers; anything else is E_VALIDATION before any process starts or file is touched. A sync whose home volume, or
 *   a restore whose replica, does not exist is E_NOT_FOUND and changes nothing. A copy that
 *   fails is REPLICATION_FAILED with the tool's own words. After close, every call is
 *   E_CONFLICT.
 */
export interface Replicator {
  /** sync copies the home volume to the replica site. */
  sync(volumeId: string, owner: Owner): Promise<SyncResult>;
  /** restore copies the replica back over the home volume. */
  restore(volumeId: string, owner: Owner): Promise<SyncResult>;
  /** status is the volume's last successful sync, or null before the first. */
  status(volumeId: string): ReplicaStatus | null;
  /** replicaPath is where the replica lives at the replica site, for a server lent there to mount. */
  replicaPath(volumeId: string): string;
  /** close refuses further calls and waits for copies in flight: the rsync driver stops its rsync (they reject), the local one lets them finish. */
  close(): Promise<void>;
}
