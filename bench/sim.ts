// `npm run bench -- sim [SCENARIO] [--no-billing]`: runs the fleet-scale scenario (default
// scenarios/scale.yaml: 10,000 servers, 1,000 customers, 3 sites, 7 days at 1-minute ticks)
// under static peak, HPA, hostfleet and the optimum, and prints wall and CPU time with the
// headline figures. The last line is one JSON object.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarise } from '../src/sim/report.js';
import { runScenario } from '../src/sim/run.js';
import { loadScenario } from '../src/sim/scenario.js';

const args = process.argv.slice(2);
const file =
  args.find((a) => !a.startsWith('--')) ?? join(dirname(fileURLToPath(import.meta.url)), '../scenarios/scale.yaml');
const billing = !args.includes('--no-billing');
const scenario = await loadScenario(resolve(file));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const res = await runScenario(scenario, { billing });
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const sum = summarise(res);
for (const p of sum.policies)
  console.log(
    `${p.policy.padEnd(10)} server-hours ${p.serverHours}  violating min ${p.violationMinutes}  moves ${p.moves}  between sites ${p.crossSiteMoves}  ${(p.wallMs / 1000).toFixed(1)} s`,
  );
const by = Object.fromEntries(sum.policies.map((p) => [p.policy, p]));
console.log(
  JSON.stringify({
    bench: 'sim',
    servers: sum.servers,
    customers: sum.customers,
    sites: sum.sites,
    sim_days: sum.days,
    wall_s: Math.round(wall * 10) / 10,
    cpu_s: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
    policy_wall_s: Object.fromEntries(sum.policies.map((p) => [p.policy, Math.round(p.wallMs / 100) / 10])),
    hostfleet_vs_static_pct: sum.checks.hostfleetSavesVsStaticPct,
    violation_minutes: Object.fromEntries(sum.policies.map((p) => [p.policy, p.violationMinutes])),
    server_hours: Object.fromEntries(Object.entries(by).map(([k, p]) => [k, p.serverHours])),
    billing,
  }),
);
