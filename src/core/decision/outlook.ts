/**
 * outlook is what a group's own recent forecasts teach about its next few minutes. Once per
 * sample interval the group's estimate of its arrival rate at the horizon (the larger of the
 * agent's forecast and the rate it measures now) is kept until the horizon has passed; then the
 * rate measured is compared with it, and the log of their ratio is one forecast error. The
 * group's upper bound is its estimate times e^u, where u is the level-quantile of the errors in
 * its recent window: the bound was exceeded a fraction 1 − level of the time over the window,
 * so the interval is calibrated on the group's own realised misses, and a group whose traffic
 * changes (a trend, a new burst pattern) widens or narrows it as the window moves on.
 *
 * The quantile is exact to one bin of a histogram of the window's errors, kept with a pointer
 * that moves a bin or two per error (written by hand: a sliding-window quantile of this kind is
 * a few lines over typed arrays, and a general library would keep a sorted structure per group
 * for a thousand groups).
 */

/** OutlookSettings tune the window; the defaults suit forecasts of a few minutes ahead. */
export interface OutlookSettings {
  /** sampleMs is how often an estimate is kept and later settled (one error per interval). */
  readonly sampleMs: number;
  /** window is how many errors the quantile is taken over. */
  readonly window: number;
  /** minErrors: below this many errors, the bound uses initialUpper. */
  readonly minErrors: number;
  readonly initialUpper: number;
}

/** DEFAULT_OUTLOOK: one error a minute over two days; a 20 % margin until 30 errors are in. */
export const DEFAULT_OUTLOOK: OutlookSettings = { sampleMs: 60_000, window: 2880, minErrors: 30, initialUpper: 0.2 };

// Errors are log ratios binned at 0.01 over [LO, LO + BINS/100); beyond are clamped to the end bins.
const LO = -3;
const BINS = 700;
const WIDTH = 0.01;

/** Outlook is one group's window (owned by the tick's state, changed in place). */
export interface Outlook {
  /** pending holds [due ms, estimate rps] of kept estimates whose horizon has not passed, oldest first. */
  readonly pending: [number, number][];
  lastSample: number;
  readonly counts: Int32Array;
  /** ring holds the window's errors by bin, oldest at `head` once full. */
  readonly ring: Int16Array;
  head: number;
  size: number;
  /** p is the quantile's bin; above counts the window's errors in bins above it. */
  p: number;
  above: number;
  /** trend is the measured rate's recent slope (rps per ms, an EWMA), from the last measurement (lastRps at lastAt). */
  trend: number;
  lastRps: number;
  lastAt: number;
  /** errors and misses count every error settled and those above the bound of their time. */
  errors: number;
  misses: number;
}

/** newOutlook starts a group's window. */
export function newOutlook(s: OutlookSettings = DEFAULT_OUTLOOK): Outlook {
  return {
    pending: [],
    lastSample: -Infinity,
    counts: new Int32Array(BINS),
    ring: new Int16Array(s.window),
    head: 0,
    size: 0,
    p: binOf(s.initialUpper),
    above: 0,
    trend: 0,
    lastRps: Number.NaN,
    lastAt: Number.NaN,
    errors: 0,
    misses: 0,
  };
}

function binOf(e: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.floor((e - LO) / WIDTH)));
}

/** logError is log(actual / estimate) with a floor that keeps near-idle groups from dividing by zero. */
export function logError(actual: number, estimate: number, floor: number): number {
  return Math.log((Math.max(0, actual) + floor) / (Math.max(0, estimate) + floor));
}

/**
 * upperLog is u: the upper edge of the quantile's bin, or the start-up margin while the window
 * is short — a handful of errors (the load arriving on an idle group among them) says little
 * about the group's spread.
 */
export function upperLog(o: Outlook, s: OutlookSettings = DEFAULT_OUTLOOK): number {
  return o.size < s.minErrors ? s.initialUpper : LO + (o.p + 1) * WIDTH;
}

/** settle moves the quantile pointer so that at most `allowed` errors lie above its bin and more do with it. */
function settle(o: Outlook, allowed: number): void {
  const c = o.counts;
  while (o.above > allowed && o.p < BINS - 1) {
    o.p++;
    o.above -= c[o.p] as number;
  }
  while (o.p > 0 && o.above + (c[o.p] as number) <= allowed) {
    o.above += c[o.p] as number;
    o.p--;
  }
}

/**
 * observe settles the kept estimates whose horizon has passed against the rate measured now
 * (one error each) and, once per sample interval, keeps this tick's estimate for now +
 * horizonMs. floor is a rate small against one server's capacity.
 */
export function observe(
  o: Outlook,
  now: number,
  measured: number,
  estimate: number,
  horizonMs: number,
  level: number,
  floor: number,
  s: OutlookSettings = DEFAULT_OUTLOOK,
): void {
  while (o.pending.length > 0 && (o.pending[0] as [number, number])[0] <= now) {
    const [, est] = o.pending.shift() as [number, number];
    const e = logError(measured, est, floor);
    o.errors++;
    if (e > upperLog(o, s)) o.misses++;
    const b = binOf(e);
    if (o.size === s.window) {
      const old = o.ring[o.head] as number;
      o.counts[old] = (o.counts[old] as number) - 1;
      if (old > o.p) o.above--;
    } else o.size++;
    o.ring[o.head] = b;
    o.head = (o.head + 1) % s.window;
    o.counts[b] = (o.counts[b] as number) + 1;
    if (b > o.p) o.above++;
    settle(o, Math.floor((1 - level) * o.size));
  }
  if (now - o.lastSample >= s.sampleMs) {
    o.pending.push([now + horizonMs, estimate]);
    o.lastSample = now;
  }
}

/**
 * upperRate is the rate the group stays under with its level until a server ordered now could
 * serve: the highest estimate still ahead (this tick's among them) times e^u.
 */
export function upperRate(o: Outlook, estimate: number, s: OutlookSettings = DEFAULT_OUTLOOK): number {
  let m = estimate;
  for (const p of o.pending) if (p[1] > m) m = p[1];
  return m * Math.exp(upperLog(o, s));
}

// The slope forgets over about three sample intervals: a ramp shows within minutes, noise averages out.
const TREND_WEIGHT = 0.3;

/**
 * lookAhead is the group's estimate for the horizon: the larger of the agent's forecast and the
 * measured rate carried forward by its recent rise (a ramp the forecast, observed in steps of
 * minutes, has not caught up with). The rise is measured over whole sample intervals, so a
 * manager ticking every second is not misled by one second's noise. A falling rate is not
 * carried down: releasing is what the window's errors guard.
 */
export function lookAhead(
  o: Outlook,
  now: number,
  measured: number,
  forecast: number | null,
  horizonMs: number,
  s: OutlookSettings = DEFAULT_OUTLOOK,
): number {
  if (!Number.isFinite(o.lastAt)) {
    o.lastRps = measured;
    o.lastAt = now;
  } else if (now - o.lastAt >= s.sampleMs) {
    o.trend += TREND_WEIGHT * ((measured - o.lastRps) / (now - o.lastAt) - o.trend);
    o.lastRps = measured;
    o.lastAt = now;
  }
  return Math.max(forecast ?? 0, measured + Math.max(0, o.trend) * horizonMs);
}
