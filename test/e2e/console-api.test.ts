// The console's server side as a browser meets it: login with argon2id-hashed passwords,
// the session cookie and its flags, the Origin check on changes made with a cookie, account
// scoping of every console route and of the live event stream, logout, and service actions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { runCli } from '../support/cli.js';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';

interface Answer {
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string } };
  setCookie: string | undefined;
  retryAfter: string | undefined;
}

async function call(
  site: TestSite,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  opts: { cookie?: string; origin?: string | null; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  // A browser sends Origin on every POST/DELETE from the page; null leaves it out (a non-browser client or an old proxy).
  if (opts.origin !== null) headers.origin = opts.origin ?? site.managerUrl;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const r = await request(site.managerUrl + path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await r.body.text();
  const sc = r.headers['set-cookie'];
  const ra = r.headers['retry-after'];
  return {
    status: r.statusCode,
    json: text ? JSON.parse(text) : {},
    setCookie: Array.isArray(sc) ? sc[0] : sc,
    retryAfter: Array.isArray(ra) ? ra[0] : ra,
  };
}

async function login(site: TestSite, name: string, password: string): Promise<string> {
  const r = await call(site, 'POST', '/v1/session', { body: { name, password } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.setCookie ?? '').split(';')[0] as string;
}

/** firstStatus reads the first `status` event of /v1/events with a session cookie. */
async function firstStatus(site: TestSite, cookie: string): Promise<{ groups: { id: string }[]; pool: unknown[] }> {
  const ac = new AbortController();
  const r = await request(site.managerUrl + '/v1/events', { headers: { cookie }, signal: ac.signal });
  assert.equal(r.headers['content-type'], 'text/event-stream; charset=utf-8');
  let buf = '';
  const deadline = Date.now() + 10_000;
  for await (const chunk of r.body) {
    buf += chunk.toString();
    const m = /event: status\ndata: (.*)\n\n/.exec(buf);
    if (m) {
      ac.abort();
      return JSON.parse(m[1] as string);
    }
    if (Date.now() > deadline) break;
  }
  ac.abort();
  throw new Error('no status event within 10 s');
}

describe('console server side', () => {
  let site: TestSite;
  const pw = {
    op: 'operator-password-1',
    alpha: 'alpha-password-12',
    bravo: 'bravo-password-12',
    res: 'reseller-password',
  };
  before(async () => {
    site = await startTestSite({ machines: 2 });
    await site.customer('resell', ['resell.test']);
    await site.client.call('POST', '/v1/accounts', { id: 'alpha', displayName: 'Alpha', resellerId: 'resell' });
    await site.client.call('POST', '/v1/groups', {
      id: 'alpha-web',
      accountId: 'alpha',
      role: 'front-end',
      minSize: 0,
      maxSize: 4,
      domains: ['alpha.test'],
    });
    await site.customer('bravo', ['bravo.test']);
    await site.registerAll();
    await site.client.call('POST', '/v1/users', { name: 'ops', password: pw.op, role: 'operator' });
    await site.client.call('POST', '/v1/users', {
      name: 'alice',
      password: pw.alpha,
      role: 'customer',
      accountId: 'alpha',
    });
    await site.client.call('POST', '/v1/users', {
      name: 'bob',
      password: pw.bravo,
      role: 'customer',
      accountId: 'bravo',
    });
    await site.client.call('POST', '/v1/users', {
      name: 'rita',
      password: pw.res,
      role: 'reseller',
      accountId: 'resell',
    });
  });
  after(async () => {
    await site?.stop();
  });

  test('passwords are stored as argon2id hashes, never in clear', async () => {
    const rows = (
      await site.manager!.store.query<{ name: string; password_hash: string }>('SELECT name, password_hash FROM users')
    ).rows;
    assert.equal(rows.length, 4);
    for (const r of rows) {
      assert.match(r.password_hash, /^\$argon2id\$v=19\$/, r.name);
      assert.ok(!Object.values(pw).some((p) => r.password_hash.includes(p)), r.name);
    }
  });

  test('login: wrong name or password is refused alike; a good one sets an HttpOnly SameSite=Strict cookie whose secret the store does not keep', async () => {
    const cases = [
      { name: 'wrong password', body: { name: 'alice', password: 'nope-nope-nope' }, want: 401 },
      { name: 'unknown user', body: { name: 'mallory', password: pw.alpha }, want: 401 },
      { name: 'foreign origin', body: { name: 'alice', password: pw.alpha }, origin: 'http://evil.example', want: 403 },
      { name: 'extra field', body: { name: 'alice', password: pw.alpha, role: 'operator' }, want: 400 },
    ];
    for (const c of cases) {
      const r = await call(site, 'POST', '/v1/session', { body: c.body, ...(c.origin ? { origin: c.origin } : {}) });
      assert.equal(r.status, c.want, c.name);
      assert.equal(r.setCookie, undefined, c.name);
    }
    const r = await call(site, 'POST', '/v1/session', { body: { name: 'alice', password: pw.alpha } });
    assert.equal(r.status, 200);
    assert.match(
      r.setCookie ?? '',
      /^hf_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    const secret = (r.setCookie ?? '').split(';')[0]!.split('=')[1] as string;
    const stored = (
      await site.manager!.store.query<{ token_hash: string }>('SELECT token_hash FROM sessions')
    ).rows.map((x) => x.token_hash);
    assert.ok(stored.length > 0 && !stored.includes(secret));
    assert.deepEqual((await call(site, 'GET', '/v1/session', { cookie: `hf_session=${secret}` })).json, {
      user: { name: 'alice', role: 'customer', accountId: 'alpha' },
    });
  });

  test('customer A sees only A: status, groups, servers, surface, samples, events; B answers as if it did not exist', async () => {
    const a = await login(site, 'alice', pw.alpha);
    const st = (await call(site, 'GET', '/v1/status', { cookie: a })).json as { groups: { id: string }[] };
    assert.deepEqual(
      st.groups.map((g) => g.id),
      ['alpha-web'],
    );
    for (const path of [
      '/v1/groups/bravo-web',
      '/v1/groups/bravo-web/sla',
      '/v1/groups/bravo-web/surface',
      '/v1/accounts/bravo',
    ]) {
      const r = await call(site, 'GET', path, { cookie: a });
      assert.equal(r.status, 404, path);
    }
    assert.equal((await call(site, 'GET', '/v1/groups/alpha-web/surface', { cookie: a })).status, 200);
    assert.equal(
      (await call(site, 'POST', '/v1/groups/bravo-web/actions', { cookie: a, body: { action: 'stop' } })).status,
      404,
    );
    for (const path of ['/v1/pool', '/v1/moves', '/v1/users', '/metrics'])
      assert.equal((await call(site, 'GET', path, { cookie: a })).status, 403, path);
    const samples = (await call(site, 'GET', '/v1/console/samples', { cookie: a })).json as {
      groups: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(samples.groups), ['alpha-web']);
    const ev = await firstStatus(site, a);
    assert.deepEqual(
      ev.groups.map((g) => g.id),
      ['alpha-web'],
    );
    assert.deepEqual(ev.pool, []);
    const op = await firstStatus(site, await login(site, 'ops', pw.op));
    assert.deepEqual(op.groups.map((g) => g.id).sort(), ['alpha-web', 'bravo-web', 'resell-web']);
    assert.equal(op.pool.length, 2);
  });

  test('a change sent with the session cookie needs an Origin naming this host', async () => {
    const a = await login(site, 'alice', pw.alpha);
    const cases = [
      { name: 'no origin', origin: null, want: 403 },
      { name: 'foreign origin', origin: 'http://evil.example', want: 403 },
      { name: 'same host, other port', origin: site.managerUrl.replace(/:\d+$/, ':1'), want: 403 },
    ];
    for (const c of cases) {
      const r = await call(site, 'POST', '/v1/groups/alpha-web/actions', {
        cookie: a,
        origin: c.origin,
        body: { action: 'start' },
      });
      assert.equal(r.status, c.want, c.name);
      assert.equal(r.json.error?.code, 'E_FORBIDDEN', c.name);
    }
    assert.equal(
      (await call(site, 'GET', '/v1/moves', { cookie: await login(site, 'ops', pw.op) })).json.moves instanceof Array,
      true,
    );
    assert.equal(
      ((await call(site, 'GET', '/v1/moves', { cookie: await login(site, 'ops', pw.op) })).json.moves as unknown[])
        .length,
      0,
      'nothing moved',
    );
  });

  test('a reseller disables a customer service: its servers go back to the pool and the customer cannot start it until it is activated', async () => {
    const a = await login(site, 'alice', pw.alpha);
    const started = await call(site, 'POST', '/v1/groups/alpha-web/actions', { cookie: a, body: { action: 'start' } });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const m = (started.json.moves as { id: string }[])[0]!;
    const done = await site.client.call<{ move: { status: string } }>('GET', `/v1/moves/${m.id}`);
    assert.ok(['running', 'done'].includes(done.move.status));
    await waitFor(
      async () =>
        (await site.client.call<{ move: { status: string } }>('GET', `/v1/moves/${m.id}`)).move.status === 'done',
    );

    const r = await login(site, 'rita', pw.res);
    assert.equal(
      (await call(site, 'POST', '/v1/groups/bravo-web/actions', { cookie: r, body: { action: 'disable' } })).status,
      404,
      'not her customer',
    );
    assert.equal(
      (await call(site, 'POST', '/v1/groups/alpha-web/actions', { cookie: a, body: { action: 'disable' } })).status,
      403,
      'customers do not disable',
    );
    const dis = await call(site, 'POST', '/v1/groups/alpha-web/actions', { cookie: r, body: { action: 'disable' } });
    assert.equal(dis.status, 202, JSON.stringify(dis.json));
    assert.equal(dis.json.service, 'disabled');
    assert.equal((dis.json.moves as unknown[]).length, 1);
    const refused = await call(site, 'POST', '/v1/groups/alpha-web/actions', { cookie: a, body: { action: 'start' } });
    assert.equal(refused.status, 409);
    assert.match(refused.json.error?.message ?? '', /disabled/);
    await waitFor(
      async () =>
        (await site.client.call<{ group: unknown; servers: unknown[] }>('GET', '/v1/groups/alpha-web')).servers
          .length === 0,
    );
    const act = await call(site, 'POST', '/v1/groups/alpha-web/actions', { cookie: r, body: { action: 'activate' } });
    assert.equal(act.status, 202, JSON.stringify(act.json));
    assert.equal(act.json.service, 'active');
  });

  test('logout ends the session at once', async () => {
    const a = await login(site, 'alice', pw.alpha);
    assert.equal((await call(site, 'GET', '/v1/session', { cookie: a })).status, 200);
    const out = await call(site, 'DELETE', '/v1/session', { cookie: a });
    assert.equal(out.status, 204);
    assert.match(out.setCookie ?? '', /Max-Age=0/);
    assert.equal((await call(site, 'GET', '/v1/session', { cookie: a })).status, 401);
  });

  test('the page learns whether it is logged in with a 200 either way; GET /v1/session stays strict', async () => {
    const live = await login(site, 'alice', pw.alpha);
    const ended = await login(site, 'alice', pw.alpha);
    assert.equal((await call(site, 'DELETE', '/v1/session', { cookie: ended })).status, 204);
    const cases: { name: string; cookie?: string; want: Record<string, unknown>; clears: boolean; strict: number }[] = [
      { name: 'no cookie', want: { authenticated: false, user: null }, clears: false, strict: 401 },
      {
        name: 'a cookie no session has',
        cookie: 'hf_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        want: { authenticated: false, user: null },
        clears: true,
        strict: 401,
      },
      {
        name: 'an ended session',
        cookie: ended,
        want: { authenticated: false, user: null },
        clears: true,
        strict: 401,
      },
      {
        name: 'a live session',
        cookie: live,
        want: { authenticated: true, user: { name: 'alice', role: 'customer', accountId: 'alpha' } },
        clears: false,
        strict: 200,
      },
    ];
    for (const c of cases) {
      const opts = c.cookie === undefined ? {} : { cookie: c.cookie };
      const r = await call(site, 'GET', '/v1/session/state', opts);
      assert.equal(r.status, 200, c.name);
      assert.deepEqual(r.json, c.want, c.name);
      assert.equal(/Max-Age=0/.test(r.setCookie ?? ''), c.clears, `${c.name}: set-cookie ${r.setCookie}`);
      assert.equal((await call(site, 'GET', '/v1/session', opts)).status, c.strict, `${c.name}: GET /v1/session`);
    }
  });

  test('after 10 wrong passwords a name is refused from that address for a while, even with the right one; other names are not', async () => {
    await site.client.call('POST', '/v1/users', {
      name: 'gus',
      password: 'gus-password-1',
      role: 'customer',
      accountId: 'alpha',
    });
    for (let i = 0; i < 10; i++)
      assert.equal(
        (await call(site, 'POST', '/v1/session', { body: { name: 'gus', password: `wrong-${i}` } })).status,
        401,
        `attempt ${i + 1}`,
      );
    const r = await call(site, 'POST', '/v1/session', { body: { name: 'gus', password: 'gus-password-1' } });
    assert.equal(r.status, 429, JSON.stringify(r.json));
    assert.equal(r.json.error?.code, 'E_RATE_LIMITED');
    assert.equal(r.setCookie, undefined);
    assert.ok(Number(r.retryAfter) > 0 && Number(r.retryAfter) <= 300, `Retry-After ${r.retryAfter}`);
    await login(site, 'alice', pw.alpha);
  });

  test("an operator sets anyone's password, a reseller only its customers' users'; their sessions end", async () => {
    await site.client.call('POST', '/v1/users', {
      name: 'hank',
      password: 'hank-password-1',
      role: 'customer',
      accountId: 'alpha',
    });
    const hank = await login(site, 'hank', 'hank-password-1');
    const rita = await login(site, 'rita', pw.res);
    const bob = await login(site, 'bob', pw.bravo);
    const cases: { name: string; cookie: string; user: string; want: number }[] = [
      { name: 'a customer resets another', cookie: bob, user: 'hank', want: 403 },
      { name: 'a reseller resets an operator', cookie: rita, user: 'ops', want: 404 },
      { name: 'a reseller resets a user of an account it does not see', cookie: rita, user: 'bob', want: 404 },
      { name: 'an unknown user', cookie: rita, user: 'nobody', want: 404 },
      { name: 'a reseller resets its customer', cookie: rita, user: 'hank', want: 204 },
    ];
    for (const c of cases) {
      const r = await call(site, 'POST', `/v1/users/${c.user}/password`, {
        cookie: c.cookie,
        body: { password: 'set-by-someone-1' },
      });
      assert.equal(r.status, c.want, `${c.name}: ${JSON.stringify(r.json)}`);
    }
    assert.equal((await call(site, 'GET', '/v1/session', { cookie: hank })).status, 401, "hank's session ended");
    await login(site, 'hank', 'set-by-someone-1');
    assert.equal(
      (await call(site, 'POST', '/v1/users/hank/password', { cookie: rita, body: { password: 'short' } })).status,
      400,
    );
    // The operator's CLI path: bearer token, any user.
    await site.client.call('POST', '/v1/users/bob/password', { password: 'bob-new-password-1' });
    assert.equal((await call(site, 'GET', '/v1/session', { cookie: bob })).status, 401);
    await login(site, 'bob', 'bob-new-password-1');
    // And through the command line, with a password on standard input.
    const r = await runCli(
      ['--url', site.managerUrl, '--token', site.token, 'user', 'passwd', 'bob', '--password-stdin', '--json'],
      { stdin: `${pw.bravo}\n` },
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { user: 'bob' });
    await login(site, 'bob', pw.bravo);
  });

  test('a person changes their own password: the old one stops working and their other sessions end', async () => {
    await site.client.call('POST', '/v1/users', {
      name: 'dora',
      password: 'first-password-1',
      role: 'customer',
      accountId: 'alpha',
    });
    const here = await login(site, 'dora', 'first-password-1');
    const elsewhere = await login(site, 'dora', 'first-password-1');
    const cases: { name: string; opts: Parameters<typeof call>[3]; want: number; field?: string }[] = [
      { name: 'no session', opts: { body: { current: 'first-password-1', password: 'second-password-2' } }, want: 401 },
      {
        name: 'wrong current password',
        opts: { cookie: here, body: { current: 'not-it-at-all', password: 'second-password-2' } },
        want: 400,
        field: 'body.current',
      },
      {
        name: 'too short',
        opts: { cookie: here, body: { current: 'first-password-1', password: 'short' } },
        want: 400,
        field: 'body.password',
      },
      {
        name: 'the same again',
        opts: { cookie: here, body: { current: 'first-password-1', password: 'first-password-1' } },
        want: 400,
        field: 'body.password',
      },
      {
        name: 'from another site',
        opts: {
          cookie: here,
          origin: 'http://evil.test',
          body: { current: 'first-password-1', password: 'second-password-2' },
        },
        want: 403,
      },
    ];
    for (const c of cases) {
      const r = await call(site, 'POST', '/v1/session/password', c.opts);
      assert.equal(r.status, c.want, `${c.name}: ${JSON.stringify(r.json)}`);
      if (c.field)
        assert.ok(JSON.stringify(r.json).includes(c.field), `${c.name} names ${c.field}: ${JSON.stringify(r.json)}`);
    }
    const ok = await call(site, 'POST', '/v1/session/password', {
      cookie: here,
      body: { current: 'first-password-1', password: 'second-password-2' },
    });
    assert.equal(ok.status, 204, JSON.stringify(ok.json));
    assert.equal(
      (await call(site, 'GET', '/v1/session', { cookie: here })).status,
      200,
      'the session that changed it stays',
    );
    assert.equal(
      (await call(site, 'GET', '/v1/session', { cookie: elsewhere })).status,
      401,
      'the other session ended',
    );
    assert.equal(
      (await call(site, 'POST', '/v1/session', { body: { name: 'dora', password: 'first-password-1' } })).status,
      401,
    );
    await login(site, 'dora', 'second-password-2');
  });
});

async function waitFor(cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met in time');
}
