// What a site tells the coordinator: its spare servers, its asks, and the groups it serves for others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askCount, buildReport } from '../../../../src/services/manager/components/global/report.js';
import type { StoredServer } from '../../../../src/core/model/server.js';
import type { AccountRecord, GroupRecord } from '../../../../src/core/model/records.js';
import { parseReport } from '../../../../src/services/global/protocol.js';

const server = (id: string, state: StoredServer['state'], groupId: string | null, moveId: string | null = null) =>
  ({
    id,
    state,
    groupId,
    moveId,
    address: `127.0.0.1:${id.slice(-1)}0`,
    uuid: id,
    version: 1,
    updatedAt: '',
  }) as unknown as StoredServer;
const group = (id: string, accountId: string, siteId: string): GroupRecord => ({
  id,
  accountId,
  siteId,
  role: 'front-end',
  minSize: 1,
  maxSize: 8,
  runtime: { serviceTimeMs: 20, concurrency: 4, maxQueue: 100 },
  image: 'hostfleet/demo-runtime',
  domains: siteId === 'a' ? [`${accountId}.test`] : [],
});
const account = (id: string, uid: number): AccountRecord => ({ id, displayName: id, uid, gid: uid, resellerId: null });

test('a group asks while it is short of supply or borrows, for what its sizing wants beyond what it holds', () => {
  assert.equal(askCount({ want: 6, held: 3, unmet: 2 }, 0), 3);
  assert.equal(askCount({ want: 6, held: 3, unmet: 0 }, 2), 3);
  assert.equal(askCount({ want: 6, held: 3, unmet: 0 }, 0), 0);
  assert.equal(askCount({ want: 2, held: 3, unmet: 0 }, 2), 0);
});

test('the report: spare less what the site is short of, asks, accounts with replicas, guests', () => {
  const r = buildReport({
    site: 'a',
    utcOffsetMinutes: 0,
    now: 1000,
    servers: [
      server('s1', 'active', 'shop-web'),
      server('s2', 'pool-cold', null),
      server('s3', 'pool-cold', null),
      server('s4', 'pool-warm', null),
      server('s5', 'active', 'b-news-web'),
      server('s6', 'pool-cold', null, 'move-1'),
    ],
    groups: [group('shop-web', 'shop', 'a'), group('b-news-web', 'b-news', 'b')],
    accounts: [account('shop', 200_001), account('b-news', 300_001)],
    slas: [],
    outlook: { at: 1000, groups: new Map([['shop-web', { want: 2, held: 1, unmet: 0 }]]) },
    keepIdle: 1,
    asks: new Map([['shop-web', 5]]),
    lagOf: (acc, site) => (acc === 'shop' && site === 'b' ? 1500 : null),
    replicaSites: ['b', 'c'],
    attached: [],
    restored: [],
    urls: { api: 'http://a', edge: 'http://e' },
  });
  assert.ok(parseReport(r));
  // Three idle servers (s6 moves), one wanted by shop, one kept idle.
  assert.equal(r.spare, 1);
  // Of the five servers shop-web wants from elsewhere, the site's own three idle ones come first.
  assert.deepEqual(r.asks, [{ group: 'shop-web', account: 'shop', count: 2, priority: 0.5 }]);
  assert.deepEqual(
    r.accounts.map((x) => [x.account, x.uid, x.groups.map((g) => g.group), x.replicas]),
    [
      [
        'shop',
        200_001,
        ['shop-web'],
        [
          { site: 'b', lagMs: 1500 },
          { site: 'c', lagMs: null },
        ],
      ],
    ],
  );
  assert.deepEqual(r.guests, [
    { home: 'b', group: 'news-web', ready: [{ id: 's5', address: '127.0.0.1:50' }], busy: 0 },
  ]);
});
