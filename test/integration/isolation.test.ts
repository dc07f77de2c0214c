// Isolation between customer accounts across a move (seed: "wipe clean all of the state
// associated with a particular customer account … before that server is brought into service"
// for the next). One machine serves account A, is switched to account B (export switched,
// pointer to B, ForceRestart), and must then run as B's uid, see only B's volume, have lost
// A's scratch state, and serve B's site. Needs root (to switch uids); skipped otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redfishBmc } from '../../src/drivers/bmc/index.js';
import { localVolumes } from '../../src/drivers/volumes/index.js';
import { startBmcEmulator } from '../../src/emulators/bmc/emulator.js';
import { demoPersonality, startStaticBootService, waitFor } from '../support/boot-service.js';

const exec = promisify(execFile);
const A = { account: 'acct-a', uid: 41101, gid: 41101 };
const B = { account: 'acct-b', uid: 41102, gid: 41102 };

/** procIds reads the real uid and gid of a running process. */
async function procIds(pid: number): Promise<{ uid: number; gid: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  const gid = Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]);
  return { uid, gid };
}

/** asUser runs a command under uid/gid and reports its exit code and stderr. */
async function asUser(
  ids: { uid: number; gid: number },
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(cmd, args, {
      uid: ids.uid,
      gid: ids.gid,
      timeout: 10_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

async function site(path: string, owner: { uid: number; gid: number }, page: string, secret: string): Promise<void> {
  await mkdir(join(path, 'site'), { recursive: true });
  await writeFile(join(path, 'site', 'index.html'), page);
  await writeFile(join(path, 'secret.txt'), secret, { mode: 0o600 });
  for (const p of [join(path, 'site'), join(path, 'site', 'index.html'), join(path, 'secret.txt')])
    await chown(p, owner.uid, owner.gid);
}

test(
  'a machine moved from account A to account B runs as B, sees only B, and keeps nothing of A',
  { skip: process.getuid?.() !== 0 ? 'needs root to run workloads under per-account uids' : false },
  async (t) => {
    const work = await mkdtemp(join(tmpdir(), 'hf-isolation-'));
    await chmod(work, 0o711);
    const dataDir = join(work, 'bmc');
    const volumesRoot = join(work, 'storage');
    const volumes = localVolumes(volumesRoot);
    const boot = await startStaticBootService();
    const emu = await startBmcEmulator({
      machines: 1,
      username: 'admin',
      password: 'pw-isolation',
      dataDir,
      volumesRoot,
      bootDelayMs: 30,
      gracefulTimeoutMs: 2000,
    });
    const bmc = redfishBmc({ url: emu.url, username: 'admin', password: 'pw-isolation', auth: 'session' });
    const m = emu.machines[0];
    assert.ok(m);
    const pidOf = async (): Promise<number | null> => {
      const r = await fetch(`${emu.url}/redfish/v1/Systems/${m.id}`, {
        headers: { authorization: `Basic ${Buffer.from('admin:pw-isolation').toString('base64')}` },
      });
      const j = (await r.json()) as { Oem: { Hostfleet: { WorkloadPid: number | null } } };
      return j.Oem.Hostfleet.WorkloadPid;
    };
    const healthOf = async (account: string): Promise<Record<string, unknown> | undefined> => {
      const r = await fetch(`http://${m.dataAddress}/healthz`);
      const j = (await r.json()) as Record<string, unknown>;
      return r.status === 200 && j.account === account ? j : undefined;
    };
    try {
      const volA = await volumes.ensure(A.account, A);
      const volB = await volumes.ensure(B.account, B);
      await site(volA, A, '<h1>A page</h1>', 'A private data');
      await site(volB, B, '<h1>B page</h1>', 'B private data');
      boot.set(
        '/boot/a',
        demoPersonality(m.uuid, {
          server: 'srv-a',
          account: { id: A.account, name: 'A' },
          group: { id: 'a-web', name: 'A web', role: 'web' },
          volume: { id: A.account },
          uid: A.uid,
          gid: A.gid,
        }),
      );
      boot.set(
        '/boot/b',
        demoPersonality(m.uuid, {
          server: 'srv-b',
          account: { id: B.account, name: 'B' },
          group: { id: 'b-web', name: 'B web', role: 'web' },
          volume: { id: B.account },
          uid: B.uid,
          gid: B.gid,
        }),
      );

      // Account A: export, pointer, power on.
      await volumes.exportTo(A.account, m.uuid);
      await bmc.setBootPointer(m.id, `${boot.url}/boot/a`, 'Once');
      await bmc.reset(m.id, 'On');
      await waitFor('A to be served', () => healthOf(A.account));
      const pidA = await pidOf();
      assert.ok(pidA);
      assert.deepEqual(await procIds(pidA), { uid: A.uid, gid: A.gid }, 'A runs under A’s uid, never root');
      assert.equal(await (await fetch(`http://${m.dataAddress}/`)).text(), '<h1>A page</h1>');
      // A's workload leaves state on the machine's local disk.
      const marker = join(m.scratch, 'a-private-cache.txt');
      assert.equal(
        (await asUser(A, 'sh', ['-c', `echo 'A session secrets' > ${marker}`])).code,
        0,
        'A’s uid can write its scratch',
      );
      assert.equal(JSON.parse(await readFile(join(m.scratch, 'session-cache.json'), 'utf8')).account, A.account);
      assert.equal((await stat(m.scratch)).uid, A.uid);

      // The move: switch the export, point at B, force a restart.
      const moveAt = performance.now();
      await volumes.exportTo(B.account, m.uuid);
      await bmc.setBootPointer(m.id, `${boot.url}/boot/b`, 'Once');
      await bmc.reset(m.id, 'ForceRestart');
      await waitFor('B to be served', () => healthOf(B.account));
      t.diagnostic(
        `move: export switch + pointer + ForceRestart to B healthy in ${Math.round(performance.now() - moveAt)} ms`,
      );
      const pidB = await pidOf();
      assert.ok(pidB && pidB !== pidA);
      assert.throws(() => process.kill(pidA, 0), 'A’s workload is gone');

      assert.deepEqual(await procIds(pidB), { uid: B.uid, gid: B.gid }, 'the workload now runs as B');
      const environ = (await readFile(`/proc/${pidB}/environ`, 'utf8')).split('\0');
      const mount = environ.find((e) => e.startsWith('HOSTFLEET_VOLUME='))?.slice('HOSTFLEET_VOLUME='.length);
      assert.equal(mount, volumes.mountPath(m.uuid));
      assert.equal(await realpath(mount ?? ''), await realpath(volB), 'the machine mounts B’s volume');
      assert.equal(
        environ.some((e) => e.includes('pw-isolation')),
        false,
        'the BMC’s credentials are not in the workload’s environment',
      );

      // B's uid cannot read A's volume, by any path.
      for (const path of [join(volA, 'secret.txt'), join(volA, 'site', 'index.html')]) {
        const r = await asUser(B, 'cat', [path]);
        assert.notEqual(r.code, 0, `B reads ${path}`);
        assert.match(r.stderr, /Permission denied/, path);
        assert.equal(r.stdout.includes('A '), false);
      }
      const ls = await asUser(B, 'ls', [volA]);
      assert.match(ls.stderr, /Permission denied/);
      const listVolumes = await asUser(B, 'ls', [join(volumesRoot, 'volumes')]);
      assert.match(listVolumes.stderr, /Permission denied/, 'B cannot even list which volumes exist');
      assert.equal(
        (await asUser(B, 'cat', [join(mount ?? '', 'secret.txt')])).stdout,
        'B private data',
        'B reads its own volume through its mount',
      );

      // A's scratch state is gone; the cache is B's.
      const scratch = await readdir(m.scratch);
      assert.equal(scratch.includes('a-private-cache.txt'), false, 'A’s scratch file is gone');
      assert.equal(JSON.parse(await readFile(join(m.scratch, 'session-cache.json'), 'utf8')).account, B.account);
      assert.equal((await stat(m.scratch)).uid, B.uid);
      assert.equal(
        (await asUser(A, 'ls', [m.scratch])).code !== 0,
        true,
        'A’s uid cannot look into the machine’s scratch now',
      );

      // It serves B's page and nothing of A's.
      assert.equal(await (await fetch(`http://${m.dataAddress}/`)).text(), '<h1>B page</h1>');
      assert.equal((await fetch(`http://${m.dataAddress}/../acct-a/site/index.html`)).status !== 200, true);
      assert.equal(
        (await fetch(`http://${m.dataAddress}/secret.txt`)).status,
        404,
        'files beside the site are not served',
      );
    } finally {
      await bmc.close();
      await emu.close();
      await boot.close();
      await rm(work, { recursive: true, force: true });
    }
  },
);
