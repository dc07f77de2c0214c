import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  buildScenario,
  rampRate,
  runShapedLoad,
  spikeRate,
  traceRate,
} from '../../../../src/emulators/load/scenario.js';
import { tracesDir } from '../../../../src/cli/load.js';

const shapes = [
  { name: 'ramp starts at base', f: rampRate(10, 4, 1000), t: 0, want: 10 },
  { name: 'ramp halfway', f: rampRate(10, 4, 1000), t: 500, want: 25 },
  { name: 'ramp holds at the top', f: rampRate(10, 4, 1000), t: 5000, want: 40 },
  { name: 'spike before', f: spikeRate(10, 4, 1000), t: 100, want: 10 },
  { name: 'spike during', f: spikeRate(10, 4, 1000), t: 300, want: 40 },
  { name: 'spike after', f: spikeRate(10, 4, 1000), t: 800, want: 10 },
  {
    name: 'trace peak scaled to base × factor',
    f: traceRate(Float64Array.from([1, 2, 4, 2]), 21_600, 10, 4, 1000, 0),
    t: 500,
    want: 40,
  },
  {
    name: 'trace shifted by a quarter day',
    f: traceRate(Float64Array.from([1, 2, 4, 2]), 21_600, 10, 4, 1000, 6),
    t: 250,
    want: 40,
  },
];
for (const c of shapes)
  test(`rate shape: ${c.name}`, () => assert.ok(Math.abs(c.f(c.t) - c.want) < 1e-9, `${c.f(c.t)} ≠ ${c.want}`));

test('the diurnal scenario replays the Wikipedia trace: each customer peaks at its own time', async () => {
  const s = await buildScenario(
    'diurnal',
    {
      customers: [
        { group: 'a', domain: 'a.test' },
        { group: 'b', domain: 'b.test' },
      ],
      baseRps: 10,
      durationMs: 24_000,
      factor: 4,
    },
    tracesDir(),
  );
  const peakAt = (i: number) => {
    let best = 0;
    let at = 0;
    for (let t = 0; t < 24_000; t += 250) {
      const v = s.targets[i]?.rate(t) ?? 0;
      if (v > best) [best, at] = [v, t];
    }
    return { best, at };
  };
  const a = peakAt(0);
  const b = peakAt(1);
  assert.ok(Math.abs(a.best - 40) < 1 && Math.abs(b.best - 40) < 1, `peaks ${a.best}, ${b.best}`);
  assert.notEqual(a.at, b.at);
});

test('the failure scenario injects power-offs at 30 % and 60 %', async () => {
  const s = await buildScenario(
    'failure',
    {
      customers: [
        { group: 'a', domain: 'a.test' },
        { group: 'b', domain: 'b.test' },
      ],
      baseRps: 5,
      durationMs: 10_000,
    },
    tracesDir(),
  );
  assert.deepEqual(
    s.injections.map((i) => [i.atMs, i.group]),
    [
      [3000, 'a'],
      [6000, 'b'],
    ],
  );
});

test('runShapedLoad follows the rate: a step from 20 to 100 requests/s', async () => {
  const seen: number[] = [];
  const t0 = Date.now();
  const srv = createServer((_req, res) => {
    seen.push(Date.now() - t0);
    res.end('ok');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    const stats = await runShapedLoad({
      edgeUrl: `http://127.0.0.1:${port}`,
      targets: [{ domain: 'x.test', paths: ['/'], rate: (t) => (t < 1000 ? 20 : 100) }],
      durationMs: 2000,
      signal: new AbortController().signal,
    });
    assert.equal(stats.failed, 0);
    const first = seen.filter((t) => t < 1000).length;
    const second = seen.filter((t) => t >= 1000).length;
    assert.ok(first >= 15 && first <= 25, `first second: ${first}`);
    assert.ok(second >= 80 && second <= 110, `second second: ${second}`);
  } finally {
    await new Promise((r) => srv.close(r));
  }
});
