import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_PROBE_SPECS,
  MEASUREMENT_TYPES,
  RingWindow,
  addSample,
  aggregate,
  balancedRate,
  createAggregator,
  readingOf,
  resolveProbeSpecs,
  worstResponseB,
} from '../../../../src/core/agent/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

test('B_k matches hand-computed cases', () => {
  // B_k = [(Σ T / w) − min] × 100 / (max − min) − 50
  const cases = [
    { name: 'half-way is 0', samples: [525], window: 1, min: 50, max: 1000, raw: 0, b: 0, partial: false },
    {
      name: 'mean of a full window',
      samples: [100, 200, 300],
      window: 3,
      min: 0,
      max: 400,
      raw: 0,
      b: 0,
      partial: false,
    },
    {
      name: 'only the last w_k samples count',
      samples: [100, 200, 300],
      window: 2,
      min: 0,
      max: 400,
      raw: 12.5,
      b: 12.5,
      partial: false,
    },
    { name: 'at min is −50', samples: [20, 20], window: 2, min: 20, max: 90, raw: -50, b: -50, partial: false },
    { name: 'at max is +50', samples: [90], window: 1, min: 20, max: 90, raw: 50, b: 50, partial: false },
    {
      name: 'fewer samples than w_k: average what there is',
      samples: [100],
      window: 4,
      min: 0,
      max: 400,
      raw: -25,
      b: -25,
      partial: true,
    },
    {
      name: 'past max: raw unclamped, b clamped',
      samples: [600],
      window: 1,
      min: 0,
      max: 400,
      raw: 100,
      b: 50,
      partial: false,
    },
    {
      name: 'below min: raw unclamped, b clamped',
      samples: [0],
      window: 1,
      min: 50,
      max: 1000,
      raw: (-50 * 100) / 950 - 50,
      b: -50,
      partial: false,
    },
    { name: 'fraction type', samples: [0.01, 0.03], window: 60, min: 0, max: 0.05, raw: -10, b: -10, partial: true },
  ];
  for (const c of cases) {
    const w = new RingWindow(c.window);
    for (const s of c.samples) w.push(s);
    const r = readingOf({ type: 'dynamic_rt_ms', window: c.window, min: c.min, max: c.max }, w);
    assert.ok(Math.abs((r.raw as number) - c.raw) < 1e-9, `${c.name}: raw ${r.raw} want ${c.raw}`);
    assert.ok(Math.abs((r.b as number) - c.b) < 1e-9, `${c.name}: b ${r.b} want ${c.b}`);
    assert.equal(r.partial, c.partial, c.name);
    assert.equal(r.samples, Math.min(c.samples.length, c.window), c.name);
  }
});

test('an empty window gives null readings; non-finite samples are refused', () => {
  const agg = createAggregator(DEFAULT_PROBE_SPECS);
  assert.equal(addSample(agg, 'cpu_pct', Number.NaN), false);
  assert.equal(addSample(agg, 'cpu_pct', Number.POSITIVE_INFINITY), false);
  const r = aggregate(agg);
  assert.equal(r.length, MEASUREMENT_TYPES.length);
  for (const x of r) {
    assert.equal(x.samples, 0);
    assert.equal(x.b, null);
    assert.equal(x.raw, null);
  }
  assert.equal(addSample(agg, 'cpu_pct', 50), true);
  assert.equal(aggregate(agg).find((x) => x.type === 'cpu_pct')?.b, 0);
});

test('worstResponseB takes the highest response-type B_k and ignores cpu', () => {
  const agg = createAggregator(DEFAULT_PROBE_SPECS);
  addSample(agg, 'cpu_pct', 90); // +50 but not a response type
  assert.equal(worstResponseB(aggregate(agg)), null);
  addSample(agg, 'queue_wait_ms', 250); // 0
  addSample(agg, 'dynamic_rt_ms', 50); // −50
  assert.equal(worstResponseB(aggregate(agg)), 0);
});

test('ring window: mean is over the last min(n, w) samples (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 60 }),
      (w, xs) => {
        const r = new RingWindow(w);
        for (const x of xs) r.push(x);
        const tail = xs.slice(Math.max(0, xs.length - w));
        assert.equal(r.count, tail.length);
        assert.deepEqual(r.values(), tail);
        if (tail.length > 0) {
          const want = tail.reduce((a, b) => a + b, 0) / tail.length;
          assert.ok(Math.abs(r.mean() - want) <= 1e-9 * Math.max(1, Math.abs(want)));
        }
      },
    ),
  );
});

test('balancedRate is linear: −50 at min, +50 at max (property)', () => {
  fc.assert(
    fc.property(
      fc.double({ min: -1e3, max: 1e3, noNaN: true }),
      fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
      (min, span) => {
        assert.ok(Math.abs(balancedRate(min, min, min + span) + 50) < 1e-6);
        assert.ok(Math.abs(balancedRate(min + span, min, min + span) - 50) < 1e-6);
      },
    ),
  );
});

test('probe specs: overrides merge onto defaults; bad ones fail naming the field', () => {
  const s = resolveProbeSpecs({ dynamic_rt_ms: { max: 2000 }, cpu_pct: { window: 5 } });
  assert.equal(s.dynamic_rt_ms.max, 2000);
  assert.equal(s.dynamic_rt_ms.min, DEFAULT_PROBE_SPECS.dynamic_rt_ms.min);
  assert.equal(s.cpu_pct.window, 5);
  const bad = [
    { name: 'max ≤ min', o: { cpu_pct: { min: 50, max: 50 } }, field: 'probes.cpu_pct.max' },
    { name: 'window 0', o: { mem_pct: { window: 0 } }, field: 'probes.mem_pct.window' },
    { name: 'window fractional', o: { mem_pct: { window: 2.5 } }, field: 'probes.mem_pct.window' },
    { name: 'min not a number', o: { error_rate: { min: 'x' } }, field: 'probes.error_rate.min' },
    { name: 'unknown type', o: { disk_pct: { window: 3 } }, field: 'probes.disk_pct' },
    { name: 'unknown field', o: { cpu_pct: { span: 3 } }, field: 'probes.cpu_pct.span' },
  ];
  for (const c of bad) {
    assert.throws(
      () => resolveProbeSpecs(c.o as never),
      (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && (e.fields ?? []).some((f) => f.field === c.field),
      c.name,
    );
  }
});
