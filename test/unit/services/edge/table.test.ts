// The built-in edge's routing table and request rules: balancing choice, drain and health
// rules, domain ownership, and the pure helpers of the data plane (host key, retry rule,
// header rewriting, address grammar).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RoutingTable } from '../../../../src/services/edge/table.js';
import type { ServerEntry } from '../../../../src/services/edge/table.js';
import { canRetry, downstreamHeaders, hostOf, upstreamHeaders } from '../../../../src/services/edge/proxy.js';
import { parseAddress } from '../../../../src/drivers/edge/validate.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

/** Fake upstream handle: the table only stores it and closes it; a counter shows it was released. */
function newTable(): { table: RoutingTable<string>; closed: string[] } {
  const closed: string[] = [];
  const table = new RoutingTable<string>({
    makeUpstream: (address) => ({ dispatcher: address, close: async () => void closed.push(address) }),
  });
  return { table, closed };
}

function poolWith(n: number): { table: RoutingTable<string>; servers: Array<ServerEntry<string>> } {
  const { table } = newTable();
  table.upsertPool('p', ['p.example.com']);
  const servers = Array.from({ length: n }, (_, i) =>
    table.attach('p', { id: `s${i}`, address: `10.0.0.${i + 1}:80` }),
  );
  return { table, servers };
}

test('pick: least outstanding wins; equal servers take turns', () => {
  const { table, servers } = poolWith(3);
  const pool = table.pool('p')!;
  const order = Array.from({ length: 6 }, () => table.pick(pool)!.id);
  assert.deepEqual(order, ['s0', 's1', 's2', 's0', 's1', 's2']);
  table.begin(servers[0]!);
  table.begin(servers[1]!);
  assert.equal(table.pick(pool)!.id, 's2');
  table.begin(servers[2]!);
  table.begin(servers[2]!);
  assert.ok(['s0', 's1'].includes(table.pick(pool)!.id));
});

test('pick: skips draining, down and already-tried servers', () => {
  const table_ = [
    {
      name: 'draining',
      prep: (s: Array<ServerEntry<string>>, t: RoutingTable<string>) => void t.startDrain('p', s[0]!.id),
      want: ['s1'],
    },
    {
      name: 'down',
      prep: (s: Array<ServerEntry<string>>, t: RoutingTable<string>) => t.markFailed(s[0]!),
      want: ['s1'],
    },
    {
      name: 'all draining',
      prep: (s: Array<ServerEntry<string>>, t: RoutingTable<string>) => s.forEach((x) => t.startDrain('p', x.id)),
      want: [undefined],
    },
  ];
  for (const row of table_) {
    const { table, servers } = poolWith(2);
    row.prep(servers, table);
    const got = [table.pick(table.pool('p')!)?.id];
    assert.deepEqual(got, row.want, row.name);
  }
  const { table, servers } = poolWith(2);
  assert.equal(table.pick(table.pool('p')!, new Set([servers[0]!]))?.id, 's1');
  assert.equal(table.pick(table.pool('p')!, new Set(servers)), undefined);
});

test('health: two consecutive failures mark down, one success marks up; attach marks up at once', () => {
  const { table, servers } = poolWith(1);
  const s = servers[0]!;
  const steps: Array<[boolean, 'up' | 'down']> = [
    [false, 'up'],
    [true, 'up'],
    [false, 'up'],
    [false, 'down'],
    [false, 'down'],
    [true, 'up'],
  ];
  for (const [ok, want] of steps) {
    table.recordHealth(s, ok);
    assert.equal(s.health, want);
  }
  table.markFailed(s);
  assert.equal(s.health, 'down');
  table.attach('p', { id: 's0', address: s.address });
  assert.equal(s.health, 'up');
  assert.equal(s.failures, 5);
});

test('waitIdle resolves when the last request ends, or false at the timeout', async () => {
  const { table, servers } = poolWith(1);
  const s = servers[0]!;
  assert.equal(await table.waitIdle(s, 10), true);
  table.begin(s);
  table.begin(s);
  assert.equal(await table.waitIdle(s, 20), false);
  const idle = table.waitIdle(s, 5_000);
  table.end(s, true);
  table.end(s, true);
  assert.equal(await idle, true);
  assert.equal(s.served, 2);
});

test('domains: one owner; upsert replaces the list; conflicts change nothing', () => {
  const { table } = newTable();
  table.upsertPool('a', ['a.example.com', 'www.a.example.com']);
  table.upsertPool('b', ['b.example.com']);
  assert.throws(
    () => table.upsertPool('b', ['b.example.com', 'a.example.com']),
    (e) => isHostfleetError(e, 'E_CONFLICT'),
  );
  assert.deepEqual(
    table.status().map((p) => [p.id, p.domains]),
    [
      ['a', ['a.example.com', 'www.a.example.com']],
      ['b', ['b.example.com']],
    ],
  );
  table.upsertPool('a', ['a.example.com']);
  assert.equal(table.lookup('www.a.example.com'), undefined);
  table.upsertPool('b', ['www.a.example.com']);
  assert.equal(table.lookup('www.a.example.com')?.id, 'b');
  assert.equal(table.lookup('b.example.com'), undefined);
  assert.throws(
    () => table.attach('nope', { id: 'x', address: '1.2.3.4:5' }),
    (e) => isHostfleetError(e, 'E_NOT_FOUND'),
  );
});

test('detach and removePool release upstream clients; a new address gets a new client', () => {
  const { table, closed } = newTable();
  table.upsertPool('p', ['p.example.com']);
  table.attach('p', { id: 's', address: '10.0.0.1:80' });
  table.attach('p', { id: 's', address: '10.0.0.2:80' });
  assert.deepEqual(closed, ['10.0.0.1:80']);
  table.attach('p', { id: 't', address: '10.0.0.3:80' });
  table.detach('p', 't');
  table.detach('p', 't');
  table.removePool('p');
  table.removePool('p');
  assert.deepEqual(closed, ['10.0.0.1:80', '10.0.0.3:80', '10.0.0.2:80']);
  assert.deepEqual(table.status(), []);
});

test('property: pick always returns an eligible server with the fewest outstanding requests', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('begin' as const), i: fc.nat(5) }),
    fc.record({ kind: fc.constant('end' as const), i: fc.nat(5) }),
    fc.record({ kind: fc.constant('drain' as const), i: fc.nat(5) }),
    fc.record({ kind: fc.constant('fail' as const), i: fc.nat(5) }),
    fc.record({ kind: fc.constant('attach' as const), i: fc.nat(5) }),
    fc.record({ kind: fc.constant('detach' as const), i: fc.nat(5) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (n, ops) => {
      const { table } = poolWith(n);
      const pool = table.pool('p')!;
      for (const o of ops) {
        const s = table.server('p', `s${o.i}`);
        if (o.kind === 'attach') table.attach('p', { id: `s${o.i}`, address: `10.0.1.${o.i + 1}:80` });
        else if (o.kind === 'detach') table.detach('p', `s${o.i}`);
        else if (!s) continue;
        else if (o.kind === 'begin') table.begin(s);
        else if (o.kind === 'end' && s.outstanding > 0) table.end(s, true);
        else if (o.kind === 'drain') table.startDrain('p', s.id);
        else if (o.kind === 'fail') table.markFailed(s);
        const eligible = [...pool.servers.values()].filter((x) => x.health === 'up' && !x.draining);
        const got = table.pick(pool);
        if (eligible.length === 0) {
          assert.equal(got, undefined);
        } else {
          assert.ok(got && eligible.includes(got), 'picked an eligible server');
          assert.equal(got.outstanding, Math.min(...eligible.map((x) => x.outstanding)));
        }
        for (const x of pool.servers.values()) assert.ok(x.outstanding >= 0);
      }
    }),
    { numRuns: 300 },
  );
});

test('hostOf: lower-cases, strips the port and a trailing dot', () => {
  const rows: Array<[string | undefined, string]> = [
    [undefined, ''],
    ['Shop.Example.COM', 'shop.example.com'],
    ['shop.example.com:8443', 'shop.example.com'],
    ['shop.example.com.', 'shop.example.com'],
    ['[::1]:80', '[::1]'],
    ['  a.b.test ', 'a.b.test'],
  ];
  for (const [input, want] of rows) assert.equal(hostOf(input), want, String(input));
});

test('canRetry: idempotent methods, or requests the upstream cannot have seen', () => {
  const rows: Array<{ name: string; args: [string, string | undefined, boolean, boolean]; want: boolean }> = [
    { name: 'GET reset', args: ['GET', 'ECONNRESET', false, false], want: true },
    { name: 'PUT body sent', args: ['PUT', 'ECONNRESET', true, true], want: false },
    { name: 'PUT body not sent', args: ['PUT', 'ECONNRESET', true, false], want: true },
    { name: 'POST refused', args: ['POST', 'ECONNREFUSED', false, false], want: true },
    { name: 'POST no body reset', args: ['POST', 'UND_ERR_SOCKET', false, false], want: false },
    { name: 'POST body not sent reset', args: ['POST', 'UND_ERR_SOCKET', true, false], want: true },
    { name: 'POST body sent', args: ['POST', 'ECONNREFUSED', true, true], want: false },
    { name: 'PATCH refused', args: ['PATCH', 'ECONNREFUSED', false, false], want: true },
  ];
  for (const row of rows) assert.equal(canRetry(...row.args), row.want, row.name);
});

test('headers: hop-by-hop removed both ways, X-Forwarded-* added', () => {
  const up = upstreamHeaders(
    {
      host: 'shop.example.com',
      connection: 'keep-alive, x-secret',
      'x-secret': '1',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'transfer-encoding': 'chunked',
      'proxy-authorization': 'x',
      expect: '100-continue',
      'x-forwarded-for': '10.9.9.9',
      accept: 'text/html',
      cookie: 'a=b',
    },
    '192.0.2.7',
    'shop.example.com',
  );
  assert.deepEqual(up, {
    host: 'shop.example.com',
    'x-forwarded-for': '10.9.9.9, 192.0.2.7',
    accept: 'text/html',
    cookie: 'a=b',
    'x-forwarded-host': 'shop.example.com',
    'x-forwarded-proto': 'http',
  });
  const down = downstreamHeaders({
    connection: 'close, x-hop',
    'x-hop': '1',
    'transfer-encoding': 'chunked',
    'content-type': 'text/plain',
    'set-cookie': ['a=1', 'b=2'],
  });
  assert.deepEqual(down, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
});

test('parseAddress accepts host:port only', () => {
  const good: Array<[string, { host: string; port: number }]> = [
    ['10.0.0.7:8080', { host: '10.0.0.7', port: 8080 }],
    ['web-1.internal:80', { host: 'web-1.internal', port: 80 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
  ];
  for (const [input, want] of good) assert.deepEqual(parseAddress(input), want, input);
  for (const bad of [
    '',
    '10.0.0.7',
    ':80',
    '10.0.0.7:0',
    '10.0.0.7:65536',
    '10.0.0.7:08',
    '10.0.0.256:80',
    'a b:80',
    'x:80\n',
    'Upper.Case:80',
    '[::1]:80',
    'a.test:80 extra',
  ]) {
    assert.equal(parseAddress(bad), null, JSON.stringify(bad));
  }
});
