/**
 * layout is where volumes live under a site's root — `root/volumes/<volumeId>`, as the volume
 * driver lays them out — and the checks every copy makes before it touches anything.
 */
import { chmod, lstat, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HostfleetError, invalid } from '../../core/errors.js';
import { checkVolumeId } from '../volumes/ids.js';
import type { Owner } from './types.js';

/** isRoot tells whether this process may chown, and so keep per-account owners on copies. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** errno is the system error code of a thrown value, if any. */
export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** volumePath is volumeId's directory under root; an invalid id is E_VALIDATION. */
export function volumePath(root: string, volumeId: string): string {
  return join(root, 'volumes', checkVolumeId('volumeId', volumeId));
}

/**
 * checkReplicaPrefix throws E_CONFIG unless prefix is empty or can start a volume id. A replica
 * site's own volumes share the root with the replicas it keeps; a prefix per home site (its
 * site id and a hyphen, say) keeps them apart.
 */
export function checkReplicaPrefix(prefix: string): void {
  if (prefix === '' || /^[a-z0-9][a-z0-9-]{0,61}$/.test(prefix)) return;
  throw new HostfleetError(
    'E_CONFIG',
    `invalid replicaPrefix ${JSON.stringify(prefix)}: must be empty or lower-case letters, digits and hyphens, starting with a letter or digit`,
    { fields: [{ field: 'replicaPrefix', problem: 'must start a volume id' }] },
  );
}

/** checkOwner throws E_VALIDATION unless owner's uid and gid are non-negative integers. */
export function checkOwner(owner: Owner): Owner {
  const bad = (n: unknown) => !Number.isInteger(n) || (n as number) < 0;
  if (typeof owner !== 'object' || owner === null || bad(owner.uid) || bad(owner.gid)) {
    throw invalid([
      { field: 'owner', problem: `uid and gid must be non-negative integers, got ${JSON.stringify(owner)}` },
    ]);
  }
  return owner;
}

/**
 * prepareRoot creates root/volumes (0711). As root it gives root and volumes/ o+x (traverse,
 * no listing), so an account's uid reaches its own volume or replica and lists nobody's.
 */
export async function prepareRoot(root: string): Promise<void> {
  const volumes = join(root, 'volumes');
  await mkdir(volumes, { recursive: true, mode: 0o711 });
  if (!isRoot()) return;
  for (const dir of [root, volumes]) {
    const s = await stat(dir);
    if ((s.mode & 0o011) !== 0o011) await chmod(dir, (s.mode & 0o7777) | 0o011);
  }
}

/** requireVolume throws E_NOT_FOUND (saying `what`) unless path is a directory. */
export async function requireVolume(path: string, what: string, details: Record<string, unknown>): Promise<void> {
  try {
    if ((await lstat(path)).isDirectory()) return;
  } catch (e) {
    if (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR') throw e;
  }
  throw new HostfleetError('E_NOT_FOUND', `${what} (no directory ${path}); nothing was copied`, { details });
}
