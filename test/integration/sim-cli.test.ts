import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

test('hostfleet sim --sweep writes an HTML report with charts, a JSON summary and the sweep picture', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hostfleet-sim-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'src/cli/main.ts'),
        'sim',
        join(root, 'scenarios/quick.yaml'),
        '--report',
        dir,
        '--seed',
        '3',
        '--sweep',
        '--no-progress',
      ],
      { cwd: root, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /hostfleet\s+server-hours/);
    assert.match(r.stderr, /sweep: \d+ more runs/);
    const sum = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as {
      seed: number;
      policies: { policy: string; serverHours: number }[];
      sweep: { points: { policy: string; dial: string | null; isDefault: boolean }[] };
    };
    assert.equal(sum.seed, 3);
    assert.deepEqual(
      sum.policies.map((p) => p.policy),
      ['static', 'hpa', 'hostfleet', 'optimum', 'optimum-cold'],
    );
    for (const p of ['hpa', 'hostfleet'])
      assert.equal(sum.sweep.points.filter((x) => x.policy === p && x.dial !== null && x.isDefault).length, 1, p);
    assert.ok((await readFile(join(dir, 'sweep.svg'), 'utf8')).includes('<path data-policy="hpa"'));
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    assert.equal((html.match(/<svg/g) ?? []).length >= 4, true, 'demand charts, powered, pool and violations');
    for (const id of ['shop-1', 'Powered servers', 'Pool size']) assert.ok(html.includes(id), id);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('hostfleet sim names the bad field of a broken scenario', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'sim', join(root, 'package.json')],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr + r.stdout, /sites/);
});
