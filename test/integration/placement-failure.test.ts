// Component placement on a running site: hardware nodes are real processes (one per node), a
// configuration is submitted through the API, its web components run as server runtimes behind
// an edge pool, and a node is killed under steady load. What is asserted:
// - only the killed node's components move (every other component keeps its node, moves = 0);
// - the moved ones run again on surviving nodes and the edge pool points at their new address;
// - failed requests through the edge ≤ requests in flight on the killed node when it died
//   (the built-in edge retries a GET that failed before any response byte, so we expect 0);
// - when nothing fits, the API names the missing resource and the operator gets a bus event;
// - the collector recorded CPU and memory snapshots of the running components.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import pino from 'pino';
import { startEdge, type RunningEdge } from '../../src/services/edge/edge.js';
import { startManager, type Manager } from '../../src/services/manager/manager.js';
import { loadManagerConfig } from '../../src/services/manager/config.js';
import { startNodeProcesses, type NodeFleet } from '../../src/emulators/hypervisor/fleet.js';
import { runSteadyLoad, type LoadStats } from '../../src/emulators/load/steady.js';
import { Client, ApiError } from '../../src/cli/client.js';
import { newSecret } from '../../src/drivers/clock/index.js';
import { subjects } from '../../src/drivers/bus/index.js';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/hostfleet.js', import.meta.url));

interface MapRow {
  component: string;
  tier: string;
  node: string;
  state: string;
  address: string | null;
  moves: number;
}
interface ConfigMap {
  configuration: { id: string; state: string };
  components: MapRow[];
}

const CAPACITY = { ram: 8192, cpu: 4000, disk: 200, bandwidth: 1000 };

function shop(id: string) {
  return {
    id,
    account: 'acme',
    edge: { domains: [`${id}.example.com`], balance: 'least-connections', sticky: false },
    tiers: [
      {
        name: 'lb',
        role: 'load-balancer',
        components: [{ id: 'lb-1', resources: { ram: 512, cpu: 200, disk: 5, bandwidth: 200 } }],
      },
      {
        name: 'web',
        role: 'web',
        components: ['web-1', 'web-2', 'web-3'].map((c) => ({
          id: c,
          resources: { ram: 1024, cpu: 400, disk: 10, bandwidth: 100 },
        })),
      },
      {
        name: 'db',
        role: 'db',
        components: [{ id: 'db-1', resources: { ram: 2048, cpu: 800, disk: 50, bandwidth: 50 } }],
      },
    ],
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline.
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('placement on a running site', () => {
  let dir: string;
  let edge: RunningEdge;
  let manager: Manager;
  let fleet: NodeFleet;
  let client: Client;
  let token: string;
  const returned: NodeFleet[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hf-placement-'));
    mkdirSync(join(dir, 'volumes'));
    const edgeToken = newSecret(24);
    token = `hf_${newSecret(32)}`;
    edge = await startEdge({
      host: '127.0.0.1',
      port: 0,
      adminHost: '127.0.0.1',
      adminPort: 0,
      token: edgeToken,
      healthIntervalMs: 1000,
      logger: pino({ level: 'silent' }),
    });
    writeFileSync(
      join(dir, 'manager.yaml'),
      YAML.stringify({
        site: { id: 'test' },
        dataDir: dir,
        listen: { host: '127.0.0.1', port: 0 },
        edge: { kind: 'builtin', adminUrl: edge.adminUrl, token: edgeToken },
        volumes: { kind: 'local', root: join(dir, 'volumes') },
        bus: { kind: 'memory' },
        operatorToken: token,
        log: { level: 'warn' },
      }),
    );
    manager = await startManager(loadManagerConfig(join(dir, 'manager.yaml'), {}), { log: pino({ level: 'silent' }) });
    client = new Client(manager.url, token);
    fleet = await startNodeProcesses({
      nodes: ['node-a', 'node-b', 'node-c', 'node-d', 'node-e', 'node-f'].map((id) => ({ id, capacity: CAPACITY })),
      dir: join(dir, 'nodes'),
      token: newSecret(24),
    });
    for (const n of fleet.nodes) await client.call('POST', '/v1/nodes', { id: n.id, url: n.url, token: fleet.token });
    await client.call('POST', '/v1/accounts', { id: 'acme', displayName: 'Acme' });
  });

  after(async () => {
    await manager?.close();
    await fleet?.close();
    for (const r of returned) await r.close();
    await edge?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a killed node: only its components move and the configuration keeps serving through the edge', async () => {
    const placed = await client.call<ConfigMap & { explain: string[] }>('POST', '/v1/configurations', shop('shop'));
    assert.equal(placed.configuration.state, 'running', JSON.stringify(placed));
    assert.equal(
      new Set(placed.components.filter((c) => c.tier === 'web').map((c) => c.node)).size,
      3,
      'the web tier spreads over three nodes',
    );
    assert.ok(
      placed.explain.some((l) => l.includes('web-1')),
      'the decision explains itself',
    );

    const stats: LoadStats = { sent: 0, ok: 0, failed: 0, byStatus: {}, latenciesMs: [], failures: [] };
    const stop = new AbortController();
    const load = runSteadyLoad({
      edgeUrl: edge.url,
      targets: [{ domain: 'shop.example.com', ratePerSec: 80, paths: ['/app/a', '/app/b', '/healthz'] }],
      signal: stop.signal,
      stats,
      durationMs: 60_000,
    });
    try {
      await waitFor('traffic through the edge', async () => (stats.ok > 40 ? true : undefined), 10_000);
      const victim = placed.components.find((c) => c.tier === 'web')!.node;
      const onVictim = placed.components
        .filter((c) => c.node === victim)
        .map((c) => c.component)
        .sort();
      const node = fleet.nodes.find((n) => n.id === victim)!;
      const pool = (await manager.edge.status()).find((p) => p.id === 'cfg-shop')!;
      const inflightOnVictim = pool.servers
        .filter((s) => onVictim.includes(s.id))
        .reduce((a, s) => a + s.outstanding, 0);
      const failedBefore = stats.failed;
      const killedAt = performance.now();
      await node.kill();

      const after = await waitFor(
        "the killed node's components running elsewhere",
        async () => {
          const m = await client.call<ConfigMap>('GET', '/v1/configurations/shop');
          return m.components.every((c) => c.node !== victim && c.state === 'running') ? m : undefined;
        },
        30_000,
      );
      const replacedMs = performance.now() - killedAt;
      const sentAtReplacement = stats.sent;
      await waitFor(
        'more traffic after the re-placement',
        async () => (stats.sent > sentAtReplacement + 80 ? true : undefined),
        10_000,
      );

      const beforeBy = new Map(placed.components.map((c) => [c.component, c]));
      for (const c of after.components) {
        const was = beforeBy.get(c.component)!;
        if (onVictim.includes(c.component)) {
          assert.notEqual(c.node, victim, `${c.component} left the killed node`);
          assert.equal(c.moves, 1, `${c.component} moved once`);
        } else {
          assert.equal(c.node, was.node, `${c.component} stayed on ${was.node}`);
          assert.equal(c.moves, 0, `${c.component} did not move`);
          assert.equal(c.address, was.address, `${c.component} kept running where it was`);
        }
      }
      const nodes = await client.call<{ nodes: Array<{ id: string; state: string; components: string[] }> }>(
        'GET',
        '/v1/nodes',
      );
      assert.equal(nodes.nodes.find((n) => n.id === victim)?.state, 'down');
      assert.deepEqual(
        nodes.nodes.find((n) => n.id === victim)?.components,
        [],
        'nothing is left recorded on the dead node',
      );
      const edgePool = (await manager.edge.status()).find((p) => p.id === 'cfg-shop')!;
      for (const c of after.components.filter((x) => x.tier === 'web')) {
        const s = edgePool.servers.find((x) => x.id === c.component);
        assert.equal(s?.address, c.address, `the edge sends ${c.component} traffic to its current address`);
      }
      const failedAround = stats.failed - failedBefore;
      console.log(
        `# killed ${victim} (${onVictim.join(', ')}); in flight there: ${inflightOnVictim}; running elsewhere after ${Math.round(replacedMs)} ms; failed requests: ${failedAround} of ${stats.sent}; statuses ${JSON.stringify(stats.byStatus)}`,
      );
      assert.ok(
        failedAround <= inflightOnVictim,
        `failed requests (${failedAround}: ${JSON.stringify(stats.failures.slice(-5))}) ≤ in flight on the killed node (${inflightOnVictim})`,
      );
      assert.equal(failedBefore, 0);
    } finally {
      stop.abort();
      await load;
    }
    // The collector samples every SNAPSHOT_INTERVAL_MS (5 s); wait for its first round.
    const snaps = await waitFor(
      "the collector's snapshots",
      async () => {
        const r = await client.call<{ snapshots: Array<{ component: string; cpuSeconds: number; rssBytes: number }> }>(
          'GET',
          '/v1/configurations/shop/snapshots',
        );
        return r.snapshots.length > 0 ? r.snapshots : undefined;
      },
      15_000,
    );
    assert.ok(
      snaps.every((s) => s.rssBytes > 0) && snaps.some((s) => s.cpuSeconds > 0),
      `the collector sampled CPU and memory: ${JSON.stringify(snaps.slice(0, 2))}`,
    );
    assert.ok(!snaps.some((s) => s.component === 'lb-1'), 'the load balancer is the edge pool: no process to sample');
  });

  test('a component added to a running configuration is placed alone and joins the pool', async () => {
    const before = await client.call<ConfigMap>('GET', '/v1/configurations/shop');
    const r = await client.call<ConfigMap>('POST', '/v1/configurations/shop/components', {
      tier: 'web',
      component: { id: 'web-4', resources: { ram: 1024, cpu: 400, disk: 10, bandwidth: 100 } },
    });
    const added = r.components.find((c) => c.component === 'web-4');
    assert.equal(added?.state, 'running');
    for (const c of before.components)
      assert.equal(r.components.find((x) => x.component === c.component)?.node, c.node, `${c.component} stayed`);
    const pool = (await manager.edge.status()).find((p) => p.id === 'cfg-shop')!;
    assert.equal(pool.servers.find((s) => s.id === 'web-4')?.address, added?.address);
  });

  test('a disruptive change builds a duplicate and switches over; traffic keeps flowing', async () => {
    const before = await client.call<ConfigMap>('GET', '/v1/configurations/shop');
    const web2 = before.components.find((c) => c.component === 'web-2')!;
    const stats: LoadStats = { sent: 0, ok: 0, failed: 0, byStatus: {}, latenciesMs: [], failures: [] };
    const stop = new AbortController();
    const load = runSteadyLoad({
      edgeUrl: edge.url,
      targets: [{ domain: 'shop.example.com', ratePerSec: 60, paths: ['/app/a', '/healthz'] }],
      signal: stop.signal,
      stats,
      durationMs: 30_000,
    });
    let r: ConfigMap & { mode: string };
    try {
      await waitFor('traffic', async () => (stats.ok > 20 ? true : undefined), 10_000);
      r = await client.call<ConfigMap & { mode: string }>('PUT', '/v1/configurations/shop/components', {
        component: { id: 'web-2', os: 'ubuntu', resources: { ram: 1024, cpu: 400, disk: 10, bandwidth: 100 } },
      });
      const sent = stats.sent;
      await waitFor('traffic after the switch-over', async () => (stats.sent > sent + 30 ? true : undefined), 10_000);
    } finally {
      stop.abort();
      await load;
    }
    assert.equal(r.mode, 'duplicate-then-switch-over');
    const now = r.components.find((c) => c.component === 'web-2')!;
    assert.notEqual(now.node, web2.node, 'the duplicate runs on another node (anti-affinity sees the original)');
    assert.equal(now.state, 'running');
    for (const c of before.components.filter((x) => x.component !== 'web-2'))
      assert.equal(r.components.find((x) => x.component === c.component)?.node, c.node, `${c.component} stayed`);
    const pool = (await manager.edge.status()).find((p) => p.id === 'cfg-shop')!;
    assert.equal(
      pool.servers.find((s) => s.id === 'web-2')?.address,
      now.address,
      'the edge switched to the duplicate',
    );
    assert.equal(
      stats.failed,
      0,
      `no failed request during the switch-over: ${JSON.stringify(stats.failures.slice(-3))}`,
    );
  });

  test('a failed node that returns is registered again: up, empty, and able to take components', async () => {
    const nodes = await client.call<{ nodes: Array<{ id: string; state: string }> }>('GET', '/v1/nodes');
    const down = nodes.nodes.find((n) => n.state === 'down')!;
    const back = await startNodeProcesses({
      nodes: [{ id: down.id, capacity: CAPACITY }],
      dir: join(dir, 'nodes-back'),
      token: fleet.token,
    });
    returned.push(back);
    const again = await client.call<{ node: { id: string; state: string } }>('POST', '/v1/nodes', {
      id: down.id,
      url: back.nodes[0]!.url,
      token: fleet.token,
    });
    assert.equal(again.node.state, 'up');
    const now = await client.call<{ nodes: Array<{ id: string; state: string; components: string[] }> }>(
      'GET',
      '/v1/nodes',
    );
    assert.deepEqual(
      now.nodes.find((n) => n.id === down.id),
      { ...now.nodes.find((n) => n.id === down.id), state: 'up', components: [] },
    );
    const map = await client.call<ConfigMap>('GET', '/v1/configurations/shop');
    assert.ok(
      map.components.every((c) => c.state === 'running'),
      'nothing else changed',
    );
    const dead = await client
      .call('POST', '/v1/nodes', { id: 'node-z', url: 'http://127.0.0.1:9', token: fleet.token })
      .then(
        () => null,
        (e: unknown) => e as ApiError,
      );
    assert.equal(dead?.code, 'E_VALIDATION', 'a node that does not answer is not registered');
  });

  test('customers place and see only their own configurations; nodes are for operators', async () => {
    await client.call('POST', '/v1/accounts', { id: 'globex', displayName: 'Globex' });
    const { token } = await client.call<{ token: string }>('POST', '/v1/tokens', {
      role: 'customer',
      accountId: 'globex',
      name: 'globex api',
    });
    const customer = new Client(manager.url, token);
    const forbidden = await customer.call('POST', '/v1/configurations', shop('stolen')).then(
      () => null,
      (e: unknown) => e as ApiError,
    );
    assert.equal(forbidden?.code, 'E_FORBIDDEN', 'a customer cannot place for another account');
    const own = {
      ...shop('gx'),
      account: 'globex',
      tiers: [
        {
          name: 'web',
          role: 'web',
          components: [{ id: 'web-1', resources: { ram: 256, cpu: 100, disk: 1, bandwidth: 10 } }],
        },
      ],
      edge: undefined,
    };
    assert.equal((await customer.call<ConfigMap>('POST', '/v1/configurations', own)).configuration.state, 'running');
    assert.deepEqual(
      (await customer.call<{ configurations: Array<{ id: string }> }>('GET', '/v1/configurations')).configurations.map(
        (c) => c.id,
      ),
      ['gx'],
    );
    assert.equal(
      (
        await customer.call('GET', '/v1/configurations/shop').then(
          () => null,
          (e: unknown) => e as ApiError,
        )
      )?.code,
      'E_NOT_FOUND',
    );
    assert.equal(
      (
        await customer.call('GET', '/v1/nodes').then(
          () => null,
          (e: unknown) => e as ApiError,
        )
      )?.code,
      'E_FORBIDDEN',
    );
  });

  test('the CLI submits YAML, shows the map and explains the decisions', async () => {
    const file = join(dir, 'cli.yaml');
    writeFileSync(
      file,
      YAML.stringify({
        id: 'cli',
        account: 'acme',
        tiers: [
          {
            name: 'app',
            role: 'app',
            components: [{ id: 'app-1', resources: { ram: 256, cpu: 100, disk: 1, bandwidth: 10 } }],
          },
        ],
      }),
    );
    // Asynchronously: the manager answering it runs in this process.
    const cli = (...args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [BIN, '--url', manager.url, '--token', token, ...args],
          { encoding: 'utf8', timeout: 60_000 },
          (err, stdout, stderr) =>
            resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const submit = await cli('config', 'submit', file, '--explain');
    assert.equal(submit.status, 0, submit.stderr);
    assert.match(submit.stdout, /configuration cli \(account acme\): running/);
    assert.match(submit.stdout, /app-1\s+app\s+node-\w\s+running/);
    assert.match(submit.stdout, /component app-1 → node-\w/, 'the explanation names the chosen node');
    const show = await cli('config', 'show', 'shop', '--json');
    assert.equal(show.status, 0, show.stderr);
    assert.ok((JSON.parse(show.stdout) as ConfigMap).components.some((c) => c.component === 'web-1'));
    const explain = await cli('config', 'explain', 'shop');
    assert.match(explain.stdout, /node-failure/);
    assert.match(explain.stdout, /placement/);
    const missing = await cli('config', 'show', 'nope');
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /E_NOT_FOUND/);
  });

  test('nothing fits: the error names the missing resource and the operator gets an event', async () => {
    const events: unknown[] = [];
    const sub = await manager.ctx.bus.subscribe(
      subjects.eventOfTopic('test', 'placement'),
      (data) => void events.push(data),
    );
    const big = shop('huge');
    big.tiers[2]!.components[0]!.resources.ram = 9000;
    const err = await client.call('POST', '/v1/configurations', big).then(
      () => null,
      (e: unknown) => e as ApiError,
    );
    assert.ok(err instanceof ApiError, 'the submission fails');
    assert.equal(err.code, 'E_CONFLICT');
    assert.match(err.message, /ram/, err.message);
    await waitFor('the operator event', async () => (events.length > 0 ? true : undefined), 5000);
    assert.equal((events[0] as { kind: string }).kind, 'unschedulable');
    await sub.unsubscribe();
    const list = await client.call<{ configurations: Array<{ id: string }> }>('GET', '/v1/configurations');
    assert.deepEqual(
      list.configurations.map((c) => c.id),
      ['cli', 'gx', 'shop'],
      'nothing of the refused configuration stays',
    );
  });
});
