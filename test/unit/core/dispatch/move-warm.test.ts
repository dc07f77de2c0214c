// The warm pool's workflows as pure steps: a warm-up boots a cold pool server and leaves it warm
// in the pool, a warm join attaches without a boot, a cool-down switches a warm server off; every
// step is a legal lifecycle transition, and a failure before the reset rolls back legally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MOVE_KINDS,
  firstStep,
  moveKindFor,
  nextStep,
  onStepFailure,
  positionAfter,
  rollbackPosition,
  stepsFor,
} from '../../../../src/core/dispatch/move.js';
import type { MoveKind, ServerPosition } from '../../../../src/core/dispatch/move.js';
import { canTransition, placeOf } from '../../../../src/core/model/server.js';

interface Case {
  readonly name: string;
  readonly kind: MoveKind;
  readonly from: string | null;
  readonly to: string | null;
  readonly start: ServerPosition;
  readonly want: readonly string[];
  readonly end: ServerPosition;
}

const CASES: readonly Case[] = [
  {
    name: 'warm-up',
    kind: 'warm-up',
    from: null,
    to: null,
    start: { state: 'pool-cold', groupId: null },
    want: ['set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy', 'done'],
    end: { state: 'pool-warm', groupId: null },
  },
  {
    name: 'warm join',
    kind: 'warm-join',
    from: null,
    to: 'b',
    start: { state: 'pool-warm', groupId: null },
    want: ['wait-healthy', 'attach', 'done'],
    end: { state: 'active', groupId: 'b' },
  },
  {
    name: 'cool-down',
    kind: 'cool-down',
    from: null,
    to: null,
    start: { state: 'pool-warm', groupId: null },
    want: ['power-off', 'switch-volume', 'done'],
    end: { state: 'pool-cold', groupId: null },
  },
  {
    name: 'warm server taken for another group',
    kind: 'move',
    from: null,
    to: 'c',
    start: { state: 'pool-warm', groupId: null },
    want: ['set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy', 'attach', 'done'],
    end: { state: 'active', groupId: 'c' },
  },
];

test('the steps of each warm workflow, each a legal transition, ending where the workflow promises', () => {
  for (const c of CASES) {
    assert.deepEqual(stepsFor(c.from, c.to, c.kind), c.want, c.name);
    assert.equal(firstStep(c.from, c.to, c.kind), c.want[0], c.name);
    let pos = c.start;
    for (const step of stepsFor(c.from, c.to, c.kind)) {
      assert.equal(
        nextStep(c.from, c.to, step, c.kind),
        c.want[Math.min(c.want.indexOf(step) + 1, c.want.length - 1)],
        `${c.name}: after ${step}`,
      );
      const next = positionAfter(step, c.from, c.to, pos, c.kind);
      assert.ok(canTransition(pos.state, next.state), `${c.name} ${step}: ${pos.state} → ${next.state}`);
      // With its move id set the server is 'moving' throughout; a warm server never counts as a group member.
      if (c.kind !== 'move' && c.kind !== 'warm-join')
        assert.notEqual(placeOf({ ...next, moveId: null }), 'group', `${c.name} ${step}`);
      pos = next;
    }
    assert.deepEqual(pos, c.end, c.name);
  }
});

test('a warm join skips the boot; a warm-up and a cool-down never attach or drain', () => {
  const join = stepsFor(null, 'b', 'warm-join');
  for (const s of ['set-boot-pointer', 'switch-volume', 'reset'] as const) assert.ok(!join.includes(s), s);
  for (const kind of ['warm-up', 'cool-down'] as const) {
    for (const s of ['attach', 'drain', 'detach'] as const)
      assert.ok(!stepsFor(null, null, kind).includes(s), `${kind} ${s}`);
  }
  assert.throws(() => nextStep(null, 'b', 'reset', 'warm-join'), /not part of a warm-join/);
});

test('a move is a warm join only for a pool-warm server warm for the target group', () => {
  const cases = [
    { state: 'pool-warm', warmFor: 'b', to: 'b', want: 'warm-join' },
    { state: 'pool-warm', warmFor: 'b', to: 'c', want: 'move' },
    { state: 'pool-warm', warmFor: null, to: 'b', want: 'move' },
    { state: 'pool-warm', warmFor: 'b', to: null, want: 'move' },
    { state: 'pool-cold', warmFor: 'b', to: 'b', want: 'move' },
    { state: 'active', warmFor: null, to: 'b', want: 'move' },
  ] as const;
  for (const c of cases) assert.equal(moveKindFor(c.state, c.warmFor, c.to), c.want, JSON.stringify(c));
});

test('any failure of a warm workflow ends legally: a retry, a rollback to a legal place, or a failed server', () => {
  fc.assert(
    fc.property(fc.constantFrom(...MOVE_KINDS), fc.nat(6), fc.integer({ min: 1, max: 5 }), (kind, at, attempts) => {
      const from = null;
      const to = kind === 'warm-up' || kind === 'cool-down' ? null : 'b';
      const steps = stepsFor(from, to, kind).filter((s) => s !== 'done');
      const i = at % steps.length;
      let pos: ServerPosition = {
        state: kind === 'warm-join' || kind === 'cool-down' ? 'pool-warm' : 'pool-cold',
        groupId: null,
      };
      for (const s of steps.slice(0, i)) pos = positionAfter(s, from, to, pos, kind);
      const step = steps[i];
      if (step === undefined) return;
      const action = onStepFailure(step, attempts, { maxAttempts: 3, retryBaseMs: 10 });
      if (action.kind === 'rollback')
        assert.ok(canTransition(pos.state, rollbackPosition(from).state), `${kind} ${step}: ${pos.state} → rollback`);
      if (action.kind === 'fail') assert.ok(canTransition(pos.state, 'failed'));
    }),
  );
});
