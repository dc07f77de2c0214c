// The agent's configuration, its tick loop over a real memory bus against a real runtime, the
// manager's status board, and the message parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { request } from 'undici';
import { HostfleetError } from '../../../../src/core/errors.js';
import type { Personality } from '../../../../src/core/model/personality.js';
import {
  MESSAGE_VERSION,
  parseAgentRequest,
  parseAgentStatus,
  parsePriorityPush,
} from '../../../../src/core/agent/messages.js';
import type { AgentStatus } from '../../../../src/core/agent/messages.js';
import { memoryBus, subjects } from '../../../../src/drivers/bus/index.js';
import { systemClock } from '../../../../src/drivers/clock/index.js';
import { startAgent } from '../../../../src/services/agent/agent.js';
import { baseProbeSpecs, checkAgentSection, workloadPersonality } from '../../../../src/services/agent/config.js';
import { startRuntime } from '../../../../src/emulators/server/runtime.js';
import { AgentStatusBoard } from '../../../../src/services/manager/components/agent-status-board.js';

const base: Personality = {
  kind: 'hostfleet.personality/v1',
  machine: 'u-1',
  server: 'srv-01',
  account: { id: 'a', name: 'A' },
  group: { id: 'a-web', name: 'a-web', role: 'front-end' },
  image: 'hostfleet/demo-runtime',
  runtime: { serviceTimeMs: 20, concurrency: 2, maxQueue: 50 },
  volume: { id: 'a' },
  uid: 1,
  gid: 1,
  config: {},
  agent: {
    busUrl: 'hfbus://127.0.0.1:1',
    busToken: 'secret-token-0123456789',
    site: 's1',
    group: 'a-web',
    server: 'srv-01',
    priority: 0.5,
    responseTargetMs: 200,
    rules: 'default',
  },
};

test('checkAgentSection derives bounds from the SLA target and refuses bad sections, naming fields and never the token', () => {
  const s = checkAgentSection(base);
  assert.equal(s.tickMs, 1000);
  assert.equal(s.specs.dynamic_rt_ms.min, 20);
  assert.equal(s.specs.dynamic_rt_ms.max, 200);
  assert.equal(s.specs.queue_wait_ms.max, 180);
  assert.equal(s.predictor.requestTypes[0]?.serviceRate, 50);
  const over = checkAgentSection({ ...base, agent: { ...base.agent!, probes: { cpu_pct: { max: 70 } } } });
  assert.equal(over.specs.cpu_pct.max, 70);
  const bad: [string, Record<string, unknown>][] = [
    ['agent.busUrl', { busUrl: 'http://x' }],
    ['agent.group', { group: 'other' }],
    ['agent.server', { server: 'a.b' }],
    ['agent.priority', { priority: 2 }],
    ['agent.rules', { rules: 'nope' }],
    ['agent.tickMs', { tickMs: 5 }],
    ['agent.probes.dynamic_rt_ms.window', { probes: { dynamic_rt_ms: { window: 0 } } }],
  ];
  for (const [field, patch] of bad) {
    assert.throws(
      () => checkAgentSection({ ...base, agent: { ...base.agent!, ...patch } as Personality['agent'] }),
      (e: unknown) => {
        assert.ok(e instanceof HostfleetError && e.code === 'E_VALIDATION', String(e));
        assert.ok(
          (e.fields ?? []).some((f) => f.field === field),
          `${field}: ${JSON.stringify(e.fields)}`,
        );
        assert.ok(!e.message.includes('secret-token'), 'the token is not echoed');
        return true;
      },
    );
  }
  assert.deepEqual(Object.keys(baseProbeSpecs({ serviceTimeMs: 0, concurrency: 1, maxQueue: 0 }, 100)).length, 6);
});

test('workloadPersonality drops the agent section and nothing else', () => {
  const w = workloadPersonality(base);
  assert.equal('agent' in w, false);
  assert.ok(!JSON.stringify(w).includes('secret-token'));
  const { agent: _a, ...rest } = base;
  assert.deepEqual(w, rest);
});

test('an agent ticks against a real runtime: status on its subject, the decider decides, a peer with a lower id takes over', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hf-agent-loop-'));
  const bus = memoryBus();
  const rt = await startRuntime({ personality: base, listen: '127.0.0.1:0', volume: null, scratch });
  const seen: AgentStatus[] = [];
  await bus.subscribe(subjects.status('s1', 'a-web', 'srv-01'), (d) => {
    const s = parseAgentStatus(d);
    if (s) seen.push(s);
  });
  let t = 1000;
  const agent = await startAgent({
    bus,
    settings: checkAgentSection(base),
    statsUrl: rt.url,
    workloadPid: process.pid,
    autoTick: false,
    mono: () => t,
    clock: { ...systemClock, now: () => new Date(1_700_000_000_000 + t) },
  });
  try {
    const s1 = await agent.tick();
    assert.equal(s1.decider, true);
    assert.equal(s1.decision, null, 'no rates yet: nothing to decide on');
    for (let i = 0; i < 10; i++) await (await request(`${rt.url}/app/x`)).body.dump();
    t += 1000;
    const s2 = await agent.tick();
    assert.equal(s2.load.dynamicRps, 10);
    assert.ok(
      s2.decision !== null && s2.decision.servers === 1 && s2.decision.arrivalRps === 10,
      JSON.stringify(s2.decision),
    );
    assert.ok(s2.measurements.dynamic_rt_ms.samples === 1 && s2.measurements.dynamic_rt_ms.b !== null);
    assert.ok(s2.load.cpuPct !== null && s2.load.rssBytes !== null);
    await bus.flush();
    assert.deepEqual(
      seen.map((s) => s.seq),
      [1, 2],
    );
    // A peer with a lower id: it decides now, and its rate joins the group's.
    const peer: AgentStatus = {
      ...s2,
      server: 'srv-00',
      seq: 1,
      boot: 'peer',
      decider: true,
      load: { ...s2.load, dynamicRps: 5, staticRps: 0 },
    };
    await bus.publish(subjects.status('s1', 'a-web', 'srv-00'), peer);
    await bus.flush();
    t += 1000;
    const s3 = await agent.tick();
    assert.equal(s3.decider, false);
    assert.equal(s3.decision, null);
    // A priority push changes the input the agent steers by.
    await bus.publish(subjects.priority('s1', 'a-web'), {
      v: MESSAGE_VERSION,
      group: 'a-web',
      priority: 0.9,
      responseTargetMs: 150,
      committed: 1,
      burst: 2,
      extended: 2,
      at: 1,
    });
    await bus.flush();
    t += 5000; // the peer falls silent: more than three of its ticks
    const s4 = await agent.tick();
    assert.equal(s4.priority, 0.9);
    assert.equal(s4.responseTargetMs, 150);
    assert.equal(s4.decider, true, 'the silent peer no longer counts');
  } finally {
    await agent.close();
    await rt.close();
    await bus.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});

function status(server: string, at: number, seq: number, group = 'g'): AgentStatus {
  const m = { mean: null, b: null, raw: null, samples: 0 };
  return {
    v: MESSAGE_VERSION,
    site: 's',
    group,
    server,
    at,
    boot: 'b',
    seq,
    tickMs: 1000,
    priority: 0.5,
    responseTargetMs: 200,
    healthy: true,
    load: {
      rps: seq,
      staticRps: 0,
      dynamicRps: seq,
      p95Ms: null,
      inFlight: 0,
      queued: 0,
      errorRate: 0,
      cpuPct: null,
      rssBytes: null,
    },
    measurements: { static_rt_ms: m, dynamic_rt_ms: m, queue_wait_ms: m, cpu_pct: m, mem_pct: m, error_rate: m },
    decider: true,
    decision: null,
  };
}

test('the status board keeps the latest, a bounded history in time and points, and a bounded number of servers', () => {
  const b = new AgentStatusBoard({ points: 5, historyMs: 10_000, servers: 3 });
  for (let i = 1; i <= 8; i++) assert.equal(b.record(status('a', i * 1000, i), i * 1000), true);
  assert.equal(b.record(status('a', 3000, 3), 9000), false, 'an old status does not replace the latest');
  assert.equal(b.latest('a', 8000)?.status.seq, 8);
  assert.deepEqual(
    b.history('a', 8000).map((p) => p.rps),
    [4, 5, 6, 7, 8],
  );
  assert.deepEqual(
    b.history('a', 15_500).map((p) => p.rps),
    [6, 7, 8],
    'points older than the window go',
  );
  assert.equal(b.latest('a', 12_000)?.stale, true);
  b.record(status('a', 9000, 9, 'h'), 9000);
  assert.deepEqual(
    b.history('a', 9000, 'h').map((p) => p.rps),
    [9],
    "a customer sees only its group's points",
  );
  for (const s of ['b', 'c', 'd']) b.record(status(s, 9000, 1), 9000);
  assert.equal(b.size, 3);
  assert.equal(b.latest('a', 9000), null, 'the server heard from longest ago is dropped first');
  b.sweep(30_000);
  assert.equal(b.size, 0);
});

test('history never exceeds its bound (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 60 }),
      (points, gaps) => {
        const b = new AgentStatusBoard({ points, historyMs: 1e9, servers: 10 });
        let at = 0;
        gaps.forEach((g, i) => {
          at += g + 1;
          b.record(status('x', at, i + 1), at);
        });
        const h = b.history('x', at);
        return (
          h.length === Math.min(points, gaps.length) &&
          h.every((p, i) => i === 0 || p.at > (h[i - 1] as { at: number }).at)
        );
      },
    ),
  );
});

test('the parsers refuse messages that are not of their shape', () => {
  const s = status('srv-1', 1, 1);
  assert.ok(parseAgentStatus(s));
  assert.equal(parseAgentStatus({ ...s, v: 2 }), null);
  assert.equal(parseAgentStatus({ ...s, server: 'a.b' }), null);
  assert.equal(parseAgentStatus({ ...s, load: { ...s.load, rps: 'x' } }), null);
  const r = {
    v: 1,
    kind: 'add',
    site: 's',
    group: 'g',
    server: 'x',
    need: 0.5,
    urgency: 0.2,
    predictedResponseMs: null,
    targetMs: 200,
    servers: 1,
    priority: 0.5,
    at: 1,
    id: 'x-b-1',
  };
  assert.ok(parseAgentRequest(r));
  for (const patch of [{ kind: 'steal' }, { need: 2 }, { urgency: -1 }, { id: '' }, { at: Number.NaN }])
    assert.equal(parseAgentRequest({ ...r, ...patch }), null, JSON.stringify(patch));
  assert.ok(
    parsePriorityPush({
      v: 1,
      group: 'g',
      priority: 1,
      responseTargetMs: 1,
      committed: 1,
      burst: 1,
      extended: 1,
      at: 0,
    }),
  );
  assert.equal(
    parsePriorityPush({
      v: 1,
      group: 'g',
      priority: 1.5,
      responseTargetMs: 1,
      committed: 1,
      burst: 1,
      extended: 1,
      at: 0,
    }),
    null,
  );
});

test("hostfleet status shows each server's load, p95 and the decider's need", async () => {
  const { renderStatus } = await import('../../../../src/cli/status.js');
  const srv = (id: string, agent: unknown) => ({
    id,
    state: 'active',
    place: 'group',
    groupId: 'g',
    moveId: null,
    address: 'x',
    agent,
  });
  const out = renderStatus({
    site: 's',
    pool: [],
    failed: [],
    moves: [],
    groups: [
      {
        id: 'g',
        accountId: 'a',
        role: 'front-end',
        minSize: 0,
        maxSize: 2,
        domains: ['g.test'],
        servers: [
          srv('srv-01', { rps: 37.4, p95Ms: 181.6, need: 0.63, decider: true, stale: false, healthy: true }),
          srv('srv-02', { rps: 2.25, p95Ms: null, need: null, decider: false, stale: true, healthy: true }),
          srv('srv-03', null),
        ],
      },
    ],
  } as Parameters<typeof renderStatus>[0]);
  for (const want of ['req/s', '37', '182 ms', '+0.63', '2.3 ?', '·'])
    assert.ok(out.includes(want), `${want} in\n${out}`);
});
