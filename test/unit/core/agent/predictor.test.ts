import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_FIS,
  DEFAULT_PREDICTOR_CONFIG,
  HoltWinters,
  compileFis,
  createPredictor,
  erlangB,
  erlangC,
  groupDecider,
  groupNeed,
  mmc,
  observeRates,
  predict,
  predictQueue,
  responseB,
  responseCdf,
  waitCdf,
} from '../../../../src/core/agent/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const close = (a: number, b: number, tol: number, msg: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${msg}: got ${a}, want ${b}`);

/** erlangCDirect is the textbook sum formula, an independent check for small c. */
function erlangCDirect(c: number, a: number): number {
  let sum = 0;
  let term = 1;
  for (let k = 0; k < c; k++) {
    sum += term;
    term = (term * a) / (k + 1);
  }
  const top = (term * c) / (c - a); // a^c / c! × c / (c − a)
  return top / (sum + top);
}

test('Erlang B and C against known values', () => {
  const cases = [
    { name: 'M/M/1: C = ρ', c: 1, a: 0.7, C: 0.7 },
    { name: 'c = 2, a = 1: C = 1/3', c: 2, a: 1, C: 1 / 3 },
    { name: 'c = 10, a = 8 (telephony table ≈ 0.4092)', c: 10, a: 8, C: 0.40918 },
    { name: 'c = 5, a = 2 (≈ 0.0597)', c: 5, a: 2, C: 0.0597 },
  ];
  for (const x of cases) close(erlangC(x.c, x.a), x.C, 5e-5, x.name);
  close(erlangB(2, 1), 0.2, 1e-12, 'Erlang B c = 2, a = 1');
  close(erlangB(10, 8), 0.12166, 5e-5, 'Erlang B c = 10, a = 8');
  assert.equal(erlangC(3, 3), 1);
  assert.equal(erlangC(3, 0), 0);
  // large c stays finite where a^c / c! would overflow
  const big = erlangC(400, 380);
  assert.ok(big > 0 && big < 1, `C(400, 380) = ${big}`);
});

test('Erlang C: the recursion equals the textbook sum (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (c, rho) => {
      close(erlangC(c, c * rho), erlangCDirect(c, c * rho), 1e-9, `c=${c} rho=${rho}`);
    }),
  );
});

test('M/M/c waits and response-time distribution', () => {
  // M/M/1, λ = 8, μ = 10: Wq = ρ/(μ − λ) = 0.4 s, W = 0.5 s, P(T ≤ t) = 1 − e^(−(μ−λ)t)
  const q = mmc(8, 10, 1);
  close(q.meanWait, 0.4, 1e-12, 'M/M/1 Wq');
  close(q.meanResponse, 0.5, 1e-12, 'M/M/1 W');
  close(responseCdf(0.5, 8, 10, 1), 1 - Math.exp(-1), 1e-12, 'M/M/1 CDF');
  // M/M/2, λ = 1, μ = 1: C = 1/3, Wq = C / (cμ − λ) = 1/3
  close(mmc(1, 1, 2).meanWait, 1 / 3, 1e-12, 'M/M/2 Wq');
  close(waitCdf(0, 1, 1, 2), 2 / 3, 1e-12, 'P(no wait) = 1 − C');
  // c − 1 − a = 0 uses the limit: c = 2, a = 1
  const lim = responseCdf(1, 1, 1, 2);
  close(lim, 1 - Math.exp(-1) * (1 + 1 / 3), 1e-12, 'limit case');
  close(responseCdf(1, 1 + 1e-12, 1, 2), lim, 1e-6, 'continuous at the limit');
  // CDF by numerical integration of the density of T = S + Wq for c = 3, a = 2.4
  const [lam, mu, c, t] = [2.4, 1, 3, 1.7];
  const C = erlangC(c, lam / mu);
  const th = c * mu - lam;

  const N = 20000;
  let conv = 0;
  for (let i = 0; i < N; i++) {
    const s = ((i + 0.5) * t) / N; // P(S + W ≤ t | wait) = ∫ μe^(−μs) (1 − e^(−θ(t−s))) ds
    conv += mu * Math.exp(-mu * s) * (1 - Math.exp(-th * (t - s))) * (t / N);
  }
  const num = (1 - C) * (1 - Math.exp(-mu * t)) + C * conv;
  close(responseCdf(t, lam, mu, c), num, 1e-6, 'integrated CDF');
  const u = mmc(5, 1, 4);
  assert.equal(u.stable, false);
  assert.equal(u.meanResponse, Number.POSITIVE_INFINITY);
  assert.equal(responseCdf(1, 5, 1, 4), 0);
});

test('Holt-Winters learns a synthetic daily season with trend and forecasts it', () => {
  const period = 48;
  const y = (i: number): number =>
    100 + 0.05 * i + 30 * Math.sin((2 * Math.PI * i) / period) + 10 * Math.cos((4 * Math.PI * i) / period);
  // a small beta: with long seasons a larger one makes the trend oscillate (classic HW's stability region)
  const m = new HoltWinters({
    alpha: 0.3,
    beta: 0.01,
    gamma: 0.3,
    phi: 1,
    clip: Number.POSITIVE_INFINITY,
    smooth: 0,
    period,
  });
  assert.ok(Number.isNaN(m.forecast(1)));
  let i = 0;
  for (; i < period - 1; i++) m.observe(y(i));
  assert.equal(m.warm, false, 'not warm before one season');
  for (; i < 40 * period; i++) m.observe(y(i));
  assert.equal(m.warm, true);
  for (const h of [1, 6, 12, 24, 36]) close(m.forecast(h), y(i + h - 1), 1.0, `h=${h}`); // within 1 of a swing of ±40
  // a naive last-value forecast is far worse at half a season
  assert.ok(Math.abs(y(i - 1) - y(i + 35)) > 20, 'a last-value forecast would be off by more than 20 at h = 36');
});

test('Holt-Winters: gaps advance time; a burst is clipped', () => {
  const period = 24;
  const y = (i: number): number => 50 + 20 * Math.sin((2 * Math.PI * i) / period);
  const mk = (clip: number): HoltWinters =>
    new HoltWinters({ alpha: 0.5, beta: 0.02, gamma: 0.3, phi: 0.9, clip, smooth: 0, period });
  const a = mk(3);
  const b = mk(Number.POSITIVE_INFINITY);
  for (let i = 0; i < 10 * period; i++) {
    const v = i === 9 * period ? 5000 : i % 50 === 7 ? Number.NaN : y(i);
    a.observe(v);
    b.observe(v);
  }
  assert.equal(a.steps, 10 * period);
  const want = y(10 * period);
  assert.ok(Math.abs(a.forecast(1) - want) < Math.abs(b.forecast(1) - want), 'clipping limits the damage of one burst');
  assert.ok(Math.abs(a.forecast(1) - want) < 15, `clipped forecast ${a.forecast(1)} vs ${want}`);
  assert.throws(
    () => mk(0),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
  );
  assert.throws(
    () => new HoltWinters({ alpha: 2, beta: 0, gamma: 0, phi: 1, clip: 3, smooth: 0, period: 24 }),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes('alpha'),
  );
});

test('predictor: more servers lower the response time and the miss probability', () => {
  const p = createPredictor({
    ...DEFAULT_PREDICTOR_CONFIG,
    stepSeconds: 300,
    seasonSeconds: 3600,
    hw: { ...DEFAULT_PREDICTOR_CONFIG.hw, smooth: 1 },
  });
  for (let i = 0; i < 40; i++) observeRates(p, [600]);
  const two = predict(p, 4)[0]!;
  const eight = predict(p, 8)[0]!;
  close(two.lambda, 600, 1e-6, 'flat rate forecast');
  assert.equal(two.horizonSeconds, 900);
  assert.ok(two.meanResponseMs > eight.meanResponseMs);
  assert.ok(two.pMiss > eight.pMiss);
  assert.ok(predict(p, 3)[0]!.stable === false, '600 req/s on 3 × 160 is overload');
  const fis = compileFis(DEFAULT_FIS);
  const overloaded = groupNeed(fis, 1, predict(p, 3));
  const idle = groupNeed(fis, 0, predict(p, 40));
  assert.ok(overloaded.need > 0.3, `need ${overloaded.need}`);
  assert.ok(idle.need < -0.3, `need ${idle.need}`);
});

test('predictQueue: several request types share capacity', () => {
  const types = [
    { name: 'static', serviceRate: 1000, targetMs: 20 },
    { name: 'dynamic', serviceRate: 100, targetMs: 300 },
  ];
  const alone = predictQueue(types, [0, 150], 2)[1]!;
  const shared = predictQueue(types, [1000, 150], 2)[1]!;
  close(alone.utilisation, 0.75, 1e-12, 'utilisation alone');
  close(shared.utilisation, 1.25, 1e-12, 'utilisation shared');
  assert.equal(shared.stable, false);
  assert.ok(alone.stable);
  assert.equal(predictQueue(types, [1, 1], 0)[0]!.pMiss, 1, 'no servers: every request misses');
});

test('responseB and the decider', () => {
  assert.equal(responseB(200, 200), 0);
  assert.equal(responseB(0, 200), -50);
  assert.equal(responseB(1000, 200), 50);
  assert.equal(responseB(Number.POSITIVE_INFINITY, 200), 50);
  assert.equal(groupDecider(['s-3', 's-10', 's-2']), 's-10');
  assert.equal(groupDecider([]), null);
});
