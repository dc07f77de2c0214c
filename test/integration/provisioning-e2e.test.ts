// The issue's end-to-end test with the real software: order → TXT verification against a real
// local BIND → test payment → the service server's agent applies its tasks → nginx serves the
// site for its domain, an FTP client uploads into the account's volume, the zone resolves
// through our BIND, and a message sent by SMTP to a new mailbox is read back over IMAP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { request } from 'undici';
import { startManager } from '../../src/services/manager/manager.js';
import type { Manager } from '../../src/services/manager/manager.js';
import { loadManagerConfig } from '../../src/services/manager/config.js';
import { bindDriver, mailDriver, nginxDriver, pureFtpdDriver, run } from '../../src/drivers/services/index.js';
import type { ServiceDriver } from '../../src/drivers/services/index.js';
import { startProvisioner } from '../../src/services/provisioner/agent.js';
import type { Provisioner } from '../../src/services/provisioner/agent.js';
import { freePort } from '../../src/services/shared/ports.js';

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; Date.now() < end && i < 2000; i++) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

const TOKEN = 'op_' + 'e'.repeat(40);
let dir: string;
let manager: Manager;
let external: ServiceDriver;
let drivers: ServiceDriver[] = [];
let agent: Provisioner;
const ports: Record<string, number> = {};

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await request(manager.url + path, {
    method: method as 'GET',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: (text ? JSON.parse(text) : {}) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const op = { authorization: `Bearer ${TOKEN}` };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hf-prov-'));
  // Daemons' own users (postfix, dovecot, nginx workers, FTP users) must reach their directories.
  await chmod(dir, 0o755);
  for (const k of ['ext', 'dns', 'web', 'smtp', 'imap', 'ftp', 'pasv']) ports[k] = await freePort();
  // The domain's current authoritative name server, where the customer publishes the challenge.
  external = bindDriver({
    base: join(dir, 'ext'),
    listen: `127.0.0.1:${ports.ext}`,
    primary: 'ns.registrar.test',
    hostmaster: 'hostmaster.registrar.test',
  });
  await external.start();
  const cfgFile = join(dir, 'manager.json');
  await writeFile(
    cfgFile,
    JSON.stringify({
      site: { id: 'prov' },
      dataDir: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 0 },
      operatorToken: TOKEN,
      edge: { kind: 'builtin', adminUrl: 'http://127.0.0.1:9', token: 'x'.repeat(20) },
      volumes: { kind: 'local', root: join(dir, 'fleet-volumes') },
      provisioning: { resolvers: [`127.0.0.1:${ports.ext}`], renudgeMs: 500 },
      log: { level: 'warn' },
    }),
  );
  manager = await startManager(loadManagerConfig(cfgFile, {}), { log: pino({ level: 'fatal' }) });
  const vol = join(dir, 'volumes');
  drivers = [
    bindDriver({
      base: join(dir, 'dns'),
      listen: `127.0.0.1:${ports.dns}`,
      primary: 'ns1.hostfleet.test',
      hostmaster: 'hostmaster.hostfleet.test',
    }),
    nginxDriver({ base: join(dir, 'web'), listen: `127.0.0.1:${ports.web}`, volumesRoot: vol }),
    mailDriver({
      base: join(dir, 'mail'),
      smtp: `127.0.0.1:${ports.smtp}`,
      imap: `127.0.0.1:${ports.imap}`,
      mailRoot: join(dir, 'maildirs'),
      hostname: 'mx.hostfleet.test',
      vmailUid: 5000,
      postfixUid: Number((await run('id', ['-u', 'postfix'])).output),
      postfixGid: Number((await run('id', ['-g', 'postfix'])).output),
    }),
    pureFtpdDriver({
      base: join(dir, 'ftp'),
      listen: `127.0.0.1:${ports.ftp}`,
      volumesRoot: vol,
      passive: [ports.pasv as number, (ports.pasv as number) + 20],
    }),
  ];
  for (const d of drivers) await d.start();
  const r = await api(
    'PUT',
    '/v1/provisioning/servers/svc-1',
    { id: 'svc-1', services: ['dns', 'web', 'mail', 'ftp'], capacity: 100, address: '127.0.0.1' },
    op,
  );
  assert.equal(r.status, 200, JSON.stringify(r.json));
  agent = await startProvisioner({
    siteId: 'prov',
    serverId: 'svc-1',
    managerUrl: manager.url,
    bus: manager.ctx.bus,
    drivers,
    stateDir: dir,
  });
});

after(async () => {
  await agent?.close();
  await manager?.close();
  for (const d of [...drivers, external]) await d?.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

test('order → verified → paid → web, FTP, DNS and mail work for the new account', async () => {
  const domain = 'shop-e2e.test';
  const o = await api('POST', '/v1/orders', {
    contact: { name: 'Ada Lovelace', email: 'ada@example.com', country: 'GB' },
    domain,
    services: ['web', 'dns', 'mail', 'ftp'],
    plan: 'starter',
  });
  assert.equal(o.status, 201, JSON.stringify(o.json));
  const secret = { 'x-order-secret': o.json.secret as string };
  const id = o.json.order.id as string;

  // Not published yet: refused with the reason, the order stays unverified.
  const early = await api('POST', `/v1/orders/${id}/verify`, {}, secret);
  assert.equal(early.status, 409);
  assert.match(early.json.error.message, /_hostfleet-challenge/);

  // The customer publishes the TXT record at the domain's current name server.
  const pub = await external.apply(
    new Map([
      [
        'cust',
        {
          version: 2,
          spec: {
            kind: 'dns',
            zone: domain,
            records: [
              { name: '@', type: 'NS', value: 'ns.registrar.test' },
              { name: '_hostfleet-challenge', type: 'TXT', value: o.json.challenge.value } as never,
            ],
          },
        },
      ],
    ]),
  );
  assert.ok(pub.ok, JSON.stringify(pub));
  await until('the challenge to resolve', async () =>
    (
      await run('dig', ['+short', '-p', String(ports.ext), '@127.0.0.1', `_hostfleet-challenge.${domain}`, 'TXT'])
    ).output.includes(o.json.challenge.value)
      ? true
      : undefined,
  );
  const ok = await api('POST', `/v1/orders/${id}/verify`, {}, secret);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(ok.json.order.state, 'verified');

  const card = { number: '4000000000009995', expMonth: 12, expYear: 2099, cvc: '123', holder: 'Ada Lovelace' };
  const declined = await api('POST', `/v1/orders/${id}/pay`, { card }, secret);
  assert.equal(declined.status, 402);
  assert.equal(declined.json.error.code, 'E_PAYMENT_DECLINED');
  assert.match(declined.json.error.message, /insufficient_funds/);
  const paid = await api('POST', `/v1/orders/${id}/pay`, { card: { ...card, number: '4242424242424242' } }, secret);
  assert.equal(paid.status, 201, JSON.stringify(paid.json));
  const account = paid.json.account as { id: string; password: string; ftpUser: string };

  await until('every service live', async () => {
    const a = await api('GET', `/v1/provisioning/accounts/${account.id}`, undefined, op);
    return a.json.services?.length === 4 && a.json.services.every((s: { live: boolean }) => s.live) ? true : undefined;
  });

  // FTP: the account's user logs in and uploads into the volume; nginx serves it for the domain.
  const page = join(dir, 'index.html');
  await writeFile(page, '<h1>hello from ftp</h1>\n');
  const up = await run('curl', [
    '-sS',
    '--ftp-create-dirs',
    '-T',
    page,
    '-u',
    `${account.ftpUser}:${account.password}`,
    `ftp://127.0.0.1:${ports.ftp}/www/index.html`,
  ]);
  assert.equal(up.code, 0, up.output);
  const site = await until('the site to be served', async () => {
    const r = await request(`http://127.0.0.1:${ports.web}/`, { headers: { host: domain } });
    const t = await r.body.text();
    return r.statusCode === 200 ? t : undefined;
  });
  assert.equal(site, '<h1>hello from ftp</h1>\n');
  const other = await request(`http://127.0.0.1:${ports.web}/`, { headers: { host: 'unknown.test' } });
  assert.equal(other.statusCode, 404);
  await other.body.dump();

  // DNS: the zone resolves through our BIND.
  const a = await until('the zone to answer', async () => {
    const r = await run('dig', ['+short', '-p', String(ports.dns), '@127.0.0.1', `www.${domain}`, 'A']);
    return r.output === '127.0.0.1' ? r.output : undefined;
  });
  assert.equal(a, '127.0.0.1');
  assert.match(
    (await run('dig', ['+short', '-p', String(ports.dns), '@127.0.0.1', domain, 'MX'])).output,
    new RegExp(`^10 mail\\.${domain.replace('.', '\\.')}\\.$`),
  );

  // Mail: a new mailbox, a message by SMTP, read back over IMAP.
  const mb = await api(
    'POST',
    `/v1/provisioning/accounts/${account.id}/mailboxes`,
    { local: 'info', password: 'correct-horse-42' },
    op,
  );
  assert.equal(mb.status, 201, JSON.stringify(mb.json));
  await until('the mailbox to be live', async () => {
    const s = await api('GET', `/v1/provisioning/accounts/${account.id}`, undefined, op);
    return s.json.services.find((x: { service: string }) => x.service === 'mail')?.heldVersion === mb.json.version
      ? true
      : undefined;
  });
  const msg = join(dir, 'msg.eml');
  await writeFile(msg, `From: ada@example.com\r\nTo: info@${domain}\r\nSubject: provisioned\r\n\r\nit works 7f3a\r\n`);
  const sent = await run('curl', [
    '-sS',
    `smtp://127.0.0.1:${ports.smtp}`,
    '--mail-from',
    'ada@example.com',
    '--mail-rcpt',
    `info@${domain}`,
    '-T',
    msg,
  ]);
  assert.equal(sent.code, 0, sent.output);
  const read = await until('the message over IMAP', async () => {
    const r = await run('curl', [
      '-sS',
      '-u',
      `info@${domain}:correct-horse-42`,
      `imap://127.0.0.1:${ports.imap}/INBOX;UID=1`,
    ]);
    return r.code === 0 && r.output.includes('it works 7f3a') ? r.output : undefined;
  });
  assert.match(read, /Subject: provisioned/);
  const wrong = await run('curl', [
    '-sS',
    '-u',
    `info@${domain}:wrong-password-1`,
    `imap://127.0.0.1:${ports.imap}/INBOX;UID=1`,
  ]);
  assert.notEqual(wrong.code, 0);

  // Deleting the account removes it from every service.
  const del = await api('DELETE', `/v1/provisioning/accounts/${account.id}`, undefined, op);
  assert.equal(del.status, 200);
  await until('the site to be gone', async () => {
    const r = await request(`http://127.0.0.1:${ports.web}/`, { headers: { host: domain } });
    await r.body.dump();
    return r.statusCode === 404 ? true : undefined;
  });
  await until('the zone to be gone', async () =>
    (await run('dig', ['+short', '-p', String(ports.dns), '@127.0.0.1', `www.${domain}`, 'A'])).output === ''
      ? true
      : undefined,
  );
});

test('BIND: a batch writes only the zones it changed, a zone that fails its check leaves the served one, and zone files no generation names are removed', async () => {
  const port = await freePort();
  const base = join(dir, 'dns-blobs');
  const d = bindDriver({
    base,
    listen: `127.0.0.1:${port}`,
    primary: 'ns1.hostfleet.test',
    hostmaster: 'hostmaster.hostfleet.test',
  });
  await d.start();
  try {
    const zone = (name: string, a: string, version: number, ns = true) => ({
      version,
      spec: {
        kind: 'dns' as const,
        zone: name,
        records: [
          ...(ns ? [{ name: '@', type: 'NS' as const, value: 'ns1.hostfleet.test' }] : []),
          { name: 'www', type: 'A' as const, value: a },
        ],
      },
    });
    const shared = async () => (await readdir(join(base, 'zones', 'shared'))).sort();
    const answer = (name: string) =>
      until(`www.${name}`, async () => {
        const r = await run('dig', ['+short', '-p', String(port), '@127.0.0.1', `www.${name}`, 'A']);
        return r.output || undefined;
      });
    const ten = new Map(Array.from({ length: 10 }, (_, i) => [`c${i}`, zone(`z${i}.blobs.test`, '192.0.2.1', 10 + i)]));
    assert.deepEqual(await d.apply(ten), { ok: true });
    const first = await shared();
    assert.equal(first.length, 10);
    const stats = new Map(
      await Promise.all(first.map(async (f) => [f, (await stat(join(base, 'zones', 'shared', f))).mtimeMs] as const)),
    );
    // One zone changes: one new file, the nine others are the same files, untouched.
    const changed = new Map(ten).set('c3', zone('z3.blobs.test', '192.0.2.3', 30));
    assert.deepEqual(await d.apply(changed), { ok: true });
    const second = await shared();
    assert.equal(second.filter((f) => !first.includes(f)).length, 1);
    for (const f of first.filter((x) => !x.startsWith('z3.')))
      assert.equal((await stat(join(base, 'zones', 'shared', f))).mtimeMs, stats.get(f));
    assert.equal(
      await until('the changed zone', async () => ((await answer('z3.blobs.test')) === '192.0.2.3' ? true : undefined)),
      true,
    );
    // A zone without NS records fails named-checkconf -z: refused, the served zones stay.
    const bad = new Map(changed).set('c4', zone('z4.blobs.test', '192.0.2.4', 40, false));
    const out = await d.apply(bad);
    assert.equal(out.ok, false);
    assert.match(out.ok ? '' : out.error, /z4\.blobs\.test/);
    assert.equal(await answer('z4.blobs.test'), '192.0.2.1');
    // Two more promotes: the replaced z3 file and the refused z4 file are named by no kept generation.
    assert.deepEqual(await d.apply(changed), { ok: true });
    assert.deepEqual(await d.apply(changed), { ok: true });
    assert.deepEqual(
      await shared(),
      second.filter((f) => !(f.startsWith('z3.') && first.includes(f))),
    );
  } finally {
    await d.close();
  }
});
