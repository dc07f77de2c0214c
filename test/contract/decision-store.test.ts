// The decision loop's store queries and the managers' lease, against PGlite and a real PostgreSQL:
// one holder at a time, a token that grows at every change of holder, takeover after expiry,
// and a deposed holder's fenced writes rejected.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/drivers/store/index.js';
import type { Store } from '../../src/drivers/store/index.js';
import * as ddb from '../../src/drivers/store/decision.js';
import * as db from '../../src/drivers/store/resources.js';
import { isHostfleetError } from '../../src/core/errors.js';
import { STORE_IMPLEMENTATIONS } from '../support/stores.js';
import { startLease } from '../../src/services/manager/lease.js';
import pino from 'pino';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const implementations = STORE_IMPLEMENTATIONS;

for (const impl of implementations) {
  describe(`decision store on ${impl.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await impl.open());
      await migrate(store);
      await db.upsertSite(store, { id: 'site1', name: 'Site', timeZone: 'UTC' });
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    test('one holder at a time; renewal keeps the token; takeover after expiry increments it', async () => {
      const a = await ddb.acquireLease(store, 'site1', 'mgr-a', 400);
      assert.equal(a, 1);
      assert.equal(await ddb.acquireLease(store, 'site1', 'mgr-b', 400), null);
      assert.equal(await ddb.acquireLease(store, 'site1', 'mgr-a', 400), 1);
      await sleep(500);
      const b = await ddb.acquireLease(store, 'site1', 'mgr-b', 400);
      assert.equal(b, 2);
      assert.equal(await ddb.acquireLease(store, 'site1', 'mgr-a', 400), null);
      assert.equal((await ddb.getLease(store, 'site1'))?.holder, 'mgr-b');
    });

    test("a deposed manager's fenced write is rejected and writes nothing", async () => {
      await ddb.releaseLease(store, 'site1', 'mgr-b');
      const t = await ddb.acquireLease(store, 'site1', 'mgr-a', 300);
      assert.ok(t !== null);
      // The holder's write passes the fence.
      await store.transaction(async (tx) => {
        await ddb.fence(tx, 'site1', 'mgr-a', t);
        await db.createAccount(tx, { id: 'early', displayName: 'written in time' });
      });
      assert.ok(await db.getAccount(store, 'early'));
      await sleep(400);
      const t2 = await ddb.acquireLease(store, 'site1', 'mgr-b', 5000);
      assert.equal(t2, t + 1);
      await db.createAccount(store, { id: 'acct', displayName: 'A' });
      await assert.rejects(
        store.transaction(async (tx) => {
          await ddb.fence(tx, 'site1', 'mgr-a', t);
          await db.createAccount(tx, { id: 'late', displayName: 'written late' });
        }),
        (e) => isHostfleetError(e, 'E_NOT_LEADER'),
      );
      assert.equal(await db.getAccount(store, 'late'), null);
      await store.transaction(async (tx) => ddb.fence(tx, 'site1', 'mgr-b', t2 as number));
    });

    test('startLease: one of two managers is active; the other takes over when it leaves, and the first is fenced', async () => {
      const log = pino({ level: 'silent' });
      await db.upsertSite(store, { id: 'site2', name: 'Site 2', timeZone: 'UTC' });
      const a = await startLease(store, 'site2', { ttlMs: 1000, renewMs: 100 }, log, { name: 'lease-a' });
      const b = await startLease(store, 'site2', { ttlMs: 1000, renewMs: 100 }, log, { name: 'lease-b' });
      const changes: boolean[] = [];
      b.onChange((l) => {
        changes.push(l);
      });
      try {
        assert.equal(a.isLeader(), true);
        assert.equal(b.isLeader(), false);
        const tokenA = a.token();
        await a.close();
        for (let i = 0; i < 50 && !b.isLeader(); i++) await sleep(50);
        assert.equal(b.isLeader(), true);
        assert.deepEqual(changes, [true]);
        assert.ok(b.token() > tokenA);
        await assert.rejects(
          store.transaction((tx) => a.fence(tx)),
          (e) => isHostfleetError(e, 'E_NOT_LEADER'),
        );
        await store.transaction((tx) => b.fence(tx));
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('plans are recorded, listed newest first, filtered and pruned', async () => {
      const base = Date.now();
      for (let i = 0; i < 5; i++)
        await ddb.insertPlan(store, {
          id: `p${i}`,
          siteId: 'site1',
          at: new Date(base + i),
          leaderToken: 1,
          moves: i % 2,
          plan: { i },
        });
      assert.deepEqual(
        (await ddb.listPlans(store, { limit: 3 })).map((p) => p.id),
        ['p4', 'p3', 'p2'],
      );
      assert.deepEqual(
        (await ddb.listPlans(store, { withMoves: true })).map((p) => p.id),
        ['p3', 'p1'],
      );
      assert.deepEqual((await ddb.getPlan(store, 'p1'))?.plan, { i: 1 });
      await ddb.prunePlans(store, 1);
      assert.deepEqual(
        (await ddb.listPlans(store, {})).map((p) => p.id),
        ['p4'],
      );
    });
  });
}
