/**
 * mirror makes one directory tree an exact copy of another with Node's fs, the way rsync does
 * it with `-a --delete --delay-updates`: only files whose size or modification time differ are
 * copied, each into a staging directory first; once every one has been staged they are renamed
 * into place, then what the source no longer has is deleted and directory modes and times are
 * set. A reader of the copy sees each file whole, old or new.
 */
import {
  chmod,
  copyFile,
  lchown,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import { HostfleetError } from '../../core/errors.js';
import { errno, isRoot } from './layout.js';
import type { CopyCounts } from './tracked.js';
import { REPLICATION_FAILED, type Owner } from './types.js';

type Kind = 'dir' | 'file' | 'symlink' | 'other';

/** Entry is one scanned path: what it is and the attributes a copy keeps. */
interface Entry {
  readonly kind: Kind;
  readonly mode: number;
  readonly size: number;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly uid: number;
  readonly gid: number;
  readonly target: string | undefined;
}

/** scan maps every path under top (top itself is '') to its Entry; a missing top is an empty map. */
async function scan(top: string, out = new Map<string, Entry>(), rel = ''): Promise<Map<string, Entry>> {
  const path = rel === '' ? top : join(top, rel);
  let s;
  try {
    s = await lstat(path, { bigint: true });
  } catch (e) {
    if (rel === '' && errno(e) === 'ENOENT') return out;
    throw e;
  }
  const kind: Kind = s.isDirectory() ? 'dir' : s.isFile() ? 'file' : s.isSymbolicLink() ? 'symlink' : 'other';
  const target = kind === 'symlink' ? await readlink(path) : undefined;
  const { atimeNs, mtimeNs } = s;
  const [mode, size, uid, gid] = [Number(s.mode & 0o7777n), Number(s.size), Number(s.uid), Number(s.gid)];
  out.set(rel, { kind, mode, size, atimeNs, mtimeNs, uid, gid, target });
  if (kind === 'dir') for (const name of (await readdir(path)).sort()) await scan(top, out, join(rel, name));
  return out;
}

/** same tells whether the copy's entry already holds the source's contents (rsync's quick check). */
function same(src: Entry, dst: Entry | undefined): boolean {
  if (dst === undefined || dst.kind !== src.kind) return false;
  if (src.kind === 'symlink') return dst.target === src.target;
  // Times are set through a double of seconds (about 240 ns apart at today's dates) and rounded
  // again on the way to the file system, so times within a millisecond count as the same, as
  // rsync's --modify-window does for file systems with coarse times.
  const apart = dst.mtimeNs - src.mtimeNs;
  return src.kind !== 'file' || (dst.size === src.size && apart < 1_000_000n && apart > -1_000_000n);
}

/** settle gives path the source entry's mode, times and (as root) the account's owner. */
async function settle(path: string, e: Entry, owner: Owner | null): Promise<void> {
  if (owner) await lchown(path, owner.uid, owner.gid);
  if (e.kind !== 'symlink') await chmod(path, e.mode);
  await lutimes(path, Number(e.atimeNs) / 1e9, Number(e.mtimeNs) / 1e9);
}

/**
 * mirror copies the tree at src over dst (created if absent), staging changed files in
 * staging (a directory of its own on dst's file system, removed before and after). Special
 * files (FIFOs, sockets, devices) are refused before anything is staged.
 */
export async function mirror(src: string, dst: string, staging: string, owner: Owner): Promise<CopyCounts> {
  const from = await scan(src);
  const to = await scan(dst);
  for (const [rel, e] of from) {
    if (e.kind === 'other') {
      throw new HostfleetError(
        REPLICATION_FAILED,
        `cannot copy ${join(src, rel)}: it is not a regular file, directory or symbolic link (a FIFO, socket or device); remove it from the volume and copy again`,
        { details: { path: join(src, rel) } },
      );
    }
  }
  const keepOwner = isRoot() ? owner : null;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  try {
    const staged: [rel: string, tmp: string][] = [];
    let bytesSent = 0;
    let filesTransferred = 0;
    for (const [rel, e] of from) {
      if (e.kind === 'dir' || same(e, to.get(rel))) continue;
      const tmp = join(staging, String(staged.length));
      if (e.kind === 'symlink') await symlink(e.target ?? '', tmp);
      else {
        await copyFile(join(src, rel), tmp);
        bytesSent += e.size;
        filesTransferred++;
      }
      await settle(tmp, e, keepOwner);
      staged.push([rel, tmp]);
    }
    // Switch over: directories first (parents before children), then the staged files.
    const dirs = [...from].filter(([, e]) => e.kind === 'dir');
    for (const [rel] of dirs) {
      const old = to.get(rel);
      if (old?.kind === 'dir') continue;
      if (old) await rm(join(dst, rel), { recursive: true, force: true });
      await mkdir(join(dst, rel), { mode: 0o700 });
    }
    for (const [rel, tmp] of staged) {
      if (to.get(rel)?.kind === 'dir') await rm(join(dst, rel), { recursive: true, force: true });
      await rename(tmp, join(dst, rel));
    }
    for (const rel of to.keys()) if (!from.has(rel)) await rm(join(dst, rel), { recursive: true, force: true });
    // Unchanged files whose mode or owner drifted, then directories, deepest first (adding
    // entries moved their times).
    for (const [rel, e] of from) {
      const old = to.get(rel);
      if (e.kind !== 'file' || !same(e, old) || old === undefined) continue;
      const drifted = old.mode !== e.mode || (keepOwner && (old.uid !== keepOwner.uid || old.gid !== keepOwner.gid));
      if (drifted) await settle(join(dst, rel), e, keepOwner);
    }
    for (const [rel, e] of dirs.reverse()) await settle(rel === '' ? dst : join(dst, rel), e, keepOwner);
    return { bytesSent, filesTransferred };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
