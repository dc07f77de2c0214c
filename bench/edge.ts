// bench/edge: throughput and latency of the built-in edge against two loopback upstreams,
// compared with hitting an upstream directly, then the same load while a server is moved out
// and back in every 200 ms (drain → detach → attach), counting failed requests.
// Run: npm run bench -- edge [requests=20000] [concurrency=32]. Prints one JSON line last.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { startEdge } from '../src/services/edge/edge.js';
import { builtinEdge } from '../src/drivers/edge/index.js';
import { startUpstream } from '../test/contract/edge-fixtures.js';

const total = Number(process.argv[2] ?? 20_000);
const concurrency = Number(process.argv[3] ?? 32);

async function load(
  url: string,
  host: string,
  n: number,
  c: number,
): Promise<{ rps: number; p50: number; p99: number; failed: number }> {
  const agent = new Agent({ connections: c, keepAliveTimeout: 5_000 });
  const lat: number[] = [];
  let sent = 0;
  let failed = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    // Bounded by the shared budget n.
    while (sent < n) {
      sent += 1;
      const t = performance.now();
      try {
        const r = await request(url, { dispatcher: agent, headers: { host } });
        await r.body.dump();
        if (r.statusCode !== 200) failed += 1;
      } catch {
        failed += 1;
      }
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
  const secs = (performance.now() - t0) / 1000;
  await agent.close();
  lat.sort((a, b) => a - b);
  const q = (p: number): number =>
    Math.round((lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0) * 1000) / 1000;
  return { rps: Math.round(n / secs), p50: q(0.5), p99: q(0.99), failed };
}

const token = randomBytes(24).toString('hex');
const edge = await startEdge({
  host: '127.0.0.1',
  port: 0,
  adminHost: '127.0.0.1',
  adminPort: 0,
  token,
  healthIntervalMs: 1000,
});
const driver = builtinEdge({ adminUrl: edge.adminUrl, token });
const a = await startUpstream('a');
const b = await startUpstream('b');
await driver.upsertPool({ id: 'bench', domains: ['bench.example.test'] });
await driver.attach('bench', { id: 'a', address: a.address });
await driver.attach('bench', { id: 'b', address: b.address });

await load(`${edge.url}/`, 'bench.example.test', 2_000, concurrency); // warm-up
const direct = await load(`http://${a.address}/`, 'bench.example.test', total, concurrency);
console.log('direct', JSON.stringify(direct));
const proxied = await load(`${edge.url}/`, 'bench.example.test', total, concurrency);
console.log('edge', JSON.stringify(proxied));

let moves = 0;
let moving = true;
const mover = (async () => {
  // Bounded: stops when the load below ends.
  while (moving) {
    await driver.drain('bench', 'b', { timeoutMs: 5_000 });
    await driver.detach('bench', 'b');
    await driver.attach('bench', { id: 'b', address: b.address });
    moves += 1;
    await new Promise((r) => setTimeout(r, 200));
  }
})();
const during = await load(`${edge.url}/`, 'bench.example.test', total, concurrency);
moving = false;
await mover;
console.log('edge while moving', JSON.stringify(during));

await driver.close();
await edge.close();
await a.close();
await b.close();
console.log(
  JSON.stringify({
    bench: 'edge',
    requests: total,
    concurrency,
    direct_rps: direct.rps,
    edge_rps: proxied.rps,
    edge_p50_ms: proxied.p50,
    edge_p99_ms: proxied.p99,
    direct_p50_ms: direct.p50,
    moving_rps: during.rps,
    moves,
    failed_while_moving: during.failed,
    failed: proxied.failed,
  }),
);
