import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Fleet, moveSeconds } from '../../../src/sim/fleet.js';
import { Rng } from '../../../src/sim/rng.js';
import type { ServerModel } from '../../../src/sim/scenario.js';

const model: ServerModel = {
  serviceMs: 50,
  workers: 8,
  coldBootS: 120,
  warmBootS: 15,
  resetS: 20,
  drainS: 10,
  powerOffS: 5,
  mtbfHours: 0.5,
  mttrHours: 0.2,
};

test('move durations come from the move state machine steps', () => {
  const cases = [
    { name: 'pool to group (cold)', from: null, to: 'g', warm: false, want: 20 + 120 },
    { name: 'pool to group (warm, same personality)', from: null, to: 'g', warm: true, want: 15 },
    { name: 'group to group', from: 'a', to: 'b', warm: false, want: 10 + 20 + 120 },
    { name: 'group to pool', from: 'a', to: null, warm: false, want: 10 + 5 },
  ];
  for (const c of cases) assert.equal(moveSeconds(model, c.from, c.to, c.warm), c.want, c.name);
});

test('conservation: random operations never create or lose a server', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('join'), s: fc.nat(59), c: fc.nat(4) }),
    fc.record({ kind: fc.constant('release'), s: fc.nat(59), c: fc.nat(4) }),
    fc.record({ kind: fc.constant('warm'), s: fc.nat(59), c: fc.nat(4) }),
    fc.record({ kind: fc.constant('cool'), s: fc.nat(59), c: fc.nat(4) }),
    fc.record({ kind: fc.constant('fail'), s: fc.nat(59), c: fc.nat(4) }),
    fc.record({ kind: fc.constant('tick'), s: fc.nat(59), c: fc.nat(4) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), fc.nat(1000), (ops, seed) => {
      const ticks = 400;
      const f = new Fleet(model, [30, 30], [0, 0, 1, 1, 0], ticks, 60, new Rng(seed));
      for (let c = 0; c < 5; c++) f.placeActive(c, 0);
      let t = 0;
      const hit: number[] = [];
      for (const o of ops) {
        if (o.kind === 'join') f.join(o.s, o.c, t);
        else if (o.kind === 'release') f.release(o.s, t);
        else if (o.kind === 'warm') f.warmServer(o.s, o.c, t);
        else if (o.kind === 'cool') f.cool(o.s);
        else if (o.kind === 'fail') f.fail(o.s, t);
        else if (t < ticks - 1) f.advance(++t, hit);
        assert.deepEqual(f.check(), []);
        const counts = f.counts();
        assert.equal(
          Object.values(counts).reduce((a, b) => a + b, 0),
          60,
        );
      }
    }),
    { numRuns: 150 },
  );
});

test('a join becomes active after its delay; a release returns to the cold pool', () => {
  const f = new Fleet({ ...model, mtbfHours: 0 }, [4], [0], 100, 60, new Rng(1));
  const s = f.coldServers(0)[0] as number;
  assert.equal(f.join(s, 0, 0), true);
  const hit: number[] = [];
  for (let t = 1; t < 3; t++) {
    f.advance(t, hit);
    assert.equal(f.active[0], 0, `still booting at tick ${t}`);
  }
  f.advance(3, hit); // 140 s → 3 one-minute ticks
  assert.equal(f.active[0], 1);
  assert.equal(f.release(s, 3), true);
  assert.equal(f.poolCold(0), 3);
  f.advance(4, hit);
  assert.equal(f.poolCold(0), 4);
  assert.deepEqual(f.check(), []);
});
