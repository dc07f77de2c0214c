// `npm run bench -- failover [kills=10] [takeovers=5]`: failures and a manager pair on the
// embedded site over a real PostgreSQL (HOSTFLEET_TEST_DATABASE_URL, default the local server).
// 1. Under load, kill -9 the workload process of a serving server, `kills` times; report the
//    time from the kill until its group serves with its full count again, the failed server
//    detached and replaced (detection by the BMC's health, the edge or the agent's silence).
// 2. Two managers share the store; kill -9 the active one in the middle of a move, `takeovers`
//    times; report the time until the standby holds the lease, and check afterwards that every
//    server is in exactly one place and that the interrupted move finished (none lost).
// The last line is JSON.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import YAML from 'yaml';
import { freePort, startTestSite } from '../test/support/site.js';
import { Client } from '../src/cli/client.js';
import { percentile, runSteadyLoad } from '../src/emulators/load/steady.js';
import { checkServerInvariants, placeOf } from '../src/core/model/server.js';
import type { ServerState } from '../src/core/model/server.js';
import type { MoveRecord } from '../src/core/model/records.js';

const KILLS = Number(process.argv[2] ?? 10);
const TAKEOVERS = Number(process.argv[3] ?? 5);
if (
  !Number.isInteger(KILLS) ||
  KILLS < 0 ||
  KILLS > 100 ||
  !Number.isInteger(TAKEOVERS) ||
  TAKEOVERS < 0 ||
  TAKEOVERS > 50
) {
  console.error('usage: npm run bench -- failover [kills 0–100] [takeovers 0–50]');
  process.exit(2);
}
const PG_URL = process.env.HOSTFLEET_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BIN = fileURLToPath(new URL('../bin/hostfleet.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(s + '\n');

interface ServerOut {
  id: string;
  state: ServerState;
  groupId: string | null;
  moveId: string | null;
  systemId?: string;
}

/** startManagerProcess runs `hostfleet manager` and resolves once it listens (it reports 'ready' over IPC). */
function startManagerProcess(cfgFile: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, [BIN, 'manager', '--config', cfgFile], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('manager did not start in 60 s')), 60_000);
    p.on('message', (m: { kind?: string }) => {
      if (m.kind === 'ready') {
        clearTimeout(t);
        resolve(p);
      }
    });
    p.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`manager exited with ${code} while starting`));
    });
  });
}

async function kill9(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < end && i < 100_000; i++) {
    const v = await f().catch(() => null);
    if (v) return v;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const schema = `hf_bench_${randomBytes(5).toString('hex')}`;
const site = await startTestSite({ machines: 6, managerProcess: true, databaseUrl: PG_URL, databaseSchema: schema });
const procs: ChildProcess[] = [];
const replaceMs: number[] = [];
const takeoverMs: number[] = [];
let violations = 0;
const loadStop = new AbortController();
try {
  // Fast detection for the bench (the defaults poll the BMC every second); the same logic.
  const cfgA = join(site.dir, 'manager.yaml');
  const base = YAML.parse(readFileSync(cfgA, 'utf8')) as Record<string, unknown> & {
    listen: { port: number };
    bus: { port: number };
  };
  const tuned = {
    ...base,
    decision: { tickMs: 200, powerPollMs: 200, edgeDownMs: 300, graceMs: 1000, quarantineAfter: 100 },
    lease: { enabled: true, ttlMs: 3000, renewMs: 300 },
  };
  writeFileSync(cfgA, YAML.stringify(tuned));
  await site.killManager();
  await site.startManager();
  await site.customer('alpha', ['alpha.test'], { minSize: 1 });
  await site.registerAll();
  // Committed 2: the loop itself brings alpha to two servers and keeps it there.
  await site.client.call('PUT', '/v1/groups/alpha-web/sla', {
    metric: 'servers',
    unitsPerServer: 1,
    committed: 2,
    burst: 2,
    extended: 2,
    priority: 0.5,
    responseTargetMs: 500,
  });
  const serving = async (c: Client) =>
    (await c.call<{ servers: ServerOut[] }>('GET', '/v1/servers')).servers.filter(
      (s) => s.groupId === 'alpha-web' && s.state === 'active' && s.moveId === null,
    );
  await until('alpha at its committed level', 60_000, async () => (await serving(site.client)).length === 2);
  const load = runSteadyLoad({
    edgeUrl: site.edge.url,
    signal: loadStop.signal,
    targets: [{ domain: 'alpha.test', ratePerSec: 30, paths: ['/', '/app/a'] }],
  });

  // ---- 1. kill -9 a serving server's workload ----------------------------------------------
  for (let i = 0; i < KILLS; i++) {
    const before = await until('alpha serving on two settled servers', 60_000, async () => {
      const s = await serving(site.client);
      const moving = (await site.client.call<{ moves: unknown[] }>('GET', '/v1/moves?status=running')).moves.length;
      return s.length === 2 && moving === 0 ? s : null;
    });
    // Servers that just became active are within the failure grace; let them settle.
    await sleep(1200);
    const victim = before[i % 2] as ServerOut;
    const machine = site.bmc.machines.find((m) => m.id === victim.systemId);
    const pid = machine?.pids().workload ?? null;
    if (pid === null) throw new Error(`no workload process for ${victim.id}`);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    await until(`a replacement for ${victim.id}`, 60_000, async () => {
      const s = await serving(site.client);
      return s.length === 2 && !s.some((x) => x.id === victim.id);
    });
    const ms = performance.now() - t0;
    replaceMs.push(ms);
    log(`kill ${i + 1}/${KILLS}: ${victim.id} replaced in ${ms.toFixed(0)} ms`);
  }

  // ---- 2. kill -9 the active manager mid-move ----------------------------------------------
  if (TAKEOVERS > 0) {
    const cfgB = join(site.dir, 'manager-b.yaml');
    const portB = await freePort();
    // Each manager hosts its own loopback bus hub (a production pair shares NATS instead).
    writeFileSync(
      cfgB,
      YAML.stringify({
        ...tuned,
        listen: { ...base.listen, port: portB },
        bus: { ...base.bus, port: await freePort() },
      }),
    );
    const urls = [`http://127.0.0.1:${base.listen.port}`, `http://127.0.0.1:${portB}`];
    const cfgs = [cfgA, cfgB];
    // The site's own manager process is replaced by two the bench controls.
    await site.killManager();
    let active = 0;
    const a = await startManagerProcess(cfgA);
    procs[0] = a;
    await until(
      'manager A active',
      10_000,
      async () =>
        (await new Client(urls[0] as string, site.token).call<{ active: boolean }>('GET', '/v1/decision')).active,
    );
    procs[1] = await startManagerProcess(cfgB);
    for (let i = 0; i < TAKEOVERS; i++) {
      const standby = 1 - active;
      const ca = new Client(urls[active] as string, site.token);
      const cs = new Client(urls[standby] as string, site.token);
      const servers = (await ca.call<{ servers: ServerOut[] }>('GET', '/v1/servers')).servers;
      const pool = servers.find((s) => (s.state === 'pool-cold' || s.state === 'pool-warm') && s.moveId === null);
      const extra = servers.find(
        (s) => s.groupId === 'alpha-web' && s.state === 'active' && s.moveId === null && i % 2 === 1,
      );
      const subject = extra ?? pool;
      if (!subject) throw new Error('no server to move');
      const { move } = await ca.call<{ move: MoveRecord }>('POST', '/v1/moves', {
        server: subject.id,
        to: extra ? 'pool' : 'alpha-web',
        reason: 'bench failover',
        force: true,
      });
      await sleep(150 + 100 * (i % 3));
      const t0 = performance.now();
      await kill9(procs[active] as ChildProcess);
      await until(
        'the standby to take over',
        30_000,
        async () => (await cs.call<{ active: boolean }>('GET', '/v1/decision')).active,
      );
      const ms = performance.now() - t0;
      takeoverMs.push(ms);
      const fin = await until(`move ${move.id} to finish`, 90_000, async () => {
        const m = (await cs.call<{ move: MoveRecord }>('GET', `/v1/moves/${move.id}`)).move;
        return m.status !== 'running' ? m : null;
      });
      if (fin.status !== 'done' && fin.status !== 'rolled-back') {
        violations++;
        log(`move ${move.id} ended ${fin.status}: ${JSON.stringify(fin.error)}`);
      }
      await until(
        'no move in flight',
        60_000,
        async () => (await cs.call<{ moves: unknown[] }>('GET', '/v1/moves?status=running')).moves.length === 0,
      );
      const after = (await cs.call<{ servers: ServerOut[] }>('GET', '/v1/servers')).servers;
      const bad = checkServerInvariants(after);
      const places = after.map((s) => placeOf(s));
      if (
        bad.length > 0 ||
        places.some((p) => p === 'moving') ||
        new Set(after.map((s) => s.id)).size !== after.length ||
        after.length !== servers.length
      ) {
        violations++;
        log(`invariants broken after takeover ${i + 1}: ${JSON.stringify(bad)}`);
      }
      log(`takeover ${i + 1}/${TAKEOVERS}: standby active ${ms.toFixed(0)} ms after the kill; move ${fin.status}`);
      procs[active] = await startManagerProcess(cfgs[active] as string);
      active = standby;
    }
  }
  loadStop.abort();
  const stats = await load;
  log(`load: ${stats.sent} requests, ${stats.failed} failed, p95 ${percentile(stats.latenciesMs, 95).toFixed(0)} ms`);
  const r = (xs: number[], p: number) => (xs.length ? Math.round(percentile(xs, p)) : null);
  log(
    `replacement p50 ${r(replaceMs, 50)} ms, max ${r(replaceMs, 100)} ms; takeover p50 ${r(takeoverMs, 50)} ms, max ${r(takeoverMs, 100)} ms`,
  );
  console.log(
    JSON.stringify({
      bench: 'failover',
      kills: replaceMs.length,
      replace_p50_ms: r(replaceMs, 50),
      replace_max_ms: r(replaceMs, 100),
      takeovers: takeoverMs.length,
      takeover_p50_ms: r(takeoverMs, 50),
      takeover_max_ms: r(takeoverMs, 100),
      invariant_violations: violations,
      failed_requests: stats.failed,
    }),
  );
} finally {
  loadStop.abort();
  for (const p of procs) if (p) await kill9(p);
  await site.stop();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}
