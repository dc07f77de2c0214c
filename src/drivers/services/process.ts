/**
 * process runs the real tools and daemons of the service drivers: a checked command with a
 * time limit and its output, and a daemon started in the foreground (no systemd) that is
 * always stopped — first politely, then killed — when its driver closes.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** RunResult is the outcome of one command. */
export interface RunResult {
  readonly code: number | null;
  readonly output: string;
}

/** run executes cmd with args (no shell), feeding input, and resolves with its exit code and output; it never hangs beyond timeoutMs. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let out = '';
    const add = (b: Buffer) => {
      if (out.length < 64_000) out += b.toString('utf8');
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${cmd}: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: out.trim() });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Daemon is a started foreground daemon. */
export interface Daemon {
  readonly pid: number;
  /** signal sends sig to the daemon (SIGHUP reloads nginx and named). */
  signal(sig: NodeJS.Signals): void;
  /** output is what the daemon printed so far (bounded), for error messages. */
  output(): string;
  /** exited tells whether the daemon has ended. */
  exited(): boolean;
  /** stop ends the daemon: SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

/** startDaemon spawns cmd in the foreground; it rejects if the daemon ends within settleMs. */
export async function startDaemon(
  cmd: string,
  args: readonly string[],
  opts: { settleMs?: number } = {},
): Promise<Daemon> {
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let out = '';
  let done = false;
  const ended = new Promise<void>((r) =>
    child.on('close', () => {
      done = true;
      r();
    }),
  );
  child.on('error', (e) => {
    out += e.message;
  });
  const add = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-16_000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const d: Daemon = {
    pid: child.pid ?? -1,
    signal: (sig) => {
      if (!done) child.kill(sig);
    },
    output: () => out,
    exited: () => done,
    async stop(graceMs = 3000) {
      if (done) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await ended;
      clearTimeout(t);
    },
  };
  await Promise.race([ended, sleep(opts.settleMs ?? 100)]);
  if (done) throw new Error(`${cmd} ended at start: ${out.trim().slice(0, 2000)}`);
  return d;
}

/** waitForPort resolves once host:port accepts TCP connections, or rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (let i = 0; performance.now() < until && i < 10_000; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection({ host, port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}
