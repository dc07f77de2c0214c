/**
 * generations keeps a service's rendered files as numbered directories and points a `live`
 * symlink at the one in use. A new generation is written and checked with the real tool
 * beside the live one; only a generation that passed is made live, by renaming a new symlink
 * over `live` (atomic), so a daemon never reads a half-written or unchecked file.
 *
 * Per-account files (server blocks, zones) are shared blobs instead: each is written once,
 * under a name that carries a hash of its text, into `shared/`, and a generation holds only
 * the small index that names the blobs it uses. A batch then writes the files of the accounts
 * it changed, not every account's file again — with hundreds of accounts, rewriting them all
 * was most of a batch's time. A blob is immutable once written (a new text is a new name), so
 * the live generation's blobs never change under the daemon; blobs no generation kept names
 * are removed after a promote.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Generations manages the generation directories under base. */
export class Generations {
  private next = 0;
  /** blobs written and complete (absolute paths). */
  private readonly blobs = new Set<string>();
  /** the blobs each kept generation's index names (generation directory → paths). */
  private readonly uses = new Map<string, ReadonlySet<string>>();
  /** files found in shared/ at start (an earlier run's blobs), removed once a generation of this run is live unless it names them. */
  private foreign = new Set<string>();
  constructor(readonly base: string) {}

  /** live is the path daemons read (a symlink to the current generation). */
  get live(): string {
    return join(this.base, 'live');
  }

  /** init creates base and an empty first generation, made live, unless one is live already. */
  async init(): Promise<void> {
    await mkdir(join(this.base, 'gen'), { recursive: true });
    // Blobs of an earlier run are not trusted (the run may have ended mid-write): they are
    // rewritten through a temporary name as they are needed, which never changes their text.
    await mkdir(join(this.base, 'shared'), { recursive: true });
    this.foreign = new Set((await readdir(join(this.base, 'shared'))).map((f) => join(this.base, 'shared', f)));
    const existing = (await readdir(join(this.base, 'gen'))).map(Number).filter(Number.isInteger);
    this.next = existing.length ? Math.max(...existing) + 1 : 0;
    const cur = await readlink(this.live).catch(() => null);
    if (cur === null) {
      const dir = await this.write(new Map());
      await this.promote(dir);
    }
  }

  /** write stores files (relative names; sub-directories allowed) in a new generation and returns its directory. */
  async write(files: ReadonlyMap<string, string>): Promise<string> {
    const dir = join(this.base, 'gen', String(this.next++));
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const [name, text] of files) {
      const path = join(dir, name);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, text, { mode: 0o644 });
    }
    return dir;
  }

  /**
   * share writes each file (stem → text) as a blob, unless this run wrote that blob already,
   * and returns stem → the blob's absolute path. gen is the generation whose index will name
   * them (from write), so they are kept as long as it is.
   */
  async share(gen: string, ext: string, files: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [stem, text] of files) {
      const path = join(
        this.base,
        'shared',
        `${stem}.${createHash('sha256').update(text).digest('hex').slice(0, 20)}${ext}`,
      );
      if (!this.blobs.has(path)) {
        // Through a temporary name: a blob that exists is whole.
        const tmp = `${path}.tmp`;
        await writeFile(tmp, text, { mode: 0o644 });
        await rename(tmp, path);
        this.blobs.add(path);
      }
      out.set(stem, path);
    }
    this.uses.set(gen, new Set(out.values()));
    return out;
  }

  /** promote makes dir the live generation and removes generations older than the previous one, and the blobs neither of the two names. */
  async promote(dir: string): Promise<void> {
    const tmp = join(this.base, `live.${this.next}.tmp`);
    await rm(tmp, { force: true });
    await symlink(dir, tmp);
    await rename(tmp, this.live);
    const keep = Number(dir.split('/').pop());
    for (const g of await readdir(join(this.base, 'gen'))) {
      if (Number(g) < keep - 1) await rm(join(this.base, 'gen', g), { recursive: true, force: true });
    }
    for (const g of [...this.uses.keys()]) if (Number(g.split('/').pop()) < keep - 1) this.uses.delete(g);
    if (!this.uses.has(dir)) return; // a generation without blobs: nothing to collect
    const used = new Set<string>();
    for (const s of this.uses.values()) for (const p of s) used.add(p);
    for (const p of [...this.blobs, ...this.foreign]) {
      if (used.has(p)) continue;
      this.blobs.delete(p);
      await rm(p, { force: true });
    }
    this.foreign.clear();
  }

  /** discard removes a generation that failed its check. */
  async discard(dir: string): Promise<void> {
    this.uses.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
