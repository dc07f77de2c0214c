// The VolumeDriver contract (src/drivers/volumes/index.ts). One suite, run against every
// implementation in IMPLEMENTATIONS: the local directory driver and the in-memory fake. Each
// gives the suite its way to look inside a volume (files on disk, or the fake's own), so the
// promises about data and modes are checked on both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, rm, stat, writeFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isHostfleetError } from '../../src/core/errors.js';
import { localVolumes, VOLUME_ID_RE, type VolumeDriver } from '../../src/drivers/volumes/index.js';
import { fakeVolumes } from '../support/fakes/index.js';

/** Inside reads and writes what a volume (or an export) holds, and describes it. */
interface Inside {
  write(path: string, name: string, text: string): Promise<void>;
  read(path: string, name: string): Promise<string>;
  /** stat gives the mode, owner, and an identity that changes when an export is replaced. */
  stat(path: string): Promise<{ mode: number; uid: number; gid: number; identity: number }>;
}

const onDisk: Inside = {
  write: (path, name, text) => writeFile(join(path, name), text),
  read: (path, name) => readFile(join(path, name), 'utf8'),
  stat: async (path) => {
    const s = await stat(path);
    return { mode: s.mode & 0o777, uid: s.uid, gid: s.gid, identity: (await lstat(path)).ino };
  },
};

const IMPLEMENTATIONS: {
  name: string;
  open(): Promise<{ driver: VolumeDriver; inside: Inside; cleanup(): Promise<void> }>;
}[] = [
  {
    name: 'local',
    async open() {
      const root = await mkdtemp(join(tmpdir(), 'hf-volumes-'));
      return { driver: localVolumes(root), inside: onDisk, cleanup: () => rm(root, { recursive: true, force: true }) };
    },
  },
  {
    name: 'fake',
    async open() {
      const v = fakeVolumes();
      const inside: Inside = {
        write: async (path, name, text) => v.writeFile(path, name, text),
        read: async (path, name) => v.readFile(path, name),
        stat: async (path) => {
          const s = v.stat(path);
          return { mode: s.mode, uid: s.uid, gid: s.gid, identity: s.generation };
        },
      };
      return { driver: v, inside, cleanup: async () => undefined };
    },
  },
];

const IS_ROOT = process.getuid?.() === 0;
const OWNER = IS_ROOT ? { uid: 41011, gid: 41011 } : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

for (const impl of IMPLEMENTATIONS) {
  test(`VolumeDriver contract: ${impl.name}`, async (t) => {
    const { driver: v, inside, cleanup } = await impl.open();
    try {
      await t.test('ensure creates an owner-only volume and keeps its data when repeated', async () => {
        const p = await v.ensure('acme', OWNER);
        const s = await inside.stat(p);
        assert.equal(s.mode, 0o700);
        if (IS_ROOT || impl.name === 'fake') assert.deepEqual([s.uid, s.gid], [OWNER.uid, OWNER.gid]);
        await inside.write(p, 'data.txt', 'keep me');
        assert.equal(await v.ensure('acme', OWNER), p);
        assert.equal(await inside.read(p, 'data.txt'), 'keep me');
      });

      await t.test('exportTo makes the volume visible at mountPath; repeating it is a no-op', async () => {
        await v.exportTo('acme', 'machine-1');
        assert.equal(await v.exportedTo('machine-1'), 'acme');
        assert.equal(await inside.read(v.mountPath('machine-1'), 'data.txt'), 'keep me');
        const before = await inside.stat(v.mountPath('machine-1'));
        await v.exportTo('acme', 'machine-1');
        assert.equal(
          (await inside.stat(v.mountPath('machine-1'))).identity,
          before.identity,
          'the export was not replaced',
        );
      });

      await t.test('exportTo replaces a previous export of the machine; other machines keep theirs', async () => {
        const b = await v.ensure('globex', OWNER);
        await inside.write(b, 'data.txt', 'globex data');
        await v.exportTo('acme', 'machine-2');
        await v.exportTo('globex', 'machine-1');
        assert.equal(await v.exportedTo('machine-1'), 'globex');
        assert.equal(await v.exportedTo('machine-2'), 'acme');
        assert.equal(await inside.read(v.mountPath('machine-1'), 'data.txt'), 'globex data');
        assert.equal(await inside.read(v.mountPath('machine-2'), 'data.txt'), 'keep me');
      });

      await t.test('a machine never sees its export missing while it is switched', async () => {
        await v.exportTo('acme', 'machine-3');
        let switching = true;
        let reads = 0;
        const reader = (async () => {
          while (switching && reads < 100_000) {
            const got = await v.exportedTo('machine-3');
            assert.ok(got === 'acme' || got === 'globex', `read ${reads} saw ${String(got)}`);
            reads++;
          }
        })();
        for (let i = 0; i < 200; i++) await v.exportTo(i % 2 === 0 ? 'globex' : 'acme', 'machine-3');
        switching = false;
        await reader;
        assert.ok(reads > 1);
      });

      await t.test('exporting a volume that does not exist is E_NOT_FOUND and keeps the old export', async () => {
        await assert.rejects(
          v.exportTo('nobody', 'machine-1'),
          (e: unknown) => isHostfleetError(e, 'E_NOT_FOUND') && e.message.includes('nobody'),
        );
        assert.equal(await v.exportedTo('machine-1'), 'globex');
      });

      await t.test('unexport is idempotent and exportedTo is null afterwards', async () => {
        await v.unexport('machine-3');
        await v.unexport('machine-3');
        await v.unexport('never-exported');
        assert.equal(await v.exportedTo('machine-3'), null);
        await assert.rejects(inside.read(v.mountPath('machine-3'), 'data.txt'));
      });

      await t.test('remove refuses a volume still exported, then deletes it; removing again is fine', async () => {
        await assert.rejects(
          v.remove('acme'),
          (e: unknown) => isHostfleetError(e, 'E_CONFLICT') && e.message.includes('machine-2'),
        );
        await v.unexport('machine-2');
        await v.remove('acme');
        await v.remove('acme');
        await assert.rejects(v.exportTo('acme', 'machine-2'), (e: unknown) => isHostfleetError(e, 'E_NOT_FOUND'));
      });

      await t.test('ids outside the grammar are E_VALIDATION before anything is touched', async () => {
        const bad = ['', '../etc', 'a/b', 'A', '-x', 'x'.repeat(64), '.hidden', 'acme\0', 'ünï'];
        for (const id of bad) {
          assert.equal(VOLUME_ID_RE.test(id), false, id);
          await assert.rejects(
            v.ensure(id, OWNER),
            (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
            `ensure ${JSON.stringify(id)}`,
          );
          await assert.rejects(
            v.exportTo('globex', id),
            (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
            `exportTo machine ${JSON.stringify(id)}`,
          );
          await assert.rejects(
            v.exportTo(id, 'machine-1'),
            (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
            `exportTo volume ${JSON.stringify(id)}`,
          );
          await assert.rejects(
            v.remove(id),
            (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
            `remove ${JSON.stringify(id)}`,
          );
          assert.throws(
            () => v.mountPath(id),
            (e: unknown) => isHostfleetError(e, 'E_VALIDATION'),
          );
        }
        for (const ok of ['a', '0', 'acme-web', '3f2b8c1e-6d0a-4f5e-9b7c-2a1d4e6f8a9b'])
          assert.ok(VOLUME_ID_RE.test(ok), ok);
      });

      await t.test(
        'any sequence of exports and unexports leaves each machine with the last volume given to it',
        async () => {
          const vols = ['v1', 'v2', 'v3'];
          for (const id of vols) await v.ensure(id, OWNER);
          const machines = ['p1', 'p2'];
          const op = fc.oneof(
            fc.record({
              kind: fc.constant('export' as const),
              volume: fc.constantFrom(...vols),
              machine: fc.constantFrom(...machines),
            }),
            fc.record({ kind: fc.constant('unexport' as const), machine: fc.constantFrom(...machines) }),
          );
          await fc.assert(
            fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
              const model = new Map<string, string | null>(machines.map((m) => [m, null]));
              for (const m of machines) await v.unexport(m);
              for (const o of ops) {
                if (o.kind === 'export') {
                  await v.exportTo(o.volume, o.machine);
                  model.set(o.machine, o.volume);
                } else {
                  await v.unexport(o.machine);
                  model.set(o.machine, null);
                }
              }
              for (const m of machines) assert.equal(await v.exportedTo(m), model.get(m));
            }),
            { numRuns: 40 },
          );
        },
      );

      if (impl.name === 'local') {
        await t.test('local: exports are relative symlinks into volumes/', async () => {
          await v.exportTo('v1', 'p1');
          assert.equal(await readlink(v.mountPath('p1')), join('..', 'volumes', 'v1'));
        });
      }
    } finally {
      await cleanup();
    }
  });
}
