import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictQueue } from '../../../../src/core/agent/index.js';
import { capacityTable, serversNeeded, tableFor } from '../../../../src/core/decision/index.js';

const spec = { serviceMs: 50, workers: 8, targetMs: 200, percentile: 0.95 };

// The same question answered straight from the queueing model: the fewest servers whose
// M/M/(servers × workers) queue keeps P(response > target) within 5 %.
function slow(lambda: number, upTo: number): number {
  const types = [{ name: 'dynamic', serviceRate: 1000 / spec.serviceMs, targetMs: spec.targetMs }];
  for (let n = 1; n <= upTo; n++)
    if ((predictQueue(types, [lambda], n * spec.workers)[0]?.pMiss ?? 1) <= 0.05) return n;
  return upTo + 1;
}

test("the capacity table agrees with the agent's M/M/c model", () => {
  const t = capacityTable(spec, 40);
  for (const lambda of [0.5, 10, 150, 333, 800, 1500, 2500])
    assert.equal(Math.min(serversNeeded(t, lambda), 41), slow(lambda, 40), `λ=${lambda}`);
});

test('tableFor memoises per spec and grows to the size asked', () => {
  const a = tableFor(spec, 10);
  assert.ok(a.lamMax.length > 10);
  assert.equal(tableFor(spec, 5), a);
  const b = tableFor(spec, 500);
  assert.ok(b.lamMax.length > 500);
  assert.equal(serversNeeded(b, 1500), serversNeeded(a, 1500));
});
