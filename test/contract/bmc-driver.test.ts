// The BmcDriver contract (src/drivers/bmc/driver.ts), run against the Redfish emulator with
// basic auth, with sessions, and with a BMC that refuses no-op resets with 409 the way many
// vendor BMCs do, and against the in-memory fake the in-process tests use. Every
// implementation must give the manager the same behaviour; what only a Redfish client can
// meet (credentials, sessions, a BMC that does not answer) runs on the Redfish variants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHostfleetError } from '../../src/core/errors.js';
import { redfishBmc, type BmcDriver, type RedfishAuthMode } from '../../src/drivers/bmc/index.js';
import { startBmcEmulator, type BmcEmulator } from '../../src/emulators/bmc/emulator.js';
import { demoPersonality, startStaticBootService, waitFor, type StaticBootService } from '../support/boot-service.js';
import { fakeBmc } from '../support/fakes/index.js';

const USER = 'root';
const PASS = 's3cret-pw';

/** BmcUnderTest is one BMC with two machines (m1, m2, off, no override) and its driver. */
interface BmcUnderTest {
  readonly bmc: BmcDriver;
  readonly url: string;
  readonly machines: readonly { readonly id: string; readonly uuid: string; readonly dataAddress: string }[];
  /** workload names what the machine runs, a value that changes on every boot (a process id), or null. */
  workload(id: string): Promise<number | null>;
  /** version is the system resource's version (ETag): it changes with every visible change. */
  version(id: string): Promise<unknown>;
  settled(): Promise<void>;
  /** refusesNoopReset, for a BMC that answers 409 to a reset that changes nothing, proves it does. */
  refusesNoopReset?(id: string): Promise<void>;
  /** redfish, for the Redfish client, opens another client of the same BMC with other credentials or URL. */
  redfish?: { auth: RedfishAuthMode; emu: BmcEmulator };
  close(): Promise<void>;
}

const VARIANTS: { name: string; auth: RedfishAuthMode; refuseNoopResets: boolean }[] = [
  { name: 'basic auth', auth: 'basic', refuseNoopResets: false },
  { name: 'session auth', auth: 'session', refuseNoopResets: false },
  { name: 'session auth, BMC answers 409 to no-op resets', auth: 'session', refuseNoopResets: true },
];

const IMPLEMENTATIONS: { name: string; start(): Promise<BmcUnderTest> }[] = [
  ...VARIANTS.map((v) => ({
    name: `redfish, ${v.name}`,
    async start(): Promise<BmcUnderTest> {
      const dir = await mkdtemp(join(tmpdir(), 'hf-bmc-driver-'));
      await chmod(dir, 0o711);
      const emu = await startBmcEmulator({
        machines: 2,
        username: USER,
        password: PASS,
        dataDir: dir,
        bootDelayMs: 30,
        refuseNoopResets: v.refuseNoopResets,
      });
      const bmc = redfishBmc({ url: emu.url, username: USER, password: PASS, auth: v.auth, timeoutMs: 5000 });
      return {
        bmc,
        url: emu.url,
        machines: emu.machines,
        workload: (id) => workloadPid(emu, id),
        version: async (id) => (await raw(emu, 'GET', `/redfish/v1/Systems/${id}`)).body['@odata.etag'],
        settled: () => emu.settled(),
        ...(v.refuseNoopResets
          ? {
              async refusesNoopReset(id: string) {
                const r = await fetch(`${emu.url}/redfish/v1/Systems/${id}/Actions/ComputerSystem.Reset`, {
                  method: 'POST',
                  headers: {
                    authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`,
                    'content-type': 'application/json',
                  },
                  body: JSON.stringify({ ResetType: 'On' }),
                });
                assert.equal(r.status, 409, 'this BMC refuses a no-op reset, so the client really handles 409');
              },
            }
          : {}),
        redfish: { auth: v.auth, emu },
        async close() {
          await bmc.close();
          await emu.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  })),
  {
    name: 'fake',
    async start(): Promise<BmcUnderTest> {
      const bmc = fakeBmc({ machines: 2 });
      return {
        bmc,
        url: bmc.url,
        machines: bmc.machines,
        workload: async (id) => {
          const m = bmc.machine(id);
          return m.running === null ? null : m.boots;
        },
        version: async (id) => bmc.machine(id).version,
        settled: () => bmc.settled(),
        close: () => bmc.close(),
      };
    },
  },
];

async function raw(
  emu: BmcEmulator,
  method: string,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(emu.url + path, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` },
  });
  const t = await r.text();
  return { status: r.status, body: t ? (JSON.parse(t) as Record<string, unknown>) : {} };
}

async function workloadPid(emu: BmcEmulator, id: string): Promise<number | null> {
  const s = await raw(emu, 'GET', `/redfish/v1/Systems/${id}`);
  return ((s.body.Oem as Record<string, Record<string, unknown>>).Hostfleet?.WorkloadPid ?? null) as number | null;
}

function bmcError(includes: string[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isHostfleetError(e, 'E_BMC'), `an E_BMC error, got ${String(e)}`);
    for (const s of includes) assert.ok(e.message.includes(s), `${JSON.stringify(e.message)} names ${s}`);
    return true;
  };
}

for (const impl of IMPLEMENTATIONS) {
  test(`BmcDriver contract: ${impl.name}`, async (t) => {
    const boot: StaticBootService = await startStaticBootService();
    const it = await impl.start();
    const bmc = it.bmc;
    try {
      const m1 = it.machines[0];
      assert.ok(m1);

      await t.test('listSystems and getSystem describe every machine', async () => {
        const all = await bmc.listSystems();
        assert.deepEqual(
          all.map((s) => s.id),
          ['m1', 'm2'],
        );
        for (const s of all) {
          const m = it.machines.find((x) => x.id === s.id);
          assert.equal(s.uuid, m?.uuid);
          assert.equal(s.dataAddress, m?.dataAddress);
          assert.equal(s.powerState, 'Off');
          assert.equal(s.health, 'OK');
          assert.deepEqual(s.boot, { enabled: 'Disabled', target: 'None', httpBootUri: null });
          assert.deepEqual(await bmc.getSystem(s.id), s);
        }
      });

      await t.test('setBootPointer sets UefiHttp; the same values again change nothing', async () => {
        const uri = `${boot.url}/boot/${m1.id}`;
        await bmc.setBootPointer(m1.id, uri, 'Continuous');
        assert.deepEqual((await bmc.getSystem(m1.id)).boot, {
          enabled: 'Continuous',
          target: 'UefiHttp',
          httpBootUri: uri,
        });
        const version = await it.version(m1.id);
        await bmc.setBootPointer(m1.id, uri, 'Continuous');
        assert.equal(await it.version(m1.id), version, 'the same values again change nothing');
        await bmc.setBootPointer(m1.id, uri, 'Once');
        assert.equal((await bmc.getSystem(m1.id)).boot.enabled, 'Once');
        await assert.rejects(
          bmc.setBootPointer(m1.id, 'ftp://example.com/x', 'Once'),
          (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes('httpBootUri'),
        );
      });

      await t.test('clearBootPointer disables the override and is idempotent', async () => {
        await bmc.clearBootPointer(m1.id);
        assert.deepEqual((await bmc.getSystem(m1.id)).boot, { enabled: 'Disabled', target: 'None', httpBootUri: null });
        await bmc.clearBootPointer(m1.id);
        assert.deepEqual((await bmc.getSystem(m1.id)).boot, { enabled: 'Disabled', target: 'None', httpBootUri: null });
      });

      await t.test('reset On boots the pointer; On again and ForceOff twice are "already done"', async () => {
        boot.set(`/boot/${m1.id}`, demoPersonality(m1.uuid, { server: 'srv-contract' }));
        await bmc.setBootPointer(m1.id, `${boot.url}/boot/${m1.id}`, 'Once');
        await bmc.reset(m1.id, 'On');
        const pid = await waitFor('the workload to start', () => it.workload(m1.id).then((p) => p ?? undefined));
        const on = await bmc.getSystem(m1.id);
        assert.equal(on.powerState, 'On');
        assert.equal(on.health, 'OK');
        assert.equal(on.boot.enabled, 'Disabled');
        const fetched = boot.fetches.length;
        await it.refusesNoopReset?.(m1.id);

        await bmc.reset(m1.id, 'On');
        await it.settled();
        assert.equal(await it.workload(m1.id), pid, 'On when on does not reboot');
        assert.equal(boot.fetches.length, fetched);

        await bmc.reset(m1.id, 'ForceRestart');
        const pid2 = await waitFor('the workload to restart', async () => {
          const p = await it.workload(m1.id);
          return p !== null && p !== pid ? p : undefined;
        });
        assert.notEqual(pid2, pid);
        assert.equal(
          boot.fetches.length,
          fetched,
          'a plain restart boots the installed personality without the pointer',
        );

        await bmc.reset(m1.id, 'ForceOff');
        await waitFor('power off', async () => ((await bmc.getSystem(m1.id)).powerState === 'Off' ? true : undefined));
        await bmc.reset(m1.id, 'ForceOff');
        await bmc.reset(m1.id, 'GracefulShutdown');
        await it.settled();
        assert.equal((await bmc.getSystem(m1.id)).powerState, 'Off');
      });

      await t.test(
        'a boot whose pointer cannot be fetched uses up the one-time override and leaves the machine on, Critical, running nothing',
        async () => {
          const m2 = it.machines[1];
          assert.ok(m2);
          await bmc.setBootPointer(m2.id, `${boot.url}/boot/nothing-here`, 'Once');
          await bmc.reset(m2.id, 'On');
          const sys = await waitFor('the boot to fail', async () => {
            const x = await bmc.getSystem(m2.id);
            return x.health === 'Critical' ? x : undefined;
          });
          assert.equal(sys.powerState, 'On');
          assert.equal(sys.boot.enabled, 'Disabled', 'the override is consumed whatever the outcome');
          assert.equal(await it.workload(m2.id), null);
          await bmc.reset(m2.id, 'ForceOff');
          const off = await waitFor('power off', async () => {
            const x = await bmc.getSystem(m2.id);
            return x.powerState === 'Off' ? x : undefined;
          });
          assert.equal(off.health, 'OK', 'powering off clears the failure');
        },
      );

      await t.test('an unknown system is E_BMC naming the BMC, the system and the message', async () => {
        await assert.rejects(bmc.getSystem('m404'), bmcError([it.url, 'm404', 'was not found', '404']));
        await assert.rejects(bmc.reset('m404', 'On'), bmcError([it.url, 'm404']));
        await assert.rejects(
          bmc.reset(m1.id, 'Nmi' as never),
          (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes('type'),
        );
      });

      const rf = it.redfish;
      if (rf)
        await t.test('redfish: wrong credentials and a BMC that does not answer are E_BMC naming the URL', async () => {
          const { emu } = rf;
          const v = { auth: rf.auth };
          const wrong = redfishBmc({ url: emu.url, username: USER, password: 'wrong', auth: v.auth, timeoutMs: 2000 });
          await assert.rejects(wrong.listSystems(), bmcError([emu.url, '401', 'no valid session']));
          await wrong.close();
          const port = await new Promise<number>((resolve) => {
            const s = createServer().listen(0, '127.0.0.1', () => {
              const p = (s.address() as { port: number }).port;
              s.close(() => resolve(p));
            });
          });
          const gone = redfishBmc({
            url: `http://127.0.0.1:${port}`,
            username: USER,
            password: PASS,
            auth: v.auth,
            timeoutMs: 2000,
          });
          await assert.rejects(gone.getSystem('m1'), bmcError([`127.0.0.1:${port}`, 'did not answer']));
          await gone.close();
        });

      if (rf?.auth === 'session') {
        const { emu } = rf;
        await t.test('an expired or revoked session is replaced by logging in again; close logs out', async () => {
          const sessions = async (): Promise<string[]> =>
            (
              (await raw(emu, 'GET', '/redfish/v1/SessionService/Sessions')).body.Members as { '@odata.id': string }[]
            ).map((m) => m['@odata.id']);
          const mine = await sessions();
          assert.equal(mine.length, 1, 'one session for all the requests so far');
          for (const s of mine) assert.equal((await raw(emu, 'DELETE', s)).status, 204);
          assert.equal((await bmc.getSystem('m2')).id, 'm2');
          assert.equal((await sessions()).length, 1);
          await bmc.close();
          assert.deepEqual(await sessions(), []);
          await assert.rejects(bmc.getSystem('m2'), bmcError(['closed']));
        });
      }
      await t.test('a closed driver refuses every call with E_BMC', async () => {
        await bmc.close();
        await assert.rejects(bmc.getSystem('m2'), bmcError(['closed']));
      });
    } finally {
      await it.close();
      await boot.close();
    }
  });
}
