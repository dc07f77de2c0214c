import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planEdgeRepairs } from '../../../../../src/services/manager/components/edge-sync.js';
import type { EdgePoolStatus } from '../../../../../src/drivers/edge/index.js';
import type { StoredServer } from '../../../../../src/drivers/store/resources.js';
import type { GroupRecord } from '../../../../../src/core/model/records.js';
import { DEFAULT_RUNTIME } from '../../../../../src/core/model/personality.js';

const group = (id: string, domains: string[]): GroupRecord => ({
  id,
  accountId: id,
  siteId: 's',
  role: 'web',
  minSize: 0,
  maxSize: 9,
  runtime: DEFAULT_RUNTIME,
  image: 'i',
  domains,
});
const server = (id: string, o: Partial<StoredServer> = {}): StoredServer =>
  ({
    id,
    siteId: 's',
    bmcUrl: 'b',
    systemId: id,
    uuid: id,
    address: `127.0.0.1:${id.length}`,
    capacity: 1,
    state: 'active',
    groupId: 'a',
    moveId: null,
    warmFor: null,
    version: 1,
    updatedAt: '',
    ...o,
  }) as StoredServer;
const pool = (
  id: string,
  domains: string[],
  servers: ReturnType<typeof es>[],
  rateLimit: number | null = null,
): EdgePoolStatus => ({ id, domains, balance: 'least-connections', sticky: false, rateLimit, servers });
const es = (id: string, state: 'up' | 'down' | 'draining' = 'up') => ({
  id,
  address: 'x',
  state,
  outstanding: 0,
  served: 0,
  failures: 0,
});

test('the edge is repaired to match the resource database, and servers in a move are left to the dispatcher', () => {
  const cases: {
    name: string;
    edge: EdgePoolStatus[];
    servers: StoredServer[];
    want: string[];
    suspended?: Set<string>;
    throttled?: Map<string, number>;
  }[] = [
    { name: 'in step', edge: [pool('a', ['a.test'], [es('s1')])], servers: [server('s1')], want: [] },
    { name: 'edge restarted empty', edge: [], servers: [server('s1')], want: ['pool a', 'attach a s1'] },
    { name: 'domains changed', edge: [pool('a', ['old.test'], [es('s1')])], servers: [server('s1')], want: ['pool a'] },
    {
      name: 'left draining by a rolled-back move',
      edge: [pool('a', ['a.test'], [es('s1', 'draining')])],
      servers: [server('s1')],
      want: ['attach a s1'],
    },
    {
      name: 'a stray server',
      edge: [pool('a', ['a.test'], [es('s1'), es('s9')])],
      servers: [server('s1'), server('s9', { groupId: null, state: 'pool-cold' })],
      want: ['detach a s9'],
    },
    {
      name: 'a suspended account keeps its pool but no server',
      edge: [pool('a', ['a.test'], [es('s1')])],
      servers: [server('s1'), server('s2')],
      suspended: new Set(['a']),
      want: ['detach a s1'],
    },
    {
      name: 'a throttled account gets its rate limit',
      edge: [pool('a', ['a.test'], [es('s1')])],
      servers: [server('s1')],
      throttled: new Map([['a', 7]]),
      want: ['pool a 7'],
    },
    {
      name: 'a throttled account already limited',
      edge: [pool('a', ['a.test'], [es('s1')], 7)],
      servers: [server('s1')],
      throttled: new Map([['a', 7]]),
      want: [],
    },
    {
      name: 'a lifted throttle lifts the limit',
      edge: [pool('a', ['a.test'], [es('s1')], 7)],
      servers: [server('s1')],
      want: ['pool a null'],
    },
    {
      name: "another owner's pool",
      edge: [pool('a', ['a.test'], [es('s1')]), pool('cfg-lb', ['shop.test'], [es('vs-1')])],
      servers: [server('s1')],
      want: [],
    },
    {
      name: 'a server in a move',
      edge: [pool('a', ['a.test'], [es('s1', 'draining')])],
      servers: [server('s1', { state: 'draining', moveId: 'm' }), server('s2', { state: 'booting', moveId: 'm2' })],
      want: [],
    },
  ];
  for (const c of cases) {
    const got = planEdgeRepairs(c.edge, [group('a', ['a.test'])], c.servers, c.suspended, c.throttled).map((r) =>
      [
        r.kind,
        r.pool,
        r.server,
        r.kind === 'pool' && (r.rateLimit !== null || c.edge.some((p) => p.rateLimit !== null))
          ? String(r.rateLimit)
          : undefined,
      ]
        .filter(Boolean)
        .join(' '),
    );
    assert.deepEqual(got, c.want, c.name);
  }
});
