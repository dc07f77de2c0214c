import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManagerConfig } from '../../src/services/manager/config.js';
import { isHostfleetError } from '../../src/core/errors.js';
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
  const cfg = loadManagerConfig(file('good.yaml', good), { HOSTFLEET_LISTEN_PORT: '9999', DATABASE_URL: 'postgres://x@y/z' });
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
    assert.throws(() => loadManagerConfig(file(`${c.name}.yaml`, c.text), {}), (e: unknown) => isHostfleetError(e, 'E_CONFIG') && (e.fields ?? []).some((f) => f.field === c.field), c.name);
  }
  assert.throws(() => loadManagerConfig(file('port.yaml', good), { HOSTFLEET_LISTEN_PORT: 'eighty' }), (e: unknown) => isHostfleetError(e, 'E_CONFIG') && e.message.includes('HOSTFLEET_LISTEN_PORT'));
  assert.throws(() => loadManagerConfig(join(dir, 'absent.yaml'), {}), (e: unknown) => isHostfleetError(e, 'E_CONFIG') && e.message.includes('absent.yaml'));
});

test('docs/CONFIGURATION.md holds the current reference (regenerate: node --import tsx scripts/config-doc.ts)', () => {
  const doc = readFileSync(new URL('../../docs/CONFIGURATION.md', import.meta.url), 'utf8');
  assert.equal(doc, renderConfigDoc(doc));
});
