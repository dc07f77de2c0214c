// The server runtime in-process: health, bounded FIFO capacity, safe static files, stats,
// and graceful close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { demoPersonality } from '../../../support/boot-service.js';
import { checkPersonality } from '../../../../src/core/model/check-personality.js';
import { parseListen, SCRATCH_FILE, startRuntime, type Runtime } from '../../../../src/emulators/server/runtime.js';
import { Slots } from '../../../../src/emulators/server/slots.js';
import { percentiles } from '../../../../src/emulators/server/stats.js';
import { resolveStatic } from '../../../../src/emulators/server/static.js';

async function fixture(
  runtime = { serviceTimeMs: 40, concurrency: 2, maxQueue: 3 },
): Promise<{ rt: Runtime; dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hf-runtime-'));
  const volume = join(dir, 'volume');
  await mkdir(join(volume, 'site', 'docs'), { recursive: true });
  await writeFile(join(volume, 'site', 'index.html'), '<h1>acme</h1>');
  await writeFile(join(volume, 'site', 'style.css'), 'h1{}');
  await writeFile(join(volume, 'site', 'docs', 'index.html'), 'docs');
  await writeFile(join(volume, 'secret.txt'), 'private data outside the site');
  await symlink(join(volume, 'secret.txt'), join(volume, 'site', 'leak.txt'));
  await symlink('/etc', join(volume, 'site', 'etc'));
  const rt = await startRuntime({
    personality: demoPersonality('uuid-1', { runtime }),
    listen: '127.0.0.1:0',
    volume,
    scratch: join(dir, 'scratch'),
    drainTimeoutMs: 2000,
  });
  return {
    rt,
    dir,
    cleanup: async () => {
      await rt.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** get sends one raw request (no client-side path normalisation, unlike fetch). */
function get(
  base: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('healthz names the server, account, group and role; scratch holds the session cache', async () => {
  const { rt, dir, cleanup } = await fixture();
  try {
    const r = await get(rt.url, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), {
      status: 'ok',
      server: 'srv-1',
      account: 'acme',
      group: 'acme-web',
      role: 'web',
      machine: 'uuid-1',
    });
    const cache = JSON.parse(await readFile(join(dir, 'scratch', SCRATCH_FILE), 'utf8')) as Record<string, unknown>;
    assert.equal(cache.server, 'srv-1');
  } finally {
    await cleanup();
  }
});

test('static files: index for directories, content types, 404 page, and no way out of the site', async () => {
  const { rt, cleanup } = await fixture();
  try {
    const cases = [
      { name: 'root index', path: '/', status: 200, type: 'text/html; charset=utf-8', body: '<h1>acme</h1>' },
      { name: 'css', path: '/style.css', status: 200, type: 'text/css; charset=utf-8', body: 'h1{}' },
      { name: 'dir index', path: '/docs/', status: 200, type: 'text/html; charset=utf-8', body: 'docs' },
      { name: 'dir without slash redirects', path: '/docs', status: 301 },
      { name: 'missing file', path: '/nope.html', status: 404, type: 'text/html; charset=utf-8' },
      { name: 'dot-dot', path: '/../secret.txt', status: 400 },
      { name: 'encoded dot-dot', path: '/%2e%2e/secret.txt', status: 400 },
      { name: 'encoded slash dot-dot', path: '/docs%2f..%2f..%2fsecret.txt', status: 400 },
      { name: 'backslash', path: '/..%5csecret.txt', status: 400 },
      { name: 'NUL', path: '/index.html%00.css', status: 400 },
      { name: 'bad escape', path: '/%zz', status: 400 },
      { name: 'symlink out of the site', path: '/leak.txt', status: 404 },
      { name: 'symlinked dir out of the site', path: '/etc/passwd', status: 404 },
      { name: 'unknown runtime endpoint', path: '/_runtime/nope', status: 404 },
    ];
    for (const c of cases) {
      const r = await get(rt.url, c.path);
      assert.equal(r.status, c.status, c.name);
      if (c.type) assert.equal(r.headers['content-type'], c.type, c.name);
      if (c.body !== undefined) assert.equal(r.body, c.body, c.name);
      assert.ok(!r.body.includes('private data') && !r.body.includes('root:'), `${c.name} leaks nothing`);
    }
    assert.equal((await get(rt.url, '/docs')).headers.location, '/docs/');
    const head = await get(rt.url, '/style.css', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '4');
    assert.equal(head.body, '');
    assert.equal((await get(rt.url, '/style.css', 'DELETE')).status, 405);
  } finally {
    await cleanup();
  }
});

test('the dynamic endpoint serves `concurrency` at a time, queues FIFO, and refuses past maxQueue with Retry-After', async () => {
  const { rt, cleanup } = await fixture({ serviceTimeMs: 150, concurrency: 2, maxQueue: 3 });
  try {
    const started = performance.now();
    const sent = Array.from({ length: 7 }, (_, i) => get(rt.url, `/app/req-${i}`));
    const results = await Promise.all(sent);
    const ok = results
      .filter((r) => r.status === 200)
      .map((r) => JSON.parse(r.body) as { path: string; queueWaitMs: number; serviceTimeMs: number; server: string });
    const refused = results.filter((r) => r.status === 503);
    assert.equal(ok.length, 5, '2 served at once + 3 queued');
    assert.equal(refused.length, 2);
    for (const r of refused) assert.ok(Number(r.headers['retry-after']) >= 1);
    for (const r of ok) {
      assert.equal(r.server, 'srv-1');
      assert.equal(r.serviceTimeMs, 150);
    }
    // Waits grow in slot-sized steps: two at ~0, two at ~1 service time, one at ~2 (lower bounds only: timers never fire early).
    const waits = ok.map((r) => r.queueWaitMs).sort((a, b) => a - b);
    assert.ok((waits[2] ?? 0) >= 100 && (waits[4] ?? 0) >= 250, `queued ones waited for slots: ${waits}`);
    assert.ok(performance.now() - started >= 3 * 150 - 20, 'three rounds of service');
    const stats = JSON.parse((await get(rt.url, '/_runtime/stats')).body) as Record<string, unknown>;
    assert.equal((stats.requests as Record<string, number>).app, 7);
    assert.equal(stats.rejected, 2);
    assert.equal(stats.errors, 2);
    assert.equal((stats.responses as Record<string, number>)['5xx'], 2);
    assert.equal(stats.inFlight, 1, 'only the stats request itself');
    assert.equal(stats.queued, 0);
    const app = (stats.responseTimeMs as Record<string, { count: number; p50: number; max: number }>).app;
    assert.equal(app?.count, 7);
    assert.ok((app?.max ?? 0) >= 400);
  } finally {
    await cleanup();
  }
});

test('close lets in-flight requests finish, then health is gone', async () => {
  const { rt, cleanup } = await fixture({ serviceTimeMs: 200, concurrency: 1, maxQueue: 1 });
  try {
    const pending = get(rt.url, '/app/slow');
    await new Promise((r) => setTimeout(r, 50));
    const closing = rt.close();
    assert.equal(rt.state(), 'stopping');
    const r = await pending;
    assert.equal(r.status, 200, 'the in-flight request completed');
    await closing;
    await assert.rejects(get(rt.url, '/healthz'));
  } finally {
    await cleanup();
  }
});

test('Slots grants in FIFO order and never exceeds its concurrency or queue bound', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 5 }),
      fc.array(fc.boolean(), { maxLength: 30 }),
      async (concurrency, maxQueue, steps) => {
        const s = new Slots(concurrency, maxQueue);
        const held: (() => void)[] = [];
        const order: number[] = [];
        const granted: number[] = [];
        let n = 0;
        for (const acquire of steps) {
          if (acquire) {
            const id = n++;
            const t = s.acquire();
            if (t === null) {
              assert.equal(s.queued, maxQueue, 'refused only when the queue is full');
              continue;
            }
            order.push(id);
            void t.wait.then((release) => {
              granted.push(id);
              held.push(release);
            });
          } else {
            held.shift()?.();
          }
          await new Promise((r) => setImmediate(r));
          assert.ok(s.inUse <= concurrency);
          assert.ok(s.queued <= maxQueue);
        }
        assert.deepEqual(granted, order.slice(0, granted.length), 'grants follow arrival order');
      },
    ),
    { numRuns: 100 },
  );
});

test('percentiles are nearest-rank', () => {
  const cases = [
    { name: 'empty', input: [], want: { count: 0, p50: 0, p99: 0, max: 0 } },
    { name: 'one', input: [7], want: { count: 1, p50: 7, p99: 7, max: 7 } },
    {
      name: '1..100',
      input: Array.from({ length: 100 }, (_, i) => i + 1),
      want: { count: 100, p50: 50, p99: 99, max: 100 },
    },
  ];
  for (const c of cases) {
    const p = percentiles([...c.input]);
    assert.deepEqual({ count: p.count, p50: p.p50, p99: p.p99, max: p.max }, c.want, c.name);
  }
});

test('resolveStatic never resolves outside the site, whatever the path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hf-static-'));
  try {
    const site = join(dir, 'site');
    await mkdir(site);
    await writeFile(join(site, 'a.txt'), 'a');
    await writeFile(join(dir, 'outside.txt'), 'no');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('..', '.', 'a.txt', '%2e%2e', '%2f', 'outside.txt', '', '%00', 'site', '%5c'), {
          maxLength: 6,
        }),
        async (parts) => {
          const r = await resolveStatic(site, '/' + parts.join('/'));
          if (r.kind === 'file') assert.ok(r.path.startsWith(site + '/'), r.path);
        },
      ),
      { numRuns: 300 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('checkPersonality accepts the demo personality and names every bad field', () => {
  assert.ok(checkPersonality(demoPersonality('m-1'), 'M-1').ok, 'UUIDs compare case-insensitively');
  const cases = [
    { name: 'kind', over: { kind: 'other' }, field: 'kind' },
    { name: 'other machine', over: {}, uuid: 'm-2', field: 'machine' },
    { name: 'role', over: { group: { id: 'g', name: 'g', role: 'cache' } }, field: 'group.role' },
    { name: 'image', over: { image: 'evil/image' }, field: 'image' },
    {
      name: 'concurrency 0',
      over: { runtime: { serviceTimeMs: 1, concurrency: 0, maxQueue: 1 } },
      field: 'runtime.concurrency',
    },
    { name: 'volume path', over: { volume: { id: '../x' } }, field: 'volume.id' },
    { name: 'uid', over: { uid: -1 }, field: 'uid' },
    { name: 'config value', over: { config: { a: 1 } }, field: 'config' },
  ];
  for (const c of cases) {
    const r = checkPersonality({ ...demoPersonality('m-1'), ...c.over }, c.uuid ?? 'm-1');
    assert.equal(r.ok, false, c.name);
    if (!r.ok)
      assert.ok(
        r.problems.some((p) => p.field === c.field),
        `${c.name}: ${JSON.stringify(r.problems)}`,
      );
  }
  assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
  assert.throws(() => parseListen('nope'));
});
