import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { loadManagerConfig } from '../../../../src/services/manager/config.js';
import { loadConfig } from '../../../../src/services/shared/config.js';
import { parseSettings } from '../../../../src/core/scheduler/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';
import { renderConfigDoc } from './config-doc.fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'hf-config-'));
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const good = `site: { id: local }
dataDir: /tmp/hf
edge: { kind: builtin, adminUrl: 'http://127.0.0.1:8081', token: 'abcdefghijklmnopqrstu' }
volumes: { kind: local, root: /tmp/hf/volumes }
`;

test('a valid file gets defaults; environment variables override it', () => {
  const cfg = loadManagerConfig(file('good.yaml', good), {
    HOSTFLEET_LISTEN_PORT: '9999',
    DATABASE_URL: 'postgres://x@y/z',
  });
  assert.equal(cfg.listen.port, 9999);
  assert.equal(cfg.listen.host, '127.0.0.1');
  assert.equal(cfg.moves.drainTimeoutMs, 10_000);
  assert.equal(cfg.databaseUrl, 'postgres://x@y/z');
});

test('bad configuration fails at start-up naming every wrong field', () => {
  const cases = [
    { name: 'bad site id', text: good.replace('id: local', 'id: Local Site'), field: 'site.id' },
    { name: 'short edge token', text: good.replace('abcdefghijklmnopqrstu', 'short'), field: 'edge.token' },
    { name: 'missing volumes', text: good.replace(/volumes:.*\n/, ''), field: 'volumes' },
    { name: 'port out of range', text: good + 'listen: { port: 70000 }\n', field: 'listen.port' },
  ];
  for (const c of cases) {
    assert.throws(
      () => loadManagerConfig(file(`${c.name}.yaml`, c.text), {}),
      (e: unknown) => isHostfleetError(e, 'E_CONFIG') && (e.fields ?? []).some((f) => f.field === c.field),
      c.name,
    );
  }
  assert.throws(
    () => loadManagerConfig(file('port.yaml', good), { HOSTFLEET_LISTEN_PORT: 'eighty' }),
    (e: unknown) => isHostfleetError(e, 'E_CONFIG') && e.message.includes('HOSTFLEET_LISTEN_PORT'),
  );
  assert.throws(
    () => loadManagerConfig(join(dir, 'absent.yaml'), {}),
    (e: unknown) => isHostfleetError(e, 'E_CONFIG') && e.message.includes('absent.yaml'),
  );
});

test('an unknown key stops the start with E_CONFIG: one problem naming it, its place and the nearest name', () => {
  const cases = [
    { name: 'nested', text: good + 'listen: { prot: 80 }\n', field: 'listen.prot', near: 'port' },
    {
      name: 'a required section misspelt (no second "required" problem)',
      text: good.replace('volumes:', 'volume:'),
      field: 'volume',
      near: 'volumes',
    },
    {
      name: 'the variant kind names (builtin edge)',
      text: good.replace("token: 'abcdefghijklmnopqrstu'", "tokn: 'abcdefghijklmnopqrstu'"),
      field: 'edge.tokn',
      near: 'token',
    },
    {
      name: 'inside a list',
      text: good + "bmcs: [{ url: 'http://10.0.0.1', username: a, password: b, auht: basic }]\n",
      field: 'bmcs.0.auht',
      near: 'auth',
    },
    { name: 'top level, nothing near', text: good + 'colour: red\n', field: 'colour', near: undefined },
  ];
  for (const c of cases) {
    assert.throws(
      () => loadManagerConfig(file(`keys-${c.field}.yaml`, c.text), {}),
      (e: unknown) => {
        assert.ok(isHostfleetError(e, 'E_CONFIG'), c.name);
        assert.deepEqual(
          e.fields?.map((f) => f.field),
          [c.field],
          `${c.name}: ${e.message}`,
        );
        const problem = e.fields?.[0]?.problem ?? '';
        assert.ok(
          problem.startsWith('unknown key; ') &&
            (c.near === undefined ? !problem.includes('did you mean') : problem.includes(`did you mean ${c.near}?`)),
          `${c.name}: ${problem}`,
        );
        assert.ok(e.message.includes(c.field), c.name);
        return true;
      },
      c.name,
    );
  }
});

test('free-form blocks pass the loader and are checked by their reader; closed schemas tell an unknown key once', () => {
  const kept = loadManagerConfig(
    file('scheduler-ok.yaml', good + 'placement: { scheduler: { weights: { spread: 2 } } }\n'),
    {},
  );
  assert.deepEqual(kept.placement.scheduler, { weights: { spread: 2 } }, 'a free-form block reaches its reader whole');
  const cfg = loadManagerConfig(
    file('scheduler.yaml', good + 'placement: { scheduler: { weights: { spred: 2 } } }\n'),
    {},
  );
  assert.throws(
    () => parseSettings(cfg.placement.scheduler),
    (e: unknown) =>
      isHostfleetError(e, 'E_CONFIG') &&
      e.fields?.length === 1 &&
      e.fields[0]?.field === 'weights.spred' &&
      e.fields[0].problem.includes('did you mean spread?'),
  );
  assert.throws(
    () => parseSettings({ limt: { minNodes: 3 } }),
    (e: unknown) =>
      isHostfleetError(e, 'E_CONFIG') &&
      e.fields?.[0]?.field === 'limt' &&
      e.fields[0].problem.includes('did you mean limit?'),
  );
  const closed = Type.Object(
    { a: Type.Object({ b: Type.Number() }, { additionalProperties: false }) },
    { additionalProperties: false },
  );
  assert.throws(
    () => loadConfig(closed, { file: file('closed.json', '{ "a": { "b": 1, "c": 2 } }'), env: {} }),
    (e: unknown) => isHostfleetError(e, 'E_CONFIG') && e.fields?.length === 1 && e.fields[0]?.field === 'a.c',
  );
});

test('docs/CONFIGURATION.md holds the current reference (regenerate: node --import tsx scripts/config-doc.ts)', () => {
  const doc = readFileSync(new URL('../../../../docs/CONFIGURATION.md', import.meta.url), 'utf8');
  assert.equal(doc, renderConfigDoc(doc));
});
