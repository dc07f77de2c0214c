/**
 * main is the `hostfleet` command: run the embedded site, look at it, move servers, and run
 * each of the product's processes on its own.
 */
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { Client, defaultDataDir } from './client.js';
import { renderError } from './errors.js';
import { invocation } from './style.js';
import { registerBillingCommands } from './billing.js';
import { registerFisCommands } from './fis.js';
import { registerPlacementCommands } from './placement.js';
import { registerProvisionCommands } from './provision.js';
import { move } from './move.js';
import { registerLoadCommands } from './load.js';
import { registerExplainCommands } from './explain.js';
import { registerServiceCommands } from './services.js';
import { registerSimCommands } from './sim.js';
import { status } from './status.js';
import { globalClient, statusGlobal } from './status-global.js';
import { up } from './up.js';
import { upSites } from './up-sites.js';
import { registerUserCommands } from './users.js';

const int =
  (name: string, min: number, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`--${name} must be a whole number from ${min} to ${max}`);
    return n;
  };

const program = new Command()
  .name('hostfleet')
  .description('Control plane that moves servers between hosting customers by their SLAs')
  .option('--url <url>', 'manager API URL (default: HOSTFLEET_URL, or the embedded site)')
  .option('--token <token>', 'API token (default: HOSTFLEET_TOKEN, or the embedded site operator token)')
  .option(
    '--data-dir <dir>',
    'data directory of the embedded site (default: HOSTFLEET_DATA_DIR, else /var/lib/hostfleet for root, else ./.hostfleet)',
  );

// A reader that stops early (`hostfleet status | head`) closes the pipe: stop quietly then, as
// the shell's own tools do, instead of dying with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

// The command being run, as typed after `hostfleet` ("user add"), names its flags in errors.
let running = '';
program.hook('preAction', (_root, action) => {
  const names: string[] = [];
  for (let c: Command | null = action; c !== null && c !== program; c = c.parent) names.unshift(c.name());
  running = names.join(' ');
  // --data-dir reaches every part of the command that looks for the embedded site (its
  // client, `load`'s edge and BMC credentials) the way HOSTFLEET_DATA_DIR does.
  const dataDir = program.opts<{ dataDir?: string }>().dataDir;
  if (dataDir !== undefined) process.env.HOSTFLEET_DATA_DIR = resolve(dataDir);
});

const client = () => {
  const o = program.opts<{ url?: string; token?: string; dataDir?: string }>();
  return Client.resolve({ url: o.url, token: o.token, dataDir: o.dataDir });
};

program
  .command('up')
  .description('run an embedded site: emulated BMCs and machines, edge, manager on PGlite, demo customers and load')
  .option('--machines <n>', 'machines in the embedded fleet', int('machines', 1, 200), 12)
  .option('--port <port>', 'manager API port', int('port', 1, 65535))
  .option('--edge-port <port>', 'edge (customer traffic) port', int('edge-port', 1, 65535))
  .option(
    '--ports-from <port>',
    'lay out every port of the site from this one up (manager, edge, edge admin, BMC, bus; machines from +10)',
    int('ports-from', 1024, 65000),
  )
  .option('--no-load', 'do not start the demo load')
  .option('--load-rate <n>', 'demo requests per second per customer', int('load-rate', 1, 1000), 5)
  .option('--exit-after <seconds>', 'stop by itself after this many seconds', int('exit-after', 1, 86_400))
  .option(
    '--sites <n>',
    'run several sites, eight hours apart, with the global coordinator between them (2 or 3; ports from 7190)',
    int('sites', 1, 3),
    1,
  )
  .action(
    async (o: {
      sites: number;
      machines: number;
      port?: number;
      edgePort?: number;
      portsFrom?: number;
      load: boolean;
      loadRate: number;
      exitAfter?: number;
    }) => {
      const dataDirFlag = program.opts<{ dataDir?: string }>().dataDir;
      const command = dataDirFlag === undefined ? invocation() : `${invocation()} --data-dir ${resolve(dataDirFlag)}`;
      if (o.sites > 1) {
        await upSites({
          dataDir: resolve(dataDirFlag ?? defaultDataDir()),
          sites: o.sites,
          machines: o.machines,
          load: o.load,
          loadRate: o.loadRate,
          ...(o.exitAfter !== undefined ? { exitAfterMs: o.exitAfter * 1000 } : {}),
          command,
        });
        return;
      }
      await up({
        dataDir: resolve(program.opts<{ dataDir?: string }>().dataDir ?? defaultDataDir()),
        machines: o.machines,
        ...(o.port !== undefined ? { port: o.port } : {}),
        ...(o.edgePort !== undefined ? { edgePort: o.edgePort } : {}),
        ...(o.portsFrom !== undefined ? { portsFrom: o.portsFrom } : {}),
        load: o.load,
        loadRate: o.loadRate,
        ...(o.exitAfter !== undefined ? { exitAfterMs: o.exitAfter * 1000 } : {}),
        // A site in a data directory given on the command line needs it on every later command too.
        command,
      });
    },
  );

program
  .command('status')
  .description('groups, servers, the pool and moves in flight')
  .option('--json', 'print JSON')
  .option('--global', 'the global view of several sites: local times, servers lent, replication lag')
  .action(async (o: { json?: boolean; global?: boolean }) =>
    o.global
      ? statusGlobal(globalClient(resolve(program.opts<{ dataDir?: string }>().dataDir ?? defaultDataDir())), o)
      : status(client(), o),
  );

program
  .command('move <server>')
  .description('move a server to a group (or to the pool) and follow the move')
  .requiredOption('--to <group>', 'target group id, or "pool"')
  .option('--reason <text>', 'why (recorded with the move)')
  .option('--force', 'allow leaving the source group below its minimum size')
  .option('--no-wait', 'return once the move has started')
  .option('--json', 'print JSON')
  .action(
    async (server: string, o: { to: string; reason?: string; force?: boolean; wait: boolean; json?: boolean }) => {
      process.exitCode = await move(client(), server, o);
    },
  );

registerServiceCommands(program);

registerFisCommands(program);
registerSimCommands(program);
registerBillingCommands(program, client);

registerUserCommands(program, client);
registerLoadCommands(program, client);
registerExplainCommands(program, client);
registerPlacementCommands(program, client);
registerProvisionCommands(program, client);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  for (const line of renderError(e, running)) console.error(line);
  process.exitCode = process.exitCode || 1;
}
