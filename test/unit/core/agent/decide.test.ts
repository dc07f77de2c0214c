import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_THRESHOLDS,
  INITIAL_DECIDE_STATE,
  checkThresholds,
  decideRequest,
} from '../../../../src/core/agent/index.js';
import type { DecideState, Request, Thresholds } from '../../../../src/core/agent/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const T: Thresholds = { add: 0.3, addHold: 0.15, release: -0.3, releaseHold: -0.15, confirm: 3, cooldown: 4 };

function run(needs: number[], t: Thresholds = T): Request[] {
  let s: DecideState = INITIAL_DECIDE_STATE;
  return needs.map((n) => {
    const r = decideRequest(n, s, t);
    s = r.state;
    return r.request;
  });
}

test('hysteresis: confirm ticks, hold band, reset, cooldown', () => {
  const cases: { name: string; needs: number[]; want: string }[] = [
    { name: 'three ticks past add ask once', needs: [0.4, 0.4, 0.4], want: '--a' },
    { name: 'a dip into the hold band keeps the count', needs: [0.4, 0.2, 0.4, 0.4], want: '---a' },
    { name: 'a dip below the hold band resets it', needs: [0.4, 0.1, 0.4, 0.4], want: '----' },
    { name: 'hold band alone never asks', needs: [0.2, 0.2, 0.2, 0.2, 0.2], want: '-----' },
    { name: 'release mirrors add', needs: [-0.5, -0.2, -0.5, -0.9], want: '---r' },
    { name: 'a swing from add to release restarts the count', needs: [0.4, 0.4, -0.4, -0.4, -0.4], want: '----r' },
    {
      name: 'cooldown after a request, then ask again',
      needs: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
      want: '--a----a',
    },
    { name: 'NaN resets', needs: [0.4, 0.4, Number.NaN, 0.4, 0.4], want: '-----' },
  ];
  for (const c of cases) {
    const got = run(c.needs)
      .map((r) => (r === 'add' ? 'a' : r === 'release' ? 'r' : '-'))
      .join('');
    assert.equal(got, c.want, c.name);
  }
});

test('a need that hovers at a threshold never asks more than once per cooldown (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { maxLength: 200 }), (needs) => {
      const got = run(needs, DEFAULT_THRESHOLDS);
      let last = -Infinity;
      got.forEach((r, i) => {
        if (r === 'none') return;
        assert.ok(i - last > DEFAULT_THRESHOLDS.cooldown, `requests at ${last} and ${i}`);
        assert.ok(
          r === 'add'
            ? (needs[i] as number) >= DEFAULT_THRESHOLDS.addHold
            : (needs[i] as number) <= DEFAULT_THRESHOLDS.releaseHold,
        );
        last = i;
      });
    }),
  );
});

test('thresholds are validated', () => {
  assert.equal(checkThresholds(DEFAULT_THRESHOLDS), DEFAULT_THRESHOLDS);
  const cases = [
    { t: { ...T, addHold: 0.3 }, field: 'thresholds.add' },
    { t: { ...T, addHold: -0.1 }, field: 'thresholds.addHold' },
    { t: { ...T, release: -0.1 }, field: 'thresholds.release' },
    { t: { ...T, confirm: 0 }, field: 'thresholds.confirm' },
    { t: { ...T, cooldown: 1.5 }, field: 'thresholds.cooldown' },
  ];
  for (const c of cases)
    assert.throws(
      () => checkThresholds(c.t),
      (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && (e.fields ?? []).some((f) => f.field === c.field),
      c.field,
    );
});

test('decisionStep: a group whose load outgrows it asks for a server, and an idle one offers one back', async () => {
  const {
    DEFAULT_FIS,
    DEFAULT_PREDICTOR_CONFIG,
    DEFAULT_PROBE_SPECS,
    addSample,
    compileFis,
    createAggregator,
    createPredictor,
    decisionStep,
    observeRates,
  } = await import('../../../../src/core/agent/index.js');
  const fis = compileFis(DEFAULT_FIS);
  const cfg = { ...DEFAULT_PREDICTOR_CONFIG, seasonSeconds: 3600, hw: { ...DEFAULT_PREDICTOR_CONFIG.hw, smooth: 1 } };
  const run = (rate: number, servers: number, rt: number, priority: number): Request[] => {
    const aggregator = createAggregator(DEFAULT_PROBE_SPECS);
    const predictor = createPredictor(cfg);
    let state: DecideState = INITIAL_DECIDE_STATE;
    const out: Request[] = [];
    for (let t = 0; t < 12; t++) {
      observeRates(predictor, [rate]);
      addSample(aggregator, 'dynamic_rt_ms', rt);
      const r = decisionStep({ fis, aggregator, predictor, priority, servers, state, thresholds: T });
      state = r.state;
      out.push(r.request);
    }
    return out;
  };
  assert.deepEqual(run(700, 4, 900, 0.9).slice(0, 4), ['none', 'none', 'add', 'none'], '700 req/s on 4 × 160 req/s');
  assert.ok(run(40, 8, 55, 0.1).includes('release'), '40 req/s on 8 servers');
  assert.ok(!run(300, 4, 120, 0.5).includes('add'), '300 req/s on 4 servers is fine');
});
