import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { responseCdf } from '../../../src/core/agent/index.js';
import { capacityTable, serversNeeded, violates } from '../../../src/sim/capacity.js';

const spec = { serviceMs: 50, workers: 8, targetMs: 200, percentile: 0.95 };
const table = capacityTable(spec, 40);

test('λmax[c] is the largest rate at which c servers meet the p95 target', () => {
  for (let c = 1; c <= 40; c++) {
    const l = table.lamMax[c] as number;
    assert.ok(responseCdf(0.2, l, 20, c * 8) >= 0.95 - 1e-9, `c=${c} meets at λmax`);
    assert.ok(responseCdf(0.2, l * 1.001, 20, c * 8) < 0.95, `c=${c} misses just above λmax`);
    assert.ok(l > (table.lamMax[c - 1] as number), 'more servers carry more');
  }
});

test('serversNeeded is the smallest count that does not violate', () => {
  fc.assert(
    fc.property(fc.double({ min: 0.01, max: 5000, noNaN: true }), (lambda) => {
      const n = serversNeeded(table, lambda);
      assert.equal(violates(table, lambda, n), false);
      if (n > 1) assert.equal(violates(table, lambda, n - 1), true);
    }),
  );
});

test('no demand never violates, even with no servers', () => {
  assert.equal(violates(table, 0, 0), false);
  assert.equal(violates(table, 1, 0), true);
  assert.equal(serversNeeded(table, 0), 0);
});
