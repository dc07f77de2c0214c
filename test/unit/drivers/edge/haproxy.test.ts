// The HAProxy driver's pure parts: the generated configuration only takes validated values,
// and the Runtime API answers are parsed by their headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haproxyConfig } from '../../../../src/drivers/edge/haproxy-config.js';
import {
  parseCsvStat,
  parseMap,
  parseServersState,
  runtimeCommand,
} from '../../../../src/drivers/edge/haproxy-runtime.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const base = { dir: '/var/lib/hostfleet/haproxy', bindHost: '0.0.0.0', bindPort: 80 };

test('haproxyConfig declares the slots, the maps, the socket and the pages', () => {
  const g = haproxyConfig({ ...base, slots: 3, retryAfterS: 7 });
  const cfg = g.files['haproxy.cfg']!;
  assert.equal(g.configPath, '/var/lib/hostfleet/haproxy/haproxy.cfg');
  assert.equal(g.socketPath, '/var/lib/hostfleet/haproxy/admin.sock');
  assert.match(cfg, /stats socket \/var\/lib\/hostfleet\/haproxy\/admin\.sock mode 600 level admin/);
  assert.match(cfg, /bind 0\.0\.0\.0:80\n/);
  assert.deepEqual(cfg.match(/^backend hf_pool_\d+$/gm), [
    'backend hf_pool_0',
    'backend hf_pool_1',
    'backend hf_pool_2',
  ]);
  assert.match(cfg, /map\(\/var\/lib\/hostfleet\/haproxy\/hosts\.map\)/);
  assert.match(cfg, /map\(\/var\/lib\/hostfleet\/haproxy\/pools\.map\) if FALSE/);
  assert.match(g.files['503.http']!, /^HTTP\/1\.1 503 [^\r]*\r\n(?:[^\r]*\r\n)*Retry-After: 7\r\n/);
  const [head, page] = g.files['503.http']!.split('\r\n\r\n');
  assert.match(head!, new RegExp(`Content-Length: ${Buffer.byteLength(page!)}`));
});

test('haproxyConfig refuses values outside their grammar (no injection into the file)', () => {
  const rows: Array<{ name: string; opts: Partial<Parameters<typeof haproxyConfig>[0]>; field: string }> = [
    { name: 'relative dir', opts: { dir: 'haproxy' }, field: 'dir' },
    { name: 'dir with newline', opts: { dir: '/tmp/x\n  stats socket /tmp/evil' }, field: 'dir' },
    { name: 'dir with ..', opts: { dir: '/tmp/../etc' }, field: 'dir' },
    { name: 'bind host name', opts: { bindHost: 'example.com' }, field: 'bindHost' },
    { name: 'bind port', opts: { bindPort: 0 }, field: 'bindPort' },
    { name: 'slots', opts: { slots: 0 }, field: 'slots' },
    { name: 'prefix', opts: { backendPrefix: 'x y' }, field: 'backendPrefix' },
    { name: 'health path', opts: { healthPath: '/h ealth' }, field: 'healthPath' },
    { name: 'retry after', opts: { retryAfterS: 0 }, field: 'retryAfterS' },
  ];
  for (const row of rows) {
    assert.throws(
      () => haproxyConfig({ ...base, ...row.opts }),
      (e) => isHostfleetError(e, 'E_CONFIG') && (e.fields ?? []).some((f) => f.field === row.field),
      row.name,
    );
  }
});

test('Runtime API answers are parsed by their headers', () => {
  const stat =
    '# pxname,svname,qcur,qmax,scur,status,addr\nhf_pool_0,s1,0,0,2,UP,10.0.0.1:80\nhf_pool_0,s2,1,0,0,DRAIN,10.0.0.2:80\n\n';
  assert.deepEqual(
    parseCsvStat(stat).map((r) => [r.svname, r.scur, r.qcur, r.status]),
    [
      ['s1', '2', '0', 'UP'],
      ['s2', '0', '1', 'DRAIN'],
    ],
  );
  const state =
    '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_port\n4 hf_pool_0 1 s1 127.0.0.1 2 8 18091\n\n';
  assert.deepEqual(parseServersState(state), [
    {
      be_id: '4',
      be_name: 'hf_pool_0',
      srv_id: '1',
      srv_name: 's1',
      srv_addr: '127.0.0.1',
      srv_op_state: '2',
      srv_admin_state: '8',
      srv_port: '18091',
    },
  ]);
  assert.deepEqual(parseServersState("Can't find backend.\n"), []);
  assert.deepEqual(parseMap('0x55d0 shop.example.com hf_pool_0\n0x55d1 shop hf_pool_0\n\n'), [
    { key: 'shop.example.com', value: 'hf_pool_0' },
    { key: 'shop', value: 'hf_pool_0' },
  ]);
});

test('runtimeCommand refuses to send a second command smuggled in a value', async () => {
  for (const c of ['add map /x a.test hf_pool_0\nshutdown sessions', 'show info; show stat', 'show info # x']) {
    await assert.rejects(
      runtimeCommand('/nonexistent.sock', c, 100),
      (e) => isHostfleetError(e, 'E_INTERNAL'),
      JSON.stringify(c),
    );
  }
  await assert.rejects(runtimeCommand('/nonexistent/admin.sock', 'show info', 100), (e) =>
    isHostfleetError(e, 'E_EDGE'),
  );
});
