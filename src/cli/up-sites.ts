/**
 * up-sites runs several embedded sites on one machine (`hostfleet up --sites 3`): each site its
 * own BMC emulator, machines, edge, manager and store, its own customers, and the global
 * coordinator between them (hosting the loopback hub the managers join). Every site copies its
 * customers' data to the others with its own rsync daemon, and the demo load follows a
 * compressed day (DEMO_DAY_MS) shifted by each site's time zone, so each site peaks at its own
 * local afternoon while another is in its night and lends it servers. Ctrl-C stops them all.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { newSecret } from '../drivers/clock/index.js';
import { redfishBmc } from '../drivers/bmc/index.js';
import { localVolumes } from '../drivers/volumes/index.js';
import { emptyStats } from '../emulators/load/steady.js';
import { buildScenario, runScenarioForever } from '../emulators/load/scenario.js';
import type { LoadStats } from '../emulators/load/steady.js';
import type { Scenario } from '../emulators/load/scenario.js';
import { utcOffsetMinutes } from '../services/global/protocol.js';
import { fillDemoGroups, seedDemo } from './demo.js';
import type { DemoCustomer } from './demo.js';
import { checkPorts, loadLine, startUpRun, upProgress } from './up-run.js';
import { ensureState, startSiteProcesses } from './up.js';
import { count } from '../core/count.js';
import { tracesDir } from './load.js';

/** DemoSite is one site of the multi-site demo. */
export interface DemoSite {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
  readonly customers: readonly DemoCustomer[];
}

const customer = (id: string, displayName: string, colour: string, tagline: string): DemoCustomer => ({
  id,
  displayName,
  domains: [`${id}.test`],
  colour,
  tagline,
});

/** DEMO_SITES are the sites `up --sites N` runs, eight hours apart (seed 001, Figure 13). */
export const DEMO_SITES: readonly DemoSite[] = [
  {
    id: 'london',
    name: 'London',
    timeZone: 'Etc/UTC',
    customers: [
      customer('acme', 'Acme Shop', '#c0392b', 'Everything for the coyote in you.'),
      customer('globex', 'Globex News', '#2471a3', 'All the news that fits.'),
    ],
  },
  {
    id: 'singapore',
    name: 'Singapore',
    timeZone: 'Etc/GMT-8',
    customers: [
      customer('initech', 'Initech Support', '#1e8449', 'Have you tried turning it off and on again?'),
      customer('umbrella', 'Umbrella Pharmacy', '#7d3c98', 'Open all hours.'),
    ],
  },
  {
    id: 'seattle',
    name: 'Seattle',
    timeZone: 'Etc/GMT+8',
    customers: [
      customer('hooli', 'Hooli Search', '#d68910', 'Making the world a better place.'),
      customer('stark', 'Stark Tools', '#566573', 'Built to last.'),
    ],
  },
];

/** DEMO_DAY_MS is how long one day of the demo load lasts: a day in twelve minutes. */
export const DEMO_DAY_MS = 12 * 60_000;

/** DEMO_SLA is the agreement of the demo groups of `up --sites`: the levels of the demo plan (DEMO_PLAN). */
export const DEMO_SLA = { committed: 1, burst: 4, extended: 8, priority: 0.6, responseTargetMs: 200 } as const;

/** DEMO_PEAK_RPS is the afternoon peak of each site's first customer: more than the site's own pool can carry. */
export const DEMO_PEAK_RPS = 400;

/**
 * afternoonRate is the demo day of a site's first customer: the base rate, rising to peakRps
 * at 14:00 local time on a raised cosine four hours either side, over a day of DEMO_DAY_MS that
 * starts at midnight UTC when `up` starts.
 */
export function afternoonRate(baseRps: number, peakRps: number, utcOffsetHours: number): (tMs: number) => number {
  return (t) => {
    const hour = ((((t / DEMO_DAY_MS) * 24 + utcOffsetHours) % 24) + 24) % 24;
    const d = Math.abs(hour - 14);
    return d >= 4 ? baseRps : baseRps + ((peakRps - baseRps) * (1 + Math.cos((Math.PI * d) / 4))) / 2;
  };
}

/** GlobalUpState is what `up --sites` keeps beside the sites: the coordinator's secrets and ports. */
export interface GlobalUpState {
  readonly version: 1;
  readonly token: string;
  readonly busToken: string;
  readonly ports: { readonly hub: number; readonly view: number };
  readonly sites: readonly string[];
  /** rsync holds each site's replication daemon port and secret. */
  readonly rsync: Readonly<Record<string, { readonly port: number; readonly secret: string }>>;
}

/** SITE_PORTS_FROM is the first port of the first site; each next site starts SITE_PORT_STRIDE higher. */
const SITE_PORTS_FROM = 7200;
const SITE_PORT_STRIDE = 50;

/** readGlobalState returns the multi-site state of a data directory, or null. */
export function readGlobalState(dataDir: string): GlobalUpState | null {
  const f = join(dataDir, 'global.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as GlobalUpState) : null;
}

/** ensureGlobalState reads or creates the coordinator's state for n sites. */
function ensureGlobalState(dataDir: string, sites: readonly DemoSite[]): GlobalUpState {
  mkdirSync(dataDir, { recursive: true, mode: 0o711 });
  chmodSync(dataDir, 0o711);
  const old = readGlobalState(dataDir);
  const st: GlobalUpState = {
    version: 1,
    token: old?.token ?? `hfg_${newSecret(32)}`,
    busToken: old?.busToken ?? newSecret(24),
    ports: old?.ports ?? { hub: SITE_PORTS_FROM - 10, view: SITE_PORTS_FROM - 9 },
    sites: sites.map((s) => s.id),
    rsync: Object.fromEntries(
      sites.map((s, k) => [
        s.id,
        old?.rsync[s.id] ?? { port: SITE_PORTS_FROM + k * SITE_PORT_STRIDE + 5, secret: newSecret(24) },
      ]),
    ),
  };
  const f = join(dataDir, 'global.json');
  writeFileSync(f, JSON.stringify(st, null, 2), { mode: 0o600 });
  chmodSync(f, 0o600);
  return st;
}

/** UpSitesOptions are the flags of `hostfleet up --sites N`. */
export interface UpSitesOptions {
  readonly dataDir: string;
  readonly sites: number;
  readonly machines: number;
  readonly load: boolean;
  readonly loadRate: number;
  readonly exitAfterMs?: number;
  readonly command: string;
}

/** upSites starts the sites and the coordinator and returns when they have been stopped. */
export async function upSites(opts: UpSitesOptions): Promise<void> {
  const sites = DEMO_SITES.slice(0, opts.sites);
  const dataDir = opts.dataDir;
  const gst = ensureGlobalState(dataDir, sites);
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const fresh = sites.map((s) => !existsSync(join(dataDir, 'sites', s.id, 'up.json')));
  const states = sites.map((s, k) =>
    ensureState(join(dataDir, 'sites', s.id), { portsFrom: SITE_PORTS_FROM + k * SITE_PORT_STRIDE }),
  );
  const wanted: [string, number][] = [
    ['global coordinator hub', gst.ports.hub],
    ['global view', gst.ports.view],
    ...sites.flatMap((s, k): [string, number][] => {
      const p = (states[k] as (typeof states)[number]).ports;
      return [
        [`${s.id} manager`, p.manager],
        [`${s.id} edge`, p.edge],
        [`${s.id} edge admin`, p.edgeAdmin],
        [`${s.id} BMC`, p.bmc],
        [`${s.id} bus`, p.bus],
        [`${s.id} replication`, (gst.rsync[s.id] as { port: number }).port],
      ];
    }),
  ];
  await checkPorts(wanted, 'Stop it first.');
  const run = startUpRun(logDir, `the sites are kept in ${dataDir}`);
  const { sup } = run;
  const loads: Promise<LoadStats>[] = [];
  let ticker: NodeJS.Timeout | undefined;
  run.whenStopping(async () => {
    if (ticker) clearInterval(ticker);
    await Promise.allSettled(loads);
  });
  const progress = upProgress(1 + sites.length * 5 + 1, `starting ${count(sites.length, 'site')} in ${dataDir}`);
  const step = progress.step;
  const stats = sites.map(() => emptyStats());
  await run.serve(
    async () => {
      await sup.start('global', ['global', '--hub-port', String(gst.ports.hub), '--port', String(gst.ports.view)], {
        HOSTFLEET_GLOBAL_TOKEN: gst.token,
        HOSTFLEET_GLOBAL_BUS_TOKEN: gst.busToken,
      });
      step('global coordinator ready');
      const started: { site: DemoSite; edgeUrl: string; managerUrl: string }[] = [];
      for (const [i, s] of sites.entries()) {
        const st = states[i] as (typeof states)[number];
        const dir = join(dataDir, 'sites', s.id);
        const mine = gst.rsync[s.id] as { port: number; secret: string };
        const { bmcUrl, edgeUrl, client } = await startSiteProcesses(sup, {
          dataDir: dir,
          st,
          machines: opts.machines,
          prefix: `${s.id}-`,
          site: { id: s.id, name: s.name, timeZone: s.timeZone, firstUid: 200_001 + i * 100_000 },
          global: {
            bus: { url: `hfbus://127.0.0.1:${gst.ports.hub}`, token: gst.busToken },
            replication: {
              daemon: { host: '127.0.0.1', port: mine.port, user: 'replica', secret: mine.secret },
              targets: sites
                .filter((o) => o.id !== s.id)
                .map((o) => {
                  const t = gst.rsync[o.id] as { port: number; secret: string };
                  return { site: o.id, url: `rsync://127.0.0.1:${t.port}/replicas`, user: 'replica', secret: t.secret };
                }),
            },
          },
          step,
        });
        const bmc = redfishBmc({ url: bmcUrl, username: st.bmcUser, password: st.bmcPassword, auth: 'basic' });
        await seedDemo(client, bmc, bmcUrl, localVolumes(join(dir, 'volumes')), () => undefined, s.customers);
        await bmc.close();
        // A new site's customers may grow to the demo plan's extended level (eight servers):
        // past what the site holds, the rest is borrowed from other sites.
        if (fresh[i]) for (const c of s.customers) await client.call('PUT', `/v1/groups/${c.id}-web/sla`, DEMO_SLA);
        await fillDemoGroups(client, () => undefined, s.customers);
        step(`${s.id}: customers and servers ready`);
        started.push({ site: s, edgeUrl, managerUrl: `http://127.0.0.1:${st.ports.manager}` });
      }
      if (opts.load) {
        for (const [i, x] of started.entries()) {
          const shift = utcOffsetMinutes(x.site.timeZone, 0) / 60;
          const [first, ...rest] = x.site.customers.map((c) => ({
            group: `${c.id}-web`,
            domain: c.domains[0] as string,
          }));
          const paths = ['/app/hello', '/app/hello', '/'];
          // The first customer peaks in the site's afternoon, past what the site's own servers
          // carry; the others follow a real day's trace in the site's time zone.
          const build = async (): Promise<Scenario> => {
            const day = await buildScenario(
              'diurnal',
              { customers: rest, baseRps: opts.loadRate, durationMs: DEMO_DAY_MS, factor: 4, shiftHours: shift, paths },
              tracesDir(),
            );
            const peak = {
              domain: first?.domain ?? '',
              paths,
              rate: afternoonRate(opts.loadRate, DEMO_PEAK_RPS, shift),
            };
            return {
              ...day,
              targets: [...(first ? [peak] : []), ...day.targets],
              describe: 'a demo day in the site’s time zone',
            };
          };
          loads.push(
            runScenarioForever({ edgeUrl: x.edgeUrl, signal: run.signal, stats: stats[i] as LoadStats, build }),
          );
        }
      }
      step(opts.load ? 'load running' : 'no load');
      progress.stop();
      const w = Math.max(...started.map((x) => x.site.id.length));
      console.log(`
hostfleet is up: ${count(sites.length, 'site')}, eight hours apart (${dataDir})
${started
  .map(
    (x) =>
      `  ${x.site.id.padEnd(w)}  console ${x.managerUrl}/   edge ${x.edgeUrl}   (${x.site.customers.map((c) => c.domains[0]).join(', ')})`,
  )
  .join('\n')}
  global view  http://127.0.0.1:${gst.ports.view}/v1/global   (token in ${join(dataDir, 'global.json')})
  logs         ${logDir}

The demo load runs one day every ${DEMO_DAY_MS / 60_000} minutes, each site peaking in its own afternoon;
a site in its night lends servers to the site at its peak.

Try:
  ${opts.command} status --global      (sites, their local times, servers lent, replication lag)

Ctrl-C stops everything.`);
      if (opts.load) {
        ticker = setInterval(() => {
          const line = started.map((x, i) => `${x.site.id} ${loadLine(stats[i] as LoadStats)}`).join('; ');
          process.stderr.write(`load: ${line}\n`);
        }, 30_000);
        ticker.unref();
      }
    },
    { exitAfterMs: opts.exitAfterMs, progress },
  );
}
