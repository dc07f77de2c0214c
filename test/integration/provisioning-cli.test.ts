// The provisioning commands as an operator runs them: `hostfleet provisioner --config FILE` as
// its own process (real nginx, the manager's bus hub over TCP) serves a new account's site;
// a bad configuration is refused naming its fields; `hostfleet orders --state review` and
// `hostfleet order accept|reject` work the review queue.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runCli } from '../support/cli.js';
import type { CliResult } from '../support/cli.js';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { request } from 'undici';
import { startManager } from '../../src/services/manager/manager.js';
import type { Manager } from '../../src/services/manager/manager.js';
import { loadManagerConfig } from '../../src/services/manager/config.js';
import { freePort } from '../../src/services/shared/ports.js';

const TOKEN = 'op_' + 'c'.repeat(40);
const op = { authorization: `Bearer ${TOKEN}` };
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
let dir: string;
let manager: Manager;
let agent: ChildProcess | undefined;
let agentOut = '';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const r = await request(manager.url + path, {
    method: method as 'GET',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: (text ? JSON.parse(text) : {}) as Json };
}
function cli(args: string[]): Promise<CliResult> {
  return runCli(['--url', manager.url, '--token', TOKEN, ...args]);
}
async function place(domain: string, services: string[]) {
  const o = await api('POST', '/v1/orders', {
    contact: { name: 'Grace Hopper', email: 'grace@example.com', country: 'US' },
    domain,
    services,
    plan: 'starter',
  });
  assert.equal(o.status, 201, JSON.stringify(o.json));
  return { id: o.json.order.id as string, secret: { 'x-order-secret': o.json.secret as string } };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hf-provcli-'));
  await chmod(dir, 0o755);
  // An answerless name server: orders are never verified by DNS here, they go to review.
  const cfgFile = join(dir, 'manager.json');
  await writeFile(
    cfgFile,
    JSON.stringify({
      site: { id: 'provcli' },
      dataDir: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 0 },
      operatorToken: TOKEN,
      edge: { kind: 'builtin', adminUrl: 'http://127.0.0.1:9', token: 'x'.repeat(20) },
      volumes: { kind: 'local', root: join(dir, 'fleet-volumes') },
      bus: { kind: 'loopback', port: 0, token: 'bus-token-' + 'd'.repeat(20) },
      provisioning: { resolvers: [`127.0.0.1:${await freePort()}`], verifyAttempts: 1, renudgeMs: 500 },
      log: { level: 'warn' },
    }),
  );
  manager = await startManager(loadManagerConfig(cfgFile, {}), { log: pino({ level: 'fatal' }) });
});

after(async () => {
  if (agent && agent.exitCode === null) {
    agent.kill('SIGKILL');
    await new Promise((r) => agent?.once('close', r));
  }
  await manager?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a bad provisioner configuration is refused at start, every wrong field named', async () => {
  const bad = join(dir, 'bad.yaml');
  await writeFile(
    bad,
    [
      'site: { id: provcli }',
      'server: { id: Web_1 }',
      'managerUrl: ftp://x',
      'bus: { url: "hfbus://127.0.0.1:1" }',
      'stateDir: relative/dir',
      'services:',
      '  web: { base: /tmp/x, listen: "0.0.0.0", volumesRoot: "/srv/../etc" }',
      '  smtp: {}',
    ].join('\n'),
  );
  const r = await cli(['provisioner', '--config', bad, '--check']);
  assert.notEqual(r.code, 0);
  for (const f of ['server.id', 'managerUrl', 'stateDir', 'services.web.listen', 'services'])
    assert.match(r.err, new RegExp(f.replace('.', '\\.')), `${f} named: ${r.err}`);
  const none = join(dir, 'none.yaml');
  await writeFile(
    none,
    [
      'site: { id: provcli }',
      'server: { id: web-1 }',
      'managerUrl: http://127.0.0.1:1',
      'bus: { url: "hfbus://127.0.0.1:1" }',
      `stateDir: ${dir}`,
      'services: {}',
    ].join('\n'),
  );
  const r2 = await cli(['provisioner', '--config', none, '--check']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.err, /services: must name at least one/);
});

test('hostfleet provisioner serves a reviewed, accepted and paid order’s site; order reject deletes the contact', async () => {
  const webPort = await freePort();
  const vol = join(dir, 'volumes');
  await mkdir(vol, { recursive: true });
  const cfg = join(dir, 'provisioner.yaml');
  await writeFile(
    cfg,
    [
      'site: { id: provcli }',
      'server: { id: web-1 }',
      `managerUrl: ${manager.url}`,
      `bus: { url: "${manager.ctx.busUrl}", token: "bus-token-${'d'.repeat(20)}" }`,
      `stateDir: ${dir}`,
      'services:',
      `  web: { base: ${join(dir, 'web')}, listen: "127.0.0.1:${webPort}", volumesRoot: ${vol} }`,
      'log: { level: info }',
    ].join('\n'),
  );
  assert.equal((await cli(['provisioner', '--config', cfg, '--check'])).code, 0);
  const reg = await api(
    'PUT',
    '/v1/provisioning/servers/web-1',
    { id: 'web-1', services: ['web'], capacity: 10, address: '127.0.0.1' },
    op,
  );
  assert.equal(reg.status, 200);
  agent = spawn(process.execPath, ['--import', 'tsx', MAIN, 'provisioner', '--config', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  agent.stdout?.on('data', (d: Buffer) => (agentOut += d.toString()));
  agent.stderr?.on('data', (d: Buffer) => (agentOut += d.toString()));
  for (let i = 0; i < 300 && !agentOut.includes('provisioner running'); i++) {
    assert.equal(agent.exitCode, null, `the provisioner stopped: ${agentOut}`);
    await sleep(100);
  }
  assert.match(agentOut, /provisioner running/);

  // Two orders fail their domain check and wait in review.
  const a = await place('cli-accept.test', ['web']);
  const b = await place('cli-reject.test', ['web']);
  for (const o of [a, b]) assert.equal((await api('POST', `/v1/orders/${o.id}/verify`, {}, o.secret)).status, 409);
  const list = await cli(['orders', '--state', 'review']);
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, new RegExp(`${a.id} +review +cli-accept\\.test`));
  assert.match(list.out, new RegExp(`${b.id} +review +cli-reject\\.test`));
  assert.match(list.out, /did not answer|no TXT record/);
  const json = JSON.parse((await cli(['orders', '--state', 'review', '--json'])).out) as { orders: { id: string }[] };
  assert.deepEqual(json.orders.map((o) => o.id).sort(), [a.id, b.id].sort());
  assert.notEqual((await cli(['orders', '--state', 'bogus'])).code, 0);

  const acc = await cli(['order', 'accept', a.id]);
  assert.equal(acc.code, 0, acc.err);
  assert.match(acc.out, /verified/);
  const rej = await cli(['order', 'reject', b.id, '--reason', 'not the domain holder', '--reason', 'second reason']);
  assert.equal(rej.code, 0, rej.err);
  assert.match(rej.out, /rejected: not the domain holder; second reason/);
  const shown = await cli(['order', 'show', b.id, '--json']);
  assert.equal(JSON.parse(shown.out).order.contact, null);
  assert.equal((await cli(['order', 'accept', 'bad/../id'])).code, 1);
  assert.equal((await cli(['orders', '--state', 'review'])).out.trim(), 'no orders in state review');

  // The accepted order is paid; the provisioner process applies it and nginx serves the site.
  const paid = await api(
    'POST',
    `/v1/orders/${a.id}/pay`,
    { card: { number: '4242424242424242', expMonth: 1, expYear: 2099, cvc: '123', holder: 'Grace Hopper' } },
    a.secret,
  );
  assert.equal(paid.status, 201, JSON.stringify(paid.json));
  const account = paid.json.account.id as string;
  await mkdir(join(vol, account, 'www'), { recursive: true });
  await writeFile(join(vol, account, 'www', 'index.html'), 'served by the provisioner\n');
  let body = '';
  for (let i = 0; i < 200 && body !== 'served by the provisioner\n'; i++) {
    const r = await request(`http://127.0.0.1:${webPort}/`, { headers: { host: 'cli-accept.test' } }).catch(() => null);
    body = r ? await r.body.text() : '';
    if (body !== 'served by the provisioner\n') await sleep(100);
  }
  assert.equal(body, 'served by the provisioner\n', agentOut);

  // SIGTERM stops the agent and its nginx.
  agent.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => agent?.once('close', (c) => r(c)));
  assert.equal(code, 0, agentOut);
  const gone = await request(`http://127.0.0.1:${webPort}/`, { headers: { host: 'cli-accept.test' } }).then(
    () => false,
    () => true,
  );
  assert.ok(gone, 'nginx stopped with the agent');
});
