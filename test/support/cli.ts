// runCli runs the hostfleet command as a child process (the manager may run in the test's own
// process, so nothing here blocks it), with optional standard input, bounded in time; startUp
// runs `hostfleet up` as a user does and waits until it says it is up.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tcpFree } from '../../src/services/shared/ports.js';

/** BIN is the hostfleet command of this checkout. */
export const BIN = fileURLToPath(new URL('../../bin/hostfleet.js', import.meta.url));

/** CliResult is how a command ended and what it printed. */
export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** runCli runs `hostfleet ARGS`, feeding stdin when given; killed after timeoutMs (code -1). */
export function runCli(
  args: readonly string[],
  o: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return run(process.execPath, [BIN, ...args], o);
}

/** runShell runs one shell command line with bash, as a user types it. */
export function runShell(
  line: string,
  o: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return run('bash', ['-c', line], o);
}

function run(
  file: string,
  args: readonly string[],
  o: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(o.env ? { env: o.env } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin.end(o.stdin ?? '');
    const t = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

/** RunningUp is a `hostfleet up` started by startUp. */
export interface RunningUp {
  /** output is what it printed so far, standard output and error together. */
  output(): string;
  /** stop sends Ctrl-C (SIGINT) and resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** startUp runs `hostfleet ARGS` (an `up` among them) and resolves once it says it is up, within 2 minutes. */
export async function startUp(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunningUp> {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  const running: RunningUp = {
    output: () => out,
    stop: async () => {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGINT');
      return exited;
    },
  };
  const deadline = Date.now() + 120_000;
  while (!out.includes('hostfleet is up')) {
    if (p.exitCode !== null) throw new Error(`up exited early:\n${out}`);
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`up did not come up in 2 minutes:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return running;
}

/**
 * freePortRange returns a base for `up --ports-from`: the site's own ports (base … base+4) and
 * its machines' (from base+10) are free now. Drawn at random low in the port space, so parallel
 * test files do not pick the same one.
 */
export async function freePortRange(machines: number): Promise<number> {
  const offsets = [0, 1, 2, 3, 4, ...Array.from({ length: machines + 1 }, (_, i) => 10 + i)];
  for (let i = 0; i < 100; i++) {
    const base = 20_000 + Math.floor(Math.random() * 10_000);
    let free = true;
    for (const k of offsets) if (!(free = await tcpFree('127.0.0.1', base + k))) break;
    if (free) return base;
  }
  throw new Error('no free range of ports for a site');
}
