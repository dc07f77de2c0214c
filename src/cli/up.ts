/**
 * up runs one embedded site in one command: the BMC emulator with its machines, the built-in
 * edge, the manager on PGlite, the demo customers and a steady load. Its state lives in the
 * data directory, so a second `up` finds the site again. Ctrl-C stops every process it started.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { newSecret } from '../drivers/clock/index.js';
import { redfishBmc } from '../drivers/bmc/index.js';
import { localVolumes } from '../drivers/volumes/index.js';
import { emptyStats } from '../emulators/load/steady.js';
import { buildScenario, runScenarioForever } from '../emulators/load/scenario.js';
import type { LoadStats } from '../emulators/load/steady.js';
import { ApiError, Client, readUpState } from './client.js';
import type { UpState } from './client.js';
import { DEMO_CUSTOMERS, fillDemoGroups, seedDemo } from './demo.js';
import type { Supervisor } from './supervisor.js';
import { checkPorts, loadLine, startUpRun, upProgress } from './up-run.js';
import { invocation } from './style.js';
import { count } from '../core/count.js';
import { ensureWebBuilt } from '../../web/build.js';

/** UpOptions are the flags of `hostfleet up`. */
export interface UpOptions {
  readonly dataDir: string;
  readonly machines: number;
  readonly port?: number;
  readonly edgePort?: number;
  /** portsFrom places every port of the site from this one up (manager, edge, edge admin, BMC, bus; machines from +10). */
  readonly portsFrom?: number;
  readonly load: boolean;
  readonly loadRate: number;
  /** exitAfterMs stops the site by itself after this long (for scripted checks). */
  readonly exitAfterMs?: number;
  /** command is how the user runs hostfleet against this site (`npx hostfleet --data-dir …`), for the examples `up` prints. */
  readonly command?: string;
}

/** DEMO_SPIKE_RPS is the demo spike's peak: above what the first customer's two servers carry at their SLA target. */
const DEMO_SPIKE_RPS = 240;

/** DEFAULT_PORTS are the embedded site's ports when no flag chooses them (the README's examples use them). */
export const DEFAULT_PORTS: UpState['ports'] = {
  manager: 7070,
  edge: 8080,
  edgeAdmin: 8081,
  bmc: 8000,
  dataBase: 9100,
  bus: 7071,
};

/** portsFrom lays the site's ports out from base up. */
function portsFrom(base: number): UpState['ports'] {
  return { manager: base, edge: base + 1, edgeAdmin: base + 2, bmc: base + 3, bus: base + 4, dataBase: base + 10 };
}

/** ensureState reads the site's state, or creates it (secrets and ports) on the first run. */
export function ensureState(dataDir: string, opts: Pick<UpOptions, 'port' | 'edgePort' | 'portsFrom'>): UpState {
  // Traversable but not listable: machines' workloads (running as their customers' uids) reach
  // their scratch space and volume exports below it; everything secret inside is owner-only.
  mkdirSync(dataDir, { recursive: true, mode: 0o711 });
  chmodSync(dataDir, 0o711);
  const old = readUpState(dataDir);
  const st: UpState = {
    version: 1,
    operatorToken: old?.operatorToken ?? `hf_${newSecret(32)}`,
    bmcUser: old?.bmcUser ?? 'admin',
    bmcPassword: old?.bmcPassword ?? newSecret(18),
    edgeToken: old?.edgeToken ?? newSecret(24),
    busToken: old?.busToken ?? newSecret(24),
    ports: {
      ...DEFAULT_PORTS,
      ...(old?.ports ?? {}),
      ...(opts.portsFrom !== undefined ? portsFrom(opts.portsFrom) : {}),
      ...(opts.port !== undefined ? { manager: opts.port } : {}),
      ...(opts.edgePort !== undefined ? { edge: opts.edgePort } : {}),
    },
  };
  const f = join(dataDir, 'up.json');
  writeFileSync(f, JSON.stringify(st, null, 2), { mode: 0o600 });
  chmodSync(f, 0o600);
  writeFileSync(join(dataDir, 'operator-token'), st.operatorToken + '\n', { mode: 0o600 });
  return st;
}

/**
 * ensureConsoleUser gives a new site an operator user "admin" for the console, with a random
 * password kept in the data directory (mode 0600), and says how to log in.
 */
async function ensureConsoleUser(client: Client, dataDir: string, hf: string): Promise<string> {
  const file = join(dataDir, 'console-password');
  if (!existsSync(file)) {
    const password = newSecret(15);
    try {
      await client.call('POST', '/v1/users', { name: 'admin', password, role: 'operator' });
      writeFileSync(file, password + '\n', { mode: 0o600 });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'E_CONFLICT')) throw e;
    }
  }
  return existsSync(file)
    ? `log in as admin, password in ${file}`
    : `log in as a user from \`${hf} user add NAME --role operator\``;
}

/**
 * tryLines are the commands `up` suggests, each as the user can type it: hf is how they run
 * hostfleet, and the move takes the last machine, which starts in the pool and is the last one
 * the decision loop takes from it.
 */
export function tryLines(domains: readonly string[], edgeUrl: string, hf: string, machines: number): string {
  const rows: [string, string][] = [
    ...domains.map((d): [string, string] => [`curl -H 'Host: ${d}' ${edgeUrl}/`, '']),
    [`${hf} status`, 'groups, servers, the pool, moves'],
    [
      `${hf} move srv-${String(machines).padStart(2, '0')} --to ${DEMO_CUSTOMERS[1]?.id ?? 'globex'}-web`,
      'move a server from the pool, step by step',
    ],
    [`${hf} explain`, 'why the decision loop moved servers: every 2 minutes acme.test spikes'],
    [`${hf} load spike --duration 20`, 'replay a load scenario; also ramp, diurnal, failure'],
  ];
  const w = Math.max(...rows.map(([c]) => c.length));
  return rows.map(([c, why]) => (why ? `  ${c.padEnd(w)}   (${why})` : `  ${c}`)).join('\n');
}

/** SiteProcesses says which site to start: its data directory, state, machines and identity, and its part among several sites. */
export interface SiteProcesses {
  readonly dataDir: string;
  readonly st: UpState;
  readonly machines: number;
  readonly site: { readonly id: string; readonly name: string; readonly timeZone: string; readonly firstUid?: number };
  /** prefix names the site's processes for the supervisor and their logs ('' for a lone site). */
  readonly prefix?: string;
  /** global is the manager's `global` section when the site works with others. */
  readonly global?: Record<string, unknown>;
  readonly step?: (what: string) => void;
}

/**
 * startSiteProcesses starts one embedded site's processes under the supervisor: the BMC emulator
 * with its machines, the built-in edge and the manager (configured in the site's data directory).
 */
export async function startSiteProcesses(
  sup: Supervisor,
  o: SiteProcesses,
): Promise<{ bmcUrl: string; edgeUrl: string; client: Client }> {
  const { dataDir, st } = o;
  const prefix = o.prefix ?? '';
  const step = o.step ?? (() => undefined);
  const volumesRoot = join(dataDir, 'volumes');
  mkdirSync(volumesRoot, { recursive: true, mode: 0o711 });
  const bmcUrl = `http://127.0.0.1:${st.ports.bmc}`;
  await sup.start(
    `${prefix}bmc`,
    [
      'bmc',
      '--machines-dir',
      join(dataDir, 'machines'),
      '--volumes-root',
      volumesRoot,
      '--machines',
      String(o.machines),
      '--port',
      String(st.ports.bmc),
      '--data-port-base',
      String(st.ports.dataBase),
    ],
    {
      HOSTFLEET_BMC_USER: st.bmcUser,
      HOSTFLEET_BMC_PASSWORD: st.bmcPassword,
    },
  );
  step(`${prefix}BMC emulator ready`);
  await sup.start(`${prefix}edge`, ['edge'], {
    HOSTFLEET_EDGE_HOST: '127.0.0.1',
    HOSTFLEET_EDGE_PORT: String(st.ports.edge),
    HOSTFLEET_EDGE_ADMIN_HOST: '127.0.0.1',
    HOSTFLEET_EDGE_ADMIN_PORT: String(st.ports.edgeAdmin),
    HOSTFLEET_EDGE_TOKEN: st.edgeToken,
    HOSTFLEET_EDGE_STATE_FILE: join(dataDir, 'edge-state.json'),
  });
  step(`${prefix}edge ready`);
  const cfgFile = join(dataDir, 'manager.yaml');
  writeFileSync(
    cfgFile,
    YAML.stringify({
      site: o.site,
      dataDir,
      listen: { host: '127.0.0.1', port: st.ports.manager },
      bmcs: [{ url: bmcUrl, username: st.bmcUser, password: st.bmcPassword, auth: 'session' }],
      edge: {
        kind: 'builtin',
        adminUrl: `http://127.0.0.1:${st.ports.edgeAdmin}`,
        token: st.edgeToken,
        publicUrl: `http://127.0.0.1:${st.ports.edge}`,
      },
      volumes: { kind: 'local', root: volumesRoot },
      bus: { kind: 'loopback', host: '127.0.0.1', port: st.ports.bus, token: st.busToken },
      operatorToken: st.operatorToken,
      ...(o.global ? { global: o.global } : {}),
    }),
    { mode: 0o600 },
  );
  await ensureWebBuilt();
  // The site's own data directory, whatever HOSTFLEET_DATA_DIR the command was given (several sites share it).
  await sup.start(`${prefix}manager`, ['manager', '--config', cfgFile], { HOSTFLEET_DATA_DIR: dataDir });
  step(`${prefix}manager ready`);
  return {
    bmcUrl,
    edgeUrl: `http://127.0.0.1:${st.ports.edge}`,
    client: new Client(`http://127.0.0.1:${st.ports.manager}`, st.operatorToken),
  };
}

/** up starts the embedded site and returns when it has been stopped. */
export async function up(opts: UpOptions): Promise<void> {
  const dataDir = opts.dataDir;
  const hf = opts.command ?? invocation();
  const first = !existsSync(join(dataDir, 'up.json'));
  const st = ensureState(dataDir, opts);
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const volumesRoot = join(dataDir, 'volumes');
  mkdirSync(volumesRoot, { recursive: true, mode: 0o711 });

  const wanted: [string, number][] = [
    ['manager', st.ports.manager],
    ['edge', st.ports.edge],
    ['edge admin', st.ports.edgeAdmin],
    ['BMC', st.ports.bmc],
    ['management bus', st.ports.bus],
  ];
  await checkPorts(
    wanted,
    `Stop it, or choose other ports with --ports-from / --port / --edge-port, or edit ${join(dataDir, 'up.json')}`,
  );
  const run = startUpRun(logDir, `the site is kept in ${dataDir}`);
  const { sup } = run;
  let loadDone: Promise<LoadStats> | null = null;
  let ticker: NodeJS.Timeout | undefined;
  run.whenStopping(async () => {
    if (ticker) clearInterval(ticker);
    await loadDone?.catch(() => undefined);
  });
  const progress = upProgress(6, first ? 'creating a new site in ' + dataDir : 'starting the site in ' + dataDir);
  const step = progress.step;

  await run.serve(
    async () => {
      const { bmcUrl, client } = await startSiteProcesses(sup, {
        dataDir,
        st,
        machines: opts.machines,
        site: { id: 'local', name: 'Embedded site', timeZone: 'UTC' },
        step,
      });
      const bmc = redfishBmc({ url: bmcUrl, username: st.bmcUser, password: st.bmcPassword, auth: 'basic' });
      await seedDemo(client, bmc, bmcUrl, localVolumes(volumesRoot), () => undefined);
      const consoleLogin = await ensureConsoleUser(client, dataDir, hf);
      await bmc.close();
      step('customers ready');
      await fillDemoGroups(client, () => undefined);
      step('servers in their groups');

      const edgeUrl = `http://127.0.0.1:${st.ports.edge}`;
      const stats: LoadStats = emptyStats();
      if (opts.load) {
        // The default scenario: every customer at the demo rate, and every two minutes a spike on
        // the first one large enough that its agents ask for servers (idle groups release theirs),
        // so a new user sees servers move within a minute.
        const customers = DEMO_CUSTOMERS.map((c) => ({ group: `${c.id}-web`, domain: c.domains[0] as string }));
        const build = () =>
          buildScenario(
            'spike',
            {
              customers,
              baseRps: opts.loadRate,
              durationMs: 120_000,
              factor: Math.max(4, DEMO_SPIKE_RPS / opts.loadRate),
              paths: ['/app/hello', '/app/hello', '/'],
            },
            '.',
          );
        loadDone = runScenarioForever({ edgeUrl, signal: run.signal, stats, build });
      }
      step(opts.load ? 'load running' : 'no load');
      progress.stop();

      console.log(`
hostfleet is up (${dataDir})
  manager API   http://127.0.0.1:${st.ports.manager}   (OpenAPI at /openapi.json; token in ${join(dataDir, 'operator-token')})
  console       http://127.0.0.1:${st.ports.manager}/   (${consoleLogin})
  edge          ${edgeUrl}
  Redfish BMCs  ${bmcUrl}/redfish/v1   (${count(opts.machines, 'machine')})
  logs          ${logDir}

Try:
${tryLines(
  DEMO_CUSTOMERS.map((c) => c.domains[0] as string),
  edgeUrl,
  hf,
  opts.machines,
)}

Ctrl-C stops everything.`);
      if (opts.load) {
        ticker = setInterval(() => {
          process.stderr.write(`load: ${loadLine(stats)}\n`);
        }, 15_000);
        ticker.unref();
      }
    },
    { exitAfterMs: opts.exitAfterMs, progress },
  );
}
