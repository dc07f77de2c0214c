// The embedded site's bus across real OS processes: the test process hosts the hub as the
// manager does, and starts agents as child processes (this same file, in agent mode). Agents
// send status and durable add/release requests, answer a nudge request, and follow a priority
// push; one agent is killed with SIGKILL and its unacked work goes to another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loopbackBus, startBusHub, streams, subjects } from '../../src/drivers/bus/index.js';

const SITE = 'lab1';
const GROUP = 'acme';

async function agentMain(): Promise<void> {
  const server = process.env.HF_SERVER as string;
  const bus = await loopbackBus({
    url: process.env.HF_BUS_URL as string,
    token: process.env.HF_BUS_TOKEN as string,
    name: server,
  });
  let priority = 0;
  await bus.subscribe(subjects.priority(SITE, GROUP), (d) => {
    priority = (d as { priority: number }).priority;
  });
  await bus.reply(subjects.nudge(SITE, server), () => ({ server, pid: process.pid, priority }));
  // The agents also work a shared durable queue, so a killed agent's messages must move on.
  await bus.durable.consume(
    streams.events(SITE).name,
    'workers',
    async (d) => {
      const job = d as { job: number };
      if (server === 'srv-0') await new Promise(() => undefined); // a broken agent: hangs on its work until killed
      await bus.publish(subjects.event(SITE, 'done', server), { job: job.job, server });
    },
    { ackWaitMs: 30_000, filterSubject: subjects.eventOfTopic(SITE, 'job') },
  );
  await bus.durable.publish(subjects.request(SITE, GROUP, server), { server, need: 'add' }, { msgId: `${server}-1` });
  const tick = setInterval(
    () =>
      void bus
        .publish(subjects.status(SITE, GROUP, server), { server, pid: process.pid, priority })
        .catch(() => undefined),
    20,
  );
  // Bounded: an agent never outlives its test, even if the parent dies without killing it.
  const life = setTimeout(() => process.exit(3), 60_000);
  process.on('SIGTERM', () => {
    clearInterval(tick);
    clearTimeout(life);
    void bus.close().then(() => process.exit(0));
  });
  process.send?.('ready');
}

if (process.env.HF_BUS_CHILD === '1') {
  await agentMain();
} else {
  test('agents in separate processes reach the manager over the loopback hub', async () => {
    const token = randomBytes(24).toString('hex');
    const hub = await startBusHub({ token, onError: () => undefined });
    const manager = hub.bus;
    const children: ChildProcess[] = [];
    try {
      await manager.durable.ensureStream(streams.requests(SITE));
      await manager.durable.ensureStream(streams.events(SITE));
      const requests: Array<{ server: string }> = [];
      await manager.durable.consume(
        streams.requests(SITE).name,
        'manager',
        (d) => void requests.push(d as { server: string }),
      );
      const status = new Map<string, { pid: number; priority: number }>();
      await manager.subscribe(subjects.statusAll(SITE), (d) => {
        const s = d as { server: string; pid: number; priority: number };
        status.set(s.server, s);
      });
      const done: Array<{ job: number; server: string }> = [];
      await manager.subscribe(
        subjects.eventOfTopic(SITE, 'done'),
        (d) => void done.push(d as { job: number; server: string }),
      );

      const env: NodeJS.ProcessEnv = { ...process.env, HF_BUS_CHILD: '1', HF_BUS_URL: hub.url, HF_BUS_TOKEN: token };
      delete env.NODE_TEST_CONTEXT; // the child is an agent, not a test runner's worker
      const file = fileURLToPath(import.meta.url);
      for (let i = 0; i < 3; i++) {
        const child = spawn(process.execPath, ['--import', 'tsx', file], {
          env: { ...env, HF_SERVER: `srv-${i}` },
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        });
        children.push(child);
      }
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve, reject) => {
              const t = setTimeout(() => reject(new Error('agent did not start within 30 s')), 30_000);
              c.once('message', () => {
                clearTimeout(t);
                resolve();
              });
              c.once('exit', (code) => reject(new Error(`agent exited early with ${code}`)));
            }),
        ),
      );
      assert.equal(hub.connections(), 3);

      await waitFor(() => status.size === 3 && requests.length === 3, 'status and requests from three agents');
      const pids = new Set([...status.values()].map((s) => s.pid));
      assert.equal(pids.size, 3, 'three processes');
      assert.ok(!pids.has(process.pid), 'none of them is the manager');
      assert.deepEqual(requests.map((r) => r.server).sort(), ['srv-0', 'srv-1', 'srv-2']);

      await manager.publish(subjects.priority(SITE, GROUP), { priority: 7 });
      const answer = (await manager.request(subjects.nudge(SITE, 'srv-1'), {}, { timeoutMs: 5_000 })) as {
        server: string;
        priority: number;
        pid: number;
      };
      assert.equal(answer.server, 'srv-1');
      assert.equal(answer.priority, 7, 'the priority push reached the agent before the nudge');
      await waitFor(() => [...status.values()].every((s) => s.priority === 7), 'statuses reflect the pushed priority');

      // Shared durable work: srv-0 hangs on whatever it is given and is killed; everything it
      // held must then be done by the live agents.
      for (let job = 0; job < 9; job++) await manager.durable.publish(subjects.event(SITE, 'job', `j${job}`), { job });
      await waitFor(() => done.some((d) => d.server !== 'srv-0'), 'live agents work the queue');
      await new Promise((r) => setTimeout(r, 300));
      const before = new Set(done.map((d) => d.job)).size;
      assert.ok(before < 9, `the hung agent holds some jobs (${before} of 9 done)`);
      children[0]?.kill('SIGKILL');
      await waitFor(() => hub.connections() === 2, 'the hub notices the killed agent');
      await waitFor(() => new Set(done.map((d) => d.job)).size === 9, 'all nine jobs done');
      assert.ok(done.every((d) => d.server !== 'srv-0'));
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(
        children.map((c) =>
          c.exitCode !== null || c.signalCode !== null
            ? undefined
            : new Promise<void>((r) => {
                const t = setTimeout(() => {
                  c.kill('SIGKILL');
                  r();
                }, 5_000);
                c.once('exit', () => {
                  clearTimeout(t);
                  r();
                });
              }),
        ),
      );
      await hub.close();
    }
  });
}

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
