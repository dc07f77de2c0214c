import assert from 'node:assert/strict';
import { test } from 'node:test';
import { levelFor, MAX_LEVEL, minutePrice } from '../../../../src/core/decision/index.js';

test('a dearer minute, or a higher priority, asks for a higher level', () => {
  const levels = [0.1, 0.5, 2, 8, 32].map((v) => levelFor({ violationCost: v }, 0.5));
  for (let k = 1; k < levels.length; k++) assert.ok((levels[k] as number) > (levels[k - 1] as number), `${levels}`);
  assert.ok(levelFor({ violationCost: 2 }, 0.9) > levelFor({ violationCost: 2 }, 0.1));
});

test('the level is the critical fractile v / (v + 1/60), capped', () => {
  // At priority 0.5 the price is the stated one: two server-hours against 1/60 of one.
  assert.equal(minutePrice({ violationCost: 2 }, 0.5), 2);
  assert.ok(Math.abs(levelFor({ violationCost: 2 }, 0.5) - 2 / (2 + 1 / 60)) < 1e-12);
  assert.equal(levelFor({ violationCost: 1e9 }, 1), MAX_LEVEL);
});
