// One contract suite for the store, run against PGlite (in memory) and a real PostgreSQL server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/drivers/store/index.js';
import type { Store } from '../../src/drivers/store/index.js';
import * as db from '../../src/drivers/store/resources.js';
import { isHostfleetError } from '../../src/core/errors.js';
import { STORE_IMPLEMENTATIONS } from '../support/stores.js';
import { DEFAULT_RUNTIME } from '../../src/core/model/personality.js';
import type { Personality } from '../../src/core/model/personality.js';

const implementations = STORE_IMPLEMENTATIONS;

const personality = (machine: string): Personality => ({
  kind: 'hostfleet.personality/v1',
  machine,
  server: 's1',
  account: { id: 'acme', name: 'Acme' },
  group: { id: 'acme-web', name: 'acme-web', role: 'front-end' },
  image: 'hostfleet/demo-runtime',
  runtime: DEFAULT_RUNTIME,
  volume: { id: 'acme' },
  uid: 200001,
  gid: 200001,
  config: {},
});

for (const impl of implementations) {
  describe(`store contract: ${impl.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await impl.open());
      await migrate(store);
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    test('migrations are versioned and applying them again does nothing', async () => {
      assert.deepEqual(await migrate(store), []);
      const r = await store.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.ok(r.rows.length >= 1);
      assert.equal(r.rows[0]?.version, 1);
    });

    test('accounts get distinct uids; a duplicate id is E_CONFLICT', async () => {
      await db.upsertSite(store, { id: 'local', name: 'Local', timeZone: 'UTC' });
      const a = await db.createAccount(store, { id: 'acme', displayName: 'Acme' });
      const b = await db.createAccount(store, { id: 'globex', displayName: 'Globex' });
      assert.equal(a.uid, db.FIRST_ACCOUNT_UID);
      assert.equal(b.uid, a.uid + 1);
      await assert.rejects(db.createAccount(store, { id: 'acme', displayName: 'again' }), (e: unknown) =>
        isHostfleetError(e, 'E_CONFLICT'),
      );
    });

    test('groups keep their domains; a taken domain is E_CONFLICT and nothing is half created', async () => {
      const g = await db.createGroup(store, {
        id: 'acme-web',
        accountId: 'acme',
        siteId: 'local',
        role: 'front-end',
        minSize: 1,
        maxSize: 4,
        runtime: DEFAULT_RUNTIME,
        domains: ['www.acme.test', 'acme.test'],
      });
      assert.deepEqual(g.domains, ['acme.test', 'www.acme.test']);
      await assert.rejects(
        store.transaction((tx) =>
          db.createGroup(tx, {
            id: 'globex-web',
            accountId: 'globex',
            siteId: 'local',
            role: 'front-end',
            minSize: 0,
            maxSize: 2,
            runtime: DEFAULT_RUNTIME,
            domains: ['globex.test', 'acme.test'],
          }),
        ),
        (e: unknown) => isHostfleetError(e, 'E_CONFLICT'),
      );
      assert.equal(await db.getGroup(store, 'globex-web'), null);
      assert.deepEqual(
        (await db.listGroups(store, 'acme')).map((x) => x.id),
        ['acme-web'],
      );
    });

    test('servers start in the cold pool and follow the lifecycle', async () => {
      const s = await db.registerServer(store, {
        id: 's1',
        siteId: 'local',
        bmcUrl: 'http://bmc',
        systemId: '1',
        uuid: 'u-1',
        address: '127.0.0.1:1',
      });
      assert.equal(s.state, 'pool-cold');
      await assert.rejects(
        db.registerServer(store, {
          id: 's1b',
          siteId: 'local',
          bmcUrl: 'http://bmc',
          systemId: '1',
          uuid: 'u-1b',
          address: 'x',
        }),
        (e: unknown) => isHostfleetError(e, 'E_CONFLICT'),
      );
      await assert.rejects(db.setServerPosition(store, 's1', { state: 'active', groupId: 'acme-web' }), (e: unknown) =>
        isHostfleetError(e, 'E_ILLEGAL_TRANSITION'),
      );
      const moved = await db.setServerPosition(store, 's1', { state: 'moving', groupId: null, moveId: 'm1' });
      assert.equal(moved.version, s.version + 1);
      assert.equal(moved.moveId, 'm1');
    });

    test('a server has at most one running move', async () => {
      await db.insertMove(store, {
        id: 'm1',
        serverId: 's1',
        fromGroup: null,
        toGroup: 'acme-web',
        step: 'set-boot-pointer',
        reason: 't',
        requestedBy: 't',
      });
      await assert.rejects(
        db.insertMove(store, {
          id: 'm2',
          serverId: 's1',
          fromGroup: null,
          toGroup: 'acme-web',
          step: 'set-boot-pointer',
          reason: 't',
          requestedBy: 't',
        }),
        (e: unknown) => isHostfleetError(e, 'E_MOVE_IN_PROGRESS'),
      );
      await db.addMoveEvent(store, { moveId: 'm1', step: 'set-boot-pointer', outcome: 'done', detail: { n: 1 } });
      const done = await db.updateMove(store, 'm1', { status: 'done', step: 'done' });
      assert.ok(done.finishedAt !== null);
      assert.deepEqual(
        (await db.listMoveEvents(store, 'm1')).map((e) => [e.step, e.outcome, e.detail]),
        [['set-boot-pointer', 'done', { n: 1 }]],
      );
      await db.insertMove(store, {
        id: 'm2',
        serverId: 's1',
        fromGroup: 'acme-web',
        toGroup: null,
        step: 'drain',
        reason: 't',
        requestedBy: 't',
      });
      assert.deepEqual(
        (await db.listMoves(store, { status: 'running' })).map((m) => m.id),
        ['m2'],
      );
    });

    test('a boot pointer is handed out once, only to its machine, only before it expires', async () => {
      const now = new Date('2026-11-22T00:00:00Z');
      await db.insertBootPointer(store, {
        tokenHash: 'h1',
        machineUuid: 'u-1',
        serverId: 's1',
        personality: personality('u-1'),
        expiresAt: new Date(now.getTime() + 60_000),
      });
      await db.insertBootPointer(store, {
        tokenHash: 'h2',
        machineUuid: 'u-1',
        serverId: 's1',
        personality: personality('u-1'),
        expiresAt: new Date(now.getTime() - 1),
      });
      const cases = [
        { name: 'another machine', hash: 'h1', machine: 'u-2', want: false },
        { name: 'its machine', hash: 'h1', machine: 'u-1', want: true },
        { name: 'second use', hash: 'h1', machine: 'u-1', want: false },
        { name: 'expired', hash: 'h2', machine: 'u-1', want: false },
        { name: 'unknown', hash: 'nope', machine: 'u-1', want: false },
      ];
      for (const c of cases) {
        const p = await db.consumeBootPointer(store, c.hash, c.machine, now);
        assert.equal(p !== null, c.want, c.name);
        if (p) assert.equal(p.account.id, 'acme');
      }
      assert.equal(await db.bootPointerUsed(store, 'h1'), true);
      assert.equal(await db.deleteExpiredBootPointers(store, now), 1);
    });

    test('allocations open and close idempotently', async () => {
      const t0 = new Date('2026-11-22T00:00:00Z');
      await db.openAllocation(store, {
        serverId: 's1',
        accountId: 'acme',
        groupId: 'acme-web',
        role: 'front-end',
        at: t0,
      });
      await db.openAllocation(store, {
        serverId: 's1',
        accountId: 'acme',
        groupId: 'acme-web',
        role: 'front-end',
        at: new Date(t0.getTime() + 5000),
      });
      await db.closeAllocation(store, 's1', new Date(t0.getTime() + 60_000));
      await db.closeAllocation(store, 's1', new Date(t0.getTime() + 90_000));
      const r = await store.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM allocations WHERE server_id = 's1' AND ended_at IS NOT NULL",
      );
      assert.equal(r.rows[0]?.n, 1);
    });

    test('a transaction that throws leaves nothing behind', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await db.upsertSite(tx, { id: 'ghost', name: 'Ghost', timeZone: 'UTC' });
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual(
        (await db.listSites(store)).map((s) => s.id),
        ['local'],
      );
    });

    test('API tokens are found by hash only', async () => {
      await db.insertApiToken(store, { id: 't1', tokenHash: 'th', role: 'customer', accountId: 'acme', name: 'acme' });
      assert.deepEqual(await db.findApiToken(store, 'th'), {
        id: 't1',
        role: 'customer',
        accountId: 'acme',
        name: 'acme',
      });
      assert.equal(await db.findApiToken(store, 'other'), null);
    });
  });
}
