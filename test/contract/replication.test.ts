// The Replicator contract (src/drivers/replication/types.ts). One suite, run against every
// implementation in IMPLEMENTATIONS: the rsync driver against a real rsync daemon on a free
// loopback port, and the local fs driver. Home volumes are made by the real volume driver;
// everything lives in temporary directories removed at the end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createConnection } from 'node:net';
import {
  chmod,
  chown,
  lchown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isHostfleetError } from '../../src/core/errors.js';
import { newSecret, type Clock } from '../../src/drivers/clock/index.js';
import {
  localReplicator,
  REPLICATION_FAILED,
  replicationLagMs,
  rsyncReplicator,
  startRsyncDaemon,
  type Owner,
  type Replicator,
  type RsyncDaemon,
} from '../../src/drivers/replication/index.js';
import { freePort } from '../../src/services/shared/ports.js';
import { localVolumes } from '../../src/drivers/volumes/index.js';

const IS_ROOT = process.getuid?.() === 0;
const SELF: Owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
/** Two customer accounts; without root both are this process's own ids (nothing can be chowned). */
const A: Owner = IS_ROOT ? { uid: 41201, gid: 41201 } : SELF;
const B: Owner = IS_ROOT ? { uid: 41202, gid: 41202 } : SELF;
/** stamp dates what fill writes: a second later at every call, as edits at home would be. */
let stamp = new Date('2026-01-01T00:00:00Z').getTime();

/** steppingClock reads `start` and then moves 250 ms at every reading, so a run's start and end differ. */
function steppingClock(start = new Date('2026-03-01T12:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start.getTime();
  return {
    now() {
      const d = new Date(now);
      now += 250;
      return d;
    },
    advance(ms) {
      now += ms;
    },
    sleep: () => Promise.resolve(),
  };
}

/** Rig is one implementation under test, with the roots of both sites. */
interface Rig {
  readonly replicator: Replicator;
  readonly homeRoot: string;
  readonly replicaRoot: string;
  /** prefixed opens another replicator between the same sites whose replicas are named prefix + volume id. */
  prefixed(prefix: string): Replicator;
  /** failing returns a replicator whose sync of volumeId fails the way this implementation can fail, and how to undo it. */
  failing(volumeId: string): Promise<{ replicator: Replicator; said: RegExp; undo(): Promise<void> }>;
  close(): Promise<void>;
}

const IMPLEMENTATIONS: { name: string; open(work: string, clock: Clock): Promise<Rig & { daemon?: RsyncDaemon }> }[] = [
  {
    name: 'rsync',
    async open(work, clock) {
      const [homeRoot, replicaRoot] = [join(work, 'home'), join(work, 'replica')];
      const secret = newSecret();
      const daemon = await startRsyncDaemon({
        root: replicaRoot,
        host: '127.0.0.1',
        port: await freePort(),
        user: 'hostfleet',
        secret,
      });
      const target = { url: daemon.url, user: 'hostfleet', secret };
      const replicator = rsyncReplicator({ homeRoot, replicaRoot, target, clock });
      return {
        daemon,
        replicator,
        homeRoot,
        replicaRoot,
        prefixed: (replicaPrefix) => rsyncReplicator({ homeRoot, replicaRoot, target, clock, replicaPrefix }),
        async failing() {
          const wrong = rsyncReplicator({ homeRoot, replicaRoot, target: { ...target, secret: newSecret() }, clock });
          return { replicator: wrong, said: /@ERROR: auth failed on module replicas/, undo: () => wrong.close() };
        },
        async close() {
          await replicator.close();
          await daemon.close();
        },
      };
    },
  },
  {
    name: 'local',
    async open(work, clock) {
      const [homeRoot, replicaRoot] = [join(work, 'home'), join(work, 'replica')];
      const replicator = localReplicator({ homeRoot, replicaRoot, clock });
      return {
        replicator,
        homeRoot,
        replicaRoot,
        prefixed: (replicaPrefix) => localReplicator({ homeRoot, replicaRoot, clock, replicaPrefix }),
        async failing(volumeId) {
          // A FIFO cannot be copied with fs; as root no mode makes a file unreadable.
          const fifo = join(homeRoot, 'volumes', volumeId, 'pipe');
          assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
          return { replicator, said: /not a regular file, directory or symbolic link/, undo: () => rm(fifo) };
        },
        close: () => replicator.close(),
      };
    },
  },
];

/** fill writes files (path → text; a `->` prefix makes a symbolic link) into dir, owned by owner, dated by stamp. */
async function fill(dir: string, owner: Owner, files: Record<string, string>, mode = 0o644): Promise<void> {
  const at = new Date((stamp += 1000));
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await rm(path, { force: true });
    if (text.startsWith('->')) await symlink(text.slice(2), path);
    else {
      await writeFile(path, text, { mode });
      await chmod(path, mode);
      await utimes(path, at, at);
    }
    if (IS_ROOT) await lchown(path, owner.uid, owner.gid);
  }
}

/** Node is one path of a tree as the suite compares trees. */
interface Node {
  readonly path: string;
  readonly kind: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly data: string;
}

/** tree lists dir recursively: kind, mode, owner, and a file's text (a digest when long) or a link's target. */
async function tree(dir: string, rel = ''): Promise<Node[]> {
  const out: Node[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = join(rel, name);
    const s = await lstat(join(dir, path));
    const kind = s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'link' : 'file';
    const text = kind === 'file' ? await readFile(join(dir, path), 'utf8') : '';
    const digest = () => `sha256:${createHash('sha256').update(text).digest('hex')}`;
    const data = kind === 'link' ? await readlink(join(dir, path)) : text.length > 64 ? digest() : text;
    out.push({ path, kind, mode: kind === 'link' ? 0 : s.mode & 0o7777, uid: s.uid, gid: s.gid, data });
    if (kind === 'dir') out.push(...(await tree(dir, path)));
  }
  return out;
}

/** owned is nodes as a copy made for owner holds them: as root, every entry belongs to the account. */
function owned(nodes: Node[], owner: Owner): Node[] {
  return IS_ROOT ? nodes.map((n) => ({ ...n, uid: owner.uid, gid: owner.gid })) : nodes;
}

/** asUser runs cmd under owner's uid/gid and reports its exit status and stderr. */
function asUser(owner: Owner, cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { uid: owner.uid, gid: owner.gid, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BAD_IDS = ['', '../etc', 'a/b', 'A', '-x', 'x'.repeat(64), '.hidden', 'acme\0', 'ünï'];

test('replicationLagMs is the time since the last successful sync started, never negative', () => {
  const started = new Date('2026-03-01T12:00:00Z');
  const cases = [
    { name: 'at the start', now: started, want: 0 },
    { name: 'a minute later', now: new Date('2026-03-01T12:01:00Z'), want: 60_000 },
    { name: 'clock stepped back', now: new Date('2026-03-01T11:59:00Z'), want: 0 },
  ];
  for (const c of cases) assert.equal(replicationLagMs({ lastSyncStartedAt: started }, c.now), c.want, c.name);
});

for (const impl of IMPLEMENTATIONS) {
  describe(`Replicator contract: ${impl.name}`, () => {
    let work = '';
    let rig: Rig & { daemon?: RsyncDaemon };
    const clock = steppingClock();
    const home = (id: string) => join(rig.homeRoot, 'volumes', id);
    const replica = (id: string) => join(rig.replicaRoot, 'volumes', id);
    /** volume makes volumeId at home with the real volume driver and fills it. */
    const volume = async (id: string, owner: Owner, files: Record<string, string>) => {
      const path = await localVolumes(rig.homeRoot).ensure(id, owner);
      await fill(path, owner, files);
      return path;
    };

    before(async () => {
      work = await mkdtemp(join(tmpdir(), `hf-replication-${impl.name}-`));
      await chmod(work, 0o711); // accounts traverse it to their replicas, as they would a site's root
      // The roots exist already, private, as an operator's directories might: the drivers open them to traversal.
      for (const root of ['home', 'replica']) await mkdir(join(work, root), { mode: 0o700 });
      rig = await impl.open(work, clock);
    });
    after(async () => {
      await rig.close();
      await rm(work, { recursive: true, force: true });
    });

    test('status is null before the first sync; replicaPath is the volume under the replica root', () => {
      assert.equal(rig.replicator.status('acme'), null);
      assert.equal(rig.replicator.replicaPath('acme'), replica('acme'));
    });

    test('the first sync copies files, nested directories, links and modes, all owned by the account', async () => {
      const path = await volume('acme', A, {
        'index.html': '<h1>acme</h1>',
        'deep/a/b/c.txt': 'nested',
        current: '->deep/a',
      });
      await fill(path, A, { 'bin/run.sh': '#!/bin/sh\n' }, 0o755);
      await fill(path, A, { 'private/key.pem': 'secret key' }, 0o600);
      await mkdir(join(path, 'empty'), { mode: 0o750 });
      await chmod(join(path, 'empty'), 0o750);
      if (IS_ROOT) await chown(join(path, 'empty'), A.uid, A.gid);
      // Written by root at home (say, by a restore tool): the replica still belongs to the account.
      await fill(path, SELF, { 'root-made.txt': 'made by root' });

      const r = await rig.replicator.sync('acme', A);
      assert.equal(r.volumeId, 'acme');
      assert.equal(r.direction, 'sync');
      assert.equal(r.filesTransferred, 5);
      const size = 13 + 6 + 10 + 10 + 12; // the five files' bytes
      assert.ok(r.bytesSent >= size, `bytesSent ${r.bytesSent} covers the files' ${size} bytes`);
      assert.ok(r.finishedAt > r.startedAt);

      assert.deepEqual(await tree(replica('acme')), owned(await tree(path), A));
      const top = await lstat(replica('acme'));
      assert.equal(top.mode & 0o777, 0o700);
      if (IS_ROOT) assert.deepEqual([top.uid, top.gid], [A.uid, A.gid]);
      const [h, c] = [await lstat(join(path, 'index.html')), await lstat(join(replica('acme'), 'index.html'))];
      assert.equal(c.mtimeMs, h.mtimeMs, 'modification times are kept');
    });

    test('a later sync sends only what changed and deletes what home no longer has', async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 24; i++) files[`data/part-${i}.bin`] = String(i % 10).repeat(32 * 1024);
      await volume('bulk', A, { ...files, 'old/gone.txt': 'gone soon', 'gone.txt': 'gone soon' });
      const first = await rig.replicator.sync('bulk', A);
      assert.equal(first.filesTransferred, 26);

      await writeFile(join(home('bulk'), 'data/part-3.bin'), 'x'.repeat(32 * 1024)); // same size, new time
      await rm(join(home('bulk'), 'gone.txt'));
      await rm(join(home('bulk'), 'old'), { recursive: true });
      const second = await rig.replicator.sync('bulk', A);
      assert.equal(second.filesTransferred, 1);
      assert.ok(
        second.bytesSent < first.bytesSent / 10,
        `second run sent ${second.bytesSent} bytes, the first ${first.bytesSent}`,
      );
      assert.equal(await readFile(join(replica('bulk'), 'data/part-3.bin'), 'utf8'), 'x'.repeat(32 * 1024));
      await assert.rejects(lstat(join(replica('bulk'), 'gone.txt')), { code: 'ENOENT' });
      await assert.rejects(lstat(join(replica('bulk'), 'old')), { code: 'ENOENT' });
      assert.deepEqual(await tree(replica('bulk')), owned(await tree(home('bulk')), A));

      const third = await rig.replicator.sync('bulk', A);
      assert.equal(third.filesTransferred, 0);
    });

    test('the lag is the time since the last successful sync started, and grows until the next', async () => {
      await volume('lagged', A, { 'a.txt': 'a' });
      assert.equal(rig.replicator.status('lagged'), null);
      const r = await rig.replicator.sync('lagged', A);
      const s = rig.replicator.status('lagged');
      assert.ok(s);
      assert.deepEqual(s, { volumeId: 'lagged', lastSyncStartedAt: r.startedAt, lastSyncFinishedAt: r.finishedAt });
      assert.equal(replicationLagMs(s, r.finishedAt), r.finishedAt.getTime() - r.startedAt.getTime());
      clock.advance(60_000);
      const now = clock.now();
      assert.equal(replicationLagMs(s, now), now.getTime() - r.startedAt.getTime());
      assert.ok(replicationLagMs(s, now) >= 60_000);
      const again = await rig.replicator.sync('lagged', A);
      assert.equal(rig.replicator.status('lagged')?.lastSyncStartedAt, again.startedAt);
      assert.ok(replicationLagMs(rig.replicator.status('lagged') ?? s, again.finishedAt) < 60_000);
    });

    test('syncs of one volume run one after another, in call order', async () => {
      await volume('busy', A, { 'a.txt': 'a' });
      const runs = await Promise.all([1, 2, 3].map(() => rig.replicator.sync('busy', A)));
      for (let i = 1; i < runs.length; i++) {
        assert.ok(runs[i]!.startedAt >= runs[i - 1]!.finishedAt, `run ${i} started after run ${i - 1} finished`);
      }
      assert.equal(rig.replicator.status('busy')?.lastSyncStartedAt, runs[2]!.startedAt);
    });

    test(
      "an account's replica is readable by its own uid and by no other account's",
      { skip: IS_ROOT ? false : 'needs root: accounts are distinct uids, and only root can make files theirs' },
      async () => {
        await volume('cust-a', A, { 'secret.txt': 'a-secret' });
        await volume('cust-b', B, { 'secret.txt': 'b-secret' });
        await rig.replicator.sync('cust-a', A);
        await rig.replicator.sync('cust-b', B);
        const fileOfA = join(rig.replicator.replicaPath('cust-a'), 'secret.txt');
        const own = asUser(A, 'cat', [fileOfA]);
        assert.equal(own.status, 0, own.stderr);
        assert.equal(own.stdout, 'a-secret');
        const other = asUser(B, 'cat', [fileOfA]);
        assert.notEqual(other.status, 0);
        assert.match(other.stderr, /Permission denied/);
        const listing = asUser(B, 'ls', [join(rig.replicaRoot, 'volumes')]);
        assert.notEqual(listing.status, 0, 'accounts cannot list the replicas');
        assert.equal(asUser(B, 'cat', [join(rig.replicator.replicaPath('cust-b'), 'secret.txt')]).stdout, 'b-secret');
      },
    );

    test("with a replicaPrefix, a volume's replica is named prefix + id, beside the replica site's own volumes", async () => {
      const paris = rig.prefixed('paris-');
      try {
        await volume('shop', A, { 'a.txt': 'from paris' });
        await mkdir(replica('shop'), { mode: 0o700 }); // the replica site's own volume of that id
        await writeFile(join(replica('shop'), 'mine.txt'), 'local');
        await paris.sync('shop', A);
        assert.equal(paris.replicaPath('shop'), replica('paris-shop'));
        assert.equal(await readFile(join(replica('paris-shop'), 'a.txt'), 'utf8'), 'from paris');
        assert.deepEqual(await readdir(replica('shop')), ['mine.txt']);
        await fill(replica('paris-shop'), A, { 'a.txt': 'changed at the replica site' });
        await paris.restore('shop', A);
        assert.equal(await readFile(join(home('shop'), 'a.txt'), 'utf8'), 'changed at the replica site');
        const long = 'x'.repeat(60);
        await assert.rejects(paris.sync(long, A), (e: unknown) => isHostfleetError(e, 'E_VALIDATION'));
        assert.throws(
          () => paris.replicaPath(long),
          (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
        );
        for (const bad of ['Paris-', '-x', 'a/b', 'x'.repeat(63)]) {
          assert.throws(
            () => rig.prefixed(bad),
            (e: unknown) => isHostfleetError(e, 'E_CONFIG'),
            bad,
          );
        }
      } finally {
        await paris.close();
      }
    });

    test('invalid ids and owners are E_VALIDATION before anything is touched', async () => {
      const before = await tree(rig.replicaRoot);
      for (const id of BAD_IDS) {
        for (const call of [() => rig.replicator.sync(id, A), () => rig.replicator.restore(id, A)]) {
          await assert.rejects(call(), (e: unknown) => isHostfleetError(e, 'E_VALIDATION'), JSON.stringify(id));
        }
        assert.throws(
          () => rig.replicator.status(id),
          (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
        );
        assert.throws(
          () => rig.replicator.replicaPath(id),
          (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
        );
      }
      for (const owner of [
        { uid: -1, gid: 0 },
        { uid: 1.5, gid: 0 },
        { uid: 0, gid: Number.NaN },
      ]) {
        await assert.rejects(rig.replicator.sync('acme', owner), (e: unknown) => isHostfleetError(e, 'E_VALIDATION'));
      }
      assert.deepEqual(await tree(rig.replicaRoot), before);
    });

    test('a volume missing at home (sync) or at the replica (restore) is E_NOT_FOUND and changes nothing', async () => {
      await assert.rejects(
        rig.replicator.sync('nobody', A),
        (e: unknown) => isHostfleetError(e, 'E_NOT_FOUND') && e.message.includes('nobody'),
      );
      await assert.rejects(lstat(replica('nobody')), { code: 'ENOENT' });
      await assert.rejects(
        rig.replicator.restore('nobody', A),
        (e: unknown) => isHostfleetError(e, 'E_NOT_FOUND') && e.message.includes('nobody'),
      );
      await assert.rejects(lstat(home('nobody')), { code: 'ENOENT' });
    });

    test('a failed sync rejects with the reason and leaves the replica and its status as they were', async () => {
      await volume('fragile', A, { 'a.txt': 'version 1', 'keep.txt': 'kept' });
      await rig.replicator.sync('fragile', A);
      const status = rig.replicator.status('fragile');
      const replicaBefore = await tree(replica('fragile'));
      await fill(home('fragile'), A, { 'a.txt': 'version 2', 'new.txt': 'new' });
      await rm(join(home('fragile'), 'keep.txt'));

      const broken = await rig.failing('fragile');
      await assert.rejects(
        broken.replicator.sync('fragile', A),
        (e: unknown) => isHostfleetError(e, REPLICATION_FAILED) && broken.said.test(e.message),
      );
      assert.deepEqual(await tree(replica('fragile')), replicaBefore);
      assert.deepEqual(
        (await readdir(join(rig.replicaRoot, 'volumes'))).filter((n) => n.startsWith('.')),
        [],
        'no staging left behind',
      );
      assert.deepEqual(rig.replicator.status('fragile'), status);
      await broken.undo();

      await rig.replicator.sync('fragile', A);
      assert.deepEqual(await tree(replica('fragile')), owned(await tree(home('fragile')), A));
    });

    test("restore brings the replica's copy home: its changes win, and a lost home volume comes back", async () => {
      await volume('returning', A, { 'site/index.html': 'v1', 'log.txt': 'home only soon', 'same.txt': 'same' });
      await rig.replicator.sync('returning', A);
      const status = rig.replicator.status('returning');
      // While home was away, a server lent by the replica site wrote to the replica.
      await fill(replica('returning'), A, { 'site/index.html': 'v2 written at the replica site', 'orders.db': 'new' });
      await rm(join(replica('returning'), 'log.txt'));
      await fill(home('returning'), A, { 'stale.txt': 'home diverged' });

      const r = await rig.replicator.restore('returning', A);
      assert.equal(r.direction, 'restore');
      assert.equal(r.filesTransferred, 2);
      assert.deepEqual(await tree(home('returning')), owned(await tree(replica('returning')), A));
      assert.deepEqual(rig.replicator.status('returning'), status, 'restore does not change the replica status');

      await rm(home('returning'), { recursive: true });
      await rig.replicator.restore('returning', A);
      assert.deepEqual(await tree(home('returning')), owned(await tree(replica('returning')), A));
      const top = await lstat(home('returning'));
      assert.equal(top.mode & 0o777, 0o700);
      if (IS_ROOT) assert.deepEqual([top.uid, top.gid], [A.uid, A.gid]);
    });

    test('after close every call is E_CONFLICT', async () => {
      const closing = await impl.open(await mkdtemp(join(work, 'closed-')), clock);
      await closing.close();
      await assert.rejects(closing.replicator.sync('acme', A), (e: unknown) => isHostfleetError(e, 'E_CONFLICT'));
    });

    if (impl.name === 'rsync') {
      test('options that cannot work are E_CONFIG at start', async () => {
        const target = { url: 'rsync://127.0.0.1:873/replicas', user: 'hostfleet', secret: newSecret() };
        const bad = [
          { ...target, url: 'http://127.0.0.1/replicas' },
          { ...target, url: 'rsync://someone@127.0.0.1/replicas' },
          { ...target, url: 'rsync://127.0.0.1/two/levels' },
          { ...target, user: 'Root Admin' },
          { ...target, secret: 'short' },
        ];
        for (const t of bad) {
          assert.throws(
            () => rsyncReplicator({ homeRoot: work, replicaRoot: work, target: t }),
            (e: unknown) => isHostfleetError(e, 'E_CONFIG'),
            JSON.stringify(t),
          );
        }
        assert.throws(
          () => rsyncReplicator({ homeRoot: 'relative', replicaRoot: work, target }),
          (e: unknown) => isHostfleetError(e, 'E_CONFIG'),
        );
        const daemon = { root: join(work, 'x'), host: '127.0.0.1', port: 873, user: 'hostfleet', secret: newSecret() };
        for (const o of [
          { ...daemon, port: 0 },
          { ...daemon, host: '127.0.0.1\n[evil]' },
          { ...daemon, root: `${work}\npath = /` },
        ]) {
          await assert.rejects(startRsyncDaemon(o), (e: unknown) => isHostfleetError(e, 'E_CONFIG'), JSON.stringify(o));
        }
      });

      test('the daemon refuses hosts outside `allow`, and a second daemon on a taken port is E_CONFIG', async () => {
        const secret = newSecret();
        const guarded = await startRsyncDaemon({
          root: join(work, 'guarded'),
          host: '127.0.0.1',
          port: await freePort(),
          user: 'hostfleet',
          secret,
          allow: ['127.0.0.2/32'],
        });
        try {
          const homeRoot = rig.homeRoot;
          const r = rsyncReplicator({
            homeRoot,
            replicaRoot: work,
            target: { url: guarded.url, user: 'hostfleet', secret },
          });
          await volume('guarded', A, { 'a.txt': 'a' });
          await assert.rejects(
            r.sync('guarded', A),
            (e: unknown) =>
              isHostfleetError(e, REPLICATION_FAILED) && /@ERROR: Unknown module 'replicas'/.test(e.message),
          );
          await r.close();
          await assert.rejects(
            startRsyncDaemon({
              root: join(work, 'other'),
              host: '127.0.0.1',
              port: Number(new URL(guarded.url).port),
              user: 'hostfleet',
              secret,
            }),
            (e: unknown) => isHostfleetError(e, 'E_CONFIG') && /did not start/.test(e.message),
          );
        } finally {
          await guarded.close();
        }
      });

      test('closing the daemon ends it and the transfers it forked; then syncs fail and the replica stays', async () => {
        const daemon = rig.daemon;
        assert.ok(daemon);
        await volume('last', A, { 'a.txt': 'before' });
        await rig.replicator.sync('last', A);
        // A connection the daemon has forked a process for, left hanging.
        const socket = createConnection({ host: '127.0.0.1', port: Number(new URL(daemon.url).port) });
        await new Promise((resolve) => socket.once('data', resolve));
        assert.ok(liveInGroup(daemon.pid).length >= 2, 'the daemon and its forked transfer run');
        await daemon.close();
        socket.destroy();
        assert.deepEqual(liveInGroup(daemon.pid), []);

        await fill(home('last'), A, { 'a.txt': 'after' });
        await assert.rejects(
          rig.replicator.sync('last', A),
          (e: unknown) =>
            isHostfleetError(e, REPLICATION_FAILED) && /could not reach/.test(e.message) && /refused/.test(e.message),
        );
        assert.equal(await readFile(join(replica('last'), 'a.txt'), 'utf8'), 'before');
      });
    }
  });
}

/** liveInGroup lists the processes of process group pgid that have not ended (zombies excluded), from /proc. */
function liveInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so read after its ')'.
      const fields = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
