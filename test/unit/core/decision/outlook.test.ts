import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_OUTLOOK, lookAhead, newOutlook, observe, upperLog } from '../../../../src/core/decision/index.js';

const MIN = 60_000;

// A small deterministic generator, so the figures below are exact on every run.
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** feed runs a group whose estimate is always 100 rps and whose actual is 100·e^err(k) one horizon later. */
function feed(o: ReturnType<typeof newOutlook>, from: number, n: number, err: (k: number) => number, level: number) {
  for (let k = 0; k < n; k++) {
    const now = (from + k) * MIN;
    observe(o, now, 100 * Math.exp(err(from + k - 1)), 100, MIN, level, 0);
  }
}

test('the upper bound is the level-quantile of the window, to one bin', () => {
  const rnd = lcg(7);
  const errs = Array.from({ length: 5000 }, () => (rnd() - 0.5) * 0.4); // uniform on ±0.2
  const o = newOutlook();
  feed(o, 0, 4000, (k) => errs[k] ?? 0, 0.9);
  const window = errs.slice(4000 - 1 - DEFAULT_OUTLOOK.window, 4000 - 1).sort((a, b) => a - b);
  const q = window[Math.ceil(0.9 * window.length) - 1] as number;
  assert.ok(Math.abs(upperLog(o) - q) <= 0.011, `${upperLog(o)} vs ${q}`);
});

test('the realised miss rate settles at 1 − level', () => {
  const rnd = lcg(11);
  const o = newOutlook();
  feed(o, 0, 20_000, () => (rnd() - 0.5) * 0.6, 0.95);
  const rate = o.misses / o.errors;
  assert.ok(Math.abs(rate - 0.05) < 0.01, `miss rate ${rate}`);
});

test('the window moves on: wider errors widen the bound, and it narrows again when they pass', () => {
  const rnd = lcg(3);
  const o = newOutlook();
  feed(o, 0, 3000, () => (rnd() - 0.5) * 0.1, 0.99);
  const calm = upperLog(o);
  feed(o, 3000, 3000, () => (rnd() - 0.5) * 1.0, 0.99);
  const wild = upperLog(o);
  feed(o, 6000, 3000, () => (rnd() - 0.5) * 0.1, 0.99);
  assert.ok(wild > calm + 0.3, `${calm} → ${wild}`);
  assert.ok(Math.abs(upperLog(o) - calm) < 0.02, `back to ${upperLog(o)}`);
});

test('until the window holds minErrors, the bound is the start-up margin', () => {
  const o = newOutlook();
  feed(o, 0, 10, () => -0.5, 0.99);
  assert.equal(upperLog(o), DEFAULT_OUTLOOK.initialUpper);
});

test('lookAhead carries a rising rate forward, never a falling one below the forecast', () => {
  const up = newOutlook();
  let e = 0;
  for (let k = 0; k < 10; k++) e = lookAhead(up, k * MIN, 100 + 10 * k, null, 4 * MIN);
  assert.ok(e > 190 && e <= 190 + 40 + 1e-9, `rising: ${e}`);
  const down = newOutlook();
  for (let k = 0; k < 10; k++) e = lookAhead(down, k * MIN, 200 - 10 * k, 50, 4 * MIN);
  assert.equal(e, 110);
});
