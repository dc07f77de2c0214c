// The manager's API as a client sees it: authentication, roles, account scoping, and bad
// input rejected with errors that name the field and what is allowed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import { ApiError, Client } from '../../src/cli/client.js';
import { setRestriction } from '../../src/drivers/store/billing.js';

async function raw(
  site: TestSite,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? site.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const r = await request(site.managerUrl + path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await r.body.text();
  return {
    status: r.statusCode,
    json: (text ? JSON.parse(text) : {}) as {
      error?: { code: string; message: string; fields?: { field: string; problem: string }[] };
    } & Record<string, unknown>,
  };
}

describe('manager API', () => {
  let site: TestSite;
  let customerA: Client;
  let reseller: Client;
  before(async () => {
    site = await startTestSite({ machines: 1 });
    await site.customer('alpha', ['alpha.test']);
    await site.customer('bravo', ['bravo.test']);
    await site.customer('resell', ['resell.test']);
    await site.registerAll();
    const a = await site.client.call<{ token: string }>('POST', '/v1/tokens', {
      role: 'customer',
      accountId: 'alpha',
      name: 'alpha admin',
    });
    customerA = new Client(site.managerUrl, a.token);
    const r = await site.client.call<{ token: string }>('POST', '/v1/tokens', {
      role: 'reseller',
      accountId: 'resell',
      name: 'reseller',
    });
    reseller = new Client(site.managerUrl, r.token);
  });
  after(async () => {
    await site?.stop();
  });

  test('every /v1 call needs a known bearer token', async () => {
    const cases = [
      { name: 'no token', token: null },
      { name: 'unknown token', token: 'hf_' + 'x'.repeat(43) },
      { name: 'malformed', token: 'a b' },
    ];
    for (const c of cases) {
      const r = await raw(site, 'GET', '/v1/status', { token: c.token });
      assert.equal(r.status, 401, c.name);
      assert.equal(r.json.error?.code, 'E_UNAUTHENTICATED', c.name);
    }
    assert.equal((await raw(site, 'GET', '/metrics', { token: null })).status, 401);
    assert.equal((await raw(site, 'GET', '/healthz', { token: null })).status, 200);
  });

  test('bad input is rejected with 400 naming the field and what is allowed; nothing is created', async () => {
    const cases = [
      {
        name: 'bad id',
        path: '/v1/accounts',
        body: { id: 'Bad Id', displayName: 'x' },
        field: 'body.id',
        problem: /lower-case/,
      },
      {
        name: 'missing field',
        path: '/v1/accounts',
        body: { id: 'ok-id' },
        field: 'body.displayName',
        problem: /required/,
      },
      {
        name: 'unknown field',
        path: '/v1/accounts',
        body: { id: 'ok-id', displayName: 'x', colour: 'red' },
        field: 'body.colour',
        problem: /not a known field/,
      },
      {
        name: 'markup in a name',
        path: '/v1/accounts',
        body: { id: 'ok-id', displayName: '<script>alert(1)</script>' },
        field: 'body.displayName',
        problem: /without < or >/,
      },
      {
        name: 'newline injection',
        path: '/v1/accounts',
        body: { id: 'ok-id', displayName: 'a\nb' },
        field: 'body.displayName',
        problem: /printable/,
      },
      {
        name: 'domain with a semicolon',
        path: '/v1/groups',
        body: { id: 'g1', accountId: 'alpha', role: 'front-end', domains: ['evil.test;'] },
        field: 'body.domains.0',
        problem: /DNS name/,
      },
      {
        name: 'domain with ..',
        path: '/v1/groups',
        body: { id: 'g1', accountId: 'alpha', role: 'front-end', domains: ['a..test'] },
        field: 'body.domains.0',
        problem: /DNS name/,
      },
      {
        name: 'unknown role',
        path: '/v1/groups',
        body: { id: 'g1', accountId: 'alpha', role: 'mainframe' },
        field: 'body.role',
        problem: /one of front-end/,
      },
      {
        name: 'min above max',
        path: '/v1/groups',
        body: { id: 'g1', accountId: 'alpha', role: 'web', minSize: 5, maxSize: 2 },
        field: 'body.minSize',
        problem: /at most maxSize/,
      },
      {
        name: 'no such account',
        path: '/v1/groups',
        body: { id: 'g1', accountId: 'nobody', role: 'web' },
        field: 'body.accountId',
        problem: /existing account/,
      },
      {
        name: 'bad move target',
        path: '/v1/moves',
        body: { server: 'srv-01', to: 'Not A Group' },
        field: 'body.to',
        problem: /.+/,
      },
      {
        name: 'address with a path',
        path: '/v1/servers',
        body: { id: 'x1', bmcUrl: 'http://127.0.0.1:1', systemId: '1', address: '1.2.3.4:80/../x' },
        field: 'body.address',
        problem: /host:port/,
      },
      { name: 'not JSON', path: '/v1/accounts', body: '{"id":', field: 'body', problem: /.+/ },
    ];
    for (const c of cases) {
      const r = await raw(site, 'POST', c.path, { body: c.body });
      assert.equal(r.status, 400, `${c.name}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error?.code, 'E_VALIDATION', c.name);
      const f = r.json.error?.fields?.find((x) => x.field === c.field);
      assert.ok(f, `${c.name}: fields ${JSON.stringify(r.json.error?.fields)} name ${c.field}`);
      assert.match(f.problem, c.problem, c.name);
    }
    const accounts = await site.client.call<{ accounts: { id: string }[] }>('GET', '/v1/accounts');
    assert.ok(!accounts.accounts.some((a) => a.id === 'ok-id'));
    assert.equal((await raw(site, 'GET', '/v1/groups/g1')).status, 404);
  });

  test('conflicts and unknown resources get 409 and 404 with catalogue codes', async () => {
    const cases = [
      {
        name: 'duplicate account',
        method: 'POST' as const,
        path: '/v1/accounts',
        body: { id: 'alpha', displayName: 'again' },
        status: 409,
        code: 'E_CONFLICT',
      },
      {
        name: 'taken domain',
        method: 'POST' as const,
        path: '/v1/groups',
        body: { id: 'alpha-api', accountId: 'alpha', role: 'app', domains: ['bravo.test'] },
        status: 409,
        code: 'E_CONFLICT',
      },
      {
        name: 'unknown server',
        method: 'POST' as const,
        path: '/v1/moves',
        body: { server: 'srv-99', to: 'alpha-web' },
        status: 404,
        code: 'E_NOT_FOUND',
      },
      {
        name: 'unknown group',
        method: 'POST' as const,
        path: '/v1/moves',
        body: { server: 'srv-01', to: 'zulu-web' },
        status: 404,
        code: 'E_NOT_FOUND',
      },
      {
        name: 'already there',
        method: 'POST' as const,
        path: '/v1/moves',
        body: { server: 'srv-01', to: 'pool' },
        status: 409,
        code: 'E_CONFLICT',
      },
      {
        name: 'unknown route',
        method: 'GET' as const,
        path: '/v1/nothing',
        body: undefined,
        status: 404,
        code: 'E_NOT_FOUND',
      },
    ];
    for (const c of cases) {
      const r = await raw(site, c.method, c.path, { body: c.body });
      assert.equal(r.status, c.status, `${c.name}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error?.code, c.code, c.name);
    }
    assert.equal(
      (await raw(site, 'GET', '/v1/groups/alpha-api')).status,
      404,
      'the group with a taken domain was not half created',
    );
  });

  test('a customer sees only its own account, through every route', async () => {
    const mine = await customerA.call<{ accounts: { id: string }[] }>('GET', '/v1/accounts');
    assert.deepEqual(
      mine.accounts.map((a) => a.id),
      ['alpha'],
    );
    const groups = await customerA.call<{ groups: { id: string }[] }>('GET', '/v1/groups');
    assert.deepEqual(
      groups.groups.map((g) => g.id),
      ['alpha-web'],
    );
    const st = await customerA.call<{ groups: { id: string }[]; pool: unknown[] }>('GET', '/v1/status');
    assert.deepEqual(
      st.groups.map((g) => g.id),
      ['alpha-web'],
    );
    assert.deepEqual(st.pool, []);
    for (const path of ['/v1/accounts/bravo', '/v1/groups/bravo-web', '/v1/servers/srv-01']) {
      await assert.rejects(
        customerA.call('GET', path),
        (e: unknown) => e instanceof ApiError && e.status === 404,
        path,
      );
    }
    for (const [method, path, body] of [
      ['POST', '/v1/moves', { server: 'srv-01', to: 'alpha-web' }],
      ['POST', '/v1/accounts', { id: 'x', displayName: 'x' }],
      ['GET', '/v1/pool', undefined],
      ['GET', '/metrics', undefined],
      ['POST', '/v1/tokens', { role: 'operator', name: 'me' }],
    ] as const) {
      await assert.rejects(
        customerA.call(method, path, body),
        (e: unknown) => e instanceof ApiError && e.status === 403 && e.code === 'E_FORBIDDEN',
        path,
      );
    }
  });

  test('a reseller creates customers under itself and sees only them', async () => {
    const { account } = await reseller.call<{ account: { id: string; resellerId: string } }>('POST', '/v1/accounts', {
      id: 'shop-one',
      displayName: 'Shop One',
      resellerId: 'bravo',
    });
    assert.equal(account.resellerId, 'resell', 'a reseller cannot place a customer under another reseller');
    const seen = await reseller.call<{ accounts: { id: string }[] }>('GET', '/v1/accounts');
    assert.deepEqual(seen.accounts.map((a) => a.id).sort(), ['resell', 'shop-one']);
  });

  test('the boot service hands a personality to nobody without a valid pointer', async () => {
    const cases = [
      { name: 'random token', path: '/boot/' + 'A'.repeat(43), machine: site.bmc.machines[0]?.uuid ?? '' },
      { name: 'no machine header', path: '/boot/' + 'B'.repeat(43), machine: '' },
      { name: 'short token', path: '/boot/abc', machine: 'x' },
    ];
    for (const c of cases) {
      const r = await raw(site, 'GET', c.path, {
        token: null,
        headers: c.machine ? { 'x-hostfleet-machine': c.machine } : {},
      });
      assert.equal(r.status, 403, c.name);
      assert.equal(r.json.error?.code, 'E_BOOT_POINTER_INVALID', c.name);
    }
  });

  test('SLAs: operators set them with validated levels, customers read their own', async () => {
    const put = await raw(site, 'PUT', '/v1/groups/alpha-web/sla', {
      body: {
        metric: 'connections',
        unitsPerServer: 40_000,
        committed: 640_000,
        burst: 1_280_000,
        extended: 2_560_000,
        priority: 0.8,
        responseTargetMs: 150,
      },
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.deepEqual(put.json.servers, { committed: 16, burst: 32, extended: 64 });
    const mine = await customerA.call<{ sla: { responseTargetMs: number } }>('GET', '/v1/groups/alpha-web/sla');
    assert.equal(mine.sla.responseTargetMs, 150);
    await assert.rejects(
      customerA.call('GET', '/v1/groups/bravo-web/sla'),
      (e: unknown) => e instanceof ApiError && e.status === 404,
    );
    await assert.rejects(
      customerA.call('PUT', '/v1/groups/alpha-web/sla', { committed: 1, burst: 1, extended: 1, responseTargetMs: 1 }),
      (e: unknown) => e instanceof ApiError && e.status === 403,
    );
    const bad = await raw(site, 'PUT', '/v1/groups/alpha-web/sla', {
      body: { committed: 4, burst: 2, extended: 8, responseTargetMs: 100 },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error?.fields?.[0]?.field, 'body.burst');
  });

  test("billing's lock on a customer's administrative controls refuses changes, not reading, until lifted", async () => {
    const store = site.manager?.ctx.store;
    assert.ok(store);
    await setRestriction(store, {
      accountId: 'alpha',
      action: 'lock-admin-only',
      reason: 'cut-off at 600 GB RAM-hours',
      resource: 'ram',
      day: '2026-11-22',
    });
    await assert.rejects(
      customerA.call('POST', '/v1/groups/alpha-web/actions', { action: 'start' }),
      (e: unknown) => e instanceof ApiError && e.status === 403 && /locked/.test(e.message),
    );
    assert.equal((await customerA.call<{ accounts: unknown[] }>('GET', '/v1/accounts')).accounts.length, 1);
    const lifted = await raw(site, 'DELETE', '/v1/accounts/alpha/restriction');
    assert.ok(lifted.status < 300, JSON.stringify(lifted.json));
    const after = await customerA
      .call('POST', '/v1/groups/alpha-web/actions', { action: 'start' })
      .catch((e: unknown) => e);
    assert.ok(!(after instanceof ApiError && after.status === 403), 'the lock is lifted');
  });

  test('the OpenAPI document describes the routes', async () => {
    const doc = (await raw(site, 'GET', '/openapi.json', { token: null })).json as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.match(doc.openapi, /^3\./);
    for (const p of [
      '/v1/accounts',
      '/v1/groups',
      '/v1/servers',
      '/v1/moves',
      '/v1/moves/{id}',
      '/v1/pool',
      '/v1/status',
    ])
      assert.ok(doc.paths[p], p);
    // docs/API.md lists every route of the document.
    const md = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const m of Object.keys(ops as object))
        assert.ok(md.includes(`\`${m.toUpperCase()} ${p}\``), `docs/API.md lacks ${m.toUpperCase()} ${p}`);
    }
  });
});
