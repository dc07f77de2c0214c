// The built-in edge as a service: what it forwards and how it streams, which failed requests it
// retries and which it must not, active health checks, metrics after traffic, the state file
// across a restart, and main.ts as a process that stops cleanly on SIGTERM.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { builtinEdge } from '../../src/drivers/edge/index.js';
import { startEdge } from '../../src/services/edge/edge.js';
import { edgeClient, startUpstream, waitFor } from '../contract/edge-fixtures.js';
import type { TestUpstream } from '../contract/edge-fixtures.js';
import { freePort } from '../../src/services/shared/ports.js';

const TOKEN = randomBytes(24).toString('hex');
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function newEdge(extra: { stateFile?: string; healthIntervalMs?: number } = {}) {
  const edge = await startEdge({
    host: '127.0.0.1',
    port: 0,
    adminHost: '127.0.0.1',
    adminPort: 0,
    token: TOKEN,
    healthIntervalMs: extra.healthIntervalMs ?? 100,
    ...(extra.stateFile ? { stateFile: extra.stateFile } : {}),
  });
  const driver = builtinEdge({ adminUrl: edge.adminUrl, token: TOKEN });
  const client = edgeClient(edge.url);
  const close = async (): Promise<void> => {
    await client.close();
    await driver.close();
    await edge.close();
  };
  cleanups.push(close);
  return { edge, driver, client, close };
}

async function upstream(name: string): Promise<TestUpstream> {
  const u = await startUpstream(name);
  cleanups.push(() => u.close());
  return u;
}

test('forwards method, path and headers with X-Forwarded-*, drops hop-by-hop headers, streams bodies both ways', async () => {
  const { driver, edge } = await newEdge();
  const u = await upstream('f1');
  await driver.upsertPool({ id: 'fwd', domains: ['fwd.example.test'] });
  await driver.attach('fwd', { id: 'f1', address: u.address });

  // node:http, not undici, as the client: undici will not send a Connection header naming others.
  const body = Buffer.alloc(3 << 20, 7);
  const r = await new Promise<{ statusCode: number; headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = httpRequest(
      `${edge.url}/upload/x?y=2`,
      {
        method: 'POST',
        headers: {
          host: 'Fwd.Example.Test:80',
          'x-custom': 'kept',
          connection: 'keep-alive, x-hop',
          'x-hop': 'dropped',
          'x-forwarded-for': '203.0.113.9',
          'transfer-encoding': 'chunked',
        },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    // Stream the body in pieces so it crosses the proxy chunked.
    for (let i = 0; i < 6; i++) req.write(body.subarray((i * body.length) / 6, ((i + 1) * body.length) / 6));
    req.end();
  });
  const json = JSON.parse(r.text) as { server: string; method: string; path: string; bodyBytes: number };
  assert.equal(r.statusCode, 200);
  assert.deepEqual(json, { server: 'f1', method: 'POST', path: '/upload/x?y=2', bodyBytes: body.length });
  const seen = u.lastHeaders()!;
  assert.equal(seen['x-custom'], 'kept');
  assert.equal(seen['x-hop'], undefined);
  assert.equal(seen.host, 'Fwd.Example.Test:80');
  assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  assert.equal(seen['x-forwarded-host'], 'Fwd.Example.Test:80');
  assert.equal(seen['x-forwarded-proto'], 'http');
  assert.equal(r.headers['x-upstream'], 'f1');
  assert.equal(r.headers['x-drop-me'], undefined, 'a header the upstream named in Connection is dropped');

  // A large response arrives whole, streamed (8 MiB through the proxy).
  const big = await request(`${edge.url}/big?size=${8 << 20}`, { headers: { host: 'fwd.example.test' } });
  let bytes = 0;
  for await (const chunk of big.body) bytes += (chunk as Buffer).length;
  assert.equal(bytes, 8 << 20);

  const head = await request(`${edge.url}/`, { method: 'HEAD', headers: { host: 'fwd.example.test' } });
  assert.equal(head.statusCode, 200);
  assert.equal((await head.body.text()).length, 0);
});

test('a POST to a refused server goes to another; a POST cut off mid-request is not repeated (502)', async () => {
  const { driver, client } = await newEdge({ healthIntervalMs: 60_000 });
  const live = await upstream('p-live');
  const dead = await upstream('p-dead');
  await dead.kill();
  await driver.upsertPool({ id: 'post', domains: ['post.example.test'] });
  await driver.attach('post', { id: 'p-dead', address: dead.address });
  await driver.attach('post', { id: 'p-live', address: live.address });
  for (let i = 0; i < 4; i++) {
    const r = await client.get('post.example.test', '/order', { method: 'POST', body: '{"n":1}' });
    assert.equal(r.status, 200);
    assert.equal(r.server, 'p-live');
  }
  const st = (await driver.status())[0]!;
  assert.equal(st.servers.find((s) => s.id === 'p-dead')?.state, 'down');

  // The only server dies while a body-less POST is in flight: the upstream may have acted on it.
  await driver.detach('post', 'p-dead');
  const slow = client.get('post.example.test', '/pay?delay=2000', { method: 'POST' });
  await waitFor('the POST to reach the upstream', () => live.inflight() === 1);
  await live.kill();
  const r = await slow;
  assert.equal(r.status, 502);
  assert.match(r.text, /<html/i);
});

test('health checks: two failures mark a server down and send no traffic to it; one success brings it back', async () => {
  const { driver, client } = await newEdge({ healthIntervalMs: 100 });
  const a = await upstream('h-a');
  const b = await upstream('h-b');
  await driver.upsertPool({ id: 'health', domains: ['health.example.test'] });
  await driver.attach('health', { id: 'h-a', address: a.address });
  await driver.attach('health', { id: 'h-b', address: b.address });
  const state = async (id: string) => (await driver.status())[0]!.servers.find((s) => s.id === id)?.state;
  a.setHealthy(false);
  await waitFor('h-a down', async () => (await state('h-a')) === 'down');
  for (let i = 0; i < 4; i++) assert.equal((await client.get('health.example.test')).server, 'h-b');
  a.setHealthy(true);
  await waitFor('h-a up', async () => (await state('h-a')) === 'up');
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add(String((await client.get('health.example.test')).server));
  assert.deepEqual([...seen].sort(), ['h-a', 'h-b']);
  const failures = (await driver.status())[0]!.servers.find((s) => s.id === 'h-a')!.failures;
  assert.ok(failures >= 2, `failures counted: ${failures}`);
});

test('metrics count requests by pool and status, retries and latency', async () => {
  const { driver, client, edge } = await newEdge({ healthIntervalMs: 60_000 });
  const live = await upstream('m-live');
  const dead = await upstream('m-dead');
  await dead.kill();
  await driver.upsertPool({ id: 'metered', domains: ['metered.example.test'] });
  await driver.attach('metered', { id: 'm-dead', address: dead.address });
  await driver.attach('metered', { id: 'm-live', address: live.address });
  for (let i = 0; i < 3; i++) assert.equal((await client.get('metered.example.test')).status, 200);
  await client.get('unknown.example.test');
  const text = await (
    await request(`${edge.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).body.text();
  assert.match(text, /hostfleet_edge_requests_total\{pool="metered",code="200"\} 3/);
  assert.match(text, /hostfleet_edge_requests_total\{pool="",code="404"\} 1/);
  assert.match(text, /hostfleet_edge_retries_total\{pool="metered"\} 1/);
  assert.match(text, /hostfleet_edge_upstream_seconds_count\{pool="metered"\} 3/);
  assert.match(text, /hostfleet_edge_server_state\{pool="metered",server="m-dead",state="down"\} 1/);
});

test('the state file lets a restarted edge route at once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hostfleet-edge-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const stateFile = join(dir, 'edge-state.json');
  const u = await upstream('st1');
  const first = await newEdge({ stateFile });
  await first.driver.upsertPool({ id: 'kept', domains: ['kept.example.test'] });
  await first.driver.attach('kept', { id: 'st1', address: u.address });
  await first.driver.attach('kept', { id: 'st2', address: '127.0.0.1:9' });
  await first.driver.drain('kept', 'st2', { timeoutMs: 10 });
  await first.close();
  const saved = JSON.parse(await readFile(stateFile, 'utf8'));
  assert.equal(saved.version, 1);

  const second = await newEdge({ stateFile });
  const r = await second.client.get('kept.example.test');
  assert.equal(r.status, 200);
  assert.equal(r.server, 'st1');
  const pool = (await second.driver.status())[0]!;
  assert.deepEqual(
    pool.servers.map((s) => [s.id, s.state]),
    [
      ['st1', 'up'],
      ['st2', 'draining'],
    ],
  );
});

test('main.ts runs the edge from the environment and exits 0 on SIGTERM; bad configuration exits 2', async () => {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/services/edge/main.ts'], {
    env: {
      ...process.env,
      HOSTFLEET_EDGE_HOST: '127.0.0.1',
      HOSTFLEET_EDGE_PORT: String(port),
      HOSTFLEET_EDGE_ADMIN_PORT: String(adminPort),
      HOSTFLEET_EDGE_TOKEN: TOKEN,
      HOSTFLEET_EDGE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const driver = builtinEdge({ adminUrl: `http://127.0.0.1:${adminPort}`, token: TOKEN });
  cleanups.push(() => driver.close());
  await waitFor(
    'the edge process to answer',
    async () =>
      await driver.status().then(
        () => true,
        () => false,
      ),
    20_000,
  );
  const u = await upstream('proc1');
  await driver.upsertPool({ id: 'proc', domains: ['proc.example.test'] });
  await driver.attach('proc', { id: 'proc1', address: u.address });
  const client = edgeClient(`http://127.0.0.1:${port}`);
  assert.equal((await client.get('proc.example.test')).server, 'proc1');
  await client.close();
  child.kill('SIGTERM');
  assert.equal(await exited, 0);

  const bad = spawn(process.execPath, ['--import', 'tsx', 'src/services/edge/main.ts'], {
    env: { ...process.env, HOSTFLEET_EDGE_TOKEN: 'short', HOSTFLEET_EDGE_PORT: '0', HOSTFLEET_EDGE_ADMIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  bad.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => bad.on('exit', (c) => resolve(c)));
  assert.equal(code, 2);
  assert.match(out, /token/);
});
