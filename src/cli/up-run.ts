/**
 * up-run is what every `hostfleet up` shares, one site or several: the supervisor of its
 * processes, the port check, Ctrl-C (and a process that dies) stopping everything in order, and
 * the progress bar of the start.
 */
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { tcpFree } from '../services/shared/ports.js';
import { Supervisor } from './supervisor.js';
import { interactive } from './style.js';
import { count } from '../core/count.js';
import { percentile } from '../emulators/load/steady.js';
import type { LoadStats } from '../emulators/load/steady.js';

/** UpRun is a running `up`: its supervisor, the signal its load stops on, and the way to stop it all. */
export interface UpRun {
  readonly sup: Supervisor;
  /** signal aborts when the run stops (the demo load ends on it). */
  readonly signal: AbortSignal;
  /** whenStopping adds work to finish before the processes stop (the load's last requests). */
  whenStopping(f: () => Promise<unknown>): void;
  shutdown(code: number): Promise<void>;
  /** done resolves with the exit code once everything has stopped. */
  readonly done: Promise<number>;
  /**
   * serve runs the start (body); a start that fails stops everything. It returns when the run
   * has stopped (Ctrl-C, a process that died, or exitAfterMs), with process.exitCode set.
   */
  serve(body: () => Promise<void>, o: { exitAfterMs?: number | undefined; progress: { stop(): void } }): Promise<void>;
}

/** loadLine is one line of the demo load's figures: requests, failures and the p95 of the latest. */
export function loadLine(s: LoadStats): string {
  return `${count(s.sent, 'request')}, ${s.failed} failed, p95 ${percentile(s.latenciesMs.slice(-2000), 95).toFixed(0)} ms`;
}

/** checkPorts fails with the first port in use, saying what it was for and how to choose others. */
export async function checkPorts(wanted: readonly (readonly [string, number])[], hint: string): Promise<void> {
  for (const [what, port] of wanted)
    if (!(await tcpFree('127.0.0.1', port)))
      throw new Error(`port ${port} for the ${what} is in use (is another hostfleet up running?). ${hint}`);
}

/** startUpRun sets up the supervisor and the orderly stop; keptIn says where the state stays. */
export function startUpRun(logDir: string, keptIn: string): UpRun {
  let stopping = false;
  const abort = new AbortController();
  const before: (() => Promise<unknown>)[] = [];
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (resolveDone = r));
  const sup = new Supervisor(logDir, (name, code) => {
    if (!stopping) {
      console.error(`\n${name} exited unexpectedly (code ${code}); see ${join(logDir, name + '.log')}. Stopping.`);
      void shutdown(1);
    }
  });
  async function shutdown(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nstopping hostfleet …\n');
    abort.abort();
    await Promise.allSettled(before.map((f) => f()));
    await sup.stop();
    process.stderr.write(`all hostfleet processes stopped; ${keptIn}\n`);
    resolveDone(code);
  }
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  async function serve(
    body: () => Promise<void>,
    o: { exitAfterMs?: number | undefined; progress: { stop(): void } },
  ): Promise<void> {
    try {
      await body();
      if (o.exitAfterMs !== undefined) setTimeout(() => void shutdown(0), o.exitAfterMs).unref();
    } catch (e) {
      o.progress.stop();
      console.error(`hostfleet up failed: ${(e as Error).message}`);
      await shutdown(1);
    }
    process.exitCode = await done;
  }
  return { sup, signal: abort.signal, whenStopping: (f) => before.push(f), shutdown, done, serve };
}

/** upProgress is the start's progress: a bar on a terminal, one line a step otherwise. */
export function upProgress(total: number, first: string): { step(what: string): void; stop(): void } {
  const bar = interactive(process.stderr)
    ? new cliProgress.SingleBar(
        { format: 'hostfleet up [{bar}] {value}/{total} {what}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let k = 0;
  bar?.start(total, 0, { what: first });
  return {
    step(what) {
      k++;
      if (bar) bar.update(k, { what });
      else process.stderr.write(`hostfleet up: ${what}\n`);
    },
    stop: () => bar?.stop(),
  };
}
