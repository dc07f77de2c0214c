/**
 * sim registers `hostfleet sim SCENARIO --report DIR [--seed N]`: replay a scenario under every
 * policy, with a progress bar on stderr, and write report.html and summary.json.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { SingleBar } from 'cli-progress';
import { resolve } from 'node:path';
import { writeReport } from '../sim/report.js';
import { runScenario } from '../sim/run.js';
import { loadScenario } from '../sim/scenario.js';
import { interactive } from './style.js';

/** registerSimCommands adds `sim` to the program. */
export function registerSimCommands(program: Command): void {
  program
    .command('sim')
    .description(
      'simulate a scenario under static peak, HPA, hostfleet and the optimum; write an HTML report and a JSON summary',
    )
    .argument('<scenario>', 'scenario file (YAML or JSON), e.g. scenarios/traces.yaml')
    .option('--report <dir>', 'directory for report.html and summary.json', 'sim-report')
    .option('--seed <n>', 'seed (overrides the scenario)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1)
        throw new InvalidArgumentError('--seed must be a whole number from 0 to 4294967295');
      return n;
    })
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the summary (as written to summary.json) as JSON')
    .action(async (file: string, o: { report: string; seed?: number; progress: boolean; json?: boolean }) => {
      const scenario = await loadScenario(file);
      const bar =
        o.progress && interactive(process.stderr)
          ? new SingleBar({
              format: 'sim {bar} {percentage}% | {value}/{total} policy-ticks | {eta}s left',
              stream: process.stderr,
              hideCursor: true,
            })
          : null;
      let started = false;
      const res = await runScenario(scenario, {
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        onProgress: (done, total) => {
          if (!bar) return;
          if (!started) {
            bar.start(total, 0);
            started = true;
          }
          bar.update(done);
        },
      });
      bar?.stop();
      const { summary, html, json } = await writeReport(res, resolve(o.report));
      if (o.json)
        return void process.stdout.write(`${JSON.stringify({ ...summary, report: html, summaryFile: json })}\n`);
      for (const p of summary.policies) {
        process.stdout.write(
          `${p.policy.padEnd(10)} server-hours ${String(p.serverHours).padStart(10)}  violating min ${String(p.violationMinutes).padStart(8)}  moves ${String(p.moves).padStart(6)}  revenue ${p.revenue ?? '—'}\n`,
        );
      }
      process.stdout.write(`report: ${html}\nsummary: ${json}\n`);
    });
}
