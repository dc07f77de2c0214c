/**
 * local is the embedded fleet's VolumeDriver: volumes are directories under `root/volumes/`
 * and each machine's export is a symlink `root/exports/<machineId>` that is replaced by
 * rename(2), which is atomic, so a machine never observes a half-switched export.
 */
import { randomUUID } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HostfleetError } from '../../core/errors.js';
import { checkVolumeId } from './ids.js';
import type { VolumeDriver } from './index.js';

/** isRoot tells whether this process may chown (and so hand volumes to per-account uids). */
function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/**
 * localVolumes returns the directory-backed VolumeDriver rooted at root. When running as root
 * the root, volumes/ and exports/ directories get o+x (traverse, no listing) so that workloads
 * running under their account's uid can reach their own volume and nothing else.
 */
export function localVolumes(root: string): VolumeDriver {
  const volumesDir = join(root, 'volumes');
  const exportsDir = join(root, 'exports');
  let prepared: Promise<void> | null = null;

  function prepare(): Promise<void> {
    prepared ??= (async () => {
      await mkdir(volumesDir, { recursive: true, mode: 0o711 });
      await mkdir(exportsDir, { recursive: true, mode: 0o711 });
      if (isRoot()) {
        // Workload uids must traverse these (not list them) to reach their own export.
        for (const dir of [root, volumesDir, exportsDir]) {
          const s = await stat(dir);
          if ((s.mode & 0o011) !== 0o011) await chmod(dir, (s.mode & 0o7777) | 0o011);
        }
      }
    })().catch((e: unknown) => {
      prepared = null;
      throw e;
    });
    return prepared;
  }

  function volumePath(volumeId: string): string {
    return join(volumesDir, checkVolumeId('volumeId', volumeId));
  }

  function exportPath(machineId: string): string {
    return join(exportsDir, checkVolumeId('machineId', machineId));
  }

  async function exists(path: string): Promise<boolean> {
    try {
      return (await lstat(path)).isDirectory();
    } catch (e) {
      if (errno(e) === 'ENOENT') return false;
      throw e;
    }
  }

  async function readExport(path: string): Promise<string | null> {
    try {
      return basename(await readlink(path));
    } catch (e) {
      if (errno(e) === 'ENOENT') return null;
      throw e;
    }
  }

  return {
    async ensure(volumeId, owner) {
      const path = volumePath(volumeId);
      if (!Number.isInteger(owner.uid) || !Number.isInteger(owner.gid) || owner.uid < 0 || owner.gid < 0) {
        throw new HostfleetError(
          'E_VALIDATION',
          `volume ${volumeId}: owner uid/gid must be non-negative integers, got ${owner.uid}/${owner.gid}`,
        );
      }
      await prepare();
      await mkdir(path, { mode: 0o700 }).catch((e: unknown) => {
        if (errno(e) !== 'EEXIST') throw e;
      });
      await chmod(path, 0o700);
      if (isRoot()) await chown(path, owner.uid, owner.gid);
      return path;
    },

    async exportTo(volumeId, machineId) {
      const target = volumePath(volumeId);
      const link = exportPath(machineId);
      await prepare();
      if (!(await exists(target))) {
        throw new HostfleetError(
          'E_NOT_FOUND',
          `volume ${volumeId} does not exist; ensure it before exporting it to machine ${machineId}`,
          { details: { volumeId, machineId } },
        );
      }
      if ((await readExport(link)) === volumeId) return;
      // A relative target keeps the root relocatable; rename over the old link is atomic.
      const tmp = join(exportsDir, `.tmp-${machineId}-${randomUUID()}`);
      await symlink(join('..', 'volumes', volumeId), tmp);
      try {
        await rename(tmp, link);
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw e;
      }
    },

    async unexport(machineId) {
      const link = exportPath(machineId);
      await unlink(link).catch((e: unknown) => {
        if (errno(e) !== 'ENOENT') throw e;
      });
    },

    async exportedTo(machineId) {
      return readExport(exportPath(machineId));
    },

    mountPath(machineId) {
      return exportPath(machineId);
    },

    async remove(volumeId) {
      const path = volumePath(volumeId);
      let names: string[] = [];
      try {
        names = await readdir(exportsDir);
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
      const users: string[] = [];
      for (const name of names) {
        if (name.startsWith('.')) continue;
        if ((await readExport(join(exportsDir, name))) === volumeId) users.push(name);
      }
      if (users.length > 0) {
        throw new HostfleetError(
          'E_CONFLICT',
          `volume ${volumeId} is still exported to machine(s) ${users.join(', ')}; unexport it before removing it`,
          { details: { volumeId, machines: users } },
        );
      }
      await rm(path, { recursive: true, force: true });
    },
  };
}
