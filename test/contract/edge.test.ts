// The one contract suite of the EdgeDriver: every implementation (the built-in edge, HAProxy,
// the in-memory fake) must keep pools, domains and servers as the contract says, be idempotent
// and refuse bad input; every edge with a data plane (all but the fake) must also route by
// host, balance by least outstanding requests, drain without failing in-flight requests,
// answer 404/503 pages, and survive a killed upstream without a failed GET. Each test uses its
// own pool, domains and upstreams, so the tests share one edge.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinEdge, haproxyConfig, haproxyEdge } from '../../src/drivers/edge/index.js';
import { runtimeCommand } from '../../src/drivers/edge/haproxy-runtime.js';
import type { EdgeDriver } from '../../src/drivers/edge/index.js';
import { isHostfleetError } from '../../src/core/errors.js';
import { startEdge } from '../../src/services/edge/edge.js';
import { edgeClient, startUpstream, waitFor } from './edge-fixtures.js';
import type { TestUpstream } from './edge-fixtures.js';
import { freePort } from '../../src/services/shared/ports.js';
import { fakeEdge } from '../support/fakes/index.js';

/** EdgeUnderTest is one running edge and the driver that programs it; dataUrl is null for an edge without a data plane. */
interface EdgeUnderTest {
  readonly driver: EdgeDriver;
  readonly dataUrl: string | null;
  close(): Promise<void>;
}

async function startBuiltin(): Promise<EdgeUnderTest> {
  const token = randomBytes(24).toString('hex');
  const edge = await startEdge({
    host: '127.0.0.1',
    port: 0,
    adminHost: '127.0.0.1',
    adminPort: 0,
    token,
    healthIntervalMs: 200,
  });
  const driver = builtinEdge({ adminUrl: edge.adminUrl, token });
  return {
    driver,
    dataUrl: edge.url,
    async close() {
      await driver.close();
      await edge.close();
    },
  };
}

function haproxyAvailable(): boolean {
  return spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;
}

/** startHaproxy runs a real haproxy on loopback with a generated configuration, and stops it at close. */
async function startHaproxy(): Promise<EdgeUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'hostfleet-haproxy-'));
  const port = await freePort();
  const gen = haproxyConfig({ dir, bindHost: '127.0.0.1', bindPort: port, slots: 16, retryAfterS: 2 });
  for (const [name, text] of Object.entries(gen.files)) await writeFile(join(dir, name), text);
  const check = spawnSync('haproxy', ['-c', '-q', '-f', gen.configPath], { encoding: 'utf8' });
  assert.equal(check.status, 0, `generated configuration is valid: ${check.stderr}`);
  const child = spawn('haproxy', ['-db', '-f', gen.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'haproxy to answer on its Runtime API',
      async () =>
        await runtimeCommand(gen.socketPath, 'show info', 1000).then(
          (t) => t.includes('Name: HAProxy'),
          () => false,
        ),
      10_000,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; haproxy said: ${stderr}`, { cause: err });
  }
  const driver = haproxyEdge({
    socket: gen.socketPath,
    hostsMap: gen.hostsMap,
    poolsMap: gen.poolsMap,
    ratesMap: gen.ratesMap,
    slots: gen.slots,
    backendPrefix: gen.backendPrefix,
    healthIntervalMs: 200,
    detachTimeoutMs: 3000,
    persistMaps: true,
  });
  return {
    driver,
    dataUrl: `http://127.0.0.1:${port}`,
    async close() {
      await driver.close();
      await stop();
    },
  };
}

async function startFake(): Promise<EdgeUnderTest> {
  const driver = fakeEdge();
  return { driver, dataUrl: null, close: () => driver.close() };
}

const IMPLEMENTATIONS: ReadonlyArray<{
  name: string;
  start: () => Promise<EdgeUnderTest>;
  skip: string | false;
  dataPlane: boolean;
}> = [
  { name: 'builtin', start: startBuiltin, skip: false, dataPlane: true },
  {
    name: 'haproxy',
    start: startHaproxy,
    skip: haproxyAvailable() ? false : 'haproxy is not installed (apt-get install -y haproxy)',
    dataPlane: true,
  },
  { name: 'fake', start: startFake, skip: false, dataPlane: false },
];

for (const impl of IMPLEMENTATIONS) {
  describe(`edge contract: ${impl.name}`, { skip: impl.skip }, () => {
    let edge: EdgeUnderTest;
    /** client reaches the data plane; null for an edge without one (its traffic checks are left out). */
    let client: ReturnType<typeof edgeClient> | null;
    /** dataTest is a test of the data plane, declared only for edges that have one (the fake routes no traffic). */
    const dataTest = (name: string, fn: () => Promise<void>) => {
      if (impl.dataPlane) test(name, fn);
    };
    const traffic = () => {
      if (!client) throw new Error('this edge has no data plane');
      return client;
    };
    const upstreams: TestUpstream[] = [];
    const up = async (name: string): Promise<TestUpstream> => {
      const u = await startUpstream(name);
      upstreams.push(u);
      return u;
    };

    before(async () => {
      edge = await impl.start();
      client = edge.dataUrl === null ? null : edgeClient(edge.dataUrl);
    });
    after(async () => {
      await client?.close();
      await edge.close();
      await Promise.all(upstreams.map((u) => u.close()));
    });

    test('upsertPool sets exactly the domains given (replaced, not merged); status lists pools and servers by id', async () => {
      await edge.driver.upsertPool({ id: 'domains-b', domains: ['b.domains.test'] });
      await edge.driver.upsertPool({ id: 'domains-a', domains: ['www.a.domains.test', 'a.domains.test'] });
      const [z1, a1] = [await up('z1'), await up('a1')];
      await edge.driver.attach('domains-a', { id: 'z1', address: z1.address });
      await edge.driver.attach('domains-a', { id: 'a1', address: a1.address });
      let mine = (await edge.driver.status()).filter((p) => p.id.startsWith('domains-'));
      assert.deepEqual(
        mine.map((p) => [p.id, p.domains]),
        [
          ['domains-a', ['a.domains.test', 'www.a.domains.test']],
          ['domains-b', ['b.domains.test']],
        ],
      );
      assert.deepEqual(
        mine[0]?.servers.map((x) => [x.id, x.address, x.state]),
        [
          ['a1', a1.address, 'up'],
          ['z1', z1.address, 'up'],
        ],
      );
      await edge.driver.upsertPool({ id: 'domains-a', domains: ['a.domains.test'] });
      mine = (await edge.driver.status()).filter((p) => p.id.startsWith('domains-'));
      assert.deepEqual(mine[0]?.domains, ['a.domains.test']);
      // The domain given up is free for another pool.
      await edge.driver.upsertPool({ id: 'domains-b', domains: ['b.domains.test', 'www.a.domains.test'] });
      await edge.driver.removePool('domains-a');
      await edge.driver.removePool('domains-b');
    });

    dataTest('routes by Host header (case-insensitive, port stripped) to the pool owning the domain', async () => {
      const client = traffic();
      const a1 = await up('a1');
      const b1 = await up('b1');
      await edge.driver.upsertPool({ id: 'route-a', domains: ['a.route.test', 'www.a.route.test'] });
      await edge.driver.upsertPool({ id: 'route-b', domains: ['b.route.test'] });
      await edge.driver.attach('route-a', { id: 'a1', address: a1.address });
      await edge.driver.attach('route-b', { id: 'b1', address: b1.address });
      const table = [
        { host: 'a.route.test', want: 'a1' },
        { host: 'WWW.A.Route.Test', want: 'a1' },
        { host: 'a.route.test:8080', want: 'a1' },
        { host: 'b.route.test', want: 'b1' },
      ];
      for (const row of table) {
        const r = await client.get(row.host, '/hello?x=1');
        assert.equal(r.status, 200, row.host);
        assert.equal(r.server, row.want, row.host);
        assert.equal(JSON.parse(r.text).path, '/hello?x=1');
      }
      // Domains are replaced, not merged, by a second upsert.
      await edge.driver.upsertPool({ id: 'route-a', domains: ['a.route.test'] });
      assert.equal((await client.get('www.a.route.test')).status, 404);
      assert.equal((await client.get('a.route.test')).server, 'a1');
    });

    dataTest('answers a 404 HTML page for an unknown host', async () => {
      const client = traffic();
      const r = await client.get('nobody.unknown.test');
      assert.equal(r.status, 404);
      assert.match(String(r.headers['content-type']), /text\/html/);
      assert.match(r.text, /<html/i);
    });

    dataTest('answers a 503 HTML page with Retry-After when no server of the pool can take the request', async () => {
      const client = traffic();
      await edge.driver.upsertPool({ id: 'empty', domains: ['empty.pool.test'] });
      const r = await client.get('empty.pool.test');
      assert.equal(r.status, 503);
      assert.match(String(r.headers['content-type']), /text\/html/);
      assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After is a number of seconds');
      // A pool whose only server is draining is just as unable to take a request.
      const d1 = await up('d1');
      await edge.driver.attach('empty', { id: 'd1', address: d1.address });
      assert.equal((await client.get('empty.pool.test')).status, 200);
      await edge.driver.drain('empty', 'd1', { timeoutMs: 1000 });
      assert.equal((await client.get('empty.pool.test')).status, 503);
    });

    dataTest('balances by least outstanding requests; equal servers take turns', async () => {
      const client = traffic();
      const l1 = await up('l1');
      const l2 = await up('l2');
      await edge.driver.upsertPool({ id: 'least', domains: ['least.pool.test'] });
      await edge.driver.attach('least', { id: 'l1', address: l1.address });
      await edge.driver.attach('least', { id: 'l2', address: l2.address });
      // Equal (idle) servers: sequential quick requests alternate.
      const seq: string[] = [];
      for (let i = 0; i < 6; i++) seq.push(String((await client.get('least.pool.test')).server));
      assert.equal(seq.filter((s) => s === 'l1').length, 3, `alternates: ${seq.join(',')}`);
      for (let i = 1; i < seq.length; i++) assert.notEqual(seq[i], seq[i - 1], `alternates: ${seq.join(',')}`);
      // One slow request in flight: every quick request goes to the other server.
      const slow = client.get('least.pool.test', '/?delay=1500');
      await waitFor('the slow request to reach an upstream', () => l1.inflight() + l2.inflight() === 1);
      const busy = l1.inflight() === 1 ? 'l1' : 'l2';
      for (let i = 0; i < 5; i++) {
        const r = await client.get('least.pool.test');
        assert.equal(r.status, 200);
        assert.notEqual(r.server, busy, 'a quick request went to the busy server');
      }
      assert.equal((await slow).status, 200);
    });

    test('drain of an idle server is drained at once; the server stays attached, draining, until detached', async () => {
      await edge.driver.upsertPool({ id: 'idle-drain', domains: ['idle-drain.pool.test'] });
      await edge.driver.attach('idle-drain', { id: 'q1', address: '127.0.0.1:11' });
      assert.deepEqual(await edge.driver.drain('idle-drain', 'q1', { timeoutMs: 5000 }), {
        drained: true,
        inflight: 0,
      });
      assert.deepEqual(
        (await edge.driver.status()).find((p) => p.id === 'idle-drain')?.servers.map((x) => [x.id, x.state]),
        [['q1', 'draining']],
      );
      await edge.driver.detach('idle-drain', 'q1');
      assert.deepEqual((await edge.driver.status()).find((p) => p.id === 'idle-drain')?.servers, []);
      await edge.driver.removePool('idle-drain');
    });

    dataTest('drain: a draining server gets no new request and its in-flight requests finish', async () => {
      const client = traffic();
      const s1 = await up('s1');
      const s2 = await up('s2');
      await edge.driver.upsertPool({ id: 'drain', domains: ['drain.pool.test'] });
      await edge.driver.attach('drain', { id: 's1', address: s1.address });
      const inflight = [client.get('drain.pool.test', '/?delay=1200'), client.get('drain.pool.test', '/?delay=1200')];
      await waitFor('two requests in flight on s1', () => s1.inflight() === 2);
      await edge.driver.attach('drain', { id: 's2', address: s2.address });

      // A drain that cannot finish in time says so, with the requests still in flight.
      const short = await edge.driver.drain('drain', 's1', { timeoutMs: 100 });
      assert.deepEqual(short, { drained: false, inflight: 2 });
      const status = (await edge.driver.status()).find((p) => p.id === 'drain');
      assert.equal(status?.servers.find((s) => s.id === 's1')?.state, 'draining');

      const hitsBefore = s1.hits();
      const during = await Promise.all([0, 1, 2, 3].map(() => client.get('drain.pool.test')));
      for (const r of during) assert.equal(r.server, 's2', 'a new request went to the draining server');
      const long = await edge.driver.drain('drain', 's1', { timeoutMs: 10_000 });
      assert.deepEqual(long, { drained: true, inflight: 0 });
      for (const r of await Promise.all(inflight)) {
        assert.equal(r.status, 200);
        assert.equal(r.server, 's1');
      }
      assert.equal(s1.hits(), hitsBefore + 2, 'only the in-flight requests were served by s1');
      await edge.driver.detach('drain', 's1');
      assert.equal((await client.get('drain.pool.test')).server, 's2');
    });

    test('attach, detach, drain and remove are idempotent; absent means already done', async () => {
      const i1 = await up('i1');
      const i2 = await up('i2');
      await edge.driver.upsertPool({ id: 'idem', domains: ['idem.pool.test'] });
      await edge.driver.upsertPool({ id: 'idem', domains: ['idem.pool.test'] });
      await edge.driver.attach('idem', { id: 'i1', address: i1.address });
      await edge.driver.attach('idem', { id: 'i1', address: i1.address });
      let pool = (await edge.driver.status()).find((p) => p.id === 'idem');
      assert.deepEqual(pool?.domains, ['idem.pool.test']);
      assert.deepEqual(
        pool?.servers.map((s) => [s.id, s.address, s.state]),
        [['i1', i1.address, 'up']],
      );

      // Re-attaching a draining server puts it back in service; re-attaching with a new address moves it.
      await edge.driver.drain('idem', 'i1', { timeoutMs: 100 });
      await edge.driver.attach('idem', { id: 'i1', address: i1.address });
      assert.equal(
        (await edge.driver.status()).find((p) => p.id === 'idem')?.servers[0]?.state,
        'up',
        'back in service',
      );
      if (client) assert.equal((await client.get('idem.pool.test')).server, 'i1');
      await edge.driver.attach('idem', { id: 'i1', address: i2.address });
      if (client) assert.equal((await client.get('idem.pool.test')).server, 'i2');
      pool = (await edge.driver.status()).find((p) => p.id === 'idem');
      assert.deepEqual(
        pool?.servers.map((s) => [s.id, s.address]),
        [['i1', i2.address]],
      );

      assert.deepEqual(await edge.driver.drain('idem', 'nobody', { timeoutMs: 100 }), { drained: true, inflight: 0 });
      assert.deepEqual(await edge.driver.drain('no-such-pool', 'nobody', { timeoutMs: 100 }), {
        drained: true,
        inflight: 0,
      });
      await edge.driver.detach('idem', 'i1');
      await edge.driver.detach('idem', 'i1');
      await edge.driver.detach('no-such-pool', 'i1');
      pool = (await edge.driver.status()).find((p) => p.id === 'idem');
      assert.deepEqual(pool?.servers, []);
      if (client) assert.equal((await client.get('idem.pool.test')).status, 503);

      await edge.driver.removePool('idem');
      await edge.driver.removePool('idem');
      assert.equal(
        (await edge.driver.status()).find((p) => p.id === 'idem'),
        undefined,
      );
      if (client) assert.equal((await client.get('idem.pool.test')).status, 404);
    });

    test('rejects a domain of another pool (E_CONFLICT), attach to a missing pool (E_NOT_FOUND) and bad input (E_VALIDATION)', async () => {
      await edge.driver.upsertPool({ id: 'own-a', domains: ['owned.pool.test'] });
      await assert.rejects(
        edge.driver.upsertPool({ id: 'own-b', domains: ['other.pool.test', 'owned.pool.test'] }),
        (e) => isHostfleetError(e, 'E_CONFLICT'),
      );
      assert.equal(
        (await edge.driver.status()).find((p) => p.id === 'own-b'),
        undefined,
        'a refused upsert changes nothing',
      );
      await assert.rejects(edge.driver.attach('missing-pool', { id: 'x1', address: '127.0.0.1:9' }), (e) =>
        isHostfleetError(e, 'E_NOT_FOUND'),
      );
      const bad: Array<[string, () => Promise<unknown>]> = [
        ['pool id', () => edge.driver.upsertPool({ id: 'Bad Pool', domains: [] })],
        ['domain', () => edge.driver.upsertPool({ id: 'ok', domains: ['no spaces.test'] })],
        ['injected domain', () => edge.driver.upsertPool({ id: 'ok', domains: ['a.test\nadd map x'] })],
        ['address', () => edge.driver.attach('own-a', { id: 'x1', address: 'not-an-address' })],
        ['port', () => edge.driver.attach('own-a', { id: 'x1', address: '127.0.0.1:70000' })],
        ['server id', () => edge.driver.attach('own-a', { id: '../x', address: '127.0.0.1:80' })],
        ['timeout', () => edge.driver.drain('own-a', 'x1', { timeoutMs: -1 })],
      ];
      for (const [name, call] of bad) await assert.rejects(call(), (e) => isHostfleetError(e, 'E_VALIDATION'), name);
    });

    test('a pool balances by least-connections unless told round-robin; an upsert without a policy keeps it', async () => {
      const r1 = await up('r1');
      const r2 = await up('r2');
      await edge.driver.upsertPool({ id: 'rr', domains: ['rr.pool.test'] });
      assert.deepEqual((await edge.driver.status()).find((p) => p.id === 'rr')?.balance, 'least-connections');
      await edge.driver.attach('rr', { id: 'r1', address: r1.address });
      await edge.driver.attach('rr', { id: 'r2', address: r2.address });
      await edge.driver.upsertPool({ id: 'rr', domains: ['rr.pool.test'], balance: 'round-robin' });
      await edge.driver.upsertPool({ id: 'rr', domains: ['rr.pool.test', 'www.rr.pool.test'] });
      const pool = (await edge.driver.status()).find((p) => p.id === 'rr');
      assert.equal(pool?.balance, 'round-robin');
      assert.deepEqual(
        pool?.servers.map((s) => [s.id, s.state]),
        [
          ['r1', 'up'],
          ['r2', 'up'],
        ],
        'a policy change keeps the servers in service',
      );
      if (client) await roundRobinTakesTurns(client, r1, r2);
      // And back to least-connections.
      await edge.driver.upsertPool({ id: 'rr', domains: ['rr.pool.test'], balance: 'least-connections' });
      assert.equal((await edge.driver.status()).find((p) => p.id === 'rr')?.balance, 'least-connections');
      if (client) assert.equal((await client.get('rr.pool.test')).status, 200);
    });

    /** roundRobinTakesTurns: round robin ignores what is outstanding; with a slow request on one server, quick ones still take turns. */
    async function roundRobinTakesTurns(
      client: ReturnType<typeof edgeClient>,
      r1: TestUpstream,
      r2: TestUpstream,
    ): Promise<void> {
      const slow = client.get('rr.pool.test', '/?delay=1500');
      await waitFor('the slow request to reach an upstream', () => r1.inflight() + r2.inflight() === 1);
      const seq: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await client.get('www.rr.pool.test');
        assert.equal(r.status, 200);
        seq.push(String(r.server));
      }
      assert.equal(seq.filter((s) => s === 'r1').length, 3, `takes turns: ${seq.join(',')}`);
      assert.equal((await slow).status, 200);
    }

    test('a rate-limited pool answers 429 with Retry-After beyond its cap, keeps it through other changes, and serves freely once lifted', async () => {
      const l1 = await up('l1');
      await edge.driver.upsertPool({ id: 'limited', domains: ['limited.pool.test'] });
      await edge.driver.attach('limited', { id: 'l1', address: l1.address });
      assert.equal((await edge.driver.status()).find((p) => p.id === 'limited')?.rateLimit, null);
      await edge.driver.upsertPool({ id: 'limited', domains: ['limited.pool.test'], rateLimit: 3 });
      assert.equal((await edge.driver.status()).find((p) => p.id === 'limited')?.rateLimit, 3);
      if (client) await burstIsCapped(client);
      // An upsert that does not name the limit keeps it, through a policy change too.
      await edge.driver.upsertPool({ id: 'limited', domains: ['limited.pool.test'], balance: 'round-robin' });
      assert.equal((await edge.driver.status()).find((p) => p.id === 'limited')?.rateLimit, 3);
      await edge.driver.upsertPool({ id: 'limited', domains: ['limited.pool.test'], rateLimit: null });
      assert.equal((await edge.driver.status()).find((p) => p.id === 'limited')?.rateLimit, null);
      if (client)
        for (let i = 0; i < 12; i++)
          assert.equal(
            (await client.get('limited.pool.test')).status,
            200,
            `request ${i + 1} after the limit is lifted`,
          );
      await assert.rejects(
        edge.driver.upsertPool({ id: 'limited', domains: ['limited.pool.test'], rateLimit: 0 }),
        (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && JSON.stringify(e.fields).includes('rateLimit'),
      );
      await edge.driver.removePool('limited');
    });

    /** burstIsCapped: a burst over a cap of 3 per second lets at most the cap plus what a second refills through; the rest get 429 with Retry-After. */
    async function burstIsCapped(client: ReturnType<typeof edgeClient>): Promise<void> {
      const t0 = performance.now();
      const codes: number[] = [];
      let refused: Awaited<ReturnType<typeof client.get>> | undefined;
      for (let i = 0; i < 12; i++) {
        const r = await client.get('limited.pool.test');
        codes.push(r.status);
        if (r.status === 429) refused ??= r;
      }
      const seconds = (performance.now() - t0) / 1000;
      const ok = codes.filter((c) => c === 200).length;
      assert.ok(
        codes.every((c) => c === 200 || c === 429),
        codes.join(','),
      );
      assert.ok(
        ok >= 1 && ok <= 3 + Math.ceil(seconds * 3) + 1,
        `${ok} of 12 passed in ${seconds.toFixed(2)} s: ${codes.join(',')}`,
      );
      assert.ok(refused, `some were refused: ${codes.join(',')}`);
      assert.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After is a number of seconds');
      assert.match(String(refused.headers['content-type']), /text\/html/);
    }

    test('a sticky pool sends a client carrying its cookie back to the same server; not sticky, the cookie is ignored', async () => {
      const c1 = await up('c1');
      const c2 = await up('c2');
      await edge.driver.upsertPool({ id: 'sticky', domains: ['sticky.pool.test'], sticky: true });
      await edge.driver.attach('sticky', { id: 'c1', address: c1.address });
      await edge.driver.attach('sticky', { id: 'c2', address: c2.address });
      assert.equal((await edge.driver.status()).find((p) => p.id === 'sticky')?.sticky, true);
      await edge.driver.upsertPool({ id: 'sticky', domains: ['sticky.pool.test', 'www.sticky.pool.test'] });
      assert.equal(
        (await edge.driver.status()).find((p) => p.id === 'sticky')?.sticky,
        true,
        'an upsert without sticky keeps it',
      );
      const cookie = client ? await stickyHoldsByCookie(client) : undefined;
      await edge.driver.upsertPool({ id: 'sticky', domains: ['sticky.pool.test'], sticky: false });
      assert.equal((await edge.driver.status()).find((p) => p.id === 'sticky')?.sticky, false);
      if (client) {
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++)
          seen.add(String((await client.get('sticky.pool.test', '/', { headers: { cookie: cookie! } })).server));
        assert.equal(seen.size, 2, 'a pool that is not sticky ignores the cookie');
      }
    });

    /** stickyHoldsByCookie: the first answer sets the cookie and requests carrying it go back there; it returns the cookie. */
    async function stickyHoldsByCookie(client: ReturnType<typeof edgeClient>): Promise<string> {
      const first = await client.get('sticky.pool.test');
      const setCookie = ([] as string[]).concat((first.headers['set-cookie'] as string | string[] | undefined) ?? []);
      const cookie = setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith('HFSRV='));
      assert.ok(cookie, `a sticky pool sets the HFSRV cookie: ${JSON.stringify(first.headers['set-cookie'])}`);
      for (let i = 0; i < 6; i++) {
        const rr = await client.get('sticky.pool.test', '/', { headers: { cookie: cookie! } });
        assert.equal(rr.server, first.server, JSON.stringify([cookie, rr.headers['set-cookie'], i]));
      }
      // Without the cookie the pool still balances.
      const plain = new Set<string>();
      for (let i = 0; i < 6; i++) plain.add(String((await client.get('sticky.pool.test')).server));
      assert.equal(plain.size, 2);
      return cookie!;
    }

    test('pause takes a server out of rotation without removing it; play puts it back; absent is E_NOT_FOUND', async () => {
      const p1 = await up('p1');
      const p2 = await up('p2');
      await edge.driver.upsertPool({ id: 'pause', domains: ['pause.pool.test'] });
      await edge.driver.attach('pause', { id: 'p1', address: p1.address });
      await edge.driver.attach('pause', { id: 'p2', address: p2.address });
      await edge.driver.pause('pause', 'p1');
      await edge.driver.pause('pause', 'p1');
      let pool = (await edge.driver.status()).find((p) => p.id === 'pause');
      assert.deepEqual(
        pool?.servers.map((s) => [s.id, s.state]),
        [
          ['p1', 'draining'],
          ['p2', 'up'],
        ],
      );
      if (client) for (let i = 0; i < 4; i++) assert.equal((await client.get('pause.pool.test')).server, 'p2');
      await edge.driver.play('pause', 'p1');
      await edge.driver.play('pause', 'p1');
      pool = (await edge.driver.status()).find((p) => p.id === 'pause');
      assert.deepEqual(
        pool?.servers.map((s) => [s.id, s.state]),
        [
          ['p1', 'up'],
          ['p2', 'up'],
        ],
      );
      if (client) {
        const seen = new Set<string>();
        for (let i = 0; i < 4; i++) seen.add(String((await client.get('pause.pool.test')).server));
        assert.deepEqual([...seen].sort(), ['p1', 'p2']);
      }
      await assert.rejects(edge.driver.pause('pause', 'nobody'), (e) => isHostfleetError(e, 'E_NOT_FOUND'));
      await assert.rejects(edge.driver.play('no-such-pool', 'p1'), (e) => isHostfleetError(e, 'E_NOT_FOUND'));
      await assert.rejects(edge.driver.upsertPool({ id: 'pause', domains: [], balance: 'random' as never }), (e) =>
        isHostfleetError(e, 'E_VALIDATION'),
      );
    });

    dataTest('a killed upstream causes no failed GET', async () => {
      const client = traffic();
      const k1 = await up('k1');
      const k2 = await up('k2');
      const k3 = await up('k3');
      await edge.driver.upsertPool({ id: 'kill', domains: ['kill.pool.test'] });
      for (const u of [k1, k2, k3]) await edge.driver.attach('kill', { id: u.name, address: u.address });
      const total = 240;
      let sent = 0;
      const failures: string[] = [];
      const served = new Map<string, number>();
      const worker = async (): Promise<void> => {
        // Bounded: each worker sends until the shared budget of requests is spent.
        while (sent < total) {
          sent += 1;
          const n = sent;
          if (n === total / 3) await k1.kill();
          const r = await client
            .get('kill.pool.test', `/?delay=${n % 4 === 0 ? 40 : 5}`)
            .catch((e: Error) => ({ status: 0, server: e.message }));
          if (r.status !== 200) failures.push(`#${n}: ${r.status} ${String(r.server ?? '')}`);
          else served.set(String(r.server), (served.get(String(r.server)) ?? 0) + 1);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker(), worker(), worker()]);
      assert.deepEqual(failures, [], 'every GET succeeded');
      assert.ok((served.get('k2') ?? 0) > 0 && (served.get('k3') ?? 0) > 0, 'the survivors took the load');
      await waitFor(
        'k1 reported down',
        async () =>
          (await edge.driver.status()).find((p) => p.id === 'kill')?.servers.find((s) => s.id === 'k1')?.state ===
          'down',
        10_000,
      );
    });
  });
}
