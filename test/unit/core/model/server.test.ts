import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SERVER_STATES,
  TRANSITIONS,
  assertTransition,
  canTransition,
  placeOf,
} from '../../../../src/core/model/server.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

test('illegal transitions are rejected with E_ILLEGAL_TRANSITION naming the allowed states', () => {
  const cases = [
    { name: 'off straight to active', from: 'off', to: 'active', ok: false },
    { name: 'active to booting without a move', from: 'active', to: 'booting', ok: false },
    { name: 'pool-cold into a move', from: 'pool-cold', to: 'moving', ok: true },
    { name: 'drain then move', from: 'draining', to: 'moving', ok: true },
    { name: 'any state may fail', from: 'booting', to: 'failed', ok: true },
  ] as const;
  for (const c of cases) {
    assert.equal(canTransition(c.from, c.to), c.ok, c.name);
    if (!c.ok) {
      assert.throws(
        () => assertTransition('s1', c.from, c.to),
        (e: unknown) => isHostfleetError(e, 'E_ILLEGAL_TRANSITION') && e.message.includes(c.from),
        c.name,
      );
    }
  }
});

test('every state can reach failed, and failed can reach the pool', () => {
  for (const s of SERVER_STATES) if (s !== 'failed') assert.ok(TRANSITIONS[s].includes('failed'), s);
  assert.ok(canTransition('failed', 'pool-cold'));
});

test('a server is in exactly one place', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SERVER_STATES),
      fc.option(fc.constant('g1')),
      fc.option(fc.constant('m1')),
      (state, groupId, moveId) => {
        const p = placeOf({ state, groupId, moveId });
        assert.ok(['group', 'pool', 'moving', 'failed'].includes(p));
        if (moveId !== null) assert.equal(p, 'moving');
      },
    ),
  );
});
