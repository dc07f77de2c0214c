import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import {
  DEFAULT_FIS,
  colourOf,
  compileFis,
  contourSegments,
  evaluateFis,
  renderSurfaceSvg,
  sampleSurface,
} from '../../../../src/core/agent/index.js';
import { registerFisCommands } from '../../../../src/cli/fis.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

test('sampleSurface evaluates the FIS at every grid point with the fixed input', () => {
  const f = compileFis(DEFAULT_FIS);
  const s = sampleSurface(f, { fixed: { priority: 0.9 }, nx: 5, ny: 3 });
  assert.equal(s.xName, 'response');
  assert.equal(s.yName, 'probability');
  assert.deepEqual([...s.xs], [-50, -25, 0, 25, 50]);
  assert.deepEqual([...s.ys], [0, 0.5, 1]);
  for (let j = 0; j < 3; j++)
    for (let i = 0; i < 5; i++) assert.equal(s.z[j * 5 + i], evaluateFis(f, [0.9, s.ys[j]!, s.xs[i]!]));
  assert.ok(s.z[2 * 5 + 4]! > 0.5, 'top right asks for a server');
  assert.ok(s.z[0]! < -0.2, 'bottom left releases');
  assert.throws(
    () => sampleSurface(f, { x: 'load' }),
    (e: unknown) =>
      isHostfleetError(e, 'E_VALIDATION') && e.message.includes('inputs: priority, probability, response'),
  );
  assert.throws(
    () => sampleSurface(f, { fixed: { response: 3 } }),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
  );
});

test('contours cross where the surface crosses the level', () => {
  const s = {
    xName: 'x',
    yName: 'y',
    outName: 'z',
    xs: Float64Array.from([0, 1]),
    ys: Float64Array.from([0, 1]),
    z: Float64Array.from([0, 1, 0, 1]),
    zRange: [0, 1] as const,
    fixed: {},
  };
  // z = x: the 0.25 level is the vertical line x = 0.25
  assert.deepEqual(contourSegments(s, 0.25), [[0.25, 0, 0.25, 1]]);
  assert.equal(colourOf(0), '#2166ac');
  assert.equal(colourOf(0.5), '#f7f7f7');
  assert.equal(colourOf(1), '#b2182b');
});

test('the SVG has axes, labels, a title and a colour bar', () => {
  const s = sampleSurface(compileFis(DEFAULT_FIS), { fixed: { priority: 0.9 }, nx: 11, ny: 11 });
  const svg = renderSurfaceSvg(s, { xLabel: 'expected response', yLabel: 'probability of a miss' });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.includes('Decision surface: need over response × probability (priority = 0.9)'));
  assert.ok(svg.includes('>expected response</text>') && svg.includes('>probability of a miss</text>'));
  assert.equal(
    (svg.match(/<rect /g) ?? []).length,
    1 + 121 + 1 + 50 + 1,
    'background, cells, frame, colour bar steps and frame',
  );
  assert.ok(svg.includes('need = 0.3'), 'threshold contour');
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

async function cli(args: string[]): Promise<string> {
  const p = new Command().name('hostfleet').exitOverride();
  registerFisCommands(p);
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await p.parseAsync(args, { from: 'user' });
  } finally {
    console.log = orig;
  }
  return lines.join('\n');
}

test('fis eval prints the output, as text and JSON, for the default and for the .fis file', async () => {
  const want = evaluateFis(compileFis(DEFAULT_FIS), [0.9, 0.6, 40]);
  const j = JSON.parse(
    await cli([
      'fis',
      'eval',
      fileURLToPath(new URL('../../../../docs/fis/default.fis', import.meta.url)),
      '0.9',
      '0.6',
      '40',
      '--json',
    ]),
  ) as { outputs: { need: number } };
  assert.equal(j.outputs.need, want);
  assert.equal(await cli(['fis', 'eval', 'default', '0.9', '0.6', '40']), `need = ${want.toFixed(4)}`);
  await assert.rejects(
    cli(['fis', 'eval', 'default', '0.9', '0.6']),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes('takes 3 inputs'),
  );
  await assert.rejects(
    cli(['fis', 'eval', 'default', '0.9', 'x', '1']),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes('probability'),
  );
  await assert.rejects(
    cli(['fis', 'eval', '/nonexistent.fis', '1', '1', '1']),
    (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes("'default'"),
  );
});

test("fis eval on an exported .fis file gives Octave's evalfis outputs, at 101 and at --resolution 201 points", async () => {
  // A sample of test/fixtures/fis/evalfis-default.json (fis-octave.test.ts checks every row),
  // through the command as a user runs it on the file `fis export` wrote (the fixture's fisText).
  const fx = JSON.parse(
    await readFile(new URL('../../../fixtures/fis/evalfis-default.json', import.meta.url), 'utf8'),
  ) as { fisText: string; inputs: number[][]; runs: { numPoints: number; outputs: number[] }[] };
  const dir = await mkdtemp(join(tmpdir(), 'hostfleet-fis-'));
  try {
    const file = join(dir, 'default.fis');
    await writeFile(file, fx.fisText);
    let worst = 0;
    for (const run of fx.runs) {
      for (let i = 0; i < fx.inputs.length; i += 23) {
        const args = ['fis', 'eval', file, ...fx.inputs[i]!.map(String), '--json'];
        if (run.numPoints !== 101) args.push('--resolution', String(run.numPoints));
        const j = JSON.parse(await cli(args)) as { outputs: { need: number } };
        worst = Math.max(worst, Math.abs(j.outputs.need - run.outputs[i]!));
      }
    }
    assert.ok(worst <= 1e-3, `max |hostfleet − Octave| = ${worst}`);
    // --centroid sum is MATLAB's plain Σxμ/Σμ instead; anything else is refused
    const sum = evaluateFis(compileFis(DEFAULT_FIS, { centroid: 'sum' }), [0.9, 0.6, 40]);
    assert.equal(await cli(['fis', 'eval', file, '0.9', '0.6', '40', '--centroid', 'sum']), `need = ${sum.toFixed(4)}`);
    await assert.rejects(cli(['fis', 'eval', file, '0.9', '0.6', '40', '--centroid', 'mean']), (e: unknown) =>
      isHostfleetError(e, 'E_VALIDATION'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('fis surface writes SVG and PNG', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hostfleet-fis-'));
  try {
    await cli(['fis', 'surface', 'default', '--priority', '0.5', '--grid', '21', '--out', join(dir, 's.svg')]);
    const svg = await readFile(join(dir, 's.svg'), 'utf8');
    assert.ok(svg.includes('(priority = 0.5)'));
    await cli(['fis', 'surface', 'default', '--grid', '11', '--out', join(dir, 's.png')]);
    const png = await readFile(join(dir, 's.png'));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await assert.rejects(cli(['fis', 'surface', 'default', '--out', join(dir, 's.gif')]), (e: unknown) =>
      isHostfleetError(e, 'E_VALIDATION'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
