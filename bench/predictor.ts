// `npm run bench -- predictor [--dir DIR] [--no-tune]`: back-tests the predictor's Holt-Winters
// forecast on every trace in data/traces at the horizon a cold server needs to join (15 min =
// 3 steps for the 5-minute traces, 1 h = 1 step for the hourly one) against a naive last-value
// forecast, by sMAPE over the same points. Parameters are chosen per trace on its first 30 %
// (a grid search, the way an operator would tune a customer) and scored on the other 70 %;
// `smape_default` is the shipped defaults over the same 70 %. Gaps longer than 6 steps are left
// unfilled: the model skips them and they are not scored. Prints one JSON line last.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HW_PARAMS, HoltWinters } from '../src/core/agent/index.js';
import type { HoltWintersParams } from '../src/core/agent/index.js';
import { listTraceFiles, loadTrace } from '../src/sim/traces.js';
import type { Trace } from '../src/sim/traces.js';

const args = process.argv.slice(2);
const dirIdx = args.indexOf('--dir');
const dir =
  dirIdx >= 0 ? (args[dirIdx + 1] as string) : join(dirname(fileURLToPath(import.meta.url)), '../data/traces');
const tune = !args.includes('--no-tune');
const TRAIN = 0.3;

type Params = Omit<HoltWintersParams, 'period'>;

/** score runs the model over the whole trace and returns sMAPE (%) of model and naive over steps ≥ from. */
function score(t: Trace, p: Params, h: number, from: number, to: number): { smape: number; naive: number; n: number } {
  const period = Math.round(86_400 / t.stepSeconds);
  const m = new HoltWinters({ ...p, period });
  const v = t.values;
  let sm = 0;
  let sn = 0;
  let n = 0;
  let last = Number.NaN;
  for (let i = 0; i + h < to; i++) {
    const y = t.missing[i] === 1 ? Number.NaN : (v[i] as number);
    m.observe(y);
    if (Number.isFinite(y)) last = y;
    if (i < from) continue;
    const a = v[i + h] as number;
    if (t.missing[i + h] === 1 || !Number.isFinite(a) || !m.warm) continue;
    const f = Math.max(0, m.forecast(h));
    const denM = (Math.abs(a) + Math.abs(f)) / 2;
    const denN = (Math.abs(a) + Math.abs(last)) / 2;
    sm += denM > 0 ? Math.abs(f - a) / denM : 0;
    sn += denN > 0 ? Math.abs(last - a) / denN : 0;
    n++;
  }
  return { smape: (100 * sm) / n, naive: (100 * sn) / n, n };
}

const GRID: Params[] = [];
for (const alpha of [0.2, 0.5, 0.9])
  for (const beta of [0.02, 0.1])
    for (const gamma of [0.05, 0.3])
      for (const smooth of [0, 4, 8])
        for (const clip of [3, Number.POSITIVE_INFINITY]) GRID.push({ alpha, beta, gamma, phi: 0.9, clip, smooth });

/** forStep rescales the smoothing window (given for 5-minute steps) to the trace's step. */
function forStep(p: Params, stepSeconds: number): Params {
  return { ...p, smooth: Math.round((p.smooth * 300) / stepSeconds) };
}

const out: Record<string, unknown>[] = [];
for (const file of await listTraceFiles(dir)) {
  const t = await loadTrace(file, { gapFill: 'linear', maxFillSteps: 6 });
  const h = Math.max(1, Math.round((t.stepSeconds < 3600 ? 900 : 3600) / t.stepSeconds));
  const split = Math.floor(t.values.length * TRAIN);
  let best: Params = forStep(DEFAULT_HW_PARAMS, t.stepSeconds);
  if (tune) {
    let bestS = Number.POSITIVE_INFINITY;
    for (const g of GRID) {
      const p = forStep(g, t.stepSeconds);
      const s = score(t, p, h, 0, split).smape;
      if (s < bestS) {
        bestS = s;
        best = p;
      }
    }
  }
  const test = score(t, best, h, split, t.values.length);
  const def = score(t, forStep(DEFAULT_HW_PARAMS, t.stepSeconds), h, split, t.values.length);
  const row = {
    trace: t.name,
    step_s: t.stepSeconds,
    horizon_min: (h * t.stepSeconds) / 60,
    points: test.n,
    smape: +test.smape.toFixed(2),
    naive_smape: +test.naive.toFixed(2),
    smape_default: +def.smape.toFixed(2),
    beats_naive: test.smape < test.naive,
    params: {
      alpha: best.alpha,
      beta: best.beta,
      gamma: best.gamma,
      phi: best.phi,
      clip: Number.isFinite(best.clip) ? best.clip : 'off',
      smooth: best.smooth,
    },
  };
  console.error(JSON.stringify(row));
  out.push(row);
}
console.log(JSON.stringify({ bench: 'predictor', train_fraction: TRAIN, traces: out }));
