// `npm run bench -- fis [--evals N] [--runs R]`: evaluations per second of the default 27-rule
// Mamdani FIS (centroid over 101 points, and over 201 as a second figure), on a fixed
// pseudo-random set of 4096 input triples covering the whole input ranges. Median of R runs of N
// evaluations after a warm-up. Prints one JSON line last.
import { DEFAULT_FIS, compileFis, evaluateFis } from '../src/core/agent/index.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  return Number.isFinite(v) && v > 0 ? v : def;
};
const N = opt('--evals', 1_000_000);
const R = opt('--runs', 7);

const M = 4096;
const inputs = new Float64Array(M * 3);
let seed = 12345;
const rnd = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
for (let k = 0; k < M; k++) {
  inputs[k * 3] = rnd();
  inputs[k * 3 + 1] = rnd();
  inputs[k * 3 + 2] = rnd() * 100 - 50;
}

function measure(resolution: number): { median: number; runs: number[]; checksum: number } {
  const f = compileFis(DEFAULT_FIS, { resolution });
  const x = new Float64Array(3);
  let checksum = 0;
  const once = (n: number): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const k = (i & (M - 1)) * 3;
      x[0] = inputs[k] as number;
      x[1] = inputs[k + 1] as number;
      x[2] = inputs[k + 2] as number;
      checksum += evaluateFis(f, x);
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  once(Math.min(N, 200_000));
  const runs: number[] = [];
  for (let r = 0; r < R; r++) runs.push(Math.round(N / once(N)));
  const sorted = [...runs].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] as number, runs, checksum };
}

const r101 = measure(101);
console.error(`resolution 101: ${r101.runs.join(', ')} evals/s`);
const r201 = measure(201);
console.error(`resolution 201: ${r201.runs.join(', ')} evals/s`);
console.log(
  JSON.stringify({
    bench: 'fis',
    rules: DEFAULT_FIS.rules.length,
    resolution: 101,
    evals_per_s: r101.median,
    evals_per_s_201: r201.median,
    evals_per_run: N,
    runs: R,
    checksum: Number(r101.checksum.toFixed(6)),
  }),
);
