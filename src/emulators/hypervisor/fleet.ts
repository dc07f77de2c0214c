/**
 * fleet starts the embedded site's hardware nodes: one OS process per node (main.ts), all
 * sharing one bundled runtime image. A node can be killed (SIGKILL) to test failure
 * re-placement: its process and every component it runs end at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResourceVector } from '../../core/scheduler/index.js';
import { buildRuntimeImage } from '../bmc/image.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** NodeProcess is one running node process. */
export interface NodeProcess {
  readonly id: string;
  readonly url: string;
  readonly capacity: ResourceVector;
  readonly pid: number;
  /** alive tells whether the process still runs. */
  alive(): boolean;
  /** kill ends the node abruptly (SIGKILL), as a power failure would. */
  kill(): Promise<void>;
  /** close stops the node cleanly (its components first). */
  close(): Promise<void>;
}

/** NodeFleet is a set of node processes. */
export interface NodeFleet {
  readonly nodes: readonly NodeProcess[];
  readonly token: string;
  close(): Promise<void>;
}

function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => c.once('exit', () => r()));
}

/** startNodeProcesses starts one process per entry of `nodes` (ids and capacities) under dir. */
export async function startNodeProcesses(opts: {
  nodes: ReadonlyArray<{ id: string; capacity: ResourceVector }>;
  dir: string;
  token: string;
  host?: string;
}): Promise<NodeFleet> {
  await mkdir(opts.dir, { recursive: true });
  const image = await buildRuntimeImage(join(opts.dir, 'image'));
  const started: NodeProcess[] = [];
  try {
    for (const n of opts.nodes) {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
        env: {
          ...process.env,
          HOSTFLEET_NODE_ID: n.id,
          HOSTFLEET_NODE_CAPACITY: JSON.stringify(n.capacity),
          HOSTFLEET_NODE_TOKEN: opts.token,
          HOSTFLEET_NODE_IMAGE: image,
          HOSTFLEET_NODE_DIR: join(opts.dir, n.id),
          HOSTFLEET_NODE_HOST: opts.host ?? '127.0.0.1',
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      const url = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`node ${n.id} did not start in 30 s`)), 30_000);
        child.once('exit', (code) => {
          clearTimeout(t);
          reject(new Error(`node ${n.id} exited with ${code} while starting`));
        });
        child.on('message', (m: { kind?: string; url?: string }) => {
          if (m.kind === 'ready' && typeof m.url === 'string') {
            clearTimeout(t);
            resolve(m.url);
          }
        });
      });
      started.push({
        id: n.id,
        url,
        capacity: n.capacity,
        pid: child.pid ?? 0,
        alive: () => child.exitCode === null && child.signalCode === null,
        async kill() {
          child.kill('SIGKILL');
          await exited(child);
        },
        async close() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited(child);
          clearTimeout(t);
        },
      });
    }
  } catch (e) {
    await Promise.all(started.map((s) => s.kill()));
    throw e;
  }
  return {
    nodes: started,
    token: opts.token,
    async close() {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
