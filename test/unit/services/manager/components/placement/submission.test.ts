// The manager's side of placement that needs no servers: how a submitted document splits into
// a configuration and its edge settings, which components the load balancer's pool holds, how
// the CLI reads YAML and renders a map, and the hypervisor's reading of /proc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHostfleetError } from '../../../../../../src/core/errors.js';
import { parseConfiguration } from '../../../../../../src/core/scheduler/index.js';
import {
  backendsOf,
  parseSubmission,
  poolIdOf,
} from '../../../../../../src/services/manager/components/placement/index.js';
import { processUsage } from '../../../../../../src/emulators/hypervisor/node.js';
import { formatMap, readDocument } from '../../../../../../src/cli/placement.js';

const tier = (name: string, role: string, ids: string[]) => ({
  name,
  role,
  components: ids.map((id) => ({ id, resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 } })),
});
const doc = (extra: Record<string, unknown> = {}) => ({
  id: 'shop',
  account: 'acme',
  tiers: [tier('lb', 'load-balancer', ['lb-1']), tier('web', 'web', ['web-1', 'web-2']), tier('app', 'app', ['app-1'])],
  ...extra,
});

test('parseSubmission: edge settings default, validate, and need a load-balancer tier for domains', () => {
  const ok = parseSubmission(doc());
  assert.deepEqual(ok.edge, { domains: [], balance: 'least-connections', sticky: false });
  assert.equal(ok.config.id, 'shop');
  assert.deepEqual(
    parseSubmission(doc({ edge: { domains: ['shop.example.com'], balance: 'round-robin', sticky: true } })).edge,
    { domains: ['shop.example.com'], balance: 'round-robin', sticky: true },
  );
  // near: an unknown key, told once with the known key it most likely meant.
  const bad: Array<{ name: string; input: unknown; fields: string[]; near?: string }> = [
    { name: 'bad balance', input: doc({ edge: { balance: 'random' } }), fields: ['edge.balance'] },
    { name: 'bad domain', input: doc({ edge: { domains: ['Not A Domain'] } }), fields: ['edge.domains'] },
    { name: 'sticky not boolean', input: doc({ edge: { sticky: 'yes' } }), fields: ['edge.sticky'] },
    {
      name: 'domains without a load balancer',
      input: { ...doc(), tiers: [tier('web', 'web', ['web-1'])], edge: { domains: ['a.example.com'] } },
      fields: ['edge.domains'],
    },
    { name: 'id too long for its pool', input: doc({ id: 'a'.repeat(37) }), fields: ['id'] },
    { name: 'not an object', input: [], fields: ['body'] },
    { name: 'unknown top-level key', input: doc({ colour: 'red' }), fields: ['colour'], near: '' },
    {
      name: 'unknown tier key',
      input: { ...doc(), tiers: [{ ...tier('web', 'web', ['web-1']), antiaffinity: false }] },
      fields: ['tiers[0].antiaffinity'],
      near: 'antiAffinity',
    },
    {
      name: 'unknown component key',
      input: {
        ...doc(),
        tiers: [
          {
            name: 'web',
            role: 'web',
            components: [
              { id: 'web-1', resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 }, behavior: { traffic: 'heavy' } },
            ],
          },
        ],
      },
      fields: ['tiers[0].components[0].behavior'],
      near: 'behaviour',
    },
    {
      name: 'unknown edge key',
      input: doc({ edge: { domain: ['shop.example.com'] } }),
      fields: ['edge.domain'],
      near: 'domains',
    },
  ];
  for (const row of bad) {
    assert.throws(
      () => parseSubmission(row.input),
      (e: unknown) =>
        isHostfleetError(e, 'E_VALIDATION') && row.fields.every((f) => e.fields?.some((p) => p.field === f)),
      row.name,
    );
    if (row.near === undefined) continue;
    const hint = row.near === '' ? 'allowed: id, account, risk, tiers, connections, edge' : `did you mean ${row.near}?`;
    assert.throws(
      () => parseSubmission(row.input),
      (e: unknown) =>
        isHostfleetError(e, 'E_VALIDATION') && e.fields?.length === 1 && (e.fields[0]?.problem ?? '').includes(hint),
      `${row.name}: one problem, saying ${hint}`,
    );
  }
  assert.equal(poolIdOf('shop'), 'cfg-shop');
});

test('backendsOf: the load balancer sends to what it connects to, else to every web component', () => {
  const table = [
    { name: 'no connections: the web tier', input: doc(), want: ['web-1', 'web-2'] },
    {
      name: 'connections decide',
      input: doc({
        connections: [
          { from: 'lb-1', to: 'app-1' },
          { from: 'web-1', to: 'app-1' },
        ],
      }),
      want: ['app-1'],
    },
    { name: 'no load balancer: no pool', input: { ...doc(), tiers: [tier('web', 'web', ['web-1'])] }, want: [] },
  ];
  for (const row of table) assert.deepEqual(backendsOf(parseConfiguration(row.input)), row.want, row.name);
});

test('the CLI reads YAML and JSON alike and renders a map', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hf-cli-'));
  writeFileSync(
    join(dir, 'c.yaml'),
    'id: shop\naccount: acme\ntiers:\n  - name: web\n    role: web\n    components:\n      - id: web-1\n        resources: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 }\n',
  );
  writeFileSync(join(dir, 'c.json'), JSON.stringify(parseConfiguration(readDocument(join(dir, 'c.yaml')))));
  assert.deepEqual(
    parseConfiguration(readDocument(join(dir, 'c.json'))),
    parseConfiguration(readDocument(join(dir, 'c.yaml'))),
  );
  const lines = formatMap({
    configuration: {
      id: 'shop',
      account: 'acme',
      state: 'running',
      edge: { pool: 'cfg-shop', domains: ['shop.example.com'], balance: 'round-robin', sticky: true },
    },
    components: [
      { component: 'web-1', tier: 'web', node: 'node-a', state: 'running', address: '127.0.0.1:4000', moves: 1 },
    ],
  });
  assert.match(lines[0]!, /cfg-shop round-robin sticky shop\.example\.com/);
  assert.match(lines[2]!, /web-1\s+web\s+node-a\s+running\s+1\s+127\.0\.0\.1:4000/);
});

test('processUsage reads CPU seconds and resident memory of a live process, null for a gone one', async () => {
  // Burn a little CPU so the counter is above zero.
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i % 7;
  assert.ok(x > 0);
  const u = await processUsage(process.pid);
  assert.ok(u && u.cpuSeconds > 0 && u.rssBytes > 10 * 1024 * 1024, JSON.stringify(u));
  assert.equal(await processUsage(2 ** 22 + 12345), null);
});

test('bad scheduler settings in the manager configuration stop the start with E_CONFIG', async () => {
  const { createPlacement } = await import('../../../../../../src/services/manager/components/placement/index.js');
  const ctxOf = (scheduler: Record<string, unknown>) =>
    ({
      cfg: { placement: { scheduler, nodeHealthIntervalMs: 500, snapshotIntervalMs: 5000 } },
    }) as unknown as Parameters<typeof createPlacement>[0];
  assert.throws(
    () => createPlacement(ctxOf({ weights: { nope: 1 } })),
    (e: unknown) => isHostfleetError(e, 'E_CONFIG') && /weights\.nope/.test((e as Error).message),
  );
  assert.throws(
    () => createPlacement(ctxOf({ riskThreshold: 'none' })),
    (e: unknown) => isHostfleetError(e, 'E_CONFIG'),
  );
  const ok = createPlacement(ctxOf({ weights: { spread: 2 } }));
  await ok.stop?.();
});
