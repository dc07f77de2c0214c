import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import { sweepChart } from '../../../src/sim/report-sweep.js';
import type { SweepPoint, SweepResult } from '../../../src/sim/sweep.js';

const pt = (
  policy: SweepPoint['policy'],
  dial: SweepPoint['dial'],
  value: number | null,
  serverHours: number,
  violationMinutes: number,
  isDefault = false,
): SweepPoint => ({ policy, dial, value, isDefault, serverHours, violationMinutes });

const sweep: SweepResult = {
  runs: 6,
  points: [
    pt('static', null, null, 2400, 0, true),
    pt('hpa', 'hpa.targetUtilisation', 0.4, 1900, 56),
    pt('hpa', 'hpa.targetUtilisation', 0.6, 1300, 71, true),
    pt('hpa', 'hpa.targetUtilisation', 0.9, 921, 877),
    pt('hostfleet', 'hostfleet.violationCost', 0.1, 951, 181),
    pt('hostfleet', 'hostfleet.violationCost', 1, 1019, 80, true),
    pt('optimum', null, null, 906, 0, true),
    pt('optimum-cold', null, null, 916, 0, true),
  ],
};

test('the sweep chart: one curve per swept policy, the defaults labelled, static a point, the bounds lines', () => {
  const svg = sweepChart('quick <sweep>', sweep);
  const paths = [...svg.matchAll(/<path data-policy="([a-z-]+)"/g)].map((m) => m[1]);
  assert.deepEqual(paths, ['hpa', 'hostfleet']);
  assert.equal((svg.match(/<path/g) ?? []).length, 2, 'no other path');
  assert.ok(svg.includes('hpa default (0.6)'));
  assert.ok(svg.includes('hostfleet default (1)'));
  assert.ok(svg.includes('>static</text>'));
  assert.equal((svg.match(/<circle [^>]*r="6"/g) ?? []).length, 3, 'the default points (and static) are big');
  assert.equal((svg.match(/stroke-dasharray="6 4"><title>optimum:/g) ?? []).length, 1);
  assert.equal((svg.match(/stroke-dasharray="2 3"><title>optimum-cold:/g) ?? []).length, 1);
  assert.ok(svg.includes('quick &lt;sweep&gt;'), 'the title is escaped');
  // it renders: resvg parses it and draws something on the canvas
  const png = new Resvg(svg).render();
  assert.equal(png.width, 1100);
  assert.ok(png.pixels.some((v) => v !== 0 && v !== 255));
});

test('the sweep chart puts fewer server-hours left and fewer violating minutes lower', () => {
  const svg = sweepChart('t', sweep);
  const d = /<path data-policy="hpa" d="([^"]+)"/.exec(svg)?.[1] ?? '';
  const xy = [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  assert.equal(xy.length, 3);
  const [a, , c] = xy as [readonly [number, number], unknown, readonly [number, number]];
  assert.ok(a[0] > c[0], '0.4 holds more server-hours: further right');
  assert.ok(a[1] > c[1], '0.4 misses fewer minutes: lower (larger y)');
});
