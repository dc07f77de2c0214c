// runCli runs the hostfleet command as a child process (the manager may run in the test's own
// process, so nothing here blocks it), with optional standard input, bounded in time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/hostfleet.js', import.meta.url));

/** CliResult is how a command ended and what it printed. */
export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** runCli runs `hostfleet ARGS`, feeding stdin when given; killed after timeoutMs (code -1). */
export function runCli(args: readonly string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
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
