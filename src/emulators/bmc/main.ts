/**
 * main runs the BMC emulator as its own process. Settings come from the command line or the
 * environment (the command line wins):
 *
 *   --host / HOSTFLEET_BMC_HOST                     Redfish listen host (127.0.0.1)
 *   --port / HOSTFLEET_BMC_PORT                     Redfish port (0 = any; the ready line says which)
 *   --machines / HOSTFLEET_BMC_MACHINES             number of machines (4)
 *   --username / HOSTFLEET_BMC_USERNAME             Redfish user (required)
 *   --password / HOSTFLEET_BMC_PASSWORD             Redfish password (required; prefer the env var)
 *   --data-dir / HOSTFLEET_BMC_DATA_DIR             machine state, consoles, scratch (required)
 *   --data-host / HOSTFLEET_BMC_DATA_HOST           data-plane host of the workloads (127.0.0.1)
 *   --data-port-base / HOSTFLEET_BMC_DATA_PORT_BASE machine i serves on base+i (0 = free ports)
 *   --boot-delay-ms / HOSTFLEET_BMC_BOOT_DELAY_MS   simulated POST time (150)
 *   --volumes-root / HOSTFLEET_BMC_VOLUMES_ROOT     local volume driver root the machines mount from
 *
 * Once listening it prints one JSON line {"event":"ready","url",…,"machines":[…]} on stdout;
 * logs go to stderr. SIGTERM, SIGINT or the parent's IPC channel closing stop every machine's
 * workload and exit 0.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { isHostfleetError } from '../../core/errors.js';
import { startBmcEmulator } from './emulator.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    machines: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    'data-dir': { type: 'string' },
    'data-host': { type: 'string' },
    'data-port-base': { type: 'string' },
    'boot-delay-ms': { type: 'string' },
    'volumes-root': { type: 'string' },
  },
  strict: true,
});

const logger = pino({ name: 'hostfleet-bmc' }, pino.destination(2));

function setting(flag: keyof typeof values, env: string): string | undefined {
  const v = values[flag] ?? process.env[env];
  return v === '' ? undefined : v;
}

function int(flag: keyof typeof values, env: string, dflt: number): number {
  const v = setting(flag, env);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) {
    console.error(`bmc: --${flag} / ${env} must be a non-negative integer, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return Number(v);
}

function required(flag: keyof typeof values, env: string): string {
  const v = setting(flag, env);
  if (v === undefined) {
    console.error(`bmc: set --${flag} or ${env}`);
    process.exit(2);
  }
  return v;
}

try {
  const emulator = await startBmcEmulator({
    host: setting('host', 'HOSTFLEET_BMC_HOST') ?? '127.0.0.1',
    port: int('port', 'HOSTFLEET_BMC_PORT', 0),
    machines: int('machines', 'HOSTFLEET_BMC_MACHINES', 4),
    username: required('username', 'HOSTFLEET_BMC_USERNAME'),
    password: required('password', 'HOSTFLEET_BMC_PASSWORD'),
    dataDir: required('data-dir', 'HOSTFLEET_BMC_DATA_DIR'),
    dataHost: setting('data-host', 'HOSTFLEET_BMC_DATA_HOST') ?? '127.0.0.1',
    dataPortBase: int('data-port-base', 'HOSTFLEET_BMC_DATA_PORT_BASE', 0),
    bootDelayMs: int('boot-delay-ms', 'HOSTFLEET_BMC_BOOT_DELAY_MS', 150),
    volumesRoot: setting('volumes-root', 'HOSTFLEET_BMC_VOLUMES_ROOT') ?? null,
    logger: { info: (m) => logger.info(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
  });
  process.stdout.write(JSON.stringify({ event: 'ready', url: emulator.url, machines: emulator.machines }) + '\n');

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`bmc: ${why}, stopping every machine`);
    // A bound on the whole shutdown, so a stuck machine never keeps the process alive.
    setTimeout(() => process.exit(1), 30_000).unref();
    emulator.close().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error(`bmc: shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('parent gone'));
} catch (e) {
  console.error(`bmc: ${isHostfleetError(e) ? `${e.code}: ` : ''}${(e as Error).message}`);
  process.exit(1);
}
