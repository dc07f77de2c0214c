// The failed-login throttle: failures per key in fixed windows, success forgets, memory bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureThrottle } from '../../../../src/services/manager/throttle.js';

test('a key is blocked at the limit until its window ends, then counts afresh', () => {
  const t = new FailureThrottle(1000);
  for (let i = 0; i < 3; i++) {
    assert.equal(t.blockedFor('k', 3, 100), 0);
    t.fail('k', 100 + i);
  }
  assert.equal(t.blockedFor('k', 3, 500), 600);
  assert.equal(t.blockedFor('k', 4, 500), 0, 'a higher limit is not reached');
  assert.equal(t.blockedFor('other', 3, 500), 0);
  assert.equal(t.blockedFor('k', 3, 1100), 0, 'the window has ended');
  t.fail('k', 1100);
  assert.equal(t.blockedFor('k', 1, 1200), 900, 'a new window starts at the first failure after the last');
});

test('forget clears a key; the map never holds more than maxKeys keys', () => {
  const t = new FailureThrottle(1000, 3);
  t.fail('a', 0);
  t.forget('a');
  assert.equal(t.blockedFor('a', 1, 1), 0);
  for (const k of ['a', 'b', 'c', 'd', 'e']) t.fail(k, 10);
  const held = ['a', 'b', 'c', 'd', 'e'].filter((k) => t.blockedFor(k, 1, 20) > 0);
  assert.deepEqual(held, ['c', 'd', 'e'], 'the oldest live keys go first');
  t.fail('f', 2000);
  assert.deepEqual(
    ['c', 'd', 'e', 'f'].filter((k) => t.blockedFor(k, 1, 2001) > 0),
    ['f'],
    'expired keys are swept before any live one is dropped',
  );
});
