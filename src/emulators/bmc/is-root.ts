/**
 * is-root tells whether the emulator runs as root: only then can it run workloads under their
 * accounts' uids, and only then must it check that those uids can reach their files.
 */

/** isRoot tells whether this process runs as root (never on platforms without uids). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
