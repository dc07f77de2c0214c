/**
 * main is the `hostfleet` command: run the embedded site, look at it, move servers, and run
 * each of the product's processes on its own.
 */
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { isHostfleetError } from '../core/errors.js';
import { ApiError, Client, defaultDataDir } from './client.js';
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
import { up } from './up.js';
import { registerUserCommands } from './users.js';

const int = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
};

const program = new Command()
  .name('hostfleet')
  .description('Control plane that moves servers between hosting customers by their SLAs')
  .option('--url <url>', 'manager API URL (default: HOSTFLEET_URL, or the embedded site)')
  .option('--token <token>', 'API token (default: HOSTFLEET_TOKEN, or the embedded site operator token)')
  .option('--data-dir <dir>', 'data directory of the embedded site (default: HOSTFLEET_DATA_DIR, else /var/lib/hostfleet for root, else ./.hostfleet)');

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
  .option('--ports-from <port>', 'lay out every port of the site from this one up (manager, edge, edge admin, BMC, bus; machines from +10)', int('ports-from', 1024, 65000))
  .option('--no-load', 'do not start the demo load')
  .option('--load-rate <n>', 'demo requests per second per customer', int('load-rate', 1, 1000), 5)
  .option('--exit-after <seconds>', 'stop by itself after this many seconds', int('exit-after', 1, 86_400))
  .action(async (o: { machines: number; port?: number; edgePort?: number; portsFrom?: number; load: boolean; loadRate: number; exitAfter?: number }) => {
    await up({
      dataDir: resolve(program.opts<{ dataDir?: string }>().dataDir ?? defaultDataDir()),
      machines: o.machines,
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.edgePort !== undefined ? { edgePort: o.edgePort } : {}),
      ...(o.portsFrom !== undefined ? { portsFrom: o.portsFrom } : {}),
      load: o.load,
      loadRate: o.loadRate,
      ...(o.exitAfter !== undefined ? { exitAfterMs: o.exitAfter * 1000 } : {}),
    });
  });

program
  .command('status')
  .description('groups, servers, the pool and moves in flight')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => status(client(), o));

program
  .command('move <server>')
  .description('move a server to a group (or to the pool) and follow the move')
  .requiredOption('--to <group>', 'target group id, or "pool"')
  .option('--reason <text>', 'why (recorded with the move)')
  .option('--force', 'allow leaving the source group below its minimum size')
  .option('--no-wait', 'return once the move has started')
  .option('--json', 'print JSON')
  .action(async (server: string, o: { to: string; reason?: string; force?: boolean; wait: boolean; json?: boolean }) => {
    process.exitCode = await move(client(), server, o);
  });

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
  if (e instanceof ApiError) {
    const fields = (e.body as { error?: { fields?: { field: string; problem: string }[] } }).error?.fields;
    console.error(`error ${e.code}: ${e.message}`);
    for (const f of fields ?? []) console.error(`  ${f.field}: ${f.problem}`);
  } else if (isHostfleetError(e)) {
    console.error(`error ${e.code}: ${e.message}`);
  } else {
    console.error(`error: ${(e as Error).message}`);
  }
  process.exitCode = process.exitCode || 1;
}
