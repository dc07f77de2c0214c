/**
 * volumes is the in-memory fake of the VolumeDriver: volumes with an owner, a mode and files,
 * and one export per machine, switched in one assignment (so it is atomic as the local
 * driver's rename is). Paths are names under a root that does not exist on disk; a test reads
 * and writes files through `files`, which follows exports the way a mount would.
 */
import { HostfleetError } from '../../../src/core/errors.js';
import { checkVolumeId } from '../../../src/drivers/volumes/index.js';
import type { VolumeDriver } from '../../../src/drivers/volumes/index.js';
import { Faults } from './faults.js';

/** VOLUME_OPS are the VolumeDriver methods a test can fail or stall. */
export const VOLUME_OPS = ['ensure', 'exportTo', 'unexport', 'exportedTo', 'remove'] as const;
/** VolumeOp is one of VOLUME_OPS. */
export type VolumeOp = (typeof VOLUME_OPS)[number];

/** FakeVolumeStat is what a test can read of a volume or an export: its mode and owner, and a number that changes when an export is replaced. */
export interface FakeVolumeStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly generation: number;
}

/** FakeVolumes is a VolumeDriver in memory, with the test's controls. */
export interface FakeVolumes extends VolumeDriver {
  readonly faults: Faults<VolumeOp>;
  /** stat describes the volume or export at path (from ensure or mountPath), or throws ENOENT. */
  stat(path: string): FakeVolumeStat;
  /** writeFile writes a file into the volume or export at path. */
  writeFile(path: string, name: string, text: string): void;
  /** readFile reads a file from the volume or export at path, or throws ENOENT. */
  readFile(path: string, name: string): string;
}

interface Volume {
  readonly owner: { uid: number; gid: number };
  readonly files: Map<string, string>;
}

const ROOT = '/fake-volumes';

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: 'ENOENT' });
}

/** fakeVolumes returns an empty fake volume store. */
export function fakeVolumes(): FakeVolumes {
  const volumes = new Map<string, Volume>();
  const exports = new Map<string, { volumeId: string; generation: number }>();
  let generation = 0;
  const faults = new Faults<VolumeOp>((op) =>
    Object.assign(new Error(`EIO: i/o error, ${op} (injected)`), { code: 'EIO' }),
  );

  /** resolve finds the volume a path names: a volume path directly, an export path through the export. */
  function resolve(path: string): { volumeId: string; volume: Volume; generation: number } {
    const m = /^\/fake-volumes\/(volumes|exports)\/([^/]+)$/.exec(path);
    if (!m) throw enoent(path);
    const exported = m[1] === 'exports' ? exports.get(m[2]!) : undefined;
    const volumeId = m[1] === 'volumes' ? m[2]! : exported?.volumeId;
    const volume = volumeId === undefined ? undefined : volumes.get(volumeId);
    if (volumeId === undefined || !volume) throw enoent(path);
    return { volumeId, volume, generation: exported?.generation ?? 0 };
  }

  return {
    faults,
    stat(path) {
      const r = resolve(path);
      return { mode: 0o700, uid: r.volume.owner.uid, gid: r.volume.owner.gid, generation: r.generation };
    },
    writeFile(path, name, text) {
      resolve(path).volume.files.set(name, text);
    },
    readFile(path, name) {
      const text = resolve(path).volume.files.get(name);
      if (text === undefined) throw enoent(`${path}/${name}`);
      return text;
    },

    async ensure(volumeId, owner) {
      checkVolumeId('volumeId', volumeId);
      if (!Number.isInteger(owner.uid) || !Number.isInteger(owner.gid) || owner.uid < 0 || owner.gid < 0) {
        throw new HostfleetError(
          'E_VALIDATION',
          `volume ${volumeId}: owner uid/gid must be non-negative integers, got ${owner.uid}/${owner.gid}`,
        );
      }
      await faults.enter('ensure', [volumeId, owner]);
      const v = volumes.get(volumeId);
      volumes.set(volumeId, { owner: { ...owner }, files: v?.files ?? new Map() });
      await faults.leave('ensure');
      return `${ROOT}/volumes/${volumeId}`;
    },
    async exportTo(volumeId, machineId) {
      checkVolumeId('volumeId', volumeId);
      checkVolumeId('machineId', machineId);
      await faults.enter('exportTo', [volumeId, machineId]);
      if (!volumes.has(volumeId))
        throw new HostfleetError(
          'E_NOT_FOUND',
          `volume ${volumeId} does not exist; ensure it before exporting it to machine ${machineId}`,
          { details: { volumeId, machineId } },
        );
      if (exports.get(machineId)?.volumeId !== volumeId) exports.set(machineId, { volumeId, generation: ++generation });
      await faults.leave('exportTo');
    },
    async unexport(machineId) {
      checkVolumeId('machineId', machineId);
      await faults.enter('unexport', [machineId]);
      exports.delete(machineId);
      await faults.leave('unexport');
    },
    async exportedTo(machineId) {
      checkVolumeId('machineId', machineId);
      await faults.enter('exportedTo', [machineId]);
      return exports.get(machineId)?.volumeId ?? null;
    },
    mountPath(machineId) {
      return `${ROOT}/exports/${checkVolumeId('machineId', machineId)}`;
    },
    async remove(volumeId) {
      checkVolumeId('volumeId', volumeId);
      await faults.enter('remove', [volumeId]);
      const users = [...exports]
        .filter(([, e]) => e.volumeId === volumeId)
        .map(([m]) => m)
        .sort();
      if (users.length > 0)
        throw new HostfleetError(
          'E_CONFLICT',
          `volume ${volumeId} is still exported to machine(s) ${users.join(', ')}; unexport it before removing it`,
          { details: { volumeId, machines: users } },
        );
      volumes.delete(volumeId);
      await faults.leave('remove');
    },
  };
}
