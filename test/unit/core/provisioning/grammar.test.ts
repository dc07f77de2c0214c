// Every value written into a config file passes its grammar: injection attempts are refused
// by validation, by the spec check and by the renderers, and valid orders pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkSpec,
  reconcile,
  renderNginx,
  renderPostfix,
  validateOrder,
} from '../../../../src/core/provisioning/index.js';
import type { MailSpec, WebSpec } from '../../../../src/core/provisioning/index.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$n/sh3WVqLa1LfMCWPGLNzA$8J1iMdZTsdvwikUzLKbaWCm+EsxpNHqc5gSuuJ0t41Q';
const good = {
  contact: { name: 'Ada Lovelace', email: 'ada@example.com', country: 'GB' },
  domain: 'shop.example.com',
  services: ['web', 'mail'],
  plan: 'starter',
};

test('validateOrder names each invalid field, injection included', () => {
  const cases = [
    { name: 'newline in domain', patch: { domain: 'a.test\nserver { }' }, field: 'body.domain' },
    { name: 'brace in domain', patch: { domain: 'a.test}' }, field: 'body.domain' },
    { name: 'semicolon', patch: { domain: 'a.test;' }, field: 'body.domain' },
    { name: 'quote', patch: { domain: 'a"b.test' }, field: 'body.domain' },
    { name: 'dot dot', patch: { domain: 'a..test' }, field: 'body.domain' },
    { name: 'unknown service', patch: { services: ['web', 'shell'] }, field: 'body.services.1' },
    { name: 'unknown plan', patch: { plan: 'gold' }, field: 'body.plan' },
    { name: 'bad email', patch: { contact: { ...good.contact, email: 'x@y;z' } }, field: 'body.contact.email' },
    { name: 'markup in name', patch: { contact: { ...good.contact, name: '<b>' } }, field: 'body.contact.name' },
  ];
  for (const c of cases) {
    const v = validateOrder({ ...good, ...c.patch });
    assert.equal(v.ok, false, c.name);
    if (!v.ok)
      assert.ok(
        v.problems.some((p) => p.field === c.field),
        `${c.name}: ${JSON.stringify(v.problems)}`,
      );
  }
  const ok = validateOrder(good);
  assert.ok(ok.ok);
  const missing = validateOrder({});
  assert.equal(missing.ok, false);
  if (!missing.ok)
    assert.deepEqual(missing.problems.map((p) => p.field).sort(), [
      'body.contact',
      'body.domain',
      'body.plan',
      'body.services',
    ]);
});

test('renderers refuse values outside the grammars and never emit them', () => {
  const bad: WebSpec[] = [
    { kind: 'web', domain: 'a.test;\n}', aliases: [], root: 'www' },
    { kind: 'web', domain: 'a.test', aliases: [], root: '../etc' },
    { kind: 'web', domain: 'a.test', aliases: ['b.test { return 200; }'], root: 'www' },
  ];
  for (const s of bad) {
    const r = renderNginx(new Map([['acct', s]]), { listen: '127.0.0.1:8080', volumesRoot: '/srv/volumes' });
    assert.equal(r.ok, false, JSON.stringify(s));
  }
  const mail: MailSpec = {
    kind: 'mail',
    domain: 'a.test',
    mailboxes: [{ local: 'info', passwordHash: 'x:0:0::/root' }],
  };
  assert.equal(renderPostfix(new Map([['acct', mail]])).ok, false);
  assert.ok(checkSpec({ ...mail, mailboxes: [{ local: 'in..fo', passwordHash: HASH }] }).length > 0);
  const ok = renderNginx(new Map([['acct', { kind: 'web', domain: 'a.test', aliases: ['www.a.test'], root: 'www' }]]), {
    listen: '127.0.0.1:8080',
    volumesRoot: '/srv/volumes',
  });
  assert.ok(ok.ok);
  if (ok.ok) assert.match(ok.value.get('acct.conf') ?? '', /server_name a\.test www\.a\.test;/);
});

test('reconcile is idempotent and orders removals before puts, DNS first', () => {
  const web: WebSpec = { kind: 'web', domain: 'a.test', aliases: [], root: 'www' };
  const desired = [
    { account: 'a', service: 'web' as const, version: 3, spec: web },
    { account: 'a', service: 'dns' as const, version: 2, spec: { kind: 'dns' as const, zone: 'a.test', records: [] } },
  ];
  const tasks = reconcile(desired, [{ account: 'b', service: 'web', version: 1 }]);
  assert.deepEqual(
    tasks.map((t) => `${t.kind}:${t.service}:${t.account}`),
    ['put:dns:a', 'remove:web:b', 'put:web:a'],
  );
  assert.deepEqual(
    reconcile(
      desired,
      desired.map(({ account, service, version }) => ({ account, service, version })),
    ),
    [],
  );
});
