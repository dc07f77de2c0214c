/**
 * pureftpd is the FTP service driver: Pure-FTPd virtual users (rendered by core as a passwd
 * file), compiled and checked with `pure-pw mkdb`, each jailed in its directory of the
 * account's volume and writing as the account's uid. Pure-FTPd opens the user database at
 * every login, so a new database is live as soon as it is in place (no reload).
 */
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkValue, renderPureFtpd } from '../../core/provisioning/index.js';
import type { FieldProblem } from '../../core/errors.js';
import { hostPort, refused, specsOf } from './driver.js';
import type { ApplyOutcome, HeldEntry, ServiceDriver } from './driver.js';
import { Generations } from './generations.js';
import { run, startDaemon, waitForPort } from './process.js';
import type { Daemon } from './process.js';

/** PureFtpdOptions configure the FTP driver. */
export interface PureFtpdOptions {
  readonly base: string;
  readonly listen: string;
  readonly volumesRoot: string;
  /** passive is the range of passive data ports. */
  readonly passive: readonly [number, number];
}

/** pureFtpdDriver returns the FTP service driver. */
export function pureFtpdDriver(o: PureFtpdOptions): ServiceDriver {
  const problems = [
    checkValue('absPath', 'ftp.base', o.base),
    checkValue('listen', 'ftp.listen', o.listen),
    checkValue('absPath', 'ftp.volumesRoot', o.volumesRoot),
  ].filter((p): p is FieldProblem => p !== null);
  if (!(
    Number.isInteger(o.passive[0]) &&
    Number.isInteger(o.passive[1]) &&
    o.passive[0] >= 1024 &&
    o.passive[1] >= o.passive[0] &&
    o.passive[1] < 65536
  ))
    problems.push({ field: 'ftp.passive', problem: 'must be a port range above 1023' });
  if (problems.length > 0)
    throw new Error(`invalid pure-ftpd driver options: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`);
  const gens = new Generations(join(o.base, 'users'));
  let daemon: Daemon | undefined;
  // account → the uid and directories whose homes this run made (see apply).
  const prepared = new Map<string, string>();
  return {
    service: 'ftp',
    async start() {
      await gens.init();
      await writeFile(join(gens.live, 'pureftpd.passwd'), '', { flag: 'a' });
      const m = await run('pure-pw', [
        'mkdb',
        join(gens.live, 'pureftpd.pdb'),
        '-f',
        join(gens.live, 'pureftpd.passwd'),
      ]);
      if (m.code !== 0) throw new Error(`pure-pw mkdb: ${m.output}`);
      const { host, port } = hostPort(o.listen);
      // -E: no anonymous or system users; -A: everyone chrooted; -H: no DNS lookups.
      daemon = await startDaemon('pure-ftpd', [
        '-S',
        `${host},${port}`,
        '-l',
        `puredb:${join(gens.live, 'pureftpd.pdb')}`,
        '-E',
        '-A',
        '-H',
        '-p',
        `${o.passive[0]}:${o.passive[1]}`,
        '-P',
        host,
        '-u',
        '1000',
      ]);
      await waitForPort(host, port);
    },
    async apply(entries: ReadonlyMap<string, HeldEntry>): Promise<ApplyOutcome> {
      const { specs, problems } = specsOf('ftp', entries);
      if (problems.length) return refused(problems);
      const r = renderPureFtpd(specs, { volumesRoot: o.volumesRoot });
      if (!r.ok) return refused(r.problems);
      const dir = await gens.write(r.value);
      const m = await run('pure-pw', ['mkdb', join(dir, 'pureftpd.pdb'), '-f', join(dir, 'pureftpd.passwd')]);
      if (m.code !== 0) {
        await gens.discard(dir);
        return { ok: false, stage: 'check', error: `pure-pw mkdb: ${m.output}` };
      }
      // Homes exist and belong to the account before its users can log in. An account whose
      // uid and directories are those already prepared by this run is not walked again (a
      // batch changes a few accounts of hundreds).
      for (const [account, s] of specs) {
        const homes = `${s.uid}:${s.users.map((u) => u.dir).join('\u0000')}`;
        if (prepared.get(account) === homes) continue;
        const vol = join(o.volumesRoot, account);
        await mkdir(vol, { recursive: true });
        await chown(vol, s.uid, s.uid);
        for (const u of s.users) {
          if (u.dir === '') continue;
          await mkdir(join(vol, u.dir), { recursive: true });
          await chown(join(vol, u.dir), s.uid, s.uid);
        }
        prepared.set(account, homes);
      }
      for (const account of prepared.keys()) if (!specs.has(account)) prepared.delete(account);
      await gens.promote(dir);
      if (!daemon || daemon.exited())
        return { ok: false, stage: 'reload', error: `pure-ftpd is not running: ${daemon?.output() ?? 'not started'}` };
      return { ok: true };
    },
    async close() {
      await daemon?.stop();
    },
  };
}
