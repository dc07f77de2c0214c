import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  listTraceFiles,
  loadTrace,
  parseTrace,
  resample,
  scaleToPeak,
  shiftTrace,
  sliceTrace,
  timeAt,
  valueAt,
} from '../../../src/sim/traces.js';
import { isHostfleetError } from '../../../src/core/errors.js';

// The traces ship in the repository, so this test never skips.
const DIR = fileURLToPath(new URL('../../../data/traces', import.meta.url));

test('parseTrace: header or not, ; or ,, duplicates and gaps', () => {
  const cases = [
    {
      name: 'no header, ; separated, a duplicate and a two-step gap (linear fill)',
      text: '2010-05-01 00:00:00;10\n2010-05-01 01:00:00;20\n2010-05-01 01:00:00;30\n2010-05-01 04:00:00;55\n2010-05-01 05:00:00;60\n',
      opts: {},
      want: {
        step: 3600,
        values: [10, 25, 35, 45, 55, 60],
        missing: [0, 0, 1, 1, 0, 0],
        duplicates: 1,
        missingSteps: 2,
      },
    },
    {
      name: 'header, , separated, gap carried forward, duplicate keeps last',
      text: 'timestamp,value\r\n2015-02-26 21:42:53,1\r\n2015-02-26 21:47:53,2\r\n2015-02-26 21:47:53,4\r\n2015-02-26 21:57:53,3\r\n2015-02-26 22:02:53,8\r\n',
      opts: { gapFill: 'previous', duplicates: 'last' },
      want: { step: 300, values: [1, 4, 4, 3, 8], missing: [0, 0, 1, 0, 0], duplicates: 1, missingSteps: 1 },
    },
    {
      name: 'three columns, pick bytes by name, gap left NaN',
      text: 'time_count,bits,bytes\n2004-11-19 09:30:00,80,10\n2004-11-19 09:35:00,160,20\n2004-11-19 09:45:00,240,30\n2004-11-19 09:50:00,320,40\n',
      opts: { column: 'bytes', gapFill: 'nan' },
      want: {
        step: 300,
        values: [10, 20, Number.NaN, 30, 40],
        missing: [0, 0, 1, 0, 0],
        duplicates: 0,
        missingSteps: 1,
      },
    },
    {
      name: 'rows out of order are sorted; long gaps stay NaN past maxFillSteps',
      text: 't,v\n2020-01-01 00:10:00,3\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2\n2020-01-01 00:30:00,7\n',
      opts: { maxFillSteps: 2 },
      want: {
        step: 300,
        values: [1, 2, 3, Number.NaN, Number.NaN, Number.NaN, 7],
        missing: [0, 0, 0, 1, 1, 1, 0],
        duplicates: 0,
        missingSteps: 3,
      },
    },
  ] as const;
  for (const c of cases) {
    const t = parseTrace(c.text, c.opts);
    assert.equal(t.stepSeconds, c.want.step, c.name);
    assert.deepEqual([...t.values], c.want.values, c.name);
    assert.deepEqual([...t.missing], c.want.missing, c.name);
    assert.equal(t.stats.duplicates, c.want.duplicates, c.name);
    assert.equal(t.stats.missingSteps, c.want.missingSteps, c.name);
  }
});

test('parseTrace rejects unreadable input naming the row', () => {
  assert.throws(
    () => parseTrace('t,v\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,abc\n'),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes('row 3'),
  );
  assert.throws(
    () => parseTrace('t,v\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2\n', { column: 'bytes' }),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes('columns: v'),
  );
});

test('resample, shift, scale, slice', () => {
  const t = parseTrace(
    't,v\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,3\n2020-01-01 00:10:00,5\n2020-01-01 00:15:00,7\n',
  );
  assert.deepEqual([...resample(t, 600, 'mean').values], [2, 6]);
  assert.deepEqual([...resample(t, 600, 'sum').values], [4, 12]);
  assert.deepEqual([...resample(t, 150, 'linear').values], [1, 2, 3, 4, 5, 6, 7]);
  const s = shiftTrace(t, 8 * 3600);
  assert.equal(timeAt(s, 0) - timeAt(t, 0), 8 * 3600 * 1000);
  assert.equal(valueAt(s, Date.UTC(2020, 0, 1, 8, 7, 30)), 4);
  assert.ok(Number.isNaN(valueAt(t, Date.UTC(2019, 0, 1))));
  assert.deepEqual([...scaleToPeak(t, 14).values], [2, 6, 10, 14]);
  assert.deepEqual([...sliceTrace(t, 1, 3).values], [3, 5]);
  assert.equal(sliceTrace(t, 1).start, Date.UTC(2020, 0, 1, 0, 5));
});

test('the real traces load: steps, gaps and duplicates handled', async () => {
  const files = await listTraceFiles(DIR);
  assert.equal(files.length, 8, files.join(', '));
  const wiki = await loadTrace(files.find((f) => f.includes('wikipedia'))!);
  assert.equal(wiki.stepSeconds, 3600);
  assert.equal(wiki.start, Date.UTC(2010, 4, 1));
  assert.equal(wiki.stats.rows, 48_616);
  assert.equal(wiki.stats.duplicates, 7);
  assert.ok(
    wiki.stats.longestGapSteps >= 31 * 24 - 24,
    `longest gap ${wiki.stats.longestGapSteps} h (2010-09-30 .. 2010-11-01)`,
  );
  assert.equal(timeAt(wiki, wiki.values.length - 1), Date.UTC(2015, 11, 31, 23));
  assert.equal(wiki.values.length, wiki.stats.rows - wiki.stats.duplicates + wiki.stats.missingSteps);
  assert.ok(
    wiki.values.every((v) => Number.isFinite(v) && v > 0),
    'gaps filled',
  );
  const marked = await loadTrace(
    files.find((f) => f.includes('wikipedia'))!,
    { gapFill: 'nan' },
  );
  assert.equal(marked.values.filter((v) => Number.isNaN(v)).length, marked.stats.missingSteps);
  const isp = await loadTrace(
    files.find((f) => f.includes('it_uk'))!,
    { column: 'bits' },
  );
  assert.equal(isp.stepSeconds, 300);
  assert.equal(isp.values[0], 4838.665);
  for (const f of files.filter((x) => x.includes('Twitter'))) {
    const t = await loadTrace(f);
    assert.equal(t.stepSeconds, 300, f);
    assert.ok(t.values.length > 15_000, f);
    assert.ok(
      t.values.every((v) => Number.isFinite(v) && v >= 0),
      f,
    );
  }
});
