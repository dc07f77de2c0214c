// fis-octave-fixture regenerates test/fixtures/fis/evalfis-default.json: GNU Octave's `evalfis`
// (fuzzy-logic-toolkit) on the default rule base as `hostfleet fis export default` writes it, over
// a grid of inputs, at 101 output points (evalfis's default) and at 201. The unit test
// test/unit/core/agent/fis-octave.test.ts checks that hostfleet computes the same numbers, so a
// rule base edited in Octave or MATLAB behaves the same once imported. Run it by hand after the
// default rule base or the engine's arithmetic changes (CI has no Octave):
//
//   apt-get install -y octave octave-fuzzy-logic-toolkit
//   node scripts/fis-octave-fixture.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test/fixtures/fis/evalfis-default.json');
const NUM_POINTS = [101, 201];

// The grid: every range end and every membership-function corner of the default system (there
// only one or two terms of an input are non-zero, so few rules fire: at (0, 0, −50) exactly one),
// crossed, plus an additive-recurrence sequence of interior points, which lands between corners
// and is the same on every run.
const PRIORITY = [0, 0.25, 0.5, 0.75, 0.9, 1];
const PROBABILITY = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1];
const RESPONSE = [-50, -30, -20, -10, 0, 5, 15, 25, 30, 50];
const EXTRA = 120;

const inputs = [];
for (const p of PRIORITY) for (const q of PROBABILITY) for (const r of RESPONSE) inputs.push([p, q, r]);
const alpha = [0.7548776662, 0.569840291, 0.430159709]; // 1/ρ, 1/ρ², 1/ρ³, ρ the plastic number
for (let i = 1; i <= EXTRA; i++) {
  const u = alpha.map((a) => (0.5 + i * a) % 1);
  inputs.push([round(u[0]), round(u[1]), round(u[2] * 100 - 50)]);
}

/** round keeps 6 decimals, so the fixture's inputs read back exactly as written. */
function round(v) {
  return Number(v.toFixed(6));
}

const work = mkdtempSync(join(tmpdir(), 'hostfleet-fis-octave-'));
try {
  const fisFile = join(work, 'default.fis');
  const fisText = execFileSync(process.execPath, [join(root, 'bin/hostfleet.js'), 'fis', 'export', 'default'], {
    encoding: 'utf8',
  });
  writeFileSync(fisFile, fisText);
  // JavaScript prints the shortest text that reads back as the same double, and so does Octave's
  // parser, so the inputs Octave evaluates are bit for bit the ones in the fixture.
  const matrix = inputs.map((row) => row.join(' ')).join(';\n');
  const script = [
    'pkg load fuzzy-logic-toolkit',
    `fis = readfis('${fisFile}');`,
    `x = [${matrix}];`,
    "printf('octave %s\\n', OCTAVE_VERSION);",
    'l = pkg("list");',
    "for i = 1:numel(l) if strcmp(l{i}.name, 'fuzzy-logic-toolkit') printf('toolkit %s\\n', l{i}.version); end end",
    ...NUM_POINTS.map((n) => `y = evalfis(x, fis, ${n}); printf('points ${n}\\n'); printf('%.17g\\n', y);`),
  ].join('\n');
  writeFileSync(join(work, 'fixture.m'), script);
  // Octave 7 may print a harmless error while it exits after a script; the numbers are read from
  // standard output, and the counts below catch a run that did not finish.
  let text;
  try {
    text = execFileSync('octave', ['--no-gui', '--no-window-system', '--quiet', join(work, 'fixture.m')], {
      encoding: 'utf8',
      cwd: work,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch (e) {
    if (typeof e.stdout !== 'string') throw e;
    text = e.stdout;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const octave = lines.find((l) => l.startsWith('octave '))?.slice(7);
  const toolkit = lines.find((l) => l.startsWith('toolkit '))?.slice(8);
  const runs = NUM_POINTS.map((n) => {
    const at = lines.indexOf(`points ${n}`);
    const ys = lines.slice(at + 1, at + 1 + inputs.length).map(Number);
    if (at < 0 || ys.length !== inputs.length || ys.some((y) => !Number.isFinite(y)))
      throw new Error(`Octave gave no complete, finite output at ${n} points:\n${text.slice(0, 2000)}`);
    return { numPoints: n, outputs: ys };
  });
  if (octave === undefined || toolkit === undefined) throw new Error(`Octave did not say its versions:\n${text}`);
  mkdirSync(join(root, 'test/fixtures/fis'), { recursive: true });
  const fixture = {
    about:
      "GNU Octave's evalfis (fuzzy-logic-toolkit) on fisText (hostfleet fis export default) at each input row; " +
      'regenerate with node scripts/fis-octave-fixture.mjs',
    octave,
    toolkit,
    fisText,
    inputNames: ['priority', 'probability', 'response'],
    inputs,
    runs,
  };
  // Laid out as the formatter's check wants it, so `prettier --check .` passes on the fixture.
  const options = { ...(await prettier.resolveConfig(out)), parser: 'json' };
  writeFileSync(out, await prettier.format(JSON.stringify(fixture), options));
  console.log(
    `wrote ${out}: ${inputs.length} inputs at ${NUM_POINTS.join(' and ')} points (Octave ${octave}, toolkit ${toolkit})`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
