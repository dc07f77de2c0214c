// The management bus contract, run over every implementation: the memory bus, the loopback
// hub with its TCP clients, and NATS with JetStream at 127.0.0.1:4222 (NATS_URL overrides).
// Each run uses its own subject prefix and stream names and deletes its streams afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, createServer, type Socket } from 'node:net';
import { HostfleetError, isHostfleetError } from '../../src/core/errors.js';
import {
  busFailure,
  loopbackBus,
  memoryBus,
  natsBus,
  openBus,
  startBusHub,
  subjects,
  streams,
  type Bus,
  type BusHub,
  type LoopbackBus,
  type MemoryBus,
} from '../../src/drivers/bus/index.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const quiet = (): void => undefined;

/** Env is one implementation under test: client() opens another process's handle. */
interface Env {
  client(): Promise<Bus>;
  close(): Promise<void>;
}

const ENVS: ReadonlyArray<{ name: string; open: () => Promise<Env> }> = [
  {
    name: 'memory',
    open: async () => {
      const root: MemoryBus = memoryBus({ onError: quiet });
      return { client: async () => root.connect(), close: () => root.close() };
    },
  },
  {
    name: 'loopback',
    open: async () => {
      const token = randomBytes(24).toString('hex');
      const hub: BusHub = await startBusHub({ token, onError: quiet });
      const clients: Bus[] = [];
      return {
        client: async () => {
          const c = await loopbackBus({ url: hub.url, token, onError: quiet, name: `client-${clients.length}` });
          clients.push(c);
          return c;
        },
        close: async () => {
          for (const c of clients) await c.close();
          await hub.close();
        },
      };
    },
  },
  {
    name: 'nats',
    open: async () => {
      const clients: Bus[] = [];
      return {
        client: async () => {
          const c = await natsBus({ servers: NATS_URL, onError: quiet, storage: 'memory', name: 'hostfleet-contract' });
          clients.push(c);
          return c;
        },
        close: async () => {
          for (const c of clients) await c.close();
        },
      };
    },
  },
];

/** waitFor polls cond until it holds, for at most ms (bounded: every test ends). */
async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rejectsWith(
  p: Promise<unknown> | (() => unknown),
  check: (e: unknown) => boolean,
  label: string,
): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.ok(
      check(e),
      `${label}: unexpected error ${String(e)} ${JSON.stringify((e as HostfleetError).details ?? {})}`,
    );
    return e;
  }
  return assert.fail(`${label}: expected a rejection`);
}

const run = randomBytes(4).toString('hex');

for (const { name, open } of ENVS) {
  describe(`bus contract: ${name}`, () => {
    let env: Env;
    let pub: Bus;
    let sub: Bus;
    let n = 0;
    /** p returns a fresh subject prefix, so tests never see each other's messages. */
    const p = (): string => `t${run}${name.slice(0, 1)}${n++}`;
    const streamNames: string[] = [];

    before(async () => {
      env = await open();
      pub = await env.client();
      sub = await env.client();
    });
    after(async () => {
      for (const s of streamNames) await pub.durable.deleteStream(s).catch(() => undefined);
      await env.close();
    });

    test('wildcards: * is one token, > is one or more trailing tokens', async () => {
      const x = p();
      const patterns = {
        star: `${x}.*.status`,
        rest: `${x}.>`,
        restA: `${x}.a.>`,
        exact: `${x}.a.status`,
        one: `${x}.*`,
      } as const;
      const got: Record<string, string[]> = {};
      for (const [k, pat] of Object.entries(patterns)) {
        got[k] = [];
        await sub.subscribe(pat, (_d, m) => void got[k]?.push(m.subject));
      }
      const sent = [`${x}.a.status`, `${x}.a.b.c`, `${x}.b.status`, `${x}.x`, x];
      for (const s of sent) await pub.publish(s, { s });
      const want: Record<string, string[]> = {
        star: [`${x}.a.status`, `${x}.b.status`],
        rest: [`${x}.a.status`, `${x}.a.b.c`, `${x}.b.status`, `${x}.x`],
        restA: [`${x}.a.status`, `${x}.a.b.c`],
        exact: [`${x}.a.status`],
        one: [`${x}.x`],
      };
      const total = Object.values(want).reduce((a, w) => a + w.length, 0);
      await waitFor(() => Object.values(got).reduce((a, g) => a + g.length, 0) >= total, 10_000, 'wildcard deliveries');
      await sleep(100); // anything extra would arrive now
      assert.deepEqual(got, want);
    });

    test('payloads round-trip as JSON values; undefined arrives as undefined', async () => {
      const x = p();
      const got: unknown[] = [];
      await sub.subscribe(`${x}.v`, (d) => void got.push(d));
      const values = [{ a: 1, b: [true, null, 'é'] }, 'text\nwith\ttabs', 42, null, undefined, [1, { c: {} }]];
      for (const v of values) await pub.publish(`${x}.v`, v);
      await waitFor(() => got.length === values.length);
      assert.deepEqual(got, values);
      await rejectsWith(pub.publish(`${x}.v`, { big: 1n }), (e) => isHostfleetError(e, 'E_VALIDATION'), 'bigint');
      await rejectsWith(
        pub.publish(`${x}.v`, 'x'.repeat(1024 * 1024 + 1)),
        (e) => isHostfleetError(e, 'E_VALIDATION'),
        'over max payload',
      );
    });

    test('queue groups: each message reaches exactly one member; plain subscribers get all', async () => {
      const x = p();
      const members = [sub, await env.client(), await env.client()];
      const byMember: number[][] = members.map(() => []);
      for (const [i, b] of members.entries())
        await b.subscribe(`${x}.work`, (d) => void byMember[i]?.push(d as number), { queue: 'workers' });
      const plain: number[] = [];
      await sub.subscribe(`${x}.work`, (d) => void plain.push(d as number));
      const N = 60;
      for (let i = 0; i < N; i++) await pub.publish(`${x}.work`, i);
      await waitFor(() => plain.length === N && byMember.flat().length >= N, 10_000, 'queue deliveries');
      await sleep(100);
      assert.deepEqual(
        plain,
        Array.from({ length: N }, (_, i) => i),
      );
      const all = byMember.flat().sort((a, b) => a - b);
      assert.deepEqual(
        all,
        Array.from({ length: N }, (_, i) => i),
        'every message exactly once across the group',
      );
      assert.ok(byMember.filter((m) => m.length > 0).length >= 2, 'the group shares the work');
    });

    test('ordering: one publisher’s messages reach a subscriber in publish order', async () => {
      const x = p();
      const other = await env.client();
      const got: Array<{ from: string; i: number }> = [];
      await sub.subscribe(`${x}.seq.*`, async (d) => {
        // An async handler must not let a later message overtake it.
        if ((d as { i: number }).i % 7 === 0) await sleep(1);
        got.push(d as { from: string; i: number });
      });
      const N = 300;
      await Promise.all([
        (async () => {
          for (let i = 0; i < N; i++) await pub.publish(`${x}.seq.a`, { from: 'a', i });
        })(),
        (async () => {
          for (let i = 0; i < N; i++) await other.publish(`${x}.seq.b`, { from: 'b', i });
        })(),
      ]);
      await waitFor(() => got.length === 2 * N, 15_000, 'ordered deliveries');
      for (const from of ['a', 'b']) {
        assert.deepEqual(
          got.filter((g) => g.from === from).map((g) => g.i),
          Array.from({ length: N }, (_, i) => i),
          `publisher ${from} in order`,
        );
      }
    });

    test('request-reply: answers, error codes, no responders, timeouts, queue responders', async () => {
      const x = p();
      await sub.reply(`${x}.echo`, (d) => ({ echo: d }));
      await sub.reply(`${x}.fail`, () => {
        throw new HostfleetError('E_NOT_FOUND', 'no group named blue');
      });
      let release: () => void = () => undefined;
      const never = new Promise<void>((r) => (release = r));
      await sub.reply(`${x}.slow`, () => never);
      assert.deepEqual(await pub.request(`${x}.echo`, { n: 1 }, { timeoutMs: 5_000 }), { echo: { n: 1 } });
      assert.deepEqual(await pub.request(`${x}.echo`, undefined, { timeoutMs: 5_000 }), {});

      const e = (await rejectsWith(
        pub.request(`${x}.fail`, 1, { timeoutMs: 5_000 }),
        (err) => isHostfleetError(err, 'E_NOT_FOUND'),
        'remote error',
      )) as HostfleetError;
      assert.equal(e.message, 'no group named blue');

      await rejectsWith(
        pub.request(`${x}.nobody`, 1, { timeoutMs: 5_000 }),
        (err) => busFailure(err) === 'no_responders',
        'no responders',
      );
      await rejectsWith(
        pub.request(`${x}.slow`, 1, { timeoutMs: 200 }),
        (err) => busFailure(err) === 'timeout' && isHostfleetError(err),
        'timeout',
      );
      await rejectsWith(
        () => pub.request(`${x}.echo`, 1, {} as { timeoutMs: number }),
        (err) => isHostfleetError(err, 'E_VALIDATION'),
        'missing timeout',
      );
      release();

      const r2 = await env.client();
      const answeredBy: string[] = [];
      await sub.reply(
        `${x}.q`,
        () => {
          answeredBy.push('sub');
          return 'sub';
        },
        { queue: 'api' },
      );
      await r2.reply(
        `${x}.q`,
        () => {
          answeredBy.push('r2');
          return 'r2';
        },
        { queue: 'api' },
      );
      const answers = [];
      for (let i = 0; i < 20; i++) answers.push(await pub.request(`${x}.q`, i, { timeoutMs: 5_000 }));
      assert.equal(answeredBy.length, 20, 'each request answered by exactly one member');
      assert.deepEqual([...answers].sort(), [...answeredBy].sort());
    });

    test('unsubscribe stops delivery', async () => {
      const x = p();
      const got: number[] = [];
      const s = await sub.subscribe(`${x}.u`, (d) => void got.push(d as number));
      await pub.publish(`${x}.u`, 1);
      await waitFor(() => got.length === 1);
      await s.unsubscribe();
      await s.unsubscribe();
      await sub.flush();
      await pub.publish(`${x}.u`, 2);
      await pub.flush();
      await sleep(100);
      assert.deepEqual(got, [1]);
    });

    test('durable: delivery survives a consumer restart; acked messages are not redelivered', async () => {
      const x = p();
      const stream = `${x}-s`;
      streamNames.push(stream);
      await pub.durable.ensureStream({ name: stream, subjects: [`${x}.d.>`] });
      await pub.durable.ensureStream({ name: stream, subjects: [`${x}.d.>`] }); // idempotent
      for (let i = 1; i <= 10; i++) {
        const ack = await pub.durable.publish(`${x}.d.req`, { i });
        assert.deepEqual(ack, { stream, seq: i, duplicate: false });
      }
      // First consumer process: handles 1–4, then "crashes" while handling 5.
      const c1 = await env.client();
      const done1: number[] = [];
      let release: () => void = () => undefined;
      const stuck = new Promise<void>((r) => (release = r));
      const s1 = await c1.durable.consume(
        stream,
        'manager',
        async (d) => {
          const { i } = d as { i: number };
          if (i === 5) await stuck;
          else done1.push(i);
        },
        { ackWaitMs: 1_000 },
      );
      await waitFor(() => done1.length === 4, 10_000, 'first consumer');
      await sleep(50);
      await s1.unsubscribe();
      await c1.close();
      release();
      for (let i = 11; i <= 15; i++) await pub.durable.publish(`${x}.d.req`, { i });

      // Second consumer process with the same durable name picks up where the first stopped.
      const c2 = await env.client();
      const got2: Array<{ i: number; n: number; seq: number }> = [];
      await c2.durable.consume(
        stream,
        'manager',
        (d, m) => void got2.push({ i: (d as { i: number }).i, n: m.deliveryCount, seq: m.seq }),
        { ackWaitMs: 1_000 },
      );
      await waitFor(() => new Set(got2.map((g) => g.i)).size >= 11, 15_000, 'second consumer');
      await sleep(200);
      assert.deepEqual(done1, [1, 2, 3, 4]);
      assert.deepEqual(
        [...new Set(got2.map((g) => g.i))].sort((a, b) => a - b),
        [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      );
      const five = got2.find((g) => g.i === 5);
      assert.ok(five && five.n >= 2 && five.seq === 5, `message 5 is a redelivery: ${JSON.stringify(five)}`);
      assert.ok(
        got2.filter((g) => g.i > 10).every((g) => g.n === 1),
        'messages published while no consumer ran are first deliveries',
      );
    });

    test('durable: a handler that throws gets the message again; separate durables each see everything', async () => {
      const x = p();
      const stream = `${x}-r`;
      streamNames.push(stream);
      await pub.durable.ensureStream({ name: stream, subjects: [`${x}.e.*`] });
      const tries: number[] = [];
      await sub.durable.consume(
        stream,
        'flaky',
        (_d, m) => {
          tries.push(m.deliveryCount);
          if (m.deliveryCount < 3) throw new Error('not yet');
        },
        { retryDelayMs: 50, ackWaitMs: 5_000 },
      );
      const audit: number[] = [];
      await sub.durable.consume(stream, 'audit', (_d, m) => void audit.push(m.seq), { filterSubject: `${x}.e.b` });
      await pub.durable.publish(`${x}.e.a`, 'a');
      await pub.durable.publish(`${x}.e.b`, 'b');
      await waitFor(() => tries.length >= 6 && audit.length >= 1, 15_000, 'redeliveries');
      await sleep(200);
      assert.deepEqual([...tries].sort(), [1, 1, 2, 2, 3, 3], 'three tries per message, then acked');
      assert.deepEqual(audit, [2], 'the filtered consumer sees only its subject');
    });

    test('durable: msgId deduplicates; a subject without a stream is E_NOT_FOUND; overlapping streams conflict', async () => {
      const x = p();
      const stream = `${x}-m`;
      streamNames.push(stream);
      await pub.durable.ensureStream({ name: stream, subjects: [`${x}.m.>`] });
      const a1 = await pub.durable.publish(`${x}.m.1`, 1, { msgId: 'req-1' });
      const a2 = await pub.durable.publish(`${x}.m.1`, 1, { msgId: 'req-1' });
      assert.equal(a1.duplicate, false);
      assert.deepEqual(a2, { stream, seq: a1.seq, duplicate: true });
      await rejectsWith(
        pub.durable.publish(`${x}.nostream`, 1),
        (e) => isHostfleetError(e, 'E_NOT_FOUND'),
        'no stream',
      );
      await rejectsWith(
        pub.durable.consume(`${x}-none`, 'c', () => undefined),
        (e) => isHostfleetError(e, 'E_NOT_FOUND'),
        'consume unknown stream',
      );
      streamNames.push(`${x}-o`);
      await rejectsWith(
        pub.durable.ensureStream({ name: `${x}-o`, subjects: [`${x}.m.*`] }),
        (e) => isHostfleetError(e, 'E_CONFLICT'),
        'overlap',
      );
      await pub.durable.deleteStream(stream);
      await pub.durable.deleteStream(stream);
    });

    test('durable: maxDeliver gives up; maxMsgs keeps the newest; one durable name shares work', async () => {
      const x = p();
      const stream = `${x}-l`;
      streamNames.push(stream);
      await pub.durable.ensureStream({ name: stream, subjects: [`${x}.l.>`], maxMsgs: 3 });
      for (let i = 1; i <= 5; i++) await pub.durable.publish(`${x}.l.m`, i);
      const seen: number[] = [];
      await sub.durable.consume(stream, 'late', (_d, m) => void seen.push(m.seq));
      await waitFor(() => seen.length >= 3, 10_000, 'retained messages');
      await sleep(100);
      assert.deepEqual(seen, [3, 4, 5], 'only the newest three are kept');

      const tries: number[] = [];
      await sub.durable.consume(
        stream,
        'doomed',
        (_d, m) => {
          if (m.seq === 5) tries.push(m.deliveryCount);
          if (m.seq === 5) throw new Error('always fails');
        },
        { maxDeliver: 2, retryDelayMs: 50, ackWaitMs: 1_000 },
      );
      await waitFor(() => tries.length >= 2, 10_000, 'two deliveries');
      await sleep(1_500); // longer than ackWait + retryDelay: a third delivery would have come
      assert.deepEqual(tries, [1, 2]);

      const stream2 = `${x}-w`;
      streamNames.push(stream2);
      await pub.durable.ensureStream({ name: stream2, subjects: [`${x}.w.>`] });
      const w1 = await env.client();
      const w2 = await env.client();
      const by: Array<{ who: string; i: number }> = [];
      for (const [who, b] of [
        ['w1', w1],
        ['w2', w2],
      ] as const) {
        await b.durable.consume(
          stream2,
          'pool',
          async (d) => {
            by.push({ who, i: d as number });
            await sleep(2);
          },
          { maxAckPending: 4 },
        );
      }
      for (let i = 0; i < 40; i++) await pub.durable.publish(`${x}.w.job`, i);
      await waitFor(() => by.length >= 40, 15_000, 'shared work');
      await sleep(200);
      assert.deepEqual(
        by.map((b) => b.i).sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i),
        'each job once',
      );
      assert.ok(by.some((b) => b.who === 'w1') && by.some((b) => b.who === 'w2'), 'both workers got work');
    });

    test('durable: a core publish on a stream subject is stored too (as JetStream does)', async () => {
      const x = p();
      const stream = `${x}-c`;
      streamNames.push(stream);
      await pub.durable.ensureStream({ name: stream, subjects: [`${x}.c.*`] });
      await pub.publish(`${x}.c.core`, 'core');
      await pub.flush();
      await pub.durable.publish(`${x}.c.acked`, 'acked');
      const got: Array<{ d: unknown; seq: number }> = [];
      await sub.durable.consume(stream, 'reader', (d, m) => void got.push({ d, seq: m.seq }));
      await waitFor(() => got.length >= 2, 10_000, 'both messages');
      assert.deepEqual(got, [
        { d: 'core', seq: 1 },
        { d: 'acked', seq: 2 },
      ]);
    });

    test('subjects with an injected token are rejected before they reach the bus', async () => {
      for (const bad of ['a.b', '*', '>', 'a b', '', 'x\n', 'é']) {
        assert.throws(
          () => subjects.status(bad, 'g', 's'),
          (e) => isHostfleetError(e, 'E_VALIDATION'),
          `site ${JSON.stringify(bad)}`,
        );
        assert.throws(
          () => subjects.status('site', bad, 's'),
          (e) => isHostfleetError(e, 'E_VALIDATION'),
          `group ${JSON.stringify(bad)}`,
        );
        assert.throws(
          () => subjects.nudge('site', bad),
          (e) => isHostfleetError(e, 'E_VALIDATION'),
          `server ${JSON.stringify(bad)}`,
        );
      }
      const x = p();
      for (const bad of [`${x}.*.c`, `${x}.>`, `${x}..b`, `${x}.a b`, '', `${x}.`, `${x}.b*`]) {
        await rejectsWith(
          pub.publish(bad, 1),
          (e) => isHostfleetError(e, 'E_VALIDATION'),
          `publish ${JSON.stringify(bad)}`,
        );
        await rejectsWith(
          pub.request(bad, 1, { timeoutMs: 100 }),
          (e) => isHostfleetError(e, 'E_VALIDATION'),
          `request ${JSON.stringify(bad)}`,
        );
        await rejectsWith(
          pub.durable.publish(bad, 1),
          (e) => isHostfleetError(e, 'E_VALIDATION'),
          `durable publish ${JSON.stringify(bad)}`,
        );
      }
      for (const bad of [`${x}.>.b`, `${x}..b`, `${x}.b*`, `${x}.a\tb`]) {
        await rejectsWith(
          sub.subscribe(bad, () => undefined),
          (e) => isHostfleetError(e, 'E_VALIDATION'),
          `subscribe ${JSON.stringify(bad)}`,
        );
      }
      await rejectsWith(
        sub.subscribe(`${x}.q`, () => undefined, { queue: 'a.b' }),
        (e) => isHostfleetError(e, 'E_VALIDATION'),
        'queue name',
      );
      await rejectsWith(
        pub.durable.ensureStream({ name: 'a.b', subjects: [`${x}.z`] }),
        (e) => isHostfleetError(e, 'E_VALIDATION'),
        'stream name',
      );
      await rejectsWith(
        pub.durable.consume('s', 'a*b', () => undefined),
        (e) => isHostfleetError(e, 'E_VALIDATION'),
        'durable name',
      );
    });

    test('the subject builders give the documented layout', async () => {
      const table: Array<{ name: string; got: string; want: string }> = [
        { name: 'status', got: subjects.status('lon1', 'acme', 'srv-07'), want: 'hf.lon1.status.acme.srv-07' },
        { name: 'statusAll', got: subjects.statusAll('lon1'), want: 'hf.lon1.status.>' },
        { name: 'statusOfGroup', got: subjects.statusOfGroup('lon1', 'acme'), want: 'hf.lon1.status.acme.*' },
        { name: 'request', got: subjects.request('lon1', 'acme', 'srv-07'), want: 'hf.lon1.request.acme.srv-07' },
        { name: 'priority', got: subjects.priority('lon1', 'acme'), want: 'hf.lon1.priority.acme' },
        { name: 'nudge', got: subjects.nudge('lon1', 'srv-07'), want: 'hf.lon1.nudge.srv-07' },
        { name: 'rpc', got: subjects.rpc('lon1', 'manager', 'register'), want: 'hf.lon1.rpc.manager.register' },
        { name: 'global', got: subjects.global('lon1', 'borrow'), want: 'hf-global.lon1.borrow' },
        { name: 'streams.requests', got: streams.requests('lon1').name, want: 'hf-lon1-requests' },
      ];
      for (const t of table) assert.equal(t.got, t.want, t.name);
      // A real round trip on built subjects, so the layout is one the bus accepts.
      const site = `s${run}${name.slice(0, 2)}`;
      const got: string[] = [];
      await sub.subscribe(subjects.statusOfGroup(site, 'acme'), (_d, m) => void got.push(m.subject));
      await pub.publish(subjects.status(site, 'acme', 'srv-1'), { load: 0.5 });
      await pub.publish(subjects.status(site, 'other', 'srv-2'), { load: 0.5 });
      await waitFor(() => got.length >= 1);
      await sleep(50);
      assert.deepEqual(got, [`hf.${site}.status.acme.srv-1`]);
    });

    test('a closed bus refuses calls with a closed failure', async () => {
      const c = await env.client();
      assert.equal(c.status(), 'connected');
      await c.waitConnected(1_000);
      const seen: string[] = [];
      c.onStatus((s) => seen.push(s));
      await c.close();
      assert.equal(c.status(), 'closed');
      assert.deepEqual(seen, ['closed']);
      await rejectsWith(c.waitConnected(100), (e) => busFailure(e) === 'closed', 'waitConnected after close');
      await c.close();
      await rejectsWith(c.publish('a.b', 1), (e) => busFailure(e) === 'closed', 'publish after close');
      await rejectsWith(
        c.request('a.b', 1, { timeoutMs: 100 }),
        (e) => busFailure(e) === 'closed',
        'request after close',
      );
    });
  });
}

describe('loopback bus: authentication, reconnect, bounded buffering', () => {
  const token = randomBytes(24).toString('hex');
  const x = `t${run}rc`;

  test('start-up checks: short token, non-loopback host, wrong token', async () => {
    await rejectsWith(startBusHub({ token: 'short' }), (e) => isHostfleetError(e, 'E_CONFIG'), 'short token');
    await rejectsWith(startBusHub({ token, host: '0.0.0.0' }), (e) => isHostfleetError(e, 'E_CONFIG'), 'non-loopback');
    const hub = await startBusHub({ token, onError: quiet });
    try {
      await rejectsWith(
        loopbackBus({ url: hub.url, token: `${token}x`, onError: quiet }),
        (e) => isHostfleetError(e, 'E_UNAUTHENTICATED'),
        'wrong token',
      );
      await rejectsWith(
        loopbackBus({ url: 'http://127.0.0.1:1', token }),
        (e) => isHostfleetError(e, 'E_CONFIG'),
        'bad url',
      );
      assert.equal(hub.connections(), 0);
    } finally {
      await hub.close();
    }
    await rejectsWith(
      loopbackBus({ url: hub.url, token, onError: quiet, connectTimeoutMs: 500 }),
      (e) => busFailure(e) === 'disconnected',
      'hub gone',
    );
  });

  test('a client reconnects after the hub restarts, resubscribes, and sends what it buffered', async () => {
    let hub = await startBusHub({ token, onError: quiet });
    const port = hub.port;
    const a: LoopbackBus = await loopbackBus({ url: hub.url, token, onError: quiet, reconnectMaxMs: 200 });
    let b: LoopbackBus | undefined;
    try {
      const got: string[] = [];
      await a.subscribe(`${x}.>`, (d) => void got.push(d as string));
      const statuses: string[] = [];
      a.onStatus((s) => statuses.push(s));
      await hub.close();
      await waitFor(() => a.status() === 'reconnecting', 5_000, 'client notices the hub is gone');
      await a.publish(`${x}.buffered`, 'buffered while down');
      hub = await startBusHub({ token, port, onError: quiet });
      await a.waitConnected(10_000);
      await waitFor(() => got.includes('buffered while down'), 5_000, 'buffered message');
      b = await loopbackBus({ url: hub.url, token, onError: quiet });
      await b.publish(`${x}.after`, 'after restart');
      await waitFor(() => got.includes('after restart'), 5_000, 'message after restart');
      assert.deepEqual(statuses, ['reconnecting', 'connected']);
      // The hub's own handle (the manager's) reaches the reconnected client too.
      await hub.bus.publish(`${x}.local`, 'from the hub');
      await waitFor(() => got.includes('from the hub'), 5_000, 'hub-local publish');
    } finally {
      await b?.close();
      await a.close();
      await hub.close();
    }
  });

  test('durable streams are re-declared after a hub restart, so consumers re-attach', async () => {
    let hub = await startBusHub({ token, onError: quiet });
    const port = hub.port;
    const a = await loopbackBus({ url: hub.url, token, onError: quiet, reconnectMaxMs: 200 });
    try {
      await a.durable.ensureStream({ name: `${x}-rs`, subjects: [`${x}.rs.>`] });
      const got: unknown[] = [];
      await a.durable.consume(`${x}-rs`, 'mgr', (d) => void got.push(d));
      await hub.close();
      hub = await startBusHub({ token, port, onError: quiet });
      await a.waitConnected(10_000);
      await a.flush();
      await hub.bus.durable.publish(`${x}.rs.1`, 'after restart');
      await waitFor(() => got.length === 1, 5_000, 'durable delivery after restart');
      assert.deepEqual(got, ['after restart']);
    } finally {
      await a.close();
      await hub.close();
    }
  });

  test('a client closed while reconnecting stays closed when the hub comes back', async () => {
    let hub = await startBusHub({ token, onError: quiet });
    const port = hub.port;
    const a = await loopbackBus({ url: hub.url, token, onError: quiet, reconnectMinMs: 20, reconnectMaxMs: 20 });
    await hub.close();
    await waitFor(() => a.status() === 'reconnecting', 5_000, 'disconnect');
    await a.close();
    hub = await startBusHub({ token, port, onError: quiet });
    try {
      await sleep(300);
      assert.equal(a.status(), 'closed');
      assert.equal(hub.connections(), 0);
    } finally {
      await hub.close();
    }
  });

  test('the hub refuses peers that do not speak the protocol and keeps serving the others', async () => {
    const hub = await startBusHub({ token, onError: quiet, helloTimeoutMs: 300 });
    /** talk sends raw bytes and returns everything the hub says until it closes (bounded). */
    const talk = (bytes: string | Buffer, ms = 3_000): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tcpConnect(hub.port, '127.0.0.1');
        let out = '';
        const t = setTimeout(() => {
          s.destroy();
          reject(new Error(`hub kept the connection open ${ms} ms; said: ${out}`));
        }, ms);
        s.on('data', (c) => (out += c.toString()));
        s.on('error', () => undefined);
        s.on('close', () => {
          clearTimeout(t);
          resolve(out);
        });
        s.on('connect', () => s.write(bytes));
      });
    try {
      const c = await loopbackBus({ url: hub.url, token, onError: quiet });
      try {
        assert.match(await talk('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /"op":"err"/, 'HTTP is refused');
        assert.match(await talk(Buffer.alloc(5_000, 'a')), /protocol error/, 'an oversized first frame is refused');
        assert.match(
          await talk(`${JSON.stringify({ op: 'hello', v: 99, token })}\n`),
          /E_CONFIG/,
          'another protocol version is refused',
        );
        assert.match(
          await talk(`${JSON.stringify({ op: 'sub', sid: 1, subject: '>' })}\n`),
          /first frame must be hello/,
          'no subscribing before hello',
        );
        assert.match(await talk(''), /no hello within 300 ms/, 'silence is cut off');
        assert.ok(hub.stats().refused >= 5, JSON.stringify(hub.stats()));
        // The well-behaved client was not disturbed.
        const got: unknown[] = [];
        await c.subscribe(`${x}.ok`, (d) => void got.push(d));
        await hub.bus.publish(`${x}.ok`, 1);
        await waitFor(() => got.length === 1, 5_000, 'delivery to the good client');
        assert.equal(hub.connections(), 1);
      } finally {
        await c.close();
      }
    } finally {
      await hub.close();
    }
  });

  test('a client drops a connection whose hub stops answering, and dials again', async () => {
    // A fake hub that welcomes and then never answers again (a hung process).
    let accepted = 0;
    const conns = new Set<Socket>();
    const fake = createServer((s) => {
      accepted++;
      conns.add(s);
      s.once('data', () => s.write(`${JSON.stringify({ op: 'welcome', v: 1, server: 'hung' })}\n`));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const port = (fake.address() as { port: number }).port;
    const a = await loopbackBus({
      url: `hfbus://127.0.0.1:${port}`,
      token,
      onError: quiet,
      pingIntervalMs: 50,
      maxPingsOut: 2,
      reconnectMinMs: 20,
    });
    try {
      await waitFor(() => accepted >= 2, 5_000, 'a second connection after the stale one');
    } finally {
      await a.close();
      for (const s of conns) s.destroy();
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });

  test('buffering while disconnected is bounded', async () => {
    const hub = await startBusHub({ token, onError: quiet });
    const a = await loopbackBus({
      url: hub.url,
      token,
      onError: quiet,
      maxBufferBytes: 2_000,
      reconnectMinMs: 1_000,
      reconnectMaxMs: 1_000,
    });
    try {
      await hub.close();
      await waitFor(() => a.status() === 'reconnecting', 5_000, 'disconnect');
      const blob = 'x'.repeat(600);
      await a.publish(`${x}.o`, blob);
      await a.publish(`${x}.o`, blob);
      await a.publish(`${x}.o`, blob);
      await rejectsWith(a.publish(`${x}.o`, blob), (e) => busFailure(e) === 'overflow', 'overflow');
      await rejectsWith(
        a.request(`${x}.o`, blob, { timeoutMs: 100 }),
        (e) => busFailure(e) === 'overflow',
        'request overflow',
      );
      await rejectsWith(a.waitConnected(50), (e) => busFailure(e) === 'disconnected', 'waitConnected times out');
    } finally {
      await a.close();
    }
  });
});

test('openBus picks the implementation from the URL and refuses unknown ones at start-up', async () => {
  const token = randomBytes(24).toString('hex');
  const hub = await startBusHub({ token, onError: quiet });
  const opened: Bus[] = [];
  try {
    const table: Array<{ url: string; kind: string }> = [
      { url: 'memory:', kind: 'memory' },
      { url: hub.url, kind: 'loopback' },
      { url: ` ${NATS_URL} `, kind: 'nats' },
      { url: `${NATS_URL},${NATS_URL}`, kind: 'nats' },
    ];
    for (const t of table) {
      const b = await openBus({ url: t.url, token, onError: quiet });
      opened.push(b);
      assert.equal(b.kind, t.kind, t.url);
      assert.equal(b.status(), 'connected', t.url);
    }
    for (const url of ['', 'http://127.0.0.1:4222', 'memory', 'nats:4222', `${NATS_URL},http://x`]) {
      await rejectsWith(openBus({ url, token }), (e) => isHostfleetError(e, 'E_CONFIG'), `url ${JSON.stringify(url)}`);
    }
    await rejectsWith(openBus({ url: hub.url }), (e) => isHostfleetError(e, 'E_CONFIG'), 'hub without a token');
  } finally {
    for (const b of opened) await b.close();
    await hub.close();
  }
});
