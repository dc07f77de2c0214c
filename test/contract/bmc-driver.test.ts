// The BmcDriver contract (src/drivers/bmc/driver.ts), run against the Redfish emulator with
// basic auth, with sessions, and with a BMC that refuses no-op resets with 409 the way many
// vendor BMCs do. Every variant must give the manager the same behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHostfleetError } from '../../src/core/errors.js';
import { redfishBmc, type BmcDriver, type RedfishAuthMode } from '../../src/drivers/bmc/index.js';
import { startBmcEmulator, type BmcEmulator } from '../../src/services/bmc/emulator.js';
import { demoPersonality, startStaticBootService, waitFor, type StaticBootService } from '../../src/services/bmc/testing.js';

const USER = 'root';
const PASS = 's3cret-pw';

const VARIANTS: { name: string; auth: RedfishAuthMode; refuseNoopResets: boolean }[] = [
  { name: 'basic auth', auth: 'basic', refuseNoopResets: false },
  { name: 'session auth', auth: 'session', refuseNoopResets: false },
  { name: 'session auth, BMC answers 409 to no-op resets', auth: 'session', refuseNoopResets: true },
];

async function raw(emu: BmcEmulator, method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(emu.url + path, { method, headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` } });
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

for (const v of VARIANTS) {
  test(`BmcDriver contract: ${v.name}`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hf-bmc-driver-'));
    await chmod(dir, 0o711);
    const boot: StaticBootService = await startStaticBootService();
    const emu = await startBmcEmulator({ machines: 2, username: USER, password: PASS, dataDir: dir, bootDelayMs: 30, refuseNoopResets: v.refuseNoopResets });
    const bmc: BmcDriver = redfishBmc({ url: emu.url, username: USER, password: PASS, auth: v.auth, timeoutMs: 5000 });
    try {
      const m1 = emu.machines[0];
      assert.ok(m1);

      await t.test('listSystems and getSystem describe every machine', async () => {
        const all = await bmc.listSystems();
        assert.deepEqual(all.map((s) => s.id), ['m1', 'm2']);
        for (const s of all) {
          const m = emu.machines.find((x) => x.id === s.id);
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
        assert.deepEqual((await bmc.getSystem(m1.id)).boot, { enabled: 'Continuous', target: 'UefiHttp', httpBootUri: uri });
        const etag = (await raw(emu, 'GET', `/redfish/v1/Systems/${m1.id}`)).body['@odata.etag'];
        await bmc.setBootPointer(m1.id, uri, 'Continuous');
        assert.equal((await raw(emu, 'GET', `/redfish/v1/Systems/${m1.id}`)).body['@odata.etag'], etag);
        await bmc.setBootPointer(m1.id, uri, 'Once');
        assert.equal((await bmc.getSystem(m1.id)).boot.enabled, 'Once');
        await assert.rejects(bmc.setBootPointer(m1.id, 'ftp://example.com/x', 'Once'), (e: unknown) => isHostfleetError(e, 'E_VALIDATION') && e.message.includes('httpBootUri'));
      });

      await t.test('clearBootPointer disables the override and is idempotent', async () => {
        await bmc.clearBootPointer(m1.id);
        assert.deepEqual((await bmc.getSystem(m1.id)).boot, { enabled: 'Disabled', target: 'None', httpBootUri: null });
        await bmc.clearBootPointer(m1.id);
        assert.deepEqual((await bmc.getSystem(m1.id)).boot, { enabled: 'Disabled', target: 'None', httpBootUri: null });
      });

      await t.test('reset On boots the pointer; On again and ForceOff twice are "already done"', async () => {
        boot.set(`/boot/${m1.id}`, demoPersonality(m1.uuid, { server: `srv-${v.auth}` }));
        await bmc.setBootPointer(m1.id, `${boot.url}/boot/${m1.id}`, 'Once');
        await bmc.reset(m1.id, 'On');
        const pid = await waitFor('the workload to start', () => workloadPid(emu, m1.id).then((p) => p ?? undefined));
        const on = await bmc.getSystem(m1.id);
        assert.equal(on.powerState, 'On');
        assert.equal(on.health, 'OK');
        assert.equal(on.boot.enabled, 'Disabled');
        const fetched = boot.fetches.length;
        if (v.refuseNoopResets) {
          const r = await fetch(`${emu.url}/redfish/v1/Systems/${m1.id}/Actions/ComputerSystem.Reset`, {
            method: 'POST',
            headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`, 'content-type': 'application/json' },
            body: JSON.stringify({ ResetType: 'On' }),
          });
          assert.equal(r.status, 409, 'this BMC refuses a no-op reset, so the client really handles 409');
        }

        await bmc.reset(m1.id, 'On');
        await emu.settled();
        assert.equal(await workloadPid(emu, m1.id), pid, 'On when on does not reboot');
        assert.equal(boot.fetches.length, fetched);

        await bmc.reset(m1.id, 'ForceRestart');
        const pid2 = await waitFor('the workload to restart', async () => {
          const p = await workloadPid(emu, m1.id);
          return p !== null && p !== pid ? p : undefined;
        });
        assert.notEqual(pid2, pid);
        assert.equal(boot.fetches.length, fetched, 'a plain restart boots the installed personality without the pointer');

        await bmc.reset(m1.id, 'ForceOff');
        await waitFor('power off', async () => ((await bmc.getSystem(m1.id)).powerState === 'Off' ? true : undefined));
        await bmc.reset(m1.id, 'ForceOff');
        await bmc.reset(m1.id, 'GracefulShutdown');
        await emu.settled();
        assert.equal((await bmc.getSystem(m1.id)).powerState, 'Off');
      });

      await t.test('errors are E_BMC naming the BMC, the system and the Redfish message', async () => {
        await assert.rejects(bmc.getSystem('m404'), bmcError([emu.url, 'm404', 'was not found', '404']));
        const wrong = redfishBmc({ url: emu.url, username: USER, password: 'wrong', auth: v.auth, timeoutMs: 2000 });
        await assert.rejects(wrong.listSystems(), bmcError([emu.url, '401', 'no valid session']));
        await wrong.close();
        const port = await new Promise<number>((resolve) => {
          const s = createServer().listen(0, '127.0.0.1', () => {
            const p = (s.address() as { port: number }).port;
            s.close(() => resolve(p));
          });
        });
        const gone = redfishBmc({ url: `http://127.0.0.1:${port}`, username: USER, password: PASS, auth: v.auth, timeoutMs: 2000 });
        await assert.rejects(gone.getSystem('m1'), bmcError([`127.0.0.1:${port}`, 'did not answer']));
        await gone.close();
      });

      if (v.auth === 'session') {
        await t.test('an expired or revoked session is replaced by logging in again; close logs out', async () => {
          const sessions = async (): Promise<string[]> => ((await raw(emu, 'GET', '/redfish/v1/SessionService/Sessions')).body.Members as { '@odata.id': string }[]).map((m) => m['@odata.id']);
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
    } finally {
      await bmc.close();
      await emu.close();
      await boot.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
