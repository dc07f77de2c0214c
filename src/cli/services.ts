/**
 * services are the commands that run one hostfleet process each — `manager`, `edge`, `bmc` —
 * as `hostfleet up` starts them, or as an operator runs them on real machines. Each stops
 * cleanly on SIGTERM/SIGINT and when the `up` that started it goes away.
 */
import pino from 'pino';
import type { Command } from 'commander';
import { runService } from '../services/shared/process.js';
import { runManager } from '../services/manager/main.js';
import { startEdge } from '../services/edge/edge.js';
import { edgeOptionsFromEnv } from '../services/edge/main.js';
import { startBmcEmulator } from '../emulators/bmc/emulator.js';
import { startGlobalProcess } from '../services/global/main.js';

const int =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
    return n;
  };

/** registerServiceCommands adds manager, edge, bmc and global to the program. */
export function registerServiceCommands(program: Command): void {
  program
    .command('global')
    .description('run the global coordinator of several sites (lends servers between them, takes over lost sites)')
    .option(
      '--bus-url <url>',
      'the global bus: nats://HOST:4222 (default: host a loopback hub for sites on this machine)',
    )
    .option('--hub-port <port>', 'port of the loopback hub when no --bus-url is given', int('hub-port'), 7079)
    .option('--host <host>', 'address of the global view (GET /v1/global)', '127.0.0.1')
    .option('--port <port>', 'port of the global view', int('port'), 7078)
    .option('--round-ms <ms>', 'interval between rounds', int('round-ms'), 2000)
    .option('--lost-after-ms <ms>', 'a site silent this long is lost', int('lost-after-ms'), 10_000)
    .option('--max-lag-ms <ms>', 'a replica trailing more than this does not serve', int('max-lag-ms'), 300_000)
    .action(
      async (o: {
        busUrl?: string;
        hubPort: number;
        host: string;
        port: number;
        roundMs: number;
        lostAfterMs: number;
        maxLagMs: number;
      }) => {
        const token = process.env.HOSTFLEET_GLOBAL_TOKEN;
        if (!token || token.length < 16)
          throw new Error(
            'set HOSTFLEET_GLOBAL_TOKEN (16 characters or more): the global view is served only with a token',
          );
        await runService('global', () =>
          startGlobalProcess({
            ...o,
            token,
            ...(process.env.HOSTFLEET_GLOBAL_BUS_TOKEN ? { busToken: process.env.HOSTFLEET_GLOBAL_BUS_TOKEN } : {}),
          }),
        );
      },
    );

  program
    .command('manager')
    .description("run a site's manager (API, boot service, dispatcher)")
    .option(
      '-c, --config <file>',
      'configuration file (YAML or JSON); HOSTFLEET_* variables override it',
      process.env.HOSTFLEET_CONFIG,
    )
    .action(async (o: { config?: string }) => {
      await runManager(o.config);
    });

  program
    .command('edge')
    .description('run the built-in edge (reverse proxy and admin API); configured by HOSTFLEET_EDGE_* variables')
    .action(async () => {
      const logger = pino({ level: process.env.HOSTFLEET_EDGE_LOG_LEVEL ?? 'info', base: { service: 'edge' } });
      await runService('edge', async () => {
        const e = await startEdge({ ...edgeOptionsFromEnv(process.env), logger });
        logger.info({ url: e.url, adminUrl: e.adminUrl }, 'edge listening');
        return e;
      });
    });

  program
    .command('bmc')
    .description('run the Redfish BMC emulator for an embedded fleet of machines')
    .requiredOption('--machines-dir <dir>', 'where the machines keep their state and scratch space')
    .requiredOption('--volumes-root <dir>', 'root of the local volume driver (machines mount their export from it)')
    .option('--machines <n>', 'number of machines', int('machines'), 12)
    .option('--host <host>', 'address of the Redfish service', '127.0.0.1')
    .option('--port <port>', 'port of the Redfish service (0 = any free port)', int('port'), 8000)
    .option(
      '--data-port-base <port>',
      'machine i serves its workload on this port + i (0 = any free ports)',
      int('data-port-base'),
      9100,
    )
    .option('--boot-delay-ms <ms>', 'simulated power-on self test', int('boot-delay-ms'), 150)
    .action(
      async (o: {
        machinesDir: string;
        volumesRoot: string;
        machines: number;
        host: string;
        port: number;
        dataPortBase: number;
        bootDelayMs: number;
      }) => {
        const username = process.env.HOSTFLEET_BMC_USER ?? 'admin';
        const password = process.env.HOSTFLEET_BMC_PASSWORD;
        if (!password) throw new Error('set HOSTFLEET_BMC_PASSWORD: the emulator serves Redfish only with a password');
        const logger = pino({ level: process.env.HOSTFLEET_BMC_LOG_LEVEL ?? 'info', base: { service: 'bmc' } });
        await runService('bmc', async () => {
          const b = await startBmcEmulator({
            host: o.host,
            port: o.port,
            machines: o.machines,
            username,
            password,
            dataDir: o.machinesDir,
            dataPortBase: o.dataPortBase,
            bootDelayMs: o.bootDelayMs,
            volumesRoot: o.volumesRoot,
            logger,
          });
          logger.info({ url: b.url, machines: b.machines.length }, 'BMC emulator listening');
          return b;
        });
      },
    );
}
