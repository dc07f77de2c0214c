/**
 * check-reachable keeps the directories workloads use reachable for them: workloads run under
 * per-account uids, not the BMC's, so every directory above their scratch disk, their volume
 * and the boot image must let other users through.
 */
import { chmod, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { configError } from './config-error.js';

/**
 * checkReachable fails start-up when path lies below a directory other users cannot traverse
 * (such as /root): workloads run under per-account uids and would fail every boot otherwise.
 */
export async function checkReachable(path: string, field: string): Promise<void> {
  let p = resolve(path);
  for (let i = 0; i < 256; i++) {
    const parent = dirname(p);
    if (parent === p) return;
    const s = await stat(parent).catch(() => null);
    if (s !== null && (s.mode & 0o001) === 0) {
      throw configError(
        field,
        `${path} lies below ${parent} (mode ${(s.mode & 0o777).toString(8)}), which workload uids cannot traverse; choose another directory or run chmod o+x ${parent}`,
      );
    }
    p = parent;
  }
}

/**
 * makeTraversable lets group and others through dir (x, not r), so a workload's uid reaches
 * what lies below it without being able to list it.
 */
export async function makeTraversable(dir: string): Promise<void> {
  const s = await stat(dir);
  if ((s.mode & 0o011) !== 0o011) await chmod(dir, (s.mode & 0o7777) | 0o011);
}
