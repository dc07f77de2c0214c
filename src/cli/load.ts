/**
 * load is `hostfleet load SCENARIO`: it replays a load scenario (steady, ramp, spike, diurnal
 * from a real trace, failure injections) through the edge against the site's customers, and
 * prints the load's figures and the moves the decision loop made meanwhile.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { redfishBmc } from '../drivers/bmc/index.js';
import { systemClock } from '../drivers/clock/index.js';
import { emptyStats, percentile } from '../emulators/load/steady.js';
import type { LoadStats } from '../emulators/load/steady.js';
import { buildScenario, runScenario, SCENARIOS } from '../emulators/load/scenario.js';
import type { InjectFn, ScenarioCustomer, ScenarioName } from '../emulators/load/scenario.js';
import { count } from '../core/count.js';
import type { Client } from './client.js';
import { defaultDataDir, readUpState } from './client.js';

/**
 * tracesDir is the folder `load diurnal --trace` names files in: HOSTFLEET_TRACES_DIR when set,
 * else the traces shipped in the repository (data/traces), found from this module rather than
 * the working directory, so the command works from anywhere.
 */
export function tracesDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.HOSTFLEET_TRACES_DIR;
  return dir !== undefined && dir !== '' ? resolve(dir) : fileURLToPath(new URL('../../data/traces', import.meta.url));
}

interface GroupOut {
  id: string;
  domains: string[];
}
interface ServerOut {
  id: string;
  state: string;
  moveId: string | null;
  bmcUrl?: string;
  systemId?: string;
}

/** customersOf lists the site's groups with a domain, as scenario customers (or the named groups, in order). */
async function customersOf(client: Client, only?: readonly string[]): Promise<ScenarioCustomer[]> {
  const groups = (await client.call<{ groups: GroupOut[] }>('GET', '/v1/groups')).groups.filter(
    (g) => g.domains.length > 0,
  );
  const picked = only
    ? only.map(
        (id) =>
          groups.find((g) => g.id === id) ??
          (() => {
            throw new InvalidArgumentError(`group ${id} does not exist or has no domain`);
          })(),
      )
    : groups;
  return picked.map((g) => ({ group: g.id, domain: g.domains[0] as string }));
}

/** powerOffInjector powers a serving server of the group off through its BMC (credentials from `hostfleet up`'s state). */
export function powerOffInjector(client: Client, creds: { username: string; password: string } | null): InjectFn {
  return async (inj) => {
    const { servers } = await client.call<{ servers: ServerOut[] }>(
      'GET',
      `/v1/groups/${encodeURIComponent(inj.group)}`,
    );
    const s = servers.find((x) => x.state === 'active' && x.moveId === null && x.bmcUrl && x.systemId);
    if (!s || !s.bmcUrl || !s.systemId) return `no serving server in ${inj.group} to fail`;
    if (!creds)
      throw new Error(
        'no BMC credentials: run against a site started by hostfleet up, or set HOSTFLEET_BMC_USER and HOSTFLEET_BMC_PASSWORD',
      );
    const bmc = redfishBmc({ url: s.bmcUrl, username: creds.username, password: creds.password, auth: 'basic' });
    try {
      await bmc.reset(s.systemId, 'ForceOff');
    } finally {
      await bmc.close();
    }
    return `${s.id} of ${inj.group} powered off`;
  };
}

/** registerLoadCommands adds `hostfleet load`. */
export function registerLoadCommands(program: Command, client: () => Client): void {
  program
    .command('load <scenario>')
    .description(`replay a load scenario through the edge: ${SCENARIOS.join(', ')}`)
    .option('--duration <seconds>', 'how long the scenario runs', (v) => Number(v), 120)
    .option('--base-rps <n>', 'base requests per second per customer', (v) => Number(v), 10)
    .option('--factor <x>', 'how many times the base a ramp, spike or diurnal peak reaches', (v) => Number(v), 4)
    .option(
      '--groups <ids>',
      'comma-separated groups to drive, the first one ramps or spikes (default: every group with a domain)',
    )
    .option('--edge-url <url>', "the edge's URL (default: the embedded site's)")
    .option('--trace <file>', 'trace file for diurnal, under data/traces (or HOSTFLEET_TRACES_DIR)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        name: string,
        o: {
          duration: number;
          baseRps: number;
          factor: number;
          groups?: string;
          edgeUrl?: string;
          trace?: string;
          json?: boolean;
        },
      ) => {
        if (!(SCENARIOS as readonly string[]).includes(name))
          throw new InvalidArgumentError(
            `unknown scenario ${JSON.stringify(name)}; choose one of ${SCENARIOS.join(', ')}`,
          );
        for (const [k, v, lo, hi] of [
          ['duration', o.duration, 1, 86_400],
          ['base-rps', o.baseRps, 0.1, 10_000],
          ['factor', o.factor, 1, 1000],
        ] as const) {
          if (!(v >= lo && v <= hi))
            throw new InvalidArgumentError(`--${k} must be a number from ${lo} to ${hi}; got ${String(v)}`);
        }
        const c = client();
        const st = readUpState(defaultDataDir());
        const edgeUrl = o.edgeUrl ?? (st ? `http://127.0.0.1:${st.ports.edge}` : undefined);
        if (!edgeUrl)
          throw new InvalidArgumentError('no edge URL: pass --edge-url, or run against a site started by hostfleet up');
        const creds =
          process.env.HOSTFLEET_BMC_USER && process.env.HOSTFLEET_BMC_PASSWORD
            ? { username: process.env.HOSTFLEET_BMC_USER, password: process.env.HOSTFLEET_BMC_PASSWORD }
            : st
              ? { username: st.bmcUser, password: st.bmcPassword }
              : null;
        const customers = await customersOf(
          c,
          o.groups
            ?.split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        );
        if (customers.length === 0)
          throw new InvalidArgumentError('the site has no group with a domain to send load to');
        const scenario = await buildScenario(
          name as ScenarioName,
          {
            customers,
            baseRps: o.baseRps,
            durationMs: o.duration * 1000,
            factor: o.factor,
            ...(o.trace ? { trace: o.trace } : {}),
          },
          tracesDir(),
        );
        const since = systemClock.now().toISOString();
        if (!o.json) console.error(`scenario ${name}: ${scenario.describe}; ${o.duration} s against ${edgeUrl}`);
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop);
        const stats: LoadStats = emptyStats();
        const ticker = o.json
          ? null
          : setInterval(
              () =>
                console.error(
                  `  ${stats.sent} sent, ${stats.failed} failed, p95 ${percentile(stats.latenciesMs.slice(-2000), 95).toFixed(0)} ms`,
                ),
              10_000,
            );
        try {
          await runScenario({
            edgeUrl,
            scenario,
            signal: ac.signal,
            stats,
            inject: powerOffInjector(c, creds),
            log: (l) => console.error(`  ${l}`),
          });
        } finally {
          if (ticker) clearInterval(ticker);
          process.off('SIGINT', stop);
        }
        const moves = (
          await c.call<{
            moves: {
              serverId: string;
              fromGroup: string | null;
              toGroup: string | null;
              reason: string;
              status: string;
              createdAt: string;
            }[];
          }>('GET', '/v1/moves?limit=200')
        ).moves.filter((m) => m.createdAt >= since);
        const out = {
          scenario: name,
          sent: stats.sent,
          ok: stats.ok,
          failed: stats.failed,
          p50_ms: Math.round(percentile(stats.latenciesMs, 50)),
          p95_ms: Math.round(percentile(stats.latenciesMs, 95)),
          moves: moves.length,
        };
        if (o.json) console.log(JSON.stringify({ ...out, moveList: moves }));
        else {
          console.log(
            `${count(out.sent, 'request')}, ${out.failed} failed, p50 ${out.p50_ms} ms, p95 ${out.p95_ms} ms; ${count(moves.length, 'move')} meanwhile${moves.length > 0 ? ':' : ''}`,
          );
          for (const m of moves.reverse())
            console.log(
              `  ${m.createdAt.slice(11, 19)} ${m.serverId} ${m.fromGroup ?? 'pool'} → ${m.toGroup ?? 'pool'} (${m.status}): ${m.reason}`,
            );
        }
      },
    );
}
