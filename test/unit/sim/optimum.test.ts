import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Fleet } from '../../../src/sim/fleet.js';
import { clairvoyantActive, coldHoldings, coldTicks, warmHoldings } from '../../../src/sim/optimum.js';
import { Rng } from '../../../src/sim/rng.js';
import { runScenario } from '../../../src/sim/run.js';
import { loadScenario } from '../../../src/sim/scenario.js';
import type { ServerModel } from '../../../src/sim/scenario.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const sum = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0);

/** costOf counts an active profile's powered ticks as the fleet would: joins boot `join` ticks before, releases leave for `release`. */
function costOf(a: readonly number[], join: number, release: number): number {
  let cost = sum(a);
  for (let t = 1; t < a.length; t++) {
    const d = (a[t] as number) - (a[t - 1] as number);
    if (d > 0) cost += d * join;
    else cost += -d * Math.min(release, a.length - t);
  }
  return cost;
}

/** bruteForce is the cheapest feasible active profile's cost, trying every profile between the need and its peak. */
function bruteForce(need: readonly number[], join: number, release: number): number {
  const peak = Math.max(...need);
  let best = Infinity;
  const a = need.slice();
  const walk = (t: number): void => {
    if (t === need.length) {
      best = Math.min(best, costOf(a, join, release));
      return;
    }
    for (let v = need[t] as number; v <= peak; v++) {
      // a server that serves at t < join had to be placed before tick 0: no rise is possible before then
      if (t > 0 && t < join && v > (a[t - 1] as number)) continue;
      a[t] = v;
      walk(t + 1);
    }
  };
  walk(0);
  return best;
}

test('optimum-cold on a hand-built demand: bridges short gaps, joins a cold boot ahead, counts releases', () => {
  const need = [1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 0, 1, 1, 0, 0, 0];
  // join 3 ticks, release 1: the 6-tick gap is released and joined again (4 < 6), the 1-tick gap bridged
  const h = coldHoldings(need, 3, 1);
  assert.deepEqual(Array.from(h.active), [1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(h.held), [1, 1, 0, 0, 0, 2, 2, 2, 2, 2, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(h.powered), [1, 1, 1, 0, 0, 2, 2, 2, 2, 2, 2, 1, 1, 1, 0, 0]);
  assert.equal(sum(h.powered), 18);
  assert.equal(h.joins, 2);
  assert.equal(h.releases, 3);
  // the warm optimum (lead 1, free releases) holds 11 server-ticks of the same demand
  assert.equal(sum(warmHoldings(need, 1).powered), 11);
  // a gap of join + release ticks is bridged: keeping costs what leaving and coming back costs
  assert.deepEqual(Array.from(clairvoyantActive([2, 0, 0, 0, 0, 2, 0], 3, 1)), [2, 2, 2, 2, 2, 2, 0]);
  assert.deepEqual(Array.from(clairvoyantActive([2, 0, 0, 0, 0, 0, 2], 3, 1)), [2, 0, 0, 0, 0, 0, 2]);
  // what is needed before a cold join can arrive is placed at tick 0
  assert.deepEqual(Array.from(clairvoyantActive([0, 0, 3, 0, 0, 0, 0], 3, 1)), [3, 3, 3, 0, 0, 0, 0]);
});

test('optimum-cold is the cheapest active profile above the need (brute force)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 2 }),
      (need, join, release) => {
        const h = coldHoldings(need, join, release);
        const a = Array.from(h.active);
        a.forEach((v, t) => assert.ok(v >= (need[t] as number), `never violates at ${t}`));
        for (let t = 1; t < join && t < a.length; t++)
          assert.ok((a[t] as number) <= (a[t - 1] as number), 'no rise before a join can land');
        assert.equal(sum(h.powered), costOf(a, join, release), 'powered counts the profile as the fleet would');
        assert.equal(sum(h.powered), bruteForce(need, join, release));
      },
    ),
    { numRuns: 300 },
  );
});

test('optimum-cold never holds less than the warm optimum; with a warm lead and free releases it is the warm optimum', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 3 }),
      (need, lead, more, release) => {
        const warm = warmHoldings(need, lead);
        assert.deepEqual(Array.from(coldHoldings(need, lead, 0).powered), Array.from(warm.held));
        const cold = coldHoldings(need, lead + more, release);
        cold.held.forEach((v, t) => assert.ok(v >= (warm.held[t] as number), `held at ${t}`));
        assert.ok(sum(cold.powered) >= sum(warm.powered));
      },
    ),
    { numRuns: 300 },
  );
});

test("optimum-cold's schedule played on the simulator's fleet powers exactly the servers it counts", async () => {
  // the default server model (quick.yaml sets only its failures), without failures
  const s = await loadScenario(join(root, 'scenarios/quick.yaml'));
  const model: ServerModel = { ...s.server, mtbfHours: 0 };
  const { join: joinTicks, release } = coldTicks({ server: model, tickSeconds: 60 });
  assert.deepEqual([joinTicks, release], [3, 1], '140 s and 15 s in 1-minute ticks');
  const need = [2, 1, 0, 0, 0, 0, 0, 0, 4, 4, 1, 0, 2, 3, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0];
  const h = coldHoldings(need, joinTicks, release);
  const fleet = new Fleet(model, [20], [0], need.length, 60, new Rng(1));
  for (let k = 0; k < (h.active[0] as number); k++) fleet.placeActive(0, 0);
  const hit: number[] = [];
  for (let t = 0; t < need.length; t++) {
    fleet.advance(t, hit);
    const at = t + joinTicks;
    const rise = at < need.length ? (h.active[at] as number) - (h.active[at - 1] as number) : 0;
    for (let k = 0; k < rise; k++) assert.ok(fleet.join(fleet.coldServers(0)[0] as number, 0, t));
    const fall = t > 0 ? (h.active[t - 1] as number) - (h.active[t] as number) : 0;
    for (let k = 0; k < fall; k++) assert.ok(fleet.release(fleet.activeServers(0)[0] as number, t));
    assert.equal(fleet.active[0], h.active[t], `active at ${t}`);
    assert.equal(fleet.powered(), h.powered[t], `powered at ${t}`);
    assert.equal(fleet.held(0), h.held[t], `held at ${t}`);
  }
});

test('on quick.yaml the cold bound is at least the warm one, and neither violates', async () => {
  const s = await loadScenario(join(root, 'scenarios/quick.yaml'));
  const r = await runScenario(s, { policies: ['optimum', 'optimum-cold'], billing: false });
  const [warm, cold] = r.policies;
  assert.ok(warm && cold);
  assert.equal(warm.violationMinutes, 0);
  assert.equal(cold.violationMinutes, 0);
  assert.ok(cold.serverHours >= warm.serverHours, `${cold.serverHours} < ${warm.serverHours}`);
  cold.customers.forEach((c, i) => assert.ok(c.serverHours >= (warm.customers[i]?.serverHours ?? Infinity), c.id));
  assert.ok(cold.releases > 0 && cold.moves > 0);
});
