import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { utcDay } from '../../../src/sim/scenario.js';

test('utcDay is the UTC day of the week a Date gives, before and after 1970 and at fractions of a millisecond', () => {
  const cases: { ms: number; want: number }[] = [
    { ms: 0, want: 4 }, // 1970-01-01, a Thursday
    { ms: -1, want: 3 },
    { ms: Date.parse('2015-03-02T00:00:00Z'), want: 1 },
    { ms: Date.parse('2015-03-01T23:59:59.999Z'), want: 0 },
    { ms: -0.5, want: 4 }, // a Date truncates towards zero
  ];
  for (const c of cases) assert.equal(utcDay(c.ms), c.want, String(c.ms));
  fc.assert(
    fc.property(
      fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }),
      (ms) => utcDay(ms) === new Date(ms).getUTCDay(),
    ),
  );
});
