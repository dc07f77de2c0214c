// The coordinator's views: which of a lender's servers a loan uses, what the lender may take
// back, and when a takeover site has stopped so a site that came back may copy its data home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chosen, viewsOf } from '../../../../src/services/global/coordinator.js';
import {
  PROTOCOL_VERSION,
  parseReport,
  parseView,
  utcOffsetMinutes,
} from '../../../../src/services/global/protocol.js';
import type { SiteReportMessage } from '../../../../src/services/global/protocol.js';
import { newGlobalState } from '../../../../src/core/global/index.js';
import type { GlobalState } from '../../../../src/core/global/index.js';

const spec = {
  group: 'shop-web',
  held: 2,
  extended: 8,
  role: 'front-end',
  image: 'img',
  runtime: {},
  domains: ['shop.test'],
};

function report(site: string, over: Partial<SiteReportMessage> = {}): SiteReportMessage {
  return {
    v: PROTOCOL_VERSION,
    site,
    utcOffsetMinutes: 0,
    at: 0,
    spare: 0,
    recall: 0,
    asks: [],
    accounts: [],
    guests: [],
    attached: [],
    restored: [],
    urls: { api: 'http://a', edge: 'http://e' },
    ...over,
  };
}

const srv = (id: string) => ({ id, address: `127.0.0.1:${9000 + Number(id.slice(-1))}` });

test('a loan keeps the servers its borrower has attached, then takes the lowest ids', () => {
  const ready = [srv('s3'), srv('s1'), srv('s2')];
  assert.deepEqual(
    chosen(ready, new Set(['s3']), 2).map((x) => x.id),
    ['s3', 's1'],
  );
  assert.deepEqual(
    chosen(ready, new Set(), 2).map((x) => x.id),
    ['s1', 's2'],
  );
  assert.deepEqual(chosen(ready, new Set(), 0), []);
});

test('the borrower is sent the lent servers; the lender may take back only what the borrower let go', () => {
  const state: GlobalState = {
    ...newGlobalState(),
    loans: [{ id: 'loan-1', lender: 'b', to: { home: 'a', group: 'shop-web' }, account: 'shop', count: 1, since: 0 }],
  };
  const a = report('a', {
    accounts: [
      { account: 'shop', uid: 200_001, displayName: 'Shop', groups: [spec], replicas: [{ site: 'b', lagMs: 100 }] },
    ],
    attached: [{ group: 'shop-web', lender: 'b', servers: ['s2', 's3'] }],
  });
  const b = report('b', {
    guests: [{ home: 'a', group: 'shop-web', ready: [srv('s1'), srv('s2'), srv('s3')], busy: 0 }],
  });
  const views = viewsOf(
    state,
    new Map([
      ['a', a],
      ['b', b],
    ]),
    new Set(['a', 'b']),
    1,
  );
  const va = views.find((v) => v.site === 'a');
  const vb = views.find((v) => v.site === 'b');
  assert.deepEqual(va?.remote, [{ group: 'shop-web', lender: 'b', servers: [srv('s2')] }]);
  // s3 is still attached at a (being drained): not yet b's to take back; s1 was never attached.
  assert.deepEqual(
    vb?.guests.map((g) => [g.kind, g.count, g.release]),
    [['loan', 1, ['s1']]],
  );
  for (const v of views) assert.ok(parseView(v), 'a view parses as one');
});

test('a takeover serves while its home is lost and stops once the home is back', () => {
  const takeover = {
    account: 'shop',
    home: 'a',
    site: 'b',
    groups: [{ group: 'shop-web', count: 2 }],
    since: 0,
    rpoMs: 900,
  };
  const state: GlobalState = { ...newGlobalState(), takeovers: [takeover], lost: ['a'] };
  const a = report('a', {
    accounts: [
      { account: 'shop', uid: 200_001, displayName: 'Shop', groups: [spec], replicas: [{ site: 'b', lagMs: 900 }] },
    ],
  });
  const serving = report('b', { guests: [{ home: 'a', group: 'shop-web', ready: [srv('s1'), srv('s2')], busy: 0 }] });
  const lost = viewsOf(
    state,
    new Map([
      ['a', a],
      ['b', serving],
    ]),
    new Set(['b']),
    1,
  );
  assert.deepEqual(
    lost.find((v) => v.site === 'b')?.guests.map((g) => [g.kind, g.count, g.spec.domains]),
    [['takeover', 2, ['shop.test']]],
  );
  const back = viewsOf(
    state,
    new Map([
      ['a', a],
      ['b', serving],
    ]),
    new Set(['a', 'b']),
    2,
  );
  assert.deepEqual(
    back.find((v) => v.site === 'b')?.guests.map((g) => [g.count, g.release]),
    [[0, ['s1', 's2']]],
  );
  assert.deepEqual(back.find((v) => v.site === 'a')?.takenOver, [{ account: 'shop', site: 'b', stopped: false }]);
  const stoppedB = report('b', { guests: [{ home: 'a', group: 'shop-web', ready: [], busy: 0 }] });
  const later = viewsOf(
    state,
    new Map([
      ['a', a],
      ['b', stoppedB],
    ]),
    new Set(['a', 'b']),
    3,
  );
  assert.deepEqual(later.find((v) => v.site === 'a')?.takenOver, [{ account: 'shop', site: 'b', stopped: true }]);
});

test('reports that are not reports are refused: unknown keys, bad names, other versions', () => {
  assert.ok(parseReport(report('a')));
  assert.equal(parseReport({ ...report('a'), extra: 1 }), null);
  assert.equal(parseReport({ ...report('a'), site: 'A.b' }), null);
  assert.equal(parseReport({ ...report('a'), v: 2 }), null);
  assert.equal(parseReport({ ...report('a'), spare: -1 }), null);
});

test('time-zone offsets come from the IANA database, east positive', () => {
  assert.equal(utcOffsetMinutes('Etc/GMT-8', 0), 480);
  assert.equal(utcOffsetMinutes('Etc/GMT+8', 0), -480);
  assert.equal(utcOffsetMinutes('Asia/Kolkata', 0), 330);
  assert.equal(utcOffsetMinutes('UTC', 0), 0);
});
