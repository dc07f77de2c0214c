// The provisioning part of the store contract, run against PGlite (in memory) and a real
// PostgreSQL server: what a server should hold and holds, read for a batch's accounts only; the
// batched records of tasks and held services; versions drawn several at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/drivers/store/index.js';
import type { Store } from '../../src/drivers/store/index.js';
import * as db from '../../src/drivers/store/provisioning.js';
import { createAccount } from '../../src/drivers/store/resources.js';
import type { DnsSpec } from '../../src/core/provisioning/index.js';
import { STORE_IMPLEMENTATIONS } from '../support/stores.js';

const zone = (domain: string): DnsSpec => ({
  kind: 'dns',
  zone: domain,
  records: [{ name: '@', type: 'A', value: '192.0.2.1' }],
});

for (const impl of STORE_IMPLEMENTATIONS) {
  describe(`provisioning store contract: ${impl.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await impl.open());
      await migrate(store);
      await db.upsertServer(store, { id: 'ns1', services: ['dns'], capacity: 10, address: '192.0.2.1' });
      await db.upsertServer(store, { id: 'ns2', services: ['dns'], capacity: 10, address: '192.0.2.2' });
      for (const [i, a] of ['a1', 'a2', 'a3'].entries()) {
        await createAccount(store, { id: a, displayName: `${a}.example.com`, resellerId: null });
        await db.insertAccount(store, {
          id: a,
          orderId: `o-${a}`,
          domain: `${a}.example.com`,
          plan: 'starter',
          uid: 30_000 + i,
          passwordHash: 'x',
          email: `${a}@example.com`,
        });
        await db.putService(store, {
          accountId: a,
          service: 'dns',
          serverId: a === 'a3' ? 'ns2' : 'ns1',
          enabled: true,
          spec: zone(`${a}.example.com`),
          version: await db.nextVersion(store),
        });
      }
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    test('versions drawn at once are distinct, ascending and after those drawn before', async () => {
      const one = await db.nextVersion(store);
      const many = await db.nextVersions(store, 4);
      assert.equal(many.length, 4);
      assert.equal(new Set(many).size, 4);
      assert.deepEqual(
        [...many].sort((a, b) => a - b),
        many,
      );
      assert.ok(many.every((v) => v > one));
    });

    test("a batch reads only the named accounts' desired and held services, on its own server", async () => {
      const all = await db.desiredOfServer(store, 'ns1');
      assert.deepEqual(all.map((d) => d.account).sort(), ['a1', 'a2']);
      const some = await db.desiredOfServer(store, 'ns1', ['a2', 'a3']);
      assert.deepEqual(
        some.map((d) => d.account),
        ['a2'],
      );
      assert.deepEqual(some[0]?.spec, zone('a2.example.com'));
      assert.deepEqual(await db.desiredOfServer(store, 'ns1', []), []);
      await db.setHeld(store, 'ns1', [
        { accountId: 'a1', service: 'dns', version: 1 },
        { accountId: 'a2', service: 'dns', version: 2 },
      ]);
      assert.deepEqual(
        (await db.heldOfServer(store, 'ns1', ['a2'])).map((h) => [h.account, h.version]),
        [['a2', 2]],
      );
      assert.deepEqual(await db.heldOfServer(store, 'ns2', ['a2']), []);
    });

    test('held services are set and removed in one call; the last change of an account service wins', async () => {
      await db.setHeld(store, 'ns2', [
        { accountId: 'a3', service: 'dns', version: 5 },
        { accountId: 'a3', service: 'web', version: 6 },
      ]);
      await db.setHeld(store, 'ns2', [
        { accountId: 'a3', service: 'web', version: null },
        { accountId: 'a3', service: 'dns', version: 7 },
        { accountId: 'a3', service: 'dns', version: 8 },
      ]);
      assert.deepEqual(
        (await db.heldOfServer(store, 'ns2')).map((h) => [h.service, h.version]),
        [['dns', 8]],
      );
      await db.setHeld(store, 'ns2', []);
      await db.setHeld(store, 'ns2', [{ accountId: 'a3', service: 'dns', version: null }]);
      assert.deepEqual(await db.heldOfServer(store, 'ns2'), []);
    });

    test('an FTP user name is taken on a server by any other account, enabled or not', async () => {
      const ftp = (names: string[]) => ({
        kind: 'ftp' as const,
        uid: 30_000,
        users: names.map((n) => ({ name: n, passwordHash: 'x', dir: '' })),
      });
      await db.putService(store, {
        accountId: 'a1',
        service: 'ftp',
        serverId: 'ns1',
        enabled: true,
        spec: ftp(['web1', 'shared']),
        version: await db.nextVersion(store),
      });
      await db.putService(store, {
        accountId: 'a2',
        service: 'ftp',
        serverId: 'ns1',
        enabled: false,
        spec: ftp(['old2']),
        version: await db.nextVersion(store),
      });
      const cases: { name: string; server: string; except: string; want: boolean }[] = [
        { name: 'shared', server: 'ns1', except: 'a3', want: true },
        { name: 'shared', server: 'ns1', except: 'a1', want: false },
        { name: 'old2', server: 'ns1', except: 'a3', want: true },
        { name: 'shared', server: 'ns2', except: 'a3', want: false },
        { name: 'share', server: 'ns1', except: 'a3', want: false },
      ];
      for (const c of cases)
        assert.equal(await db.ftpUserTaken(store, c.server, c.name, c.except), c.want, JSON.stringify(c));
      await db.deleteService(store, 'a1', 'ftp');
      await db.deleteService(store, 'a2', 'ftp');
    });

    test('tasks handed out again count attempts; an outcome keeps the count; a new version starts again', async () => {
      const sent = {
        accountId: 'a1',
        service: 'dns' as const,
        action: 'put' as const,
        version: 9,
        state: 'sent' as const,
      };
      await db.recordTasks(store, 'ns1', [sent, { ...sent, accountId: 'a2' }]);
      await db.recordTasks(store, 'ns1', [sent]);
      const [t1] = await db.tasksOfAccount(store, 'a1');
      assert.equal(t1?.attempts, 2);
      assert.equal(t1?.state, 'sent');
      await db.recordTasks(store, 'ns1', [{ ...sent, state: 'failed', error: 'check: bad' }]);
      const [t2] = await db.tasksOfAccount(store, 'a1');
      assert.deepEqual([t2?.state, t2?.attempts, t2?.error], ['failed', 2, 'check: bad']);
      await db.recordTasks(store, 'ns1', [{ ...sent, version: 10 }]);
      const [t3] = await db.tasksOfAccount(store, 'a1');
      assert.deepEqual([t3?.state, t3?.attempts, t3?.version, t3?.error], ['sent', 1, 10, null]);
      assert.equal((await db.tasksOfAccount(store, 'a2'))[0]?.attempts, 1);
      await db.recordTasks(store, 'ns1', []);
    });
  });
}
