/**
 * supervisor starts hostfleet's processes as children of `hostfleet up`, waits until each says
 * it is ready (over IPC), writes their logs to files, and stops them all — SIGTERM, then
 * SIGKILL after a bound — so nothing the product started outlives it. Children also stop by
 * themselves when `up` dies (they watch the IPC channel).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/hostfleet.js', import.meta.url));

/** Child is one supervised process. */
export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly url: string | null;
}

/** Supervisor owns the children of one `hostfleet up`. */
export class Supervisor {
  private readonly children: Child[] = [];
  constructor(
    private readonly logDir: string,
    private readonly onExit: (name: string, code: number | null) => void,
  ) {}

  /** start runs `hostfleet ARGS` as a child (with nodeArgs given to node, such as --cpu-prof) and resolves when it reports ready. */
  async start(
    name: string,
    args: readonly string[],
    env: Record<string, string>,
    timeoutMs = 90_000,
    nodeArgs: readonly string[] = [],
  ): Promise<Child> {
    const logFile = join(this.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const proc = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      stdio: ['ignore', fd, fd, 'ipc'],
      env: { ...process.env, ...env },
    });
    closeSync(fd);
    const url = await new Promise<string | null>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s; see ${logFile}`)),
        timeoutMs,
      );
      proc.on('message', (m: { kind?: string; url?: string | null }) => {
        if (m.kind === 'ready') {
          clearTimeout(t);
          resolve(m.url ?? null);
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`${name} exited with code ${code} while starting; see ${logFile}`));
      });
    });
    proc.on('exit', (code) => this.onExit(name, code));
    const child = { name, proc, url };
    this.children.push(child);
    return child;
  }

  /** kill ends every child at once with SIGKILL, as a power cut would (the disaster drill); their machines follow their BMC. */
  async kill(): Promise<void> {
    const gone = this.children.map((c) => {
      c.proc.removeAllListeners('exit');
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) return Promise.resolve();
      const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
      c.proc.kill('SIGKILL');
      return exited;
    });
    await Promise.all(gone);
    this.children.length = 0;
  }

  /** stop ends every child, last started first. */
  async stop(graceMs = 10_000): Promise<void> {
    for (const c of [...this.children].reverse()) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      c.proc.removeAllListeners('exit');
      const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
      c.proc.kill('SIGTERM');
      const t = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    }
    this.children.length = 0;
  }
}
