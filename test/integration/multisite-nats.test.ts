// Sites joined over NATS as in production: one nats-server per site, each a leaf node of a hub
// server the global coordinator uses (real nats-server processes, Debian package nats-server,
// on free loopback ports). Each site's manager talks only to its own server; the coordinator
// hears both sites' reports through the leaf connections and each manager receives its view,
// with the replication lag of the other's copy of its data (real rsync daemons).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openBus } from '../../src/drivers/bus/index.js';
import type { Bus } from '../../src/drivers/bus/index.js';
import { newSecret, systemClock } from '../../src/drivers/clock/index.js';
import { DEFAULT_GLOBAL_SETTINGS } from '../../src/core/global/index.js';
import { startCoordinator } from '../../src/services/global/coordinator.js';
import type { Coordinator } from '../../src/services/global/coordinator.js';
import { freePort, startTestSite } from '../support/site.js';
import { NATS_BIN, natsAvailable, startNatsServer, stopNatsServer } from '../support/nats.js';
import { until } from '../support/sites.js';
import type { TestSite } from '../support/site.js';

const BIN = NATS_BIN;
const available = natsAvailable;

/** startNats runs nats-server with a configuration file written for it. */
async function startNats(dir: string, name: string, conf: string): Promise<ChildProcess> {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  return startNatsServer(['-c', file]);
}

const skip = available ? false : `${BIN} is not installed (apt-get install nats-server)`;
let dir = '';
const servers: ChildProcess[] = [];
let bus: Bus | null = null;
let coord: Coordinator | null = null;
const sites: TestSite[] = [];

before(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), 'hf-nats-sites-'));
  const hubPort = await freePort();
  const leafPort = await freePort();
  servers.push(
    await startNats(dir, 'hub', `listen: "127.0.0.1:${hubPort}"\nleafnodes { listen: "127.0.0.1:${leafPort}" }\n`),
  );
  const sitePorts: number[] = [];
  for (const id of ['east', 'west']) {
    const p = await freePort();
    sitePorts.push(p);
    servers.push(
      await startNats(
        dir,
        id,
        `listen: "127.0.0.1:${p}"\njetstream { store_dir: "${join(dir, `js-${id}`)}" }\nleafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }\n`,
      ),
    );
  }
  bus = await openBus({ url: `nats://127.0.0.1:${hubPort}`, name: 'global' });
  coord = await startCoordinator({
    bus,
    clock: systemClock,
    log: pino({ level: 'silent' }),
    roundMs: 500,
    settings: DEFAULT_GLOBAL_SETTINGS,
  });
  const rsync = [
    { port: await freePort(), secret: newSecret(20) },
    { port: await freePort(), secret: newSecret(20) },
  ];
  const defs = [
    { id: 'east', timeZone: 'Etc/GMT-8', firstUid: 300_001 },
    { id: 'west', timeZone: 'Etc/UTC', firstUid: 200_001 },
  ];
  for (const [i, d] of defs.entries()) {
    const me = rsync[i] as { port: number; secret: string };
    const other = rsync[1 - i] as { port: number; secret: string };
    const s = await startTestSite({
      machines: 1,
      site: d,
      config: {
        global: {
          bus: { url: `nats://127.0.0.1:${sitePorts[i] as number}` },
          reportMs: 500,
          replication: {
            everyMs: 1000,
            daemon: { host: '127.0.0.1', port: me.port, user: 'replica', secret: me.secret },
            targets: [
              {
                site: (defs[1 - i] as { id: string }).id,
                url: `rsync://127.0.0.1:${other.port}/replicas`,
                user: 'replica',
                secret: other.secret,
              },
            ],
          },
        },
      },
    });
    sites.push(s);
  }
  await (sites[1] as TestSite).customer('wanda', ['wanda.test']);
});

after(async () => {
  for (const s of sites) await s.stop().catch(() => undefined);
  await coord?.close();
  await bus?.close();
  for (const c of servers) await stopNatsServer(c);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  'sites on leaf nodes report to the coordinator on the hub and receive their views',
  { skip, timeout: 120_000 },
  async () => {
    const c = coord as Coordinator;
    await until('both sites reporting', 30_000, async () => {
      const st = c.status();
      return st.sites.length === 2 && st.sites.every((s) => s.alive);
    });
    const st = c.status();
    assert.deepEqual(
      st.sites.map((s) => [s.site, s.utcOffsetMinutes]),
      [
        ['east', 480],
        ['west', 0],
      ],
    );
    await until("west's customer copied to east, its lag reported", 30_000, async () =>
      c
        .status()
        .sites.find((s) => s.site === 'west')
        ?.replicas.some((r) => r.account === 'wanda' && r.site === 'east' && r.lagMs !== null),
    );
    for (const s of sites) {
      const g = await until(`the view at ${s.managerUrl}`, 15_000, async () => {
        const r = await s.client.call<{ view: { site: string } | null; sites: { site: string }[] }>(
          'GET',
          '/v1/global',
        );
        return r.view !== null && r.sites.length === 2 ? r : null;
      });
      assert.deepEqual(
        g.sites.map((x) => x.site),
        ['east', 'west'],
      );
    }
  },
);
