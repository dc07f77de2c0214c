import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MOVE_STEPS,
  firstStep,
  nextStep,
  onStepFailure,
  positionAfter,
  rollbackPosition,
  stepsFor,
} from '../../../../src/core/dispatch/move.js';
import { canTransition } from '../../../../src/core/model/server.js';
import type { ServerState } from '../../../../src/core/model/server.js';

test('the steps of each kind of move', () => {
  const cases = [
    {
      name: 'group to group',
      from: 'a',
      to: 'b',
      want: ['drain', 'detach', 'set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy', 'attach', 'done'],
    },
    {
      name: 'pool to group',
      from: null,
      to: 'b',
      want: ['set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy', 'attach', 'done'],
    },
    { name: 'group to pool', from: 'a', to: null, want: ['drain', 'detach', 'switch-volume', 'power-off', 'done'] },
  ];
  for (const c of cases) {
    assert.deepEqual(stepsFor(c.from, c.to), c.want, c.name);
    assert.equal(firstStep(c.from, c.to), c.want[0], c.name);
    assert.equal(nextStep(c.from, c.to, 'done'), 'done', c.name);
  }
  assert.throws(() => nextStep(null, 'b', 'drain'), /not part of a move/);
});

test('every step leaves the server in a state its lifecycle allows, from where it started', () => {
  const start = (from: string | null): ServerState => (from === null ? 'pool-cold' : 'active');
  fc.assert(
    fc.property(fc.option(fc.constant('a')), fc.option(fc.constant('b')), (from, to) => {
      fc.pre(from !== to);
      let pos: { state: ServerState; groupId: string | null } = { state: start(from), groupId: from };
      for (const step of stepsFor(from, to)) {
        const next = positionAfter(step, from, to, pos);
        assert.ok(canTransition(pos.state, next.state), `${step}: ${pos.state} → ${next.state}`);
        pos = next;
      }
      assert.deepEqual(pos, to === null ? { state: 'pool-cold', groupId: null } : { state: 'active', groupId: to });
    }),
  );
});

test('a failure retries with doubling delays, then rolls back before the reset and fails after it', () => {
  const policy = { maxAttempts: 3, retryBaseMs: 100 };
  assert.deepEqual(onStepFailure('drain', 1, policy), { kind: 'retry', delayMs: 100 });
  assert.deepEqual(onStepFailure('drain', 2, policy), { kind: 'retry', delayMs: 200 });
  for (const step of MOVE_STEPS) {
    if (step === 'done') continue;
    const want = ['reset', 'wait-healthy', 'attach', 'power-off'].includes(step) ? 'fail' : 'rollback';
    assert.equal(onStepFailure(step, 3, policy).kind, want, step);
  }
  // Rolling back from any step before the reset is a legal transition back to where it was.
  for (const from of ['a', null]) {
    for (const step of stepsFor(from, 'b')) {
      if (step === 'reset') break;
      const pos = positionAfter(step, from, 'b', { state: from === null ? 'pool-cold' : 'active', groupId: from });
      assert.ok(canTransition(pos.state, rollbackPosition(from).state), `${String(from)} ${step}`);
    }
  }
});
