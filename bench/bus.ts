// `npm run bench -- bus [--messages N] [--requests N] [--durable N]`: management bus throughput
// for the memory bus, the loopback hub over TCP and NATS (NATS_URL, default 127.0.0.1:4222).
// Per implementation: pub/sub messages per second from one publisher to one subscriber in
// another handle (status-sized payloads, timed until the last one is received), sequential
// request-reply round trips per second with p50/p99 latency, and acked durable publishes per
// second. The last line is one JSON object.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loopbackBus, memoryBus, natsBus, startBusHub, type Bus } from '../src/drivers/bus/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive whole number`);
  return v;
}

const MESSAGES = arg('messages', 100_000);
const REQUESTS = arg('requests', 5_000);
const DURABLE = arg('durable', 5_000);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const run = randomBytes(4).toString('hex');

/** A status message as an agent sends it every tick. */
const status = (i: number): unknown => ({
  server: 'srv-0042',
  group: 'acme',
  seq: i,
  cpu: 0.42,
  rps: 812,
  p95ms: 37.5,
  need: 0.1,
  at: 1_700_000_000_000 + i,
});

interface Result {
  pubsub_msgs_per_s: number;
  request_reply_per_s: number;
  request_p50_us: number;
  request_p99_us: number;
  durable_publish_per_s: number;
}

async function measure(kind: string, pub: Bus, sub: Bus): Promise<Result> {
  const prefix = `bench${run}${kind}`;
  // pub/sub
  let received = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((r) => (resolveAll = r));
  await sub.subscribe(`${prefix}.status.>`, () => {
    if (++received === MESSAGES) resolveAll();
  });
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    await pub.publish(`${prefix}.status.acme.srv-0042`, status(i));
    // Let the subscriber keep pace, as a real agent fleet does; bounded buffers drop otherwise.
    if (i % 5_000 === 4_999) await pub.flush();
  }
  const deadline = setTimeout(() => resolveAll(), 120_000);
  await all;
  clearTimeout(deadline);
  const pubsub = MESSAGES / ((performance.now() - t0) / 1000);
  if (received < MESSAGES) console.error(`${kind}: only ${received} of ${MESSAGES} messages arrived`);

  // request-reply
  await sub.reply(`${prefix}.rpc.echo`, (d) => d);
  const lat: number[] = [];
  const t1 = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const s = performance.now();
    await pub.request(`${prefix}.rpc.echo`, { i }, { timeoutMs: 5_000 });
    lat.push((performance.now() - s) * 1000);
  }
  const rr = REQUESTS / ((performance.now() - t1) / 1000);
  lat.sort((a, b) => a - b);

  // durable publish (acked by the stream)
  const stream = `bench${run}${kind}`;
  await pub.durable.ensureStream({ name: stream, subjects: [`${prefix}.req.>`] });
  const t2 = performance.now();
  for (let i = 0; i < DURABLE; i++) await pub.durable.publish(`${prefix}.req.acme.srv-0042`, { need: 'add', i });
  const durable = DURABLE / ((performance.now() - t2) / 1000);
  await pub.durable.deleteStream(stream);

  return {
    pubsub_msgs_per_s: Math.round(pubsub),
    request_reply_per_s: Math.round(rr),
    request_p50_us: Math.round(lat[Math.floor(lat.length * 0.5)] ?? 0),
    request_p99_us: Math.round(lat[Math.floor(lat.length * 0.99)] ?? 0),
    durable_publish_per_s: Math.round(durable),
  };
}

const results: Record<string, Result | { error: string }> = {};

{
  const root = memoryBus();
  const other = root.connect();
  results.memory = await measure('memory', root, other);
  await root.close();
}
{
  const token = randomBytes(24).toString('hex');
  const hub = await startBusHub({ token });
  const a = await loopbackBus({ url: hub.url, token, name: 'bench-pub' });
  const b = await loopbackBus({ url: hub.url, token, name: 'bench-sub' });
  results.loopback = await measure('loopback', a, b);
  await a.close();
  await b.close();
  await hub.close();
}
try {
  const a = await natsBus({ servers: NATS_URL, name: 'bench-pub', storage: 'memory' });
  const b = await natsBus({ servers: NATS_URL, name: 'bench-sub' });
  results.nats = await measure('nats', a, b);
  await a.close();
  await b.close();
} catch (e) {
  results.nats = { error: (e as Error).message };
}

for (const [k, v] of Object.entries(results)) console.log(k.padEnd(9), JSON.stringify(v));
console.log(JSON.stringify({ bench: 'bus', messages: MESSAGES, requests: REQUESTS, durable: DURABLE, ...results }));
