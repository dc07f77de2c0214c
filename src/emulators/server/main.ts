/**
 * main is the process an emulated machine boots into (see src/emulators/bmc/machine.ts):
 *
 *   HOSTFLEET_PERSONALITY  the personality JSON received from the boot pointer (required)
 *   HOSTFLEET_LISTEN       data-plane host:port (required)
 *   HOSTFLEET_SCRATCH      the machine's local scratch directory (required)
 *   HOSTFLEET_VOLUME       the mounted customer volume, absent when none is exported
 *
 * It exits when its IPC channel to the BMC closes (the machine lost power: nothing is left
 * running) and, gracefully and bounded, on SIGTERM or SIGINT.
 */
import { checkPersonality } from '../../core/model/check-personality.js';
import { startRuntime } from './runtime.js';

function need(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') {
    console.error(`runtime: ${name} is not set; the BMC sets it when it boots a personality`);
    process.exit(2);
  }
  return v;
}

let parsed: unknown;
try {
  parsed = JSON.parse(need('HOSTFLEET_PERSONALITY'));
} catch (e) {
  console.error(`runtime: HOSTFLEET_PERSONALITY is not JSON: ${(e as Error).message}`);
  process.exit(2);
}
const check = checkPersonality(parsed);
if (!check.ok) {
  console.error(`runtime: invalid personality: ${check.problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`);
  process.exit(2);
}

// Power loss: the BMC process is gone, so is the machine.
process.on('disconnect', () => process.exit(0));

const runtime = await startRuntime({
  personality: check.personality,
  listen: need('HOSTFLEET_LISTEN'),
  scratch: need('HOSTFLEET_SCRATCH'),
  volume: process.env.HOSTFLEET_VOLUME || null,
  log: (line) => console.log(line),
});

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`runtime: ${signal}, draining`);
  runtime.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
// Tell the BMC the OS is up (it only logs it; health is what the manager waits for).
process.send?.({ kind: 'ready', address: runtime.address, pid: process.pid });
