// The HypervisorDriver contract (src/drivers/hypervisor/driver.ts), one suite run against every
// implementation: the node API over HTTP on a real node process (started the way the placement
// tests start theirs), and the in-memory fake the in-process tests use.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { isHostfleetError } from '../../src/core/errors.js';
import type { ResourceVector } from '../../src/core/scheduler/index.js';
import { httpHypervisor } from '../../src/drivers/hypervisor/index.js';
import type { HypervisorDriver, HypervisorNode } from '../../src/drivers/hypervisor/index.js';
import { newSecret } from '../../src/drivers/clock/index.js';
import { demoPersonality } from '../support/boot-service.js';
import { startNodeProcesses } from '../../src/emulators/hypervisor/fleet.js';
import { freePort } from '../../src/services/shared/ports.js';
import { fakeHypervisor } from '../support/fakes/index.js';

const CAPACITY: ResourceVector = { ram: 4096, cpu: 2000, disk: 100, bandwidth: 500 };

/** HypervisorUnderTest is one implementation with one running node. */
interface HypervisorUnderTest {
  readonly driver: HypervisorDriver;
  readonly node: HypervisorNode;
  /** unreachable is a node where nothing answers. */
  readonly unreachable: HypervisorNode;
  /** health GETs a component's /healthz on the data plane, when the implementation runs real components. */
  readonly health: ((address: string) => Promise<{ status: number; group: unknown }>) | null;
  /** kill ends the node abruptly. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

const IMPLEMENTATIONS: ReadonlyArray<{ name: string; start: () => Promise<HypervisorUnderTest> }> = [
  {
    name: 'http (node process)',
    async start() {
      const dir = await mkdtemp(join(tmpdir(), 'hf-hypervisor-'));
      const fleet = await startNodeProcesses({
        nodes: [{ id: 'node-a', capacity: CAPACITY }],
        dir,
        token: newSecret(24),
      });
      const driver = httpHypervisor({ timeoutMs: 15_000 });
      const n = fleet.nodes[0]!;
      return {
        driver,
        node: { url: n.url, token: fleet.token },
        unreachable: { url: `http://127.0.0.1:${await freePort()}`, token: fleet.token },
        health: async (address) => {
          const r = await request(`http://${address}/healthz`, { headersTimeout: 2000, bodyTimeout: 2000 });
          return { status: r.statusCode, group: ((await r.body.json()) as { group?: unknown }).group };
        },
        kill: () => n.kill(),
        async close() {
          await driver.close();
          await fleet.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'fake',
    async start() {
      const driver = fakeHypervisor();
      const n = driver.addNode({ id: 'node-a', capacity: CAPACITY });
      return {
        driver,
        node: { url: n.url, token: n.token },
        unreachable: { url: 'http://nowhere.hv.fake', token: n.token },
        health: null,
        kill: async () => driver.kill('node-a'),
        close: () => driver.close(),
      };
    },
  },
];

function personality(component: string) {
  return demoPersonality(`node-a.shop.${component}`, {
    server: `shop.${component}`,
    group: { id: 'shop.web', name: 'shop web', role: 'web' },
  });
}

function hypervisorError(includes: string[], status: number | undefined): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isHostfleetError(e, 'E_HYPERVISOR'), `an E_HYPERVISOR error, got ${String(e)}`);
    for (const s of includes) assert.ok(e.message.includes(s), `${JSON.stringify(e.message)} names ${s}`);
    assert.equal(e.details?.status, status);
    return true;
  };
}

for (const impl of IMPLEMENTATIONS) {
  describe(`HypervisorDriver contract: ${impl.name}`, () => {
    let hv: HypervisorUnderTest;
    before(async () => {
      hv = await impl.start();
    });
    after(async () => {
      await hv?.close();
    });

    test('describe reports the node id, its capacity and no component', async () => {
      assert.deepEqual(await hv.driver.describe(hv.node), { id: 'node-a', capacity: CAPACITY, components: [] });
    });

    test('healthy is true for a running node and false, without throwing, where nothing answers', async () => {
      assert.equal(await hv.driver.healthy(hv.node, 2000), true);
      assert.equal(await hv.driver.healthy(hv.unreachable, 500), false);
    });

    test('start runs a component; starting it again, even concurrently, answers the running one', async () => {
      const first = await hv.driver.start(hv.node, 'shop.web-1', personality('web-1'));
      assert.equal(first.id, 'shop.web-1');
      assert.match(first.address, /^[a-z0-9.-]+:\d{1,5}$/);
      assert.ok(first.pid > 0);
      assert.deepEqual(
        await hv.driver.start(hv.node, 'shop.web-1', personality('web-1')),
        first,
        'already running: the same component',
      );
      const [a, b] = await Promise.all([
        hv.driver.start(hv.node, 'shop.web-2', personality('web-2')),
        hv.driver.start(hv.node, 'shop.web-2', personality('web-2')),
      ]);
      assert.deepEqual(a, b, 'concurrent starts start it once');
      assert.notEqual(a.address, first.address);
      const d = await hv.driver.describe(hv.node);
      assert.deepEqual(d.components.map((c) => c.id).sort(), ['shop.web-1', 'shop.web-2']);
      assert.deepEqual(
        d.components.find((c) => c.id === 'shop.web-1'),
        first,
      );
      if (hv.health)
        assert.deepEqual(
          await hv.health(first.address),
          { status: 200, group: 'shop.web' },
          'the component serves its personality',
        );
    });

    test('usage reports a running component; one that is not running is E_NOT_FOUND', async () => {
      const u = await hv.driver.usage(hv.node, 'shop.web-1');
      assert.ok(u.cpuSeconds >= 0 && u.rssBytes >= 0, JSON.stringify(u));
      assert.ok(u.stats === null || typeof u.stats === 'object');
      await assert.rejects(
        hv.driver.usage(hv.node, 'shop.nobody'),
        (e: unknown) => isHostfleetError(e, 'E_NOT_FOUND') && e.message.includes('shop.nobody'),
      );
    });

    test('stop ends a component; stopping it again, or one never started, is already done', async () => {
      await hv.driver.stop(hv.node, 'shop.web-2');
      await hv.driver.stop(hv.node, 'shop.web-2');
      await hv.driver.stop(hv.node, 'shop.never-started');
      assert.deepEqual(
        (await hv.driver.describe(hv.node)).components.map((c) => c.id),
        ['shop.web-1'],
      );
      await assert.rejects(hv.driver.usage(hv.node, 'shop.web-2'), (e: unknown) => isHostfleetError(e, 'E_NOT_FOUND'));
    });

    test('a component id outside the grammar and a personality the node refuses are E_VALIDATION', async () => {
      for (const id of ['', 'Shop.Web', '../etc', 'a/b', '.hidden', 'x'.repeat(101)]) {
        await assert.rejects(
          hv.driver.start(hv.node, id, personality('web-9')),
          (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && JSON.stringify(e.fields).includes('componentId'),
          `start ${JSON.stringify(id)}`,
        );
        await assert.rejects(
          hv.driver.stop(hv.node, id),
          (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
          `stop ${JSON.stringify(id)}`,
        );
        await assert.rejects(
          hv.driver.usage(hv.node, id),
          (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
          `usage ${JSON.stringify(id)}`,
        );
      }
      const bad = { ...personality('web-9'), kind: 'something/else' } as unknown as ReturnType<typeof personality>;
      await assert.rejects(
        hv.driver.start(hv.node, 'shop.web-9', bad),
        (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && JSON.stringify(e.fields).includes('kind'),
      );
      assert.equal(
        (await hv.driver.describe(hv.node)).components.some((c) => c.id === 'shop.web-9'),
        false,
        'nothing started',
      );
    });

    test('a wrong token is E_HYPERVISOR with status 401; a node that does not answer is E_HYPERVISOR without a status', async () => {
      await assert.rejects(
        hv.driver.describe({ url: hv.node.url, token: 'not-the-token-of-this-node' }),
        hypervisorError([hv.node.url, '401'], 401),
      );
      await assert.rejects(
        hv.driver.start({ url: hv.node.url, token: 'not-the-token-of-this-node' }, 'shop.web-3', personality('web-3')),
        hypervisorError([hv.node.url], 401),
      );
      await assert.rejects(
        hv.driver.describe(hv.unreachable, { timeoutMs: 1000 }),
        hypervisorError([hv.unreachable.url, 'did not answer'], undefined),
      );
      await assert.rejects(
        hv.driver.stop(hv.unreachable, 'shop.web-1', { timeoutMs: 1000 }),
        hypervisorError([hv.unreachable.url], undefined),
      );
    });

    test('a killed node answers nothing: not healthy, and every call is E_HYPERVISOR', async () => {
      await hv.kill();
      assert.equal(await hv.driver.healthy(hv.node, 500), false);
      await assert.rejects(hv.driver.describe(hv.node, { timeoutMs: 1000 }), hypervisorError([hv.node.url], undefined));
      await assert.rejects(
        hv.driver.usage(hv.node, 'shop.web-1', { timeoutMs: 1000 }),
        hypervisorError([hv.node.url], undefined),
      );
    });

    test('a closed driver refuses every call with E_HYPERVISOR and is never healthy', async () => {
      await hv.driver.close();
      await assert.rejects(hv.driver.describe(hv.node), hypervisorError(['closed'], undefined));
      assert.equal(await hv.driver.healthy(hv.node, 500), false);
      await hv.driver.close();
    });
  });
}
