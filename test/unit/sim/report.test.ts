import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOUND_NOTES } from '../../../src/sim/optimum.js';
import { renderHtml, summarise, writeReport } from '../../../src/sim/report.js';
import { runScenario } from '../../../src/sim/run.js';
import { loadScenario } from '../../../src/sim/scenario.js';
import { runSweep } from '../../../src/sim/sweep.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

test('the summary and the report show both bounds with their explanation, and the sweep when there is one', async () => {
  const s = await loadScenario(join(root, 'scenarios/quick.yaml'));
  const res = await runScenario(s, { billing: false });
  const plain = summarise(res);
  assert.deepEqual(
    plain.policies.map((p) => [p.policy, p.bound !== null]),
    [
      ['static', false],
      ['hpa', false],
      ['hostfleet', false],
      ['optimum', true],
      ['optimum-cold', true],
    ],
  );
  assert.ok(plain.policies.find((p) => p.policy === 'optimum-cold')?.bound?.startsWith('clairvoyant, cold boots: '));
  assert.equal(plain.sweep, undefined);
  const html = renderHtml(res, plain);
  for (const b of Object.values(BOUND_NOTES)) assert.ok(html.includes(b.note), b.label);
  assert.ok(!html.includes('data-policy'), 'no sweep picture without a sweep');

  const sweep = await runSweep(s, { base: res, values: { hpa: [0.9], hostfleet: [5] } });
  const dir = await mkdtemp(join(tmpdir(), 'hostfleet-report-'));
  try {
    const out = await writeReport(res, dir, sweep);
    assert.equal(out.svg, join(dir, 'sweep.svg'));
    const json = JSON.parse(await readFile(out.json, 'utf8')) as ReturnType<typeof summarise>;
    assert.equal(json.sweep?.runs, 2);
    assert.equal(json.sweep?.points.length, 7, 'static, HPA and hostfleet at two values each, two bounds');
    const page = await readFile(out.html, 'utf8');
    assert.ok(page.includes('<path data-policy="hpa"') && page.includes('<path data-policy="hostfleet"'));
    assert.ok((await readFile(join(dir, 'sweep.svg'), 'utf8')).startsWith('<svg'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
