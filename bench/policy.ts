// `npm run bench -- policy [SCENARIO …]`: runs the shipped scenarios (scenarios/traces.yaml,
// traces-late.yaml, scale.yaml and quick.yaml; or the files given) as they are — the product's
// defaults, no overrides, billing off since it changes no figure here — and prints one line per
// scenario with each policy's server-hours and SLA-violating minutes and both bounds. The last
// line is one JSON object: per scenario, server_hours and violation_minutes per policy, and
// hostfleet's ratios to HPA and to the bounds. scale.yaml takes about 90 s of the total.
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarise } from '../src/sim/report.js';
import { runScenario } from '../src/sim/run.js';
import { loadScenario } from '../src/sim/scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const given = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = (
  given.length > 0
    ? given
    : ['traces.yaml', 'traces-late.yaml', 'scale.yaml', 'quick.yaml'].map((f) => join(here, '../scenarios', f))
).map((f) => resolve(f));

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 1000) / 1000;

const scenarios: object[] = [];
const t0 = performance.now();
for (const file of files) {
  const t1 = performance.now();
  const sum = summarise(await runScenario(await loadScenario(file), { billing: false }));
  const wall = Math.round((performance.now() - t1) / 100) / 10;
  const hours = Object.fromEntries(sum.policies.map((p) => [p.policy, p.serverHours]));
  const minutes = Object.fromEntries(sum.policies.map((p) => [p.policy, p.violationMinutes]));
  console.log(
    `${basename(file).padEnd(18)} ${sum.policies.map((p) => `${p.policy} ${p.serverHours.toLocaleString('en')} h / ${p.violationMinutes.toLocaleString('en')} min`).join(' | ')}  (${wall} s)`,
  );
  scenarios.push({
    name: sum.scenario,
    file: basename(file),
    server_hours: hours,
    violation_minutes: minutes,
    ratios: {
      hostfleet_over_hpa_server_hours: ratio(hours['hostfleet'], hours['hpa']),
      hostfleet_over_hpa_violation_minutes: ratio(minutes['hostfleet'], minutes['hpa']),
      hostfleet_over_optimum_server_hours: ratio(hours['hostfleet'], hours['optimum']),
      hostfleet_over_optimum_cold_server_hours: ratio(hours['hostfleet'], hours['optimum-cold']),
    },
    wall_s: wall,
  });
}
console.log(
  JSON.stringify({
    bench: 'policy',
    scenarios,
    wall_s: Math.round((performance.now() - t0) / 100) / 10,
  }),
);
