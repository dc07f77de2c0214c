import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_FIS,
  DEFAULT_PREDICTOR_CONFIG,
  DEFAULT_PROBE_SPECS,
  DEFAULT_THRESHOLDS,
  INITIAL_DECIDE_STATE,
  addSample,
  compileFis,
  createAggregator,
  createPredictor,
  createStepMemo,
  decisionStep,
  observeRates,
} from '../../../../src/core/agent/index.js';
import type { DecideState, DecisionOutput, StepMemo } from '../../../../src/core/agent/index.js';

const fis = compileFis(DEFAULT_FIS);
const cfg = { ...DEFAULT_PREDICTOR_CONFIG, seasonSeconds: 3600, hw: { ...DEFAULT_PREDICTOR_CONFIG.hw, smooth: 1 } };

interface Tick {
  /** observe: a new predictor step with this rate, or null for none this tick. */
  readonly observe: number | null;
  /** rt: a response-time sample, or null for none. */
  readonly rt: number | null;
  readonly servers: number;
  readonly priority: number;
}

/** runBoth drives two identical agents, one with a memo and one without, and returns both outputs per tick. */
function runBoth(ticks: readonly Tick[], memo: StepMemo = createStepMemo()): [DecisionOutput[], DecisionOutput[]] {
  const mk = () => ({
    agg: createAggregator(DEFAULT_PROBE_SPECS),
    pred: createPredictor(cfg),
    state: INITIAL_DECIDE_STATE as DecideState,
  });
  const plain = mk();
  const cached = mk();
  const a: DecisionOutput[] = [];
  const b: DecisionOutput[] = [];
  for (const t of ticks) {
    for (const g of [plain, cached]) {
      if (t.observe !== null) observeRates(g.pred, [t.observe]);
      if (t.rt !== null) addSample(g.agg, 'dynamic_rt_ms', t.rt);
    }
    const x = decisionStep({
      fis,
      aggregator: plain.agg,
      predictor: plain.pred,
      priority: t.priority,
      servers: t.servers,
      state: plain.state,
      thresholds: DEFAULT_THRESHOLDS,
    });
    const y = decisionStep({
      fis,
      aggregator: cached.agg,
      predictor: cached.pred,
      priority: t.priority,
      servers: t.servers,
      state: cached.state,
      thresholds: DEFAULT_THRESHOLDS,
      memo,
    });
    plain.state = x.state;
    cached.state = y.state;
    a.push(x);
    b.push(y);
  }
  return [a, b];
}

test('decisionStep with a memo gives the outputs of the step without one, tick by tick', () => {
  const tick = fc.record({
    observe: fc.option(fc.double({ min: 0, max: 2000, noNaN: true }), { nil: null }),
    rt: fc.option(fc.oneof(fc.constant(55), fc.double({ min: 40, max: 3000, noNaN: true })), { nil: null }),
    servers: fc.constantFrom(1, 2, 4, 8, 16, 40),
    priority: fc.constantFrom(0.2, 0.5, 0.9),
  });
  fc.assert(
    fc.property(fc.array(tick, { minLength: 1, maxLength: 80 }), (ticks) => {
      const [a, b] = runBoth(ticks);
      assert.deepEqual(b, a);
    }),
    { numRuns: 200 },
  );
});

test('decisionStep with a memo reuses the predictions while nothing they depend on changed, and recomputes when it did', () => {
  const base: Tick = { observe: null, rt: 60, servers: 8, priority: 0.5 };
  const ticks: Tick[] = [
    { ...base, observe: 300 },
    base, // nothing new for the predictor: same predictions object
    { ...base, servers: 16 }, // another server count
    { ...base, servers: 16, observe: 900 }, // a new observation
    { ...base, servers: 16, rt: 5000 }, // a measured overload raises the FIS's response input
  ];
  const [a, b] = runBoth(ticks);
  assert.deepEqual(b, a);
  assert.equal(b[1]!.predictions, b[0]!.predictions);
  assert.equal(b[1]!.need, b[0]!.need);
  assert.notEqual(b[2]!.predictions, b[1]!.predictions);
  assert.notEqual(b[3]!.predictions, b[2]!.predictions);
  assert.equal(b[4]!.predictions, b[3]!.predictions);
  assert.notEqual(b[4]!.need, b[3]!.need);
  assert.ok(b[4]!.need.need > b[3]!.need.need, 'the measured overload counts');
});

test('responseCdfWith given Erlang C is responseCdf, bit for bit', async () => {
  const { erlangC, responseCdf, responseCdfWith } = await import('../../../../src/core/agent/index.js');
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 400 }),
      fc.double({ min: 0, max: 1.2, noNaN: true }),
      fc.double({ min: 0.001, max: 2, noNaN: true }),
      (c, rho, t) => {
        const mu = 20;
        const lambda = rho * c * mu;
        assert.equal(responseCdfWith(t, lambda, mu, c, erlangC(c, lambda / mu)), responseCdf(t, lambda, mu, c));
      },
    ),
  );
});

test('aggregate: an empty window gives the same reading every tick, and a sample replaces it', async () => {
  const { aggregate } = await import('../../../../src/core/agent/index.js');
  const agg = createAggregator(DEFAULT_PROBE_SPECS);
  const a = aggregate(agg);
  const b = aggregate(agg);
  assert.deepEqual(b, a);
  assert.equal(b[0], a[0], 'shared, not rebuilt');
  assert.ok(Object.isFrozen(a[0]));
  addSample(agg, 'static_rt_ms', 10);
  const c = aggregate(agg);
  assert.equal(c[0]!.samples, 1);
  assert.notEqual(c[0], a[0]);
  assert.equal(a[0]!.samples, 0, 'the shared empty reading is not changed');
});
