/**
 * sim registers `hostfleet sim SCENARIO --report DIR [--seed N] [--sweep]`: replay a scenario
 * under every policy, with a progress bar on stderr, and write report.html and summary.json;
 * with --sweep, also run HPA and hostfleet across their dials (src/sim/sweep.ts) and add the
 * trade-off picture (and sweep.svg).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { SingleBar } from 'cli-progress';
import { resolve } from 'node:path';
import { writeReport } from '../sim/report.js';
import { runScenario } from '../sim/run.js';
import { loadScenario } from '../sim/scenario.js';
import { DIALS, runSweep, simulations, sweepJobs } from '../sim/sweep.js';
import type { SweepResult } from '../sim/sweep.js';
import { interactive } from './style.js';

/** progressBar is an onProgress callback drawing a bar on stderr when a person watches it, and its stop. */
function progressBar(
  show: boolean,
  label: string,
): { onProgress: (done: number, total: number) => void; stop: () => void } {
  const bar =
    show && interactive(process.stderr)
      ? new SingleBar({
          format: `${label} {bar} {percentage}% | {value}/{total} policy-ticks | {eta}s left`,
          stream: process.stderr,
          hideCursor: true,
        })
      : null;
  let started = false;
  return {
    onProgress: (done, total) => {
      if (!bar) return;
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}

/** registerSimCommands adds `sim` to the program. */
export function registerSimCommands(program: Command): void {
  program
    .command('sim')
    .description(
      'simulate a scenario under static peak, HPA, hostfleet and the two clairvoyant bounds; write an HTML report and a JSON summary',
    )
    .argument('<scenario>', 'scenario file (YAML or JSON), e.g. scenarios/traces.yaml')
    .option('--report <dir>', 'directory for report.html and summary.json', 'sim-report')
    .option('--seed <n>', 'seed (overrides the scenario)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1)
        throw new InvalidArgumentError('--seed must be a whole number from 0 to 4294967295');
      return n;
    })
    .option(
      '--sweep',
      `also run HPA across its target utilisation (${DIALS.hpa?.values.join(', ')}) and hostfleet across its price of a violating minute (${DIALS.hostfleet?.values.join(', ')} server-hours), and plot server-hours against violating minutes (sweep.svg)`,
    )
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the summary (as written to summary.json) as JSON')
    .action(
      async (
        file: string,
        o: { report: string; seed?: number; sweep?: boolean; progress: boolean; json?: boolean },
      ) => {
        const scenario = await loadScenario(file);
        const seed = o.seed !== undefined ? { seed: o.seed } : {};
        const main = progressBar(o.progress, 'sim');
        const res = await runScenario(scenario, { ...seed, onProgress: main.onProgress });
        main.stop();
        let sweep: SweepResult | undefined;
        if (o.sweep) {
          // The run above gives each policy's default point, static and the bounds; the sweep runs the rest.
          const jobs = sweepJobs(scenario, { base: res });
          const per = Object.values(DIALS).map((d) => `${d.dial} × ${jobs.filter((j) => j.dial === d.dial).length}`);
          process.stderr.write(`sweep: ${simulations(jobs)} more runs (${per.join(', ')}), one after another\n`);
          const bar = progressBar(o.progress, 'sweep');
          sweep = await runSweep(scenario, { ...seed, base: res, onProgress: bar.onProgress });
          bar.stop();
        }
        const { summary, html, json, svg } = await writeReport(res, resolve(o.report), sweep);
        if (o.json)
          return void process.stdout.write(
            `${JSON.stringify({ ...summary, report: html, summaryFile: json, ...(svg ? { sweepSvg: svg } : {}) })}\n`,
          );
        for (const p of summary.policies) {
          process.stdout.write(
            `${p.policy.padEnd(12)} server-hours ${String(p.serverHours).padStart(10)}  violating min ${String(p.violationMinutes).padStart(8)}  moves ${String(p.moves).padStart(6)}  revenue ${p.revenue ?? '—'}\n`,
          );
        }
        for (const p of sweep?.points ?? [])
          if (p.dial !== null)
            process.stdout.write(
              `sweep ${p.policy.padEnd(10)} ${p.dial} ${String(p.value).padEnd(5)} server-hours ${String(p.serverHours).padStart(10)}  violating min ${String(p.violationMinutes).padStart(8)}${p.isDefault ? '  (default)' : ''}\n`,
            );
        process.stdout.write(`report: ${html}\nsummary: ${json}\n${svg ? `sweep: ${svg}\n` : ''}`);
      },
    );
}
