// Machine lifecycle beyond the happy path: a crashed OS, failed boots, a BMC restart that
// finds its machines again (PowerRestorePolicy LastState), and the emulator as its own
// process, which must leave nothing running however it ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isHostfleetError } from '../../src/core/errors.js';
import { redfishBmc, type BmcDriver } from '../../src/drivers/bmc/index.js';
import { localVolumes } from '../../src/drivers/volumes/index.js';
import { startBmcEmulator, type BmcEmulator } from '../../src/emulators/bmc/emulator.js';
import { demoPersonality, startStaticBootService, waitFor, type StaticBootService } from '../support/boot-service.js';

const USER = 'admin';
const PASS = 'lifecycle-pw';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;

async function oem(
  url: string,
  id: string,
): Promise<{ WorkloadPid: number | null; BootError: string | null; Installed: Record<string, string> | null }> {
  const r = await fetch(`${url}/redfish/v1/Systems/${id}`, { headers: { authorization: AUTH } });
  return (
    (await r.json()) as {
      Oem: {
        Hostfleet: { WorkloadPid: number | null; BootError: string | null; Installed: Record<string, string> | null };
      };
    }
  ).Oem.Hostfleet;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function tmp(name: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), name));
  await chmod(d, 0o711);
  return d;
}

test('machine lifecycle in process', async (t) => {
  const dir = await tmp('hf-bmc-life-');
  const boot: StaticBootService = await startStaticBootService();
  let emu: BmcEmulator = await startBmcEmulator({
    machines: 3,
    username: USER,
    password: PASS,
    dataDir: dir,
    bootDelayMs: 20,
    gracefulTimeoutMs: 2000,
  });
  let bmc: BmcDriver = redfishBmc({ url: emu.url, username: USER, password: PASS, auth: 'basic' });
  const [m1, m2, m3] = emu.machines;
  assert.ok(m1 && m2 && m3);
  try {
    await t.test('a workload that dies by itself leaves the machine On and Critical until a reset', async () => {
      boot.set('/m1', demoPersonality(m1.uuid, { server: 'srv-crash' }));
      await bmc.setBootPointer(m1.id, `${boot.url}/m1`, 'Once');
      await bmc.reset(m1.id, 'On');
      const pid = await waitFor('m1 workload', async () => (await oem(emu.url, m1.id)).WorkloadPid ?? undefined);
      process.kill(pid, 'SIGKILL');
      const sys = await waitFor('m1 Critical', async () => {
        const s = await bmc.getSystem(m1.id);
        return s.health === 'Critical' ? s : undefined;
      });
      assert.equal(sys.powerState, 'On');
      assert.match((await oem(emu.url, m1.id)).BootError ?? '', /exited by itself/);
      await bmc.reset(m1.id, 'ForceRestart');
      await waitFor('m1 healthy again', async () =>
        (await fetch(`http://${m1.dataAddress}/healthz`)).status === 200 ? true : undefined,
      );
      assert.equal((await bmc.getSystem(m1.id)).health, 'OK');
      assert.equal(
        (await oem(emu.url, m1.id)).Installed?.Server,
        'srv-crash',
        'the installed personality booted again without a pointer',
      );
    });

    await t.test('failed boots: Critical with the reason, and no workload', async () => {
      const cases = [
        {
          name: 'pointer issued for another machine',
          path: '/other',
          personality: demoPersonality('00000000-0000-4000-8000-000000000000'),
          error: /HTTP 403/,
        },
        {
          name: 'not a personality',
          path: '/junk',
          personality: { kind: 'something/else' },
          error: /invalid personality: kind/,
        },
        {
          name: 'personality for another machine served anyway',
          path: '/wrong-machine',
          personality: { ...demoPersonality('x'), machine: undefined },
          error: /invalid personality: machine/,
        },
        {
          name: 'unknown image',
          path: '/image',
          personality: demoPersonality(m2.uuid, { image: 'evil/rootkit' }),
          error: /image/,
        },
        { name: 'no such pointer', path: '/missing', personality: undefined, error: /HTTP 404/ },
      ];
      for (const c of cases) {
        if (c.personality !== undefined) boot.set(c.path, c.personality);
        await bmc.setBootPointer(m2.id, `${boot.url}${c.path}`, 'Once');
        await bmc.reset(m2.id, 'ForceRestart');
        await emu.settled();
        const s = await bmc.getSystem(m2.id);
        assert.deepEqual([s.powerState, s.health], ['On', 'Critical'], c.name);
        const o = await oem(emu.url, m2.id);
        assert.match(o.BootError ?? '', c.error, c.name);
        assert.equal(o.WorkloadPid, null, c.name);
        assert.equal(o.Installed, null, `${c.name}: a failed pointer boot leaves nothing installed`);
      }
      await bmc.setBootPointer(m2.id, `${boot.url}/x`, 'Once');
      await bmc.clearBootPointer(m2.id);
      await bmc.reset(m2.id, 'ForceRestart');
      await emu.settled();
      const idle = await bmc.getSystem(m2.id);
      assert.deepEqual([idle.powerState, idle.health], ['On', 'OK'], 'no pointer and nothing installed: on and idle');
      assert.equal((await oem(emu.url, m2.id)).WorkloadPid, null);
    });

    await t.test('a Continuous pointer is fetched at every boot', async () => {
      boot.set('/m3', demoPersonality(m3.uuid, { server: 'srv-cont' }));
      await bmc.setBootPointer(m3.id, `${boot.url}/m3`, 'Continuous');
      await bmc.reset(m3.id, 'On');
      await bmc.reset(m3.id, 'PowerCycle');
      await emu.settled();
      assert.equal(boot.fetches.filter((f) => f.path === '/m3').length, 2);
      assert.equal((await bmc.getSystem(m3.id)).boot.enabled, 'Continuous');
      await bmc.reset(m3.id, 'GracefulShutdown');
      await emu.settled();
      await bmc.clearBootPointer(m3.id);
    });

    await t.test('a restarted BMC finds its machines and boots those that were on (LastState)', async () => {
      const before = await bmc.listSystems();
      const pid = (await oem(emu.url, m1.id)).WorkloadPid;
      assert.ok(pid);
      const fetches = boot.fetches.length;
      await bmc.close();
      await emu.close();
      assert.equal(alive(pid), false, 'closing the BMC stops every workload');

      emu = await startBmcEmulator({ machines: 3, username: USER, password: PASS, dataDir: dir, bootDelayMs: 20 });
      bmc = redfishBmc({ url: emu.url, username: USER, password: PASS, auth: 'basic' });
      assert.deepEqual(
        emu.machines.map((m) => [m.id, m.uuid, m.dataAddress]),
        [m1, m2, m3].map((m) => [m.id, m.uuid, m.dataAddress]),
      );
      await emu.settled();
      const after = await bmc.listSystems();
      assert.deepEqual(
        after.map((s) => s.powerState),
        before.map((s) => s.powerState),
        'LastState restored power',
      );
      assert.equal((await bmc.getSystem(m3.id)).powerState, 'Off');
      await waitFor('m1 serving again', async () => {
        const r = await fetch(`http://${m1.dataAddress}/healthz`);
        return r.status === 200 ? ((await r.json()) as { server: string }) : undefined;
      }).then((h) => assert.equal(h.server, 'srv-crash'));
      assert.equal(boot.fetches.length, fetches, 'the installed personality booted without the pointer');
    });

    await t.test('with volumes, a personality whose volume is not exported to the machine does not boot', async () => {
      const vdir = await tmp('hf-bmc-life-vol-');
      const vemu = await startBmcEmulator({
        machines: 1,
        username: USER,
        password: PASS,
        dataDir: join(vdir, 'bmc'),
        volumesRoot: join(vdir, 'storage'),
        bootDelayMs: 10,
      });
      const vbmc = redfishBmc({ url: vemu.url, username: USER, password: PASS, auth: 'basic' });
      try {
        const vm = vemu.machines[0];
        assert.ok(vm);
        const volumes = localVolumes(join(vdir, 'storage'));
        await volumes.ensure('other-account', { uid: 41001, gid: 41001 });
        await volumes.exportTo('other-account', vm.uuid);
        boot.set('/vm', demoPersonality(vm.uuid));
        await vbmc.setBootPointer(vm.id, `${boot.url}/vm`, 'Once');
        await vbmc.reset(vm.id, 'On');
        await vemu.settled();
        assert.equal((await vbmc.getSystem(vm.id)).health, 'Critical');
        assert.match(
          (await oem(vemu.url, vm.id)).BootError ?? '',
          /volume acme .* is not exported to machine .* \(exported: other-account\)/,
        );
      } finally {
        await vbmc.close();
        await vemu.close();
        await rm(vdir, { recursive: true, force: true });
      }
    });
  } finally {
    await bmc.close();
    await emu.close();
    await boot.close();
    await rm(dir, { recursive: true, force: true });
  }
});

const MAIN = fileURLToPath(new URL('../../src/emulators/bmc/main.ts', import.meta.url));

/** startMain runs the emulator process and resolves with it and its ready line. */
async function startMain(
  dataDir: string,
  ipc: boolean,
): Promise<{
  proc: ChildProcess;
  ready: { url: string; machines: { id: string; uuid: string; dataAddress: string }[] };
}> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, '--machines', '2', '--boot-delay-ms', '10'], {
    env: {
      ...process.env,
      HOSTFLEET_BMC_USERNAME: USER,
      HOSTFLEET_BMC_PASSWORD: PASS,
      HOSTFLEET_BMC_DATA_DIR: dataDir,
    },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<{ url: string; machines: { id: string; uuid: string; dataAddress: string }[] }>(
    (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the BMC process did not print its ready line in 20 s')), 20_000);
      lines.once('line', (l) => {
        clearTimeout(timer);
        resolve(JSON.parse(l) as { url: string; machines: { id: string; uuid: string; dataAddress: string }[] });
      });
      proc.once('exit', (code) => reject(new Error(`the BMC process exited with ${code}`)));
    },
  );
  return { proc, ready };
}

async function bootOne(url: string, machine: { id: string; uuid: string }, boot: StaticBootService): Promise<number> {
  const bmc = redfishBmc({ url, username: USER, password: PASS });
  try {
    boot.set(`/${machine.uuid}`, demoPersonality(machine.uuid));
    await bmc.setBootPointer(machine.id, `${boot.url}/${machine.uuid}`, 'Once');
    await bmc.reset(machine.id, 'On');
    return await waitFor('the workload', async () => (await oem(url, machine.id)).WorkloadPid ?? undefined);
  } finally {
    await bmc.close();
  }
}

test('the BMC process: SIGTERM stops every workload and exits 0; a killed BMC leaves nothing running', async () => {
  const dir = await tmp('hf-bmc-main-');
  const boot = await startStaticBootService();
  const procs: ChildProcess[] = [];
  try {
    const a = await startMain(join(dir, 'a'), false);
    procs.push(a.proc);
    assert.equal(a.ready.machines.length, 2);
    const pidA = await bootOne(a.ready.url, a.ready.machines[0] ?? { id: '', uuid: '' }, boot);
    assert.ok(alive(pidA));
    const exited = new Promise<number | null>((resolve) => a.proc.once('exit', (code) => resolve(code)));
    a.proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(alive(pidA), false, 'SIGTERM stopped the workload');

    const b = await startMain(join(dir, 'b'), true);
    procs.push(b.proc);
    const pidB = await bootOne(b.ready.url, b.ready.machines[1] ?? { id: '', uuid: '' }, boot);
    b.proc.kill('SIGKILL');
    await waitFor('the orphaned workload to notice its BMC is gone', () => (alive(pidB) ? undefined : true), 10_000);
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await boot.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad configuration fails at start-up with E_CONFIG naming the setting', async () => {
  const dir = await tmp('hf-bmc-config-');
  try {
    const closed = join(dir, 'closed');
    await mkdir(closed, { mode: 0o700 });
    const base = { machines: 1, username: USER, password: PASS, dataDir: join(dir, 'ok') };
    const cases = [
      { name: 'no machines', opts: { ...base, machines: 0 }, field: 'machines' },
      { name: 'no password', opts: { ...base, password: '' }, field: 'username/password' },
      { name: 'ports past 65535', opts: { ...base, machines: 10, dataPortBase: 65530 }, field: 'dataPortBase' },
      ...(process.getuid?.() === 0
        ? [
            {
              name: 'data dir workloads cannot reach',
              opts: { ...base, dataDir: join(closed, 'bmc') },
              field: 'dataDir',
            },
          ]
        : []),
    ];
    for (const c of cases) {
      await assert.rejects(
        startBmcEmulator(c.opts),
        (e: unknown) => isHostfleetError(e, 'E_CONFIG') && e.message.includes(c.field),
        c.name,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
