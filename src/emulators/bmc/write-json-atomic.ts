/**
 * write-json-atomic persists the emulator's small state files (bmc.json, each machine's
 * state.json) so that a BMC killed mid-write still finds a whole file when it starts again.
 */
import { rename, writeFile } from 'node:fs/promises';

/** writeJsonAtomic writes a file by rename so a crash never leaves half a state file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}
