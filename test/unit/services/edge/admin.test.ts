// The built-in edge's admin API, in-process (app.inject): bearer token, validation errors in
// the catalogue's shape, the CRUD and drain routes, and /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { RoutingTable } from '../../../../src/services/edge/table.js';
import { createMetrics } from '../../../../src/services/edge/metrics.js';
import { buildAdmin } from '../../../../src/services/edge/admin.js';
import { checkEdgeOptions } from '../../../../src/services/edge/edge.js';
import { edgeOptionsFromEnv } from '../../../../src/services/edge/main.js';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

function newAdmin() {
  const table = new RoutingTable<Dispatcher>({
    makeUpstream: (address) => {
      const p = new Pool(`http://${address}`);
      return { dispatcher: p, close: () => p.close() };
    },
  });
  const metrics = createMetrics(table);
  let persists = 0;
  const app = buildAdmin({ table, metrics, token: TOKEN, persisted: async () => void (persists += 1) });
  return { app, table, persists: () => persists };
}

test('every route but /healthz needs the bearer token', async () => {
  const { app } = newAdmin();
  const rows = [
    { name: 'no header', headers: {}, want: 401 },
    { name: 'wrong token', headers: { authorization: 'Bearer nope' }, want: 401 },
    { name: 'not bearer', headers: { authorization: TOKEN }, want: 401 },
    { name: 'right token', headers: auth, want: 200 },
  ];
  for (const row of rows) {
    for (const url of ['/v1/pools', '/metrics']) {
      const r = await app.inject({ method: 'GET', url, headers: row.headers });
      assert.equal(r.statusCode, row.want, `${row.name} ${url}`);
      if (row.want === 401) assert.equal(r.json().error.code, 'E_UNAUTHENTICATED');
    }
  }
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  await app.close();
});

test('pools and servers CRUD, drain, and persistence before answering', async () => {
  const { app, persists } = newAdmin();
  const put = (url: string, payload: unknown) =>
    app.inject({ method: 'PUT', url, headers: auth, payload: payload as Record<string, unknown> });
  assert.equal((await put('/v1/pools/shop', { domains: ['shop.example.com'] })).statusCode, 204);
  assert.equal((await put('/v1/pools/shop/servers/web-1', { address: '127.0.0.1:9' })).statusCode, 204);
  const status = (await app.inject({ method: 'GET', url: '/v1/status', headers: auth })).json();
  assert.deepEqual(status, [
    {
      id: 'shop',
      domains: ['shop.example.com'],
      balance: 'least-connections',
      sticky: false,
      rateLimit: null,
      servers: [{ id: 'web-1', address: '127.0.0.1:9', state: 'up', outstanding: 0, served: 0, failures: 0 }],
    },
  ]);
  const drain = await app.inject({
    method: 'POST',
    url: '/v1/pools/shop/servers/web-1/drain',
    headers: auth,
    payload: { timeoutMs: 50 },
  });
  assert.deepEqual(drain.json(), { drained: true, inflight: 0 });
  assert.equal(
    (await app.inject({ method: 'DELETE', url: '/v1/pools/shop/servers/web-1', headers: auth })).statusCode,
    204,
  );
  assert.equal((await app.inject({ method: 'DELETE', url: '/v1/pools/shop', headers: auth })).statusCode, 204);
  assert.equal((await app.inject({ method: 'DELETE', url: '/v1/pools/shop', headers: auth })).statusCode, 204);
  assert.equal(persists(), 6, 'each change waited for the state file');
  await app.close();
});

test('bad input answers 400 E_VALIDATION naming the field; conflicts 409; missing pool 404', async () => {
  const { app } = newAdmin();
  await app.inject({ method: 'PUT', url: '/v1/pools/a', headers: auth, payload: { domains: ['a.example.com'] } });
  const rows: Array<{
    name: string;
    method: 'PUT' | 'POST';
    url: string;
    payload: string;
    want: number;
    code: string;
    field?: string;
  }> = [
    {
      name: 'bad pool id',
      method: 'PUT',
      url: '/v1/pools/Bad',
      payload: '{"domains":[]}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'id',
    },
    {
      name: 'domains missing',
      method: 'PUT',
      url: '/v1/pools/b',
      payload: '{}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'domains',
    },
    {
      name: 'bad domain',
      method: 'PUT',
      url: '/v1/pools/b',
      payload: '{"domains":["x"]}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'domains[0]',
    },
    {
      name: 'duplicate domain',
      method: 'PUT',
      url: '/v1/pools/b',
      payload: '{"domains":["b.example.com","b.example.com"]}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'domains[1]',
    },
    { name: 'not json', method: 'PUT', url: '/v1/pools/b', payload: '{nope', want: 400, code: 'E_VALIDATION' },
    {
      name: 'bad address',
      method: 'PUT',
      url: '/v1/pools/a/servers/s1',
      payload: '{"address":"nowhere"}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'address',
    },
    {
      name: 'bad timeout',
      method: 'POST',
      url: '/v1/pools/a/servers/s1/drain',
      payload: '{"timeoutMs":"soon"}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'timeoutMs',
    },
    {
      name: 'rate limit of 0',
      method: 'PUT',
      url: '/v1/pools/b',
      payload: '{"domains":["b.example.com"],"rateLimit":0}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'rateLimit',
    },
    {
      name: 'rate limit not whole',
      method: 'PUT',
      url: '/v1/pools/b',
      payload: '{"domains":["b.example.com"],"rateLimit":2.5}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'rateLimit',
    },
    {
      name: 'rate limit as text',
      method: 'PUT',
      url: '/v1/pools/b',
      payload: '{"domains":["b.example.com"],"rateLimit":"10"}',
      want: 400,
      code: 'E_VALIDATION',
      field: 'rateLimit',
    },
    {
      name: 'conflict',
      method: 'PUT',
      url: '/v1/pools/b',
      payload: '{"domains":["a.example.com"]}',
      want: 409,
      code: 'E_CONFLICT',
    },
    {
      name: 'missing pool',
      method: 'PUT',
      url: '/v1/pools/zz/servers/s1',
      payload: '{"address":"127.0.0.1:80"}',
      want: 404,
      code: 'E_NOT_FOUND',
    },
  ];
  for (const row of rows) {
    const r = await app.inject({
      method: row.method,
      url: row.url,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: row.payload,
    });
    assert.equal(r.statusCode, row.want, row.name);
    const err = r.json().error;
    assert.equal(err.code, row.code, row.name);
    assert.equal(typeof err.message, 'string');
    if (row.field)
      assert.ok(
        err.fields.some((f: { field: string }) => f.field === row.field),
        `${row.name}: ${JSON.stringify(err.fields)}`,
      );
  }
  await app.close();
});

test('/metrics exposes requests, latency, outstanding, server states and retries', async () => {
  const { app } = newAdmin();
  await app.inject({ method: 'PUT', url: '/v1/pools/m', headers: auth, payload: { domains: ['m.example.com'] } });
  await app.inject({
    method: 'PUT',
    url: '/v1/pools/m/servers/s1',
    headers: auth,
    payload: { address: '127.0.0.1:9' },
  });
  const r = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
  assert.match(String(r.headers['content-type']), /text\/plain/);
  for (const name of [
    'hostfleet_edge_requests_total',
    'hostfleet_edge_upstream_seconds',
    'hostfleet_edge_retries_total',
  ])
    assert.match(r.body, new RegExp(`# TYPE ${name} `));
  assert.match(r.body, /hostfleet_edge_outstanding\{pool="m",server="s1"\} 0/);
  assert.match(r.body, /hostfleet_edge_server_state\{pool="m",server="s1",state="up"\} 1/);
  assert.match(r.body, /hostfleet_edge_server_state\{pool="m",server="s1",state="draining"\} 0/);
  await app.close();
});

test('configuration: bad options are refused at start-up with every problem named', () => {
  const problems = checkEdgeOptions({
    host: '',
    port: 70000,
    adminHost: '127.0.0.1',
    adminPort: -1,
    token: 'short',
    healthIntervalMs: 5,
    healthPath: 'healthz',
  });
  assert.deepEqual(problems.map((p) => p.field).sort(), [
    'adminPort',
    'healthIntervalMs',
    'healthPath',
    'host',
    'port',
    'token',
  ]);
  assert.deepEqual(
    checkEdgeOptions({ host: '127.0.0.1', port: 0, adminHost: '127.0.0.1', adminPort: 0, token: TOKEN }),
    [],
  );
  const env = edgeOptionsFromEnv({
    HOSTFLEET_EDGE_PORT: '9090',
    HOSTFLEET_EDGE_TOKEN: TOKEN,
    HOSTFLEET_EDGE_STATE_FILE: '/tmp/x.json',
  });
  assert.equal(env.port, 9090);
  assert.equal(env.adminPort, 8081);
  assert.equal(env.stateFile, '/tmp/x.json');
  assert.equal(env.healthPath, '/healthz');
});
