/**
 * traces loads real traffic traces (see data/traces/README.md) into evenly stepped series for
 * the simulator, the load generator and the predictor's back-tests: one loader for the three
 * formats there — `timestamp;value` without a header (Wikipedia), `timestamp,value` with a header
 * (NAB), `time_count,bits,bytes` with a header (ISP). It fixes what real files have: duplicated
 * timestamps (combined: mean by default) and gaps (filled linearly by default, or carried, or
 * left NaN and marked), and it offers resampling, time shifts and scaling. Timestamps without a
 * zone are read as UTC.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';
import { invalid, unreadableFile } from '../core/errors.js';

/** GAP_FILLS are the ways a missing step can be filled: linearly, by the previous value, or left NaN. */
export const GAP_FILLS = ['linear', 'previous', 'nan'] as const;
/** GapFill is one of GAP_FILLS. */
export type GapFill = (typeof GAP_FILLS)[number];
/** DUPLICATE_POLICIES combine rows that fall on the same step. */
export const DUPLICATE_POLICIES = ['mean', 'first', 'last', 'sum'] as const;
/** DuplicatePolicy is one of DUPLICATE_POLICIES. */
export type DuplicatePolicy = (typeof DUPLICATE_POLICIES)[number];

/** Trace is an evenly stepped series. */
export interface Trace {
  readonly name: string;
  readonly stepSeconds: number;
  /** start is the time of values[0], in ms since the epoch (UTC). */
  readonly start: number;
  readonly values: Float64Array;
  /** missing[i] is 1 where values[i] was not in the file (filled, or NaN with gapFill 'nan'). */
  readonly missing: Uint8Array;
  /** stats tell what the loader fixed. */
  readonly stats: {
    readonly rows: number;
    readonly duplicates: number;
    readonly missingSteps: number;
    readonly longestGapSteps: number;
  };
}

/** LoadOptions tune parseTrace and loadTrace. */
export interface LoadOptions {
  readonly name?: string;
  /** column picks the value column by header name or 1-based index (default: the first after the timestamp). */
  readonly column?: string | number;
  readonly gapFill?: GapFill;
  /** maxFillSteps: gaps longer than this stay NaN (and marked) whatever gapFill says. Default: no limit. */
  readonly maxFillSteps?: number;
  readonly duplicates?: DuplicatePolicy;
  /** stepSeconds overrides the step found in the file (the most common gap between rows). */
  readonly stepSeconds?: number;
  /** purpose says in loadTrace's errors what the trace was for, such as 'for customer acme'. */
  readonly purpose?: string;
}

/** TRACE_EXPECTED is what a trace file should hold, as errors say it. */
const TRACE_EXPECTED = 'a CSV of timestamp and value rows, such as the files in data/traces (see its README.md)';

/** shownPath is path as a user would type it: relative to the working directory when inside it. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?Z?$/;

function parseTime(s: string): number {
  const m = TS_RE.exec(s.trim());
  if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (/^\d+(\.\d+)?$/.test(s.trim())) return Number(s) * 1000; // epoch seconds
  return Number.NaN;
}

/** parseTrace reads trace text: separator `;` or `,` (or tab), with or without a header. */
export function parseTrace(text: string, opts: LoadOptions = {}): Trace {
  const name = opts.name ?? 'trace';
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw invalid([{ field: `trace ${name}`, problem: 'needs at least two rows' }]);
  const first = lines[0] as string;
  const sep = first.includes(';') ? ';' : first.includes('\t') ? '\t' : ',';
  const headCells = first.split(sep).map((c) => c.trim());
  const hasHeader = Number.isNaN(parseTime(headCells[0] ?? ''));
  let col = 1;
  if (typeof opts.column === 'number') col = opts.column - 1;
  else if (typeof opts.column === 'string') {
    col = hasHeader ? headCells.indexOf(opts.column) : -1;
    if (col < 1)
      throw invalid([
        {
          field: 'column',
          problem: `no value column '${opts.column}' in ${name}; columns: ${hasHeader ? headCells.slice(1).join(', ') : '(no header)'}`,
        },
      ]);
  }
  const times: number[] = [];
  const vals: number[] = [];
  const bad: string[] = [];
  lines.slice(hasHeader ? 1 : 0).forEach((l, i) => {
    const cells = l.split(sep);
    const t = parseTime(cells[0] ?? '');
    const v = Number((cells[col] ?? '').trim());
    if (Number.isNaN(t) || (cells[col] ?? '').trim() === '' || !Number.isFinite(v)) {
      if (bad.length < 3) bad.push(`row ${i + (hasHeader ? 2 : 1)}: '${l}'`);
      return;
    }
    times.push(t);
    vals.push(v);
  });
  if (bad.length > 0)
    throw invalid([
      { field: `trace ${name}`, problem: `unreadable rows (timestamp${sep}value expected): ${bad.join('; ')}` },
    ]);
  const order = times.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  const t0 = times[order[0] as number] as number;
  let stepMs = (opts.stepSeconds ?? 0) * 1000;
  if (!(stepMs > 0)) {
    const counts = new Map<number, number>();
    for (let k = 1; k < order.length; k++) {
      const d = (times[order[k] as number] as number) - (times[order[k - 1] as number] as number);
      if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    let best = 0;
    for (const [d, n] of counts) if (n > (counts.get(best) ?? 0)) best = d;
    stepMs = best;
  }
  if (!(stepMs > 0))
    throw invalid([{ field: `trace ${name}`, problem: 'cannot find a step: all timestamps are equal' }]);
  const tLast = times[order[order.length - 1] as number] as number;
  const n = Math.round((tLast - t0) / stepMs) + 1;
  const sum = new Float64Array(n);
  const cnt = new Uint32Array(n);
  const firstV = new Float64Array(n);
  const lastV = new Float64Array(n);
  let duplicates = 0;
  for (const k of order) {
    const slot = Math.round(((times[k] as number) - t0) / stepMs);
    const v = vals[k] as number;
    if (cnt[slot] === 0) firstV[slot] = v;
    else duplicates++;
    lastV[slot] = v;
    sum[slot] = (sum[slot] as number) + v;
    cnt[slot] = (cnt[slot] as number) + 1;
  }
  const policy = opts.duplicates ?? 'mean';
  const values = new Float64Array(n);
  const missing = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = cnt[i] as number;
    if (c === 0) {
      values[i] = Number.NaN;
      missing[i] = 1;
    } else {
      values[i] =
        policy === 'mean'
          ? (sum[i] as number) / c
          : policy === 'sum'
            ? (sum[i] as number)
            : policy === 'first'
              ? (firstV[i] as number)
              : (lastV[i] as number);
    }
  }
  const { missingSteps, longest } = fillGaps(
    values,
    missing,
    opts.gapFill ?? 'linear',
    opts.maxFillSteps ?? Number.POSITIVE_INFINITY,
  );
  return {
    name,
    stepSeconds: stepMs / 1000,
    start: t0,
    values,
    missing,
    stats: { rows: times.length, duplicates, missingSteps, longestGapSteps: longest },
  };
}

function fillGaps(
  values: Float64Array,
  missing: Uint8Array,
  how: GapFill,
  maxFill: number,
): { missingSteps: number; longest: number } {
  let missingSteps = 0;
  let longest = 0;
  let i = 0;
  while (i < values.length) {
    if (missing[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < values.length && missing[j] === 1) j++;
    const len = j - i;
    missingSteps += len;
    if (len > longest) longest = len;
    if (how !== 'nan' && len <= maxFill && i > 0) {
      const a = values[i - 1] as number;
      const b = j < values.length ? (values[j] as number) : a;
      for (let k = i; k < j; k++) values[k] = how === 'previous' ? a : a + ((b - a) * (k - i + 1)) / (len + 1);
    }
    i = j;
  }
  return { missingSteps, longest };
}

/** loadTrace reads a trace file; the name defaults to the file name without extension. */
export async function loadTrace(path: string, opts: LoadOptions = {}): Promise<Trace> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw unreadableFile('E_VALIDATION', {
      what: 'trace file',
      file: shownPath(path),
      purpose: opts.purpose,
      expected: TRACE_EXPECTED,
      cause: e,
    });
  }
  return parseTrace(text, { ...opts, name: opts.name ?? basename(path).replace(/\.[^.]+$/, '') });
}

/** listTraceFiles returns every .csv under dir (one level of folders deep), sorted. */
export async function listTraceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
    throw unreadableFile('E_VALIDATION', {
      what: 'trace folder',
      file: shownPath(dir),
      expected: `a folder of trace files: ${TRACE_EXPECTED}`,
      cause: e,
    });
  });
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith('.csv')) out.push(join(dir, e.name));
    else if (e.isDirectory())
      for (const f of await readdir(join(dir, e.name))) if (f.endsWith('.csv')) out.push(join(dir, e.name, f));
  }
  return out.sort();
}

/** timeAt is the time of step i, in ms since the epoch. */
export function timeAt(t: Trace, i: number): number {
  return t.start + i * t.stepSeconds * 1000;
}

/** valueAt returns the value at time ms, interpolating linearly between steps; NaN outside the trace. */
export function valueAt(t: Trace, ms: number): number {
  const x = (ms - t.start) / (t.stepSeconds * 1000);
  if (x < 0 || x > t.values.length - 1) return Number.NaN;
  const i = Math.floor(x);
  const f = x - i;
  const a = t.values[i] as number;
  return f === 0 ? a : a + ((t.values[i + 1] as number) - a) * f;
}

/**
 * resample changes the step. 'mean' averages the steps that fall in each new step (for rates),
 * 'sum' adds them (for counts), 'linear' samples by interpolation (for finer steps). A new step
 * is missing when every old step in it was.
 */
export function resample(t: Trace, stepSeconds: number, how: 'mean' | 'sum' | 'linear' = 'mean'): Trace {
  if (!(stepSeconds > 0)) throw invalid([{ field: 'stepSeconds', problem: 'must be > 0' }]);
  const spanMs = (t.values.length - 1) * t.stepSeconds * 1000;
  const stepMs = stepSeconds * 1000;
  const n = Math.floor(spanMs / stepMs) + 1;
  const values = new Float64Array(n);
  const missing = new Uint8Array(n);
  if (how === 'linear') {
    for (let i = 0; i < n; i++) {
      const ms = t.start + i * stepMs;
      values[i] = valueAt(t, ms);
      const k = Math.round((ms - t.start) / (t.stepSeconds * 1000));
      missing[i] = t.missing[Math.min(k, t.values.length - 1)] as number;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const lo = Math.ceil((i * stepMs) / (t.stepSeconds * 1000) - 1e-9);
      const hi = Math.min(t.values.length, Math.ceil(((i + 1) * stepMs) / (t.stepSeconds * 1000) - 1e-9));
      let s = 0;
      let c = 0;
      let known = 0;
      for (let k = lo; k < hi; k++) {
        const v = t.values[k] as number;
        if (Number.isFinite(v)) {
          s += v;
          c++;
        }
        if (t.missing[k] === 0) known++;
      }
      values[i] = c === 0 ? Number.NaN : how === 'sum' ? s : s / c;
      missing[i] = known === 0 ? 1 : 0;
    }
  }
  let missingSteps = 0;
  for (const m of missing) missingSteps += m;
  return { ...t, stepSeconds, values, missing, stats: { ...t.stats, missingSteps } };
}

/** shiftTrace moves a trace in time by `seconds` (positive: later), e.g. to give a customer a peak in another time zone. */
export function shiftTrace(t: Trace, seconds: number, name = t.name): Trace {
  return { ...t, name, start: t.start + seconds * 1000 };
}

/** scaleTrace multiplies every value by factor (e.g. page views → requests per second for one customer). */
export function scaleTrace(t: Trace, factor: number, name = t.name): Trace {
  if (!Number.isFinite(factor)) throw invalid([{ field: 'factor', problem: 'must be a finite number' }]);
  return { ...t, name, values: t.values.map((v) => v * factor) };
}

/** scaleToPeak scales a trace so its largest value is `peak`. */
export function scaleToPeak(t: Trace, peak: number, name = t.name): Trace {
  let max = 0;
  for (const v of t.values) if (v > max) max = v;
  return max > 0 ? scaleTrace(t, peak / max, name) : t;
}

/** sliceTrace keeps steps [from, to). */
export function sliceTrace(t: Trace, from: number, to: number = t.values.length): Trace {
  return { ...t, start: timeAt(t, from), values: t.values.slice(from, to), missing: t.missing.slice(from, to) };
}
