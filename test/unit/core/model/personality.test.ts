// The one personality builder: what every issuer gets back is a personality the machines accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPersonality, checkPersonality, type PersonalityParts } from '../../../../src/core/model/index.js';

const parts = (over: Partial<PersonalityParts> = {}): PersonalityParts => ({
  machine: 'm-1',
  server: 'srv-1',
  account: { id: 'acme', name: 'Acme', uid: 41001, gid: 41002 },
  group: { id: 'acme-web', name: 'acme-web', role: 'web' },
  image: 'hostfleet/demo-runtime',
  runtime: { serviceTimeMs: 20, concurrency: 4, maxQueue: 50 },
  volume: 'acme',
  ...over,
});

const agent = {
  busUrl: 'hfbus://127.0.0.1:1',
  busToken: null,
  site: 's',
  group: 'acme-web',
  server: 'srv-1',
  priority: 0.5,
  responseTargetMs: 200,
  rules: 'default',
};

test('buildPersonality puts the parts where the machines read them', () => {
  const cases: { name: string; parts: PersonalityParts; want: { config: Record<string, string>; agent: boolean } }[] = [
    { name: 'a server of a group, no agents', parts: parts(), want: { config: {}, agent: false } },
    { name: 'a server with its agent section', parts: parts({ agent }), want: { config: {}, agent: true } },
    {
      name: 'a node component with its configuration',
      parts: parts({ config: { configuration: 'shop', component: 'web-1' } }),
      want: { config: { configuration: 'shop', component: 'web-1' }, agent: false },
    },
  ];
  for (const c of cases) {
    const p = buildPersonality(c.parts);
    assert.equal(p.kind, 'hostfleet.personality/v1', c.name);
    assert.deepEqual(p.account, { id: 'acme', name: 'Acme' }, `${c.name}: the account carries no uid`);
    assert.deepEqual([p.uid, p.gid, p.volume], [41001, 41002, { id: 'acme' }], c.name);
    assert.deepEqual(p.config, c.want.config, c.name);
    assert.equal('agent' in p, c.want.agent, c.name);
    const check = checkPersonality(p, 'M-1');
    assert.ok(check.ok, `${c.name}: ${check.ok ? '' : JSON.stringify(check.problems)}`);
  }
});
