/**
 * volumes is the storage side of a move: every customer account owns one volume (the seed's
 * "portion of the disk storage unit storing software and data unique to the customer
 * account"), and a machine sees only the volume currently exported to it. Switching a machine
 * to another account switches its export before the reset, so the rebooted machine mounts the
 * new account's data and never the old one's.
 *
 * One contract suite (test/contract/volumes.test.ts) runs against every implementation.
 */
/**
 * VolumeDriver is how the manager (and the emulated machines) reach customer volumes.
 *
 * Contract:
 * - ensure is idempotent: an existing volume is kept with its data, its mode reset to
 *   owner-only and (when the driver may) its owner to the given uid/gid.
 * - exportTo is idempotent and atomic: a machine sees either its previous export or the new
 *   one, never nothing and never both; exporting a volume that does not exist is E_NOT_FOUND.
 * - unexport of a machine with no export, and remove of a volume that does not exist, succeed
 *   ("already done").
 * - remove of a volume still exported to a machine is E_CONFLICT naming the machines, so data
 *   in use is never deleted from under a running server.
 * - Ids follow VOLUME_ID_RE; anything else is E_VALIDATION before any file is touched.
 */
export interface VolumeDriver {
  /** ensure creates the volume if absent (owner-only, 0700) and returns its path. */
  ensure(volumeId: string, owner: { uid: number; gid: number }): Promise<string>;
  /** exportTo makes volumeId the one volume machineId mounts, replacing any previous export atomically. */
  exportTo(volumeId: string, machineId: string): Promise<void>;
  /** unexport removes machineId's export, if any. */
  unexport(machineId: string): Promise<void>;
  /** exportedTo names the volume exported to machineId, or null. */
  exportedTo(machineId: string): Promise<string | null>;
  /** mountPath is the path machineId mounts: the export itself, which follows exportTo. */
  mountPath(machineId: string): string;
  /** remove deletes the volume and its data. */
  remove(volumeId: string): Promise<void>;
}

export { VOLUME_ID_RE, checkVolumeId } from './ids.js';
export { localVolumes } from './local.js';
