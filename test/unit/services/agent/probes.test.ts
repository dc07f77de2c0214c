// The agent's probes: /proc parsing (hand-written and this very process), CPU from two
// samples, the workload's stats turned into one tick's samples and load, and a real runtime's
// /_runtime/stats read over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import {
  cpuPercent,
  fetchWorkloadStats,
  measure,
  parseMemTotal,
  parseProcStat,
  parseWorkloadStats,
  readMemTotal,
  readProcSample,
} from '../../../../src/services/agent/probes.js';
import type { Observation, WorkloadStats } from '../../../../src/services/agent/probes.js';
import { startRuntime } from '../../../../src/emulators/server/runtime.js';
import type { Personality } from '../../../../src/core/model/personality.js';

test('parseProcStat reads utime+stime and rss after the last parenthesis, whatever the command name holds', () => {
  // Fields 3…: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal start vsize rss
  const rest = 'S 1 2 3 0 -1 4194560 100 0 0 0 250 50 7 8 20 0 11 0 12345 1000000 300';
  const cases = [
    { name: 'plain', text: `42 (node) ${rest}`, want: { cpuTicks: 300, rssBytes: 300 * 4096 } },
    { name: 'spaces and parens', text: `42 (my (evil) name) ${rest}`, want: { cpuTicks: 300, rssBytes: 300 * 4096 } },
    { name: 'no parenthesis', text: 'garbage', want: null },
    { name: 'too short', text: '42 (x) S 1 2', want: null },
  ];
  for (const c of cases) assert.deepEqual(parseProcStat(c.text), c.want, c.name);
});

test('parseMemTotal reads MemTotal in bytes', () => {
  assert.equal(parseMemTotal('MemTotal:       16318460 kB\nMemFree:  1 kB\n'), 16318460 * 1024);
  assert.equal(parseMemTotal('MemFree: 1 kB\n'), null);
});

test('readProcSample reads this process from /proc; CPU grows with work; a missing pid reads null', async () => {
  const a = await readProcSample(process.pid);
  assert.ok(a !== null && a.rssBytes > 1_000_000, JSON.stringify(a));
  const t0 = performance.now();
  let x = 0;
  while (performance.now() - t0 < 150) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const b = await readProcSample(process.pid);
  assert.ok(b !== null && b.cpuTicks > a.cpuTicks, `cpu ticks ${a.cpuTicks} → ${b?.cpuTicks}`);
  assert.equal(await readProcSample(2 ** 22 + 12345), null);
  assert.ok(((await readMemTotal()) ?? 0) > a.rssBytes);
});

test('cpuPercent is ticks over elapsed time', () => {
  const cases = [
    { prev: 100, cur: 150, dtMs: 1000, want: 50 },
    { prev: 100, cur: 300, dtMs: 1000, want: 200 },
    { prev: 100, cur: 100, dtMs: 500, want: 0 },
    { prev: 100, cur: 90, dtMs: 1000, want: null },
    { prev: 100, cur: 150, dtMs: 0, want: null },
  ];
  for (const c of cases)
    assert.equal(
      cpuPercent({ cpuTicks: c.prev, rssBytes: 0 }, { cpuTicks: c.cur, rssBytes: 0 }, c.dtMs),
      c.want,
      JSON.stringify(c),
    );
});

function stats(
  over: Partial<WorkloadStats> & { app?: number; static?: number; appP95?: number; appCount?: number },
): WorkloadStats {
  return {
    pid: over.pid ?? 7,
    requests: { app: over.app ?? 0, static: over.static ?? 0 },
    errors: over.errors ?? 0,
    inFlight: over.inFlight ?? 0,
    queued: over.queued ?? 0,
    concurrency: over.concurrency ?? 2,
    serviceTimeMs: over.serviceTimeMs ?? 50,
    responseTimeMs: {
      app: { count: over.appCount ?? 0, mean: 0, p95: over.appP95 ?? 0 },
      static: { count: 0, mean: 0, p95: 0 },
    },
  };
}

test('measure turns two observations into rates, samples and load', () => {
  const prev: Observation = {
    atMs: 1000,
    stats: stats({ app: 100, static: 10, errors: 1 }),
    proc: { cpuTicks: 10, rssBytes: 0 },
    memTotalBytes: 1000,
  };
  const cur: Observation = {
    atMs: 3000,
    stats: stats({ app: 160, static: 30, errors: 5, queued: 6, inFlight: 8, appCount: 40, appP95: 180 }),
    proc: { cpuTicks: 110, rssBytes: 250 },
    memTotalBytes: 1000,
  };
  const m = measure(prev, cur);
  assert.equal(m.load.dynamicRps, 30);
  assert.equal(m.load.staticRps, 10);
  assert.equal(m.load.rps, 40);
  assert.equal(m.load.p95Ms, 180);
  assert.deepEqual(m.rates, [30, 10]);
  assert.equal(m.samples.dynamic_rt_ms, 180);
  assert.ok(Number.isNaN(m.samples.static_rt_ms), 'no static requests: no sample');
  assert.equal(m.samples.queue_wait_ms, 150, '6 queued × 50 ms / 2 workers');
  assert.equal(m.samples.cpu_pct, 50, '100 ticks over 2 s');
  assert.equal(m.samples.mem_pct, 25);
  assert.equal(m.samples.error_rate, 4 / 80);
  assert.equal(m.healthy, true);
});

test('measure without a previous reading, after a workload restart, or without stats gives no rates', () => {
  const cur: Observation = { atMs: 2000, stats: stats({ app: 5 }), proc: null, memTotalBytes: null };
  const first = measure(null, cur);
  assert.ok(
    Number.isNaN(first.rates[0]) && Number.isNaN(first.samples.error_rate) && Number.isNaN(first.samples.cpu_pct),
  );
  const restarted = measure({ atMs: 1000, stats: stats({ pid: 6, app: 500 }), proc: null, memTotalBytes: null }, cur);
  assert.ok(Number.isNaN(restarted.rates[0]), 'counters of another process are not differenced');
  const down = measure(
    { atMs: 1000, stats: stats({}), proc: null, memTotalBytes: null },
    { atMs: 2000, stats: null, proc: null, memTotalBytes: null },
  );
  assert.equal(down.healthy, false);
  assert.ok(Number.isNaN(down.samples.queue_wait_ms));
  assert.equal(down.load.p95Ms, null);
});

test('parseWorkloadStats refuses what is not a stats body', () => {
  assert.equal(parseWorkloadStats(null), null);
  assert.equal(parseWorkloadStats({ pid: 1 }), null);
  assert.equal(parseWorkloadStats({ ...stats({}), requests: { app: 'x', static: 0 } }), null);
  assert.ok(parseWorkloadStats(stats({})) !== null);
});

test('fetchWorkloadStats reads a real runtime, counts its requests, and gives null when nothing answers', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hf-agent-probe-'));
  const p: Personality = {
    kind: 'hostfleet.personality/v1',
    machine: 'u-1',
    server: 'srv-x',
    account: { id: 'a', name: 'A' },
    group: { id: 'a-web', name: 'a-web', role: 'front-end' },
    image: 'hostfleet/demo-runtime',
    runtime: { serviceTimeMs: 5, concurrency: 2, maxQueue: 10 },
    volume: { id: 'a' },
    uid: 1,
    gid: 1,
    config: {},
  };
  const rt = await startRuntime({ personality: p, listen: '127.0.0.1:0', volume: null, scratch });
  try {
    const before = await fetchWorkloadStats(rt.url, 2000);
    assert.ok(before !== null);
    for (let i = 0; i < 5; i++) await (await request(`${rt.url}/app/x`)).body.dump();
    const after = await fetchWorkloadStats(rt.url, 2000);
    assert.ok(after !== null);
    assert.equal(after.requests.app - before.requests.app, 5);
    assert.equal(after.responseTimeMs.app.count, 5);
    assert.ok(after.responseTimeMs.app.p95 >= 5);
  } finally {
    await rt.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  assert.equal(await fetchWorkloadStats(rt.url, 300), null);
});
