/**
 * main is the agent's process, which an emulated machine starts next to the workload (see
 * src/emulators/bmc/machine.ts) from the bundled image (src/emulators/bmc/image.ts):
 *
 *   HOSTFLEET_PERSONALITY   the personality with its agent section (bus URL and token) — the
 *                           workload's copy has no agent section
 *   HOSTFLEET_WORKLOAD_URL  the workload's data-plane base URL, for /_runtime/stats
 *   HOSTFLEET_WORKLOAD_PID  the workload's process id, for /proc (optional)
 *
 * It joins the bus (retrying while the manager, which hosts the embedded hub, is not up), then
 * ticks until SIGTERM/SIGINT or until its IPC channel to the BMC closes (power loss).
 */
import { checkPersonality } from '../../core/model/check-personality.js';
import { openBus } from '../../drivers/bus/index.js';
import type { Bus } from '../../drivers/bus/index.js';
import { startAgent } from './agent.js';
import type { RunningAgent } from './agent.js';
import { checkAgentSection } from './config.js';

function fail(msg: string): never {
  console.error(`agent: ${msg}`);
  process.exit(2);
}

const raw = process.env.HOSTFLEET_PERSONALITY;
const workloadUrl = process.env.HOSTFLEET_WORKLOAD_URL;
if (!raw || !workloadUrl)
  fail('HOSTFLEET_PERSONALITY and HOSTFLEET_WORKLOAD_URL must be set; the BMC sets them when it boots a personality');
let parsed: unknown;
try {
  parsed = JSON.parse(raw);
} catch (e) {
  fail(`HOSTFLEET_PERSONALITY is not JSON: ${(e as Error).message}`);
}
const check = checkPersonality(parsed);
if (!check.ok) fail(`invalid personality: ${check.problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`);
let settings: ReturnType<typeof checkAgentSection>;
try {
  settings = checkAgentSection(check.personality);
} catch (e) {
  fail((e as Error).message);
}
const pidText = process.env.HOSTFLEET_WORKLOAD_PID;
const workloadPid = pidText && /^\d+$/.test(pidText) ? Number(pidText) : null;
// The token stays in this process's memory only; the variable goes so children cannot inherit it.
delete process.env.HOSTFLEET_PERSONALITY;

let stopping = false;
let bus: Bus | null = null;
let agent: RunningAgent | null = null;

async function stop(why: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`agent: ${why}, stopping`);
  const hard = setTimeout(() => process.exit(code), 3000);
  hard.unref();
  await agent?.close().catch(() => undefined);
  await bus?.close().catch(() => undefined);
  process.exit(code);
}
process.on('SIGTERM', () => void stop('SIGTERM', 0));
process.on('SIGINT', () => void stop('SIGINT', 0));
// Power loss: the BMC process is gone, so is the machine.
process.on('disconnect', () => void stop('BMC gone', 0));

const sec = settings.section;
let delay = 100;
while (!stopping && bus === null) {
  try {
    bus = await openBus({
      url: sec.busUrl,
      token: sec.busToken ?? undefined,
      name: `agent-${sec.server}`,
      onError: (e) => console.error(`agent: bus: ${(e as Error).message}`),
    });
  } catch (e) {
    console.error(`agent: cannot join the bus at ${sec.busUrl} yet (${(e as Error).message}); retrying in ${delay} ms`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(5000, delay * 2);
  }
}
if (bus !== null && !stopping) {
  agent = await startAgent({ bus, settings, statsUrl: workloadUrl, workloadPid, log: (l) => console.log(l) });
  console.log(
    `agent: ${sec.server} of ${sec.site}/${sec.group} ticking every ${settings.tickMs} ms on ${bus.kind} bus (rules ${settings.rules})`,
  );
  process.send?.({ kind: 'agent-ready', pid: process.pid });
}
