/**
 * state-file persists the routing table so a restarted edge routes again at once, before the
 * manager has had a chance to re-program it. Writes are atomic (temporary file + rename) and
 * serialised; changes that arrive during a write are coalesced into one more write.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostfleetError } from '../../core/errors.js';
import { assertPool, assertServer } from '../../drivers/edge/validate.js';
import type { PersistedState } from './table.js';

/** loadState reads and validates a state file; a missing file is an empty table, a bad one is E_CONFIG. */
export async function loadState(file: string): Promise<PersistedState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { version: 1, pools: [] };
    throw new HostfleetError('E_CONFIG', `cannot read the edge state file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const raw = JSON.parse(text) as { version?: unknown; pools?: unknown };
    if (raw.version !== 1 || !Array.isArray(raw.pools)) throw new Error('expected {"version":1,"pools":[...]}');
    const pools = raw.pools.map(
      (p: {
        id?: unknown;
        domains?: unknown;
        balance?: unknown;
        sticky?: unknown;
        rateLimit?: unknown;
        servers?: unknown;
      }) => {
        const pool = assertPool({
          id: p.id,
          domains: p.domains,
          balance: p.balance,
          sticky: p.sticky,
          rateLimit: p.rateLimit,
        });
        if (!Array.isArray(p.servers)) throw new Error(`pool ${pool.id}: servers must be a list`);
        const servers = p.servers.map((s: { id?: unknown; address?: unknown; draining?: unknown }) => ({
          ...assertServer({ id: s.id, address: s.address }),
          draining: s.draining === true,
        }));
        return { ...pool, servers };
      },
    );
    return { version: 1, pools };
  } catch (err) {
    throw new HostfleetError(
      'E_CONFIG',
      `the edge state file ${file} is not valid (${(err as Error).message}); fix it or move it away to start with an empty table`,
      { cause: err },
    );
  }
}

/** StateWriter writes snapshots of the table to the file. */
export interface StateWriter {
  /** schedule notes that the table changed; a write follows. */
  schedule(): void;
  /** flush resolves once everything scheduled so far is on disk. */
  flush(): Promise<void>;
}

/** stateWriter writes `snapshot()` to file whenever scheduled, one write at a time. */
export function stateWriter(
  file: string,
  snapshot: () => PersistedState,
  onError: (err: unknown) => void,
): StateWriter {
  let dirty = false;
  let writing: Promise<void> | undefined;
  const tmp = `${file}.tmp`;

  const loop = async (): Promise<void> => {
    await mkdir(dirname(file), { recursive: true });
    // Bounded: each pass clears dirty; it runs again only if a change came during the write.
    while (dirty) {
      dirty = false;
      await writeFile(tmp, `${JSON.stringify(snapshot(), null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, file);
    }
  };
  const start = (): Promise<void> => {
    writing ??= loop()
      .catch((err: unknown) => onError(err))
      .finally(() => {
        writing = undefined;
        if (dirty) void start();
      });
    return writing;
  };
  return {
    schedule() {
      dirty = true;
      void start();
    },
    async flush() {
      // Bounded: each round either finds nothing pending or waits for one write pass.
      for (let i = 0; i < 100 && (writing !== undefined || dirty); i++) await (writing ?? start());
    },
  };
}
