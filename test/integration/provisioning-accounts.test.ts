// Provisioning through the API of a real manager (PGlite store, the test payment gateway): a
// hosting account is one of the product's accounts (tokens, visibility, console login), a
// reseller's order makes a customer of the reseller, who may act on it while other resellers
// get 404; what customers may do themselves; declined payments (402, order still payable,
// nothing created); the operator review queue; capacity exhaustion; the refund when the account
// transaction fails after authorisation; and every field of the order form, injection
// attempts included, refused with its name and nothing stored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { startManager } from '../../src/services/manager/manager.js';
import type { Manager } from '../../src/services/manager/manager.js';
import { loadManagerConfig } from '../../src/services/manager/config.js';
import { issueApiToken } from '../../src/services/manager/auth.js';
import { createAccount, getAccount } from '../../src/drivers/store/resources.js';
import type { TestGateway } from '../../src/drivers/payments/index.js';

const TOKEN = 'op_' + 'a'.repeat(40);
const op = { authorization: `Bearer ${TOKEN}` };
const GOOD = { number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123', holder: 'Ada Lovelace' };
let dir: string;
let manager: Manager;
let deadDns: ReturnType<typeof createSocket>;
const tokens: Record<string, string> = {};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json; headers: Record<string, unknown> }> {
  const r = await request(manager.url + path, {
    method: method as 'GET',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: (text ? JSON.parse(text) : {}) as Json, headers: r.headers };
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const q = async (sql: string, params: unknown[] = []) =>
  (await manager.ctx.store.query<Record<string, unknown>>(sql, params)).rows;
const gateway = () => manager.components.provisioning.gateway() as TestGateway;

let n = 0;
const orderBody = (over: Json = {}) => ({
  contact: { name: 'Ada Lovelace', email: 'ada@example.com', country: 'GB' },
  domain: `shop${++n}.test`,
  services: ['web', 'dns', 'mail', 'ftp'],
  plan: 'starter',
  ...over,
});

/** placeAccepted places an order (optionally with a token) and has the operator accept it, skipping DNS. */
async function placeAccepted(headers: Record<string, string> = {}, over: Json = {}) {
  const o = await api('POST', '/v1/orders', orderBody(over), headers);
  assert.equal(o.status, 201, JSON.stringify(o.json));
  const acc = await api('POST', `/v1/orders/${o.json.order.id}/accept`, {}, op);
  assert.equal(acc.status, 200, JSON.stringify(acc.json));
  return {
    id: o.json.order.id as string,
    secret: { 'x-order-secret': o.json.secret as string },
    domain: o.json.order.domain as string,
    resellerId: o.json.order.resellerId as string | null,
  };
}
async function placePaid(headers: Record<string, string> = {}) {
  const o = await placeAccepted(headers);
  const p = await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret);
  assert.equal(p.status, 201, JSON.stringify(p.json));
  return {
    order: o,
    account: p.json.account as {
      id: string;
      password: string;
      token: string;
      login: string;
      resellerId: string | null;
    },
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hf-provacct-'));
  // A UDP port where no name server answers: verification fails fast and the order goes to review.
  deadDns = createSocket('udp4');
  await new Promise<void>((r) => deadDns.bind(0, '127.0.0.1', () => r()));
  const deadPort = deadDns.address().port;
  deadDns.close();
  const cfgFile = join(dir, 'manager.json');
  await writeFile(
    cfgFile,
    JSON.stringify({
      site: { id: 'provacct' },
      dataDir: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 0 },
      operatorToken: TOKEN,
      edge: { kind: 'builtin', adminUrl: 'http://127.0.0.1:9', token: 'x'.repeat(20) },
      volumes: { kind: 'local', root: join(dir, 'volumes') },
      provisioning: { resolvers: [`127.0.0.1:${deadPort}`], verifyAttempts: 2, renudgeMs: 60_000 },
      log: { level: 'warn' },
    }),
  );
  manager = await startManager(loadManagerConfig(cfgFile, {}), { log: pino({ level: 'fatal' }) });
  const r = await api(
    'PUT',
    '/v1/provisioning/servers/svc-1',
    { id: 'svc-1', services: ['dns', 'web', 'mail', 'ftp'], capacity: 1000, address: '192.0.2.10' },
    op,
  );
  assert.equal(r.status, 200, JSON.stringify(r.json));
  for (const id of ['resa', 'resb']) {
    await createAccount(manager.ctx.store, { id, displayName: `Reseller ${id}` });
    tokens[id] = await issueApiToken(manager.ctx.store, { role: 'reseller', accountId: id, name: id });
  }
});

after(async () => {
  await manager?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('accounts from orders are the product’s accounts', () => {
  test('a reseller’s order makes its customer; the reseller acts on it, another reseller gets 404', async () => {
    const { order, account } = await placePaid(bearer(tokens.resa as string));
    assert.equal(order.resellerId, 'resa');
    assert.equal(account.resellerId, 'resa');
    const row = await getAccount(manager.ctx.store, account.id);
    assert.ok(row, 'the accounts row exists');
    assert.equal(row.resellerId, 'resa');
    assert.equal(row.displayName, order.domain);

    const a = bearer(tokens.resa as string);
    const b = bearer(tokens.resb as string);
    const cases: {
      name: string;
      method: string;
      path: string;
      body?: Json;
      headers: Record<string, string>;
      want: number;
    }[] = [
      { name: 'A reads', method: 'GET', path: `/v1/provisioning/accounts/${account.id}`, headers: a, want: 200 },
      { name: 'B reads', method: 'GET', path: `/v1/provisioning/accounts/${account.id}`, headers: b, want: 404 },
      {
        name: 'A adds a mailbox',
        method: 'POST',
        path: `/v1/provisioning/accounts/${account.id}/mailboxes`,
        body: { local: 'info', password: 'correct-horse-1' },
        headers: a,
        want: 201,
      },
      {
        name: 'B adds a mailbox',
        method: 'POST',
        path: `/v1/provisioning/accounts/${account.id}/mailboxes`,
        body: { local: 'evil', password: 'correct-horse-1' },
        headers: b,
        want: 404,
      },
      {
        name: 'B deletes a mailbox',
        method: 'DELETE',
        path: `/v1/provisioning/accounts/${account.id}/mailboxes/info`,
        headers: b,
        want: 404,
      },
      {
        name: 'B adds an FTP user',
        method: 'POST',
        path: `/v1/provisioning/accounts/${account.id}/ftp-users`,
        body: { name: 'evil', password: 'correct-horse-1', dir: '' },
        headers: b,
        want: 404,
      },
      {
        name: 'B disables web',
        method: 'POST',
        path: `/v1/provisioning/accounts/${account.id}/services/web/disable`,
        headers: b,
        want: 404,
      },
      {
        name: 'B deletes the account',
        method: 'DELETE',
        path: `/v1/provisioning/accounts/${account.id}`,
        headers: b,
        want: 404,
      },
      {
        name: 'A disables web',
        method: 'POST',
        path: `/v1/provisioning/accounts/${account.id}/services/web/disable`,
        headers: a,
        want: 200,
      },
      {
        name: 'A enables web',
        method: 'POST',
        path: `/v1/provisioning/accounts/${account.id}/services/web/enable`,
        headers: a,
        want: 200,
      },
    ];
    for (const c of cases) {
      const r = await api(c.method, c.path, c.body ?? (c.method === 'POST' ? {} : undefined), c.headers);
      assert.equal(r.status, c.want, `${c.name}: ${JSON.stringify(r.json)}`);
    }
    const mail = await q("SELECT spec FROM prov_services WHERE account_id = $1 AND service = 'mail'", [account.id]);
    assert.deepEqual(
      (mail[0]?.spec as { mailboxes: { local: string }[] }).mailboxes.map((m) => m.local),
      ['info'],
      'B changed nothing',
    );

    // The reseller lists and reads the orders it placed, without their secrets; another reseller sees none of them.
    const mine = await api('GET', '/v1/orders', undefined, a);
    assert.equal(mine.status, 200, JSON.stringify(mine.json));
    assert.ok((mine.json.orders as { id: string; resellerId: string }[]).some((o) => o.id === order.id));
    assert.ok((mine.json.orders as { resellerId: string }[]).every((o) => o.resellerId === 'resa'));
    assert.ok(!JSON.stringify(mine.json).includes('secretHash'));
    const theirs = await api('GET', '/v1/orders', undefined, b);
    assert.equal(theirs.status, 200);
    assert.ok(!(theirs.json.orders as { id: string }[]).some((o) => o.id === order.id));
    assert.equal((await api('GET', `/v1/orders/${order.id}`, undefined, a)).status, 200);
    assert.equal((await api('GET', `/v1/orders/${order.id}`, undefined, b)).status, 404);
    assert.equal((await api('GET', '/v1/orders', undefined, bearer(account.token))).status, 403);

    // The reseller sees its customer through the product's other routes too.
    const accts = await api('GET', '/v1/accounts', undefined, a);
    assert.equal(accts.status, 200);
    assert.ok(JSON.stringify(accts.json).includes(account.id));
    const other = await api('GET', '/v1/accounts', undefined, b);
    assert.equal(other.status, 200);
    assert.ok(!JSON.stringify(other.json).includes(account.id));

    // A reseller deletes its customer's account: gone from provisioning, logins revoked, the accounts row kept.
    const del = await api('DELETE', `/v1/provisioning/accounts/${account.id}`, undefined, a);
    assert.equal(del.status, 200, JSON.stringify(del.json));
    assert.equal((await api('GET', `/v1/provisioning/accounts/${account.id}`, undefined, op)).status, 404);
    assert.equal(
      (await api('GET', `/v1/provisioning/accounts/${account.id}`, undefined, bearer(account.token))).status,
      401,
    );
    assert.ok(await getAccount(manager.ctx.store, account.id));
  });

  test('a customer reads its own account and manages its mailboxes and FTP users, nothing more', async () => {
    const { account } = await placePaid();
    const other = await placePaid();
    assert.equal(account.resellerId, null);
    assert.equal((await getAccount(manager.ctx.store, account.id))?.resellerId, null);
    const c = bearer(account.token);
    const base = `/v1/provisioning/accounts/${account.id}`;
    const cases: { name: string; method: string; path: string; body?: Json; want: number }[] = [
      { name: 'reads its account', method: 'GET', path: base, want: 200 },
      {
        name: 'adds a mailbox',
        method: 'POST',
        path: `${base}/mailboxes`,
        body: { local: 'sales', password: 'first-password-1' },
        want: 201,
      },
      {
        name: 'changes its password',
        method: 'POST',
        path: `${base}/mailboxes`,
        body: { local: 'sales', password: 'second-password-2' },
        want: 201,
      },
      { name: 'deletes it', method: 'DELETE', path: `${base}/mailboxes/sales`, want: 200 },
      {
        name: 'adds an FTP user',
        method: 'POST',
        path: `${base}/ftp-users`,
        body: { name: `${account.id}-up`, password: 'first-password-1', dir: 'www' },
        want: 201,
      },
      { name: 'deletes the FTP user', method: 'DELETE', path: `${base}/ftp-users/${account.id}-up`, want: 200 },
      { name: 'may not disable a service', method: 'POST', path: `${base}/services/web/disable`, want: 403 },
      { name: 'may not delete a service', method: 'DELETE', path: `${base}/services/web`, want: 403 },
      { name: 'may not delete the account', method: 'DELETE', path: base, want: 403 },
      {
        name: 'does not see another account',
        method: 'GET',
        path: `/v1/provisioning/accounts/${other.account.id}`,
        want: 404,
      },
      {
        name: 'cannot add a mailbox to another account',
        method: 'POST',
        path: `/v1/provisioning/accounts/${other.account.id}/mailboxes`,
        body: { local: 'x', password: 'first-password-1' },
        want: 404,
      },
      { name: 'cannot place orders for others', method: 'POST', path: '/v1/orders', body: orderBody(), want: 403 },
    ];
    for (const t of cases) {
      const r = await api(t.method, t.path, t.body, c);
      assert.equal(r.status, t.want, `${t.name}: ${JSON.stringify(r.json)}`);
    }
    const own = await api('GET', base, undefined, c);
    assert.equal(own.json.account.id, account.id);
    assert.equal(own.json.account.passwordHash, undefined, 'no hash leaves the manager');

    // The console knows the customer: it logs in as the account id with the account password.
    const login = await api('POST', '/v1/session', { name: account.login, password: account.password });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    assert.equal(login.json.user.role, 'customer');
    assert.equal(login.json.user.accountId, account.id);
    const wrong = await api('POST', '/v1/session', { name: account.login, password: 'not-the-password' });
    assert.equal(wrong.status, 401);
  });

  test('FTP user names are one namespace per server: another account cannot take a name in use', async () => {
    const one = (await placePaid()).account;
    const two = (await placePaid()).account;
    const add = (acct: string, name: string) =>
      api('POST', `/v1/provisioning/accounts/${acct}/ftp-users`, { name, password: 'correct-horse-1', dir: '' }, op);
    assert.equal((await add(one.id, 'deploy')).status, 201);
    const taken = await add(two.id, 'deploy');
    assert.equal(taken.status, 409, JSON.stringify(taken.json));
    assert.ok(JSON.stringify(taken.json).includes('body.name'));
    assert.equal((await add(one.id, 'deploy')).status, 201, 'the holder changes its own user (a new password)');
    assert.equal((await add(two.id, 'deploy2')).status, 201);
  });

  test('an unknown bearer token on an order is refused, not ignored', async () => {
    const r = await api('POST', '/v1/orders', orderBody(), bearer('hf_' + 'z'.repeat(40)));
    assert.equal(r.status, 401);
  });
});

describe('payment', () => {
  test('a declined card answers 402 with the field and the gateway’s reason; nothing is created and the order stays payable', async () => {
    const o = await placeAccepted();
    const accountsBefore = (await q('SELECT count(*)::int AS n FROM accounts'))[0]?.n;
    const refsBefore = gateway().references().length;
    for (const [number, reason] of [
      ['4000000000000002', /card_declined/],
      ['4000000000009995', /insufficient_funds/],
      ['4000000000000069', /expired_card/],
      ['4111111111111112', /invalid_number/],
    ] as const) {
      const r = await api('POST', `/v1/orders/${o.id}/pay`, { card: { ...GOOD, number } }, o.secret);
      assert.equal(r.status, 402, JSON.stringify(r.json));
      assert.equal(r.json.error.code, 'E_PAYMENT_DECLINED');
      assert.equal(r.json.error.fields[0].field, 'body.card');
      assert.match(r.json.error.fields[0].problem, reason);
      assert.match(r.json.error.details.reason, reason);
      const st = await api('GET', `/v1/orders/${o.id}`, undefined, o.secret);
      assert.equal(st.json.order.state, 'verified');
    }
    assert.equal((await q('SELECT count(*)::int AS n FROM accounts'))[0]?.n, accountsBefore);
    assert.equal((await q('SELECT count(*)::int AS n FROM prov_accounts WHERE domain = $1', [o.domain]))[0]?.n, 0);
    assert.equal(gateway().references().length, refsBefore, 'nothing was authorised');
    const paid = await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret);
    assert.equal(paid.status, 201, JSON.stringify(paid.json));
    const again = await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret);
    assert.equal(again.status, 409, 'a completed order is not paid twice');
  });

  test('the authorisation is refunded when the account transaction fails after it', async () => {
    const o = await placeAccepted();
    // The next account id is taken already (say, by an account created by hand): the transaction fails after the payment was authorised.
    const seq = (await q('SELECT last_value, is_called FROM prov_uid_seq'))[0] as {
      last_value: number;
      is_called: boolean;
    };
    const next = Number(seq.last_value) + (seq.is_called ? 1 : 0);
    await createAccount(manager.ctx.store, { id: `c${next}`, displayName: 'made by hand' });
    const before = gateway().references().length;
    const r = await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret);
    assert.equal(r.status, 409, JSON.stringify(r.json));
    assert.match(r.json.error.message, new RegExp(`c${next}`));
    const refs = gateway().references().slice(before);
    assert.equal(refs.length, 1, 'one authorisation was made');
    assert.equal(refs[0]?.state, 'refunded');
    assert.equal((await q('SELECT count(*)::int AS n FROM prov_accounts WHERE domain = $1', [o.domain]))[0]?.n, 0);
    assert.equal((await q('SELECT count(*)::int AS n FROM users WHERE name = $1', [`c${next}`]))[0]?.n, 0);
    assert.equal((await api('GET', `/v1/orders/${o.id}`, undefined, o.secret)).json.order.state, 'verified');
    // The next attempt takes the next id and succeeds; its payment is captured.
    const ok = await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret);
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.equal(gateway().references().at(-1)?.state, 'captured');
  });

  test('no server with spare capacity: a clear error before any charge, nothing half created', async () => {
    const o = await placeAccepted({}, { services: ['web', 'mail'] });
    const used = Number((await q("SELECT count(*)::int AS n FROM prov_services WHERE server_id = 'svc-1'"))[0]?.n);
    const full = await api(
      'PUT',
      '/v1/provisioning/servers/svc-1',
      { id: 'svc-1', services: ['dns', 'web', 'mail', 'ftp'], capacity: used + 1, address: '192.0.2.10' },
      op,
    );
    assert.equal(full.status, 200);
    try {
      const refs = gateway().references().length;
      const accounts = (await q('SELECT count(*)::int AS n FROM accounts'))[0]?.n;
      const r = await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret);
      assert.equal(r.status, 409, JSON.stringify(r.json));
      assert.match(r.json.error.message, /no service server has spare capacity for mail/);
      assert.match(r.json.error.message, /nothing was charged/);
      assert.deepEqual(
        r.json.error.details.unplaced.map((u: { service: string }) => u.service),
        ['mail'],
      );
      assert.deepEqual(r.json.error.details.unplaced[0].rejected, [{ server: 'svc-1', reason: 'full' }]);
      assert.equal(gateway().references().length, refs);
      assert.equal((await q('SELECT count(*)::int AS n FROM accounts'))[0]?.n, accounts);
      assert.equal((await q("SELECT count(*)::int AS n FROM prov_services WHERE server_id = 'svc-1'"))[0]?.n, used);
      assert.equal((await api('GET', `/v1/orders/${o.id}`, undefined, o.secret)).json.order.state, 'verified');
    } finally {
      await api(
        'PUT',
        '/v1/provisioning/servers/svc-1',
        { id: 'svc-1', services: ['dns', 'web', 'mail', 'ftp'], capacity: 1000, address: '192.0.2.10' },
        op,
      );
    }
    assert.equal(
      (await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret)).status,
      201,
      'payable once there is room',
    );
  });
});

describe('the operator review queue', () => {
  const failVerify = async (o: { id: string; secret: Record<string, string> }) => {
    for (let i = 0; i < 2; i++) {
      const v = await api('POST', `/v1/orders/${o.id}/verify`, {}, o.secret);
      assert.equal(v.status, 409, JSON.stringify(v.json));
    }
    assert.equal((await api('GET', `/v1/orders/${o.id}`, undefined, o.secret)).json.order.state, 'review');
  };
  const place = async () => {
    const o = await api('POST', '/v1/orders', orderBody());
    assert.equal(o.status, 201);
    return {
      id: o.json.order.id as string,
      secret: { 'x-order-secret': o.json.secret as string },
      domain: o.json.order.domain as string,
    };
  };

  test('an order that cannot be verified waits in review; the operator accepts it and it can be paid', async () => {
    const o = await place();
    await failVerify(o);
    const list = await api('GET', '/v1/orders?state=review', undefined, op);
    assert.equal(list.status, 200);
    const row = list.json.orders.find((x: { id: string }) => x.id === o.id);
    assert.ok(row, 'listed in the queue');
    assert.equal(row.reasons.length, 2, 'each failed check left its reason');
    assert.equal(row.secretHash, undefined);
    const rq = await api('GET', '/v1/orders?state=review', undefined, bearer(tokens.resa as string));
    assert.equal(rq.status, 200);
    assert.ok(!rq.json.orders.some((x: { id: string }) => x.id === o.id), 'a reseller sees only the orders it placed');
    assert.equal(
      (await api('POST', `/v1/orders/${o.id}/accept`, {}, o.secret)).status,
      401,
      'the customer cannot accept its own order',
    );
    const acc = await api('POST', `/v1/orders/${o.id}/accept`, {}, op);
    assert.equal(acc.status, 200);
    assert.equal(acc.json.order.state, 'verified');
    assert.ok(
      !(await api('GET', '/v1/orders?state=review', undefined, op)).json.orders.some(
        (x: { id: string }) => x.id === o.id,
      ),
    );
    assert.equal((await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret)).status, 201);
  });

  test('a rejected order keeps its reasons and loses its contact data and domain', async () => {
    const o = await place();
    await failVerify(o);
    const bad = await api('POST', `/v1/orders/${o.id}/reject`, { reasons: ['line one\nline two'] }, op);
    assert.equal(bad.status, 400, 'reasons are printable text');
    const rej = await api('POST', `/v1/orders/${o.id}/reject`, { reasons: ['the domain is not theirs'] }, op);
    assert.equal(rej.status, 200, JSON.stringify(rej.json));
    const row = (await q('SELECT contact, domain, state, reasons FROM prov_orders WHERE id = $1', [o.id]))[0];
    assert.equal(row?.contact, null);
    assert.equal(row?.domain, null);
    assert.equal(row?.state, 'rejected');
    assert.deepEqual(row?.reasons, ['the domain is not theirs']);
    const seen = await api('GET', `/v1/orders/${o.id}`, undefined, o.secret);
    assert.equal(seen.json.order.state, 'rejected');
    assert.equal(seen.json.order.contact, null);
    assert.equal(
      (await api('POST', `/v1/orders/${o.id}/pay`, { card: GOOD }, o.secret)).status,
      409,
      'a rejected order cannot be paid',
    );
    assert.equal((await api('POST', `/v1/orders/${o.id}/accept`, {}, op)).status, 409);
    // The domain is free for a new order.
    assert.equal((await api('POST', '/v1/orders', orderBody({ domain: o.domain }))).status, 201);
  });
});

describe('bad input is refused by field, nothing stored', () => {
  const contact = { name: 'Ada Lovelace', email: 'ada@example.com', country: 'GB' };
  const ORDER_CASES: { name: string; body: unknown; field: string }[] = [
    { name: 'not an object', body: ['x'], field: 'body' },
    { name: 'unknown field', body: { ...orderBody(), admin: true }, field: 'body.admin' },
    { name: 'contact missing', body: { ...orderBody(), contact: undefined }, field: 'body.contact' },
    {
      name: 'contact name missing',
      body: orderBody({ contact: { email: 'a@example.com', country: 'GB' } }),
      field: 'body.contact.name',
    },
    {
      name: 'contact name with a newline',
      body: orderBody({ contact: { ...contact, name: 'Ada\nBcc: x' } }),
      field: 'body.contact.name',
    },
    {
      name: 'contact name with markup',
      body: orderBody({ contact: { ...contact, name: '<script>' } }),
      field: 'body.contact.name',
    },
    {
      name: 'contact unknown field',
      body: orderBody({ contact: { ...contact, role: 'operator' } }),
      field: 'body.contact.role',
    },
    {
      name: 'email missing',
      body: orderBody({ contact: { name: 'Ada', country: 'GB' } }),
      field: 'body.contact.email',
    },
    {
      name: 'email with a header injection',
      body: orderBody({ contact: { ...contact, email: 'a@example.com\r\nBcc: b@example.com' } }),
      field: 'body.contact.email',
    },
    {
      name: 'email with quotes',
      body: orderBody({ contact: { ...contact, email: '"a"@example.com' } }),
      field: 'body.contact.email',
    },
    {
      name: 'email with ..',
      body: orderBody({ contact: { ...contact, email: 'a..b@example.com' } }),
      field: 'body.contact.email',
    },
    {
      name: 'phone not international',
      body: orderBody({ contact: { ...contact, phone: '020 7946 0000' } }),
      field: 'body.contact.phone',
    },
    {
      name: 'phone with a semicolon',
      body: orderBody({ contact: { ...contact, phone: '+44 20;rm' } }),
      field: 'body.contact.phone',
    },
    {
      name: 'country lower-case',
      body: orderBody({ contact: { ...contact, country: 'gb' } }),
      field: 'body.contact.country',
    },
    {
      name: 'country missing',
      body: orderBody({ contact: { name: 'Ada', email: 'a@example.com' } }),
      field: 'body.contact.country',
    },
    { name: 'domain missing', body: { ...orderBody(), domain: undefined }, field: 'body.domain' },
    { name: 'domain with ..', body: orderBody({ domain: 'a..example.com' }), field: 'body.domain' },
    { name: 'domain with a brace', body: orderBody({ domain: 'a}.example.com' }), field: 'body.domain' },
    {
      name: 'domain with a semicolon',
      body: orderBody({ domain: 'a.com; include /etc/passwd' }),
      field: 'body.domain',
    },
    { name: 'domain with a newline', body: orderBody({ domain: 'a.com\nserver_name evil.com' }), field: 'body.domain' },
    { name: 'domain with a quote', body: orderBody({ domain: 'a".example.com' }), field: 'body.domain' },
    { name: 'domain with a slash', body: orderBody({ domain: '../etc/passwd' }), field: 'body.domain' },
    { name: 'domain upper-case', body: orderBody({ domain: 'Shop.Example.com' }), field: 'body.domain' },
    { name: 'domain one label', body: orderBody({ domain: 'localhost' }), field: 'body.domain' },
    { name: 'domain a number', body: orderBody({ domain: 42 }), field: 'body.domain' },
    { name: 'services missing', body: { ...orderBody(), services: undefined }, field: 'body.services' },
    { name: 'services empty', body: orderBody({ services: [] }), field: 'body.services' },
    { name: 'services unknown', body: orderBody({ services: ['web', 'ssh'] }), field: 'body.services.1' },
    { name: 'services twice', body: orderBody({ services: ['web', 'web'] }), field: 'body.services' },
    { name: 'plan missing', body: { ...orderBody(), plan: undefined }, field: 'body.plan' },
    { name: 'plan unknown', body: orderBody({ plan: 'free' }), field: 'body.plan' },
  ];
  test('every field of the order form', async () => {
    const before = (await q('SELECT count(*)::int AS n FROM prov_orders'))[0]?.n;
    for (const c of ORDER_CASES) {
      const r = await api('POST', '/v1/orders', c.body);
      assert.equal(r.status, 400, `${c.name}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, 'E_VALIDATION', c.name);
      const fields = (r.json.error.fields as { field: string; problem: string }[]).map((f) => f.field);
      assert.ok(fields.includes(c.field), `${c.name}: wanted ${c.field}, got ${fields.join(', ')}`);
    }
    // All problems at once, each named.
    const many = await api('POST', '/v1/orders', {
      contact: { name: '', email: 'x', country: 'gbr' },
      domain: 'bad domain',
      services: ['x'],
      plan: 'y',
    });
    assert.equal(many.status, 400);
    assert.deepEqual(
      new Set((many.json.error.fields as { field: string }[]).map((f) => f.field)),
      new Set([
        'body.contact.name',
        'body.contact.email',
        'body.contact.country',
        'body.domain',
        'body.services.0',
        'body.plan',
      ]),
    );
    assert.equal((await q('SELECT count(*)::int AS n FROM prov_orders'))[0]?.n, before, 'no order was stored');
  });

  test('every field of the payment and of the account changes', async () => {
    const { account } = await placePaid();
    const o = await placeAccepted();
    const PAY_CASES: { name: string; card: Json; field: RegExp }[] = [
      {
        name: 'number with letters',
        card: { ...GOOD, number: '4242abcd42424242' },
        field: /card\/number|card\.number/,
      },
      { name: 'number too short', card: { ...GOOD, number: '4242' }, field: /number/ },
      { name: 'month 13', card: { ...GOOD, expMonth: 13 }, field: /expMonth/ },
      { name: 'year as text', card: { ...GOOD, expYear: '2030' }, field: /expYear/ },
      { name: 'cvc with a quote', card: { ...GOOD, cvc: "12'" }, field: /cvc/ },
      { name: 'holder with a newline', card: { ...GOOD, holder: 'Ada\nLovelace' }, field: /holder/ },
      { name: 'holder with markup', card: { ...GOOD, holder: '<b>Ada</b>' }, field: /holder/ },
      { name: 'unknown card field', card: { ...GOOD, pin: '1234' }, field: /card/ },
      {
        name: 'holder missing',
        card: { number: GOOD.number, expMonth: 12, expYear: 2099, cvc: '123' },
        field: /holder/,
      },
    ];
    const refs = gateway().references().length;
    for (const c of PAY_CASES) {
      const r = await api('POST', `/v1/orders/${o.id}/pay`, { card: c.card }, o.secret);
      assert.equal(r.status, 400, `${c.name}: ${JSON.stringify(r.json)}`);
      assert.match(JSON.stringify(r.json.error.fields), c.field, c.name);
    }
    assert.equal(gateway().references().length, refs, 'no bad card reached the gateway');

    const base = `/v1/provisioning/accounts/${account.id}`;
    const CHANGE_CASES: { name: string; path: string; body: Json; field: RegExp }[] = [
      {
        name: 'mailbox with a newline',
        path: 'mailboxes',
        body: { local: 'a\nb', password: 'long-enough-1' },
        field: /local/,
      },
      {
        name: 'mailbox with a colon',
        path: 'mailboxes',
        body: { local: 'a:b', password: 'long-enough-1' },
        field: /local/,
      },
      {
        name: 'mailbox with ..',
        path: 'mailboxes',
        body: { local: 'a..b', password: 'long-enough-1' },
        field: /local/,
      },
      {
        name: 'mailbox with a slash',
        path: 'mailboxes',
        body: { local: '../root', password: 'long-enough-1' },
        field: /local/,
      },
      {
        name: 'mailbox with an @',
        path: 'mailboxes',
        body: { local: 'a@evil.com', password: 'long-enough-1' },
        field: /local/,
      },
      { name: 'password too short', path: 'mailboxes', body: { local: 'ok', password: 'short' }, field: /password/ },
      {
        name: 'password with a space',
        path: 'mailboxes',
        body: { local: 'ok', password: 'has a space 12' },
        field: /password/,
      },
      {
        name: 'password with a newline',
        path: 'mailboxes',
        body: { local: 'ok', password: 'line1\nline2xx' },
        field: /password/,
      },
      {
        name: 'FTP user with a colon',
        path: 'ftp-users',
        body: { name: 'a:b', password: 'long-enough-1', dir: '' },
        field: /name/,
      },
      {
        name: 'FTP user upper-case',
        path: 'ftp-users',
        body: { name: 'Root', password: 'long-enough-1', dir: '' },
        field: /name/,
      },
      {
        name: 'FTP dir with ..',
        path: 'ftp-users',
        body: { name: 'up', password: 'long-enough-1', dir: 'www/../..' },
        field: /dir/,
      },
      {
        name: 'FTP dir absolute',
        path: 'ftp-users',
        body: { name: 'up', password: 'long-enough-1', dir: '/etc' },
        field: /dir/,
      },
      {
        name: 'FTP dir with a newline',
        path: 'ftp-users',
        body: { name: 'up', password: 'long-enough-1', dir: 'www\nx' },
        field: /dir/,
      },
      {
        name: 'FTP dir with a colon',
        path: 'ftp-users',
        body: { name: 'up', password: 'long-enough-1', dir: 'a:b' },
        field: /dir/,
      },
    ];
    const spec = await q('SELECT service, spec, version FROM prov_services WHERE account_id = $1 ORDER BY service', [
      account.id,
    ]);
    for (const c of CHANGE_CASES) {
      const r = await api('POST', `${base}/${c.path}`, c.body, op);
      assert.equal(r.status, 400, `${c.name}: ${JSON.stringify(r.json)}`);
      assert.match(JSON.stringify(r.json.error.fields), c.field, c.name);
    }
    assert.deepEqual(
      await q('SELECT service, spec, version FROM prov_services WHERE account_id = $1 ORDER BY service', [account.id]),
      spec,
      'no spec changed',
    );
  });
});
