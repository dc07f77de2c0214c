// `npm run bench -- move [moves=20]`: moves one server back and forth between two customers
// while steady traffic goes to both, and reports how long each move took from the request to
// serving in the new group (the move's end: attached at the edge, healthy) and whether any
// customer request failed meanwhile.
import { startTestSite } from '../test/support/site.js';
import { percentile, runSteadyLoad } from '../src/emulators/load/steady.js';
import type { MoveRecord } from '../src/core/model/records.js';

const moves = Number(process.argv[2] ?? 20);
if (!Number.isInteger(moves) || moves < 1 || moves > 1000) {
  console.error('usage: npm run bench -- move [moves, 1–1000]');
  process.exit(2);
}

const site = await startTestSite({ machines: 3 });
try {
  await site.customer('alpha', ['alpha.test'], { minSize: 1 });
  await site.customer('bravo', ['bravo.test'], { minSize: 1 });
  await site.registerAll();
  for (const [s, g] of [
    ['srv-01', 'alpha-web'],
    ['srv-02', 'bravo-web'],
    ['srv-03', 'alpha-web'],
  ] as const) {
    const m = await site.moveAndWait(s, g);
    if (m.status !== 'done') throw new Error(`setup move of ${s} failed: ${JSON.stringify(m.error)}`);
  }
  const abort = new AbortController();
  const load = runSteadyLoad({
    edgeUrl: site.edge.url,
    signal: abort.signal,
    targets: [
      { domain: 'alpha.test', ratePerSec: 50, paths: ['/', '/app/a'] },
      { domain: 'bravo.test', ratePerSec: 50, paths: ['/', '/app/b'] },
    ],
  });
  await new Promise((r) => setTimeout(r, 1000));
  const times: number[] = [];
  const failedMoves: MoveRecord[] = [];
  for (let i = 0; i < moves; i++) {
    const to = i % 2 === 0 ? 'bravo-web' : 'alpha-web';
    const t0 = performance.now();
    const m = await site.moveAndWait('srv-03', to);
    times.push(performance.now() - t0);
    if (m.status !== 'done') failedMoves.push(m);
    process.stderr.write(`move ${i + 1}/${moves} → ${to}: ${(performance.now() - t0).toFixed(0)} ms ${m.status}\n`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 500));
  abort.abort();
  const stats = await load;
  console.log(
    JSON.stringify({
      bench: 'move',
      moves,
      p50_ms: Math.round(percentile(times, 50)),
      p95_ms: Math.round(percentile(times, 95)),
      max_ms: Math.round(Math.max(...times)),
      failed_moves: failedMoves.length,
      requests: stats.sent,
      failed_requests: stats.failed,
    }),
  );
} finally {
  await site.stop();
}
