// Input files that are missing or broken: every reader names the file, what it was for and
// what it should hold, with a catalogue code — never a bare ENOENT or a parser's stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHostfleetError } from '../../../../src/core/errors.js';
import type { ErrorCode } from '../../../../src/core/errors.js';
import { readDocument } from '../../../../src/cli/placement.js';
import { tracesDir } from '../../../../src/cli/load.js';
import { buildScenario } from '../../../../src/emulators/load/scenario.js';
import { loadManagerConfig } from '../../../../src/services/manager/config.js';
import { buildDemand, loadScenario } from '../../../../src/sim/scenario.js';
import { listTraceFiles, loadTrace } from '../../../../src/sim/traces.js';

const dir = mkdtempSync(join(tmpdir(), 'hf-input-'));
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const absent = join(dir, 'absent');
const scenarioWith = (trace: string) =>
  file(
    'with-trace.yaml',
    `days: 1\nwarmupDays: 0\nsites: [{ id: eu, servers: 4 }]\ncustomers:\n  - { id: acme, trace: { file: ${trace}, from: 2015-03-02T00:00:00Z, peakRps: 10 } }\n`,
  );

test('a missing or broken input file is named, with what it should hold', async () => {
  const cases: Array<{ name: string; run: () => Promise<unknown>; code: ErrorCode; want: readonly string[] }> = [
    {
      name: 'scenario file missing',
      run: () => loadScenario(`${absent}.yaml`),
      code: 'E_VALIDATION',
      want: [`cannot read scenario file ${absent}.yaml: no such file; expected a YAML or JSON scenario`],
    },
    {
      name: 'scenario file not YAML',
      run: () => loadScenario(file('bad.yaml', 'days: [1\n')),
      code: 'E_VALIDATION',
      want: ['bad.yaml: not valid YAML', 'expected a YAML or JSON scenario'],
    },
    {
      name: 'scenario is a folder',
      run: () => loadScenario(dir),
      code: 'E_VALIDATION',
      want: [`scenario file ${dir}: it is a folder`],
    },
    {
      name: 'trace file of a customer missing',
      run: async () => buildDemand(await loadScenario(scenarioWith('nope.csv'))),
      code: 'E_VALIDATION',
      want: [`trace file ${join(dir, 'nope.csv')} (for customer acme): no such file; expected a CSV`],
    },
    {
      name: 'trace file missing',
      run: () => loadTrace(`${absent}.csv`),
      code: 'E_VALIDATION',
      want: ['cannot read trace file', 'no such file; expected a CSV'],
    },
    {
      name: 'trace folder missing',
      run: () => listTraceFiles(absent),
      code: 'E_VALIDATION',
      want: [`cannot read trace folder ${absent}: no such file`],
    },
    {
      name: 'diurnal load with a missing --trace',
      run: () =>
        buildScenario(
          'diurnal',
          { customers: [{ group: 'a', domain: 'a.test' }], baseRps: 1, durationMs: 1000, trace: 'nope.csv' },
          tracesDir(),
        ),
      code: 'E_VALIDATION',
      want: [
        'trace file',
        'nope.csv (for the diurnal scenario; --trace names a file under data/traces',
        'no such file',
      ],
    },
    {
      name: 'configuration file missing',
      run: async () => loadManagerConfig(`${absent}.yaml`, {}),
      code: 'E_CONFIG',
      want: [`cannot read configuration file ${absent}.yaml: no such file; expected a YAML or JSON mapping`],
    },
    {
      name: 'configuration file not JSON',
      run: async () => loadManagerConfig(file('bad.json', '{ site: '), {}),
      code: 'E_CONFIG',
      want: ['bad.json: not valid JSON'],
    },
    {
      name: 'placement file missing',
      run: async () => readDocument(`${absent}.yaml`),
      code: 'E_VALIDATION',
      want: [
        `cannot read placement file ${absent}.yaml: no such file; expected a YAML or JSON configuration with id, account and tiers`,
      ],
    },
  ];
  for (const c of cases) {
    await assert.rejects(
      c.run(),
      (e: unknown) => {
        assert.ok(isHostfleetError(e, c.code), `${c.name}: ${String(e)}`);
        for (const w of c.want) assert.ok(e.message.includes(w), `${c.name}: ${e.message}`);
        assert.doesNotMatch(e.message, /ENOENT|EISDIR/, c.name);
        return true;
      },
      c.name,
    );
  }
});

test('the traces are found from the module, and HOSTFLEET_TRACES_DIR overrides them', async () => {
  assert.ok((await listTraceFiles(tracesDir({}))).some((f) => f.endsWith('traces_en_wikipedia.csv')));
  assert.equal(tracesDir({ HOSTFLEET_TRACES_DIR: '/srv/traces' }), '/srv/traces');
});
