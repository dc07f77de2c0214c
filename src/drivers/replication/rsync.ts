/**
 * rsync is the Replicator that drives Debian's rsync (spawned with argument arrays, never a
 * shell) against the rsync daemon of the replica site (rsync-daemon.ts). Every run is
 * `rsync -a --numeric-ids --delete --delete-delay --delay-updates`: rsync's quick check (size
 * and modification time) makes it incremental, and --delay-updates writes changed files into
 * temporary names and renames them all into place at the end of the run, so a failed run
 * leaves the copy as it was. The shared secret travels in RSYNC_PASSWORD, never in argv.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { HostfleetError } from '../../core/errors.js';
import { systemClock, type Clock } from '../clock/index.js';
import { prepareRoot, requireVolume, volumePath } from './layout.js';
import { credentialProblems, pathProblem, refuseConfig, RSYNC_MODULE_RE } from './rsync-options.js';
import { trackedReplicator, type VolumeIds } from './tracked.js';
import { REPLICATION_FAILED, type Direction, type Owner, type Replicator } from './types.js';

/** RsyncTarget is the replica site's daemon: `rsync://host:port/module`, the user and the shared secret. */
export interface RsyncTarget {
  readonly url: string;
  readonly user: string;
  readonly secret: string;
}

/** RsyncReplicatorOptions configure rsyncReplicator. */
export interface RsyncReplicatorOptions {
  /** homeRoot is the home site's volume root (`homeRoot/volumes/<id>`). */
  readonly homeRoot: string;
  readonly target: RsyncTarget;
  /** replicaRoot is the daemon module's path at the replica site, which replicaPath answers from. */
  readonly replicaRoot: string;
  /** replicaPrefix goes before the volume id to name its replica (default none). */
  readonly replicaPrefix?: string;
  readonly clock?: Clock;
  /** rsyncPath is the rsync binary (default /usr/bin/rsync). */
  readonly rsyncPath?: string;
  /** ioTimeoutS ends a run in which no data moved for this long (rsync --timeout; default 120). */
  readonly ioTimeoutS?: number;
}

/** RSYNC_EXITS say what an rsync exit code means for the operator (see rsync(1), EXIT VALUES). */
const RSYNC_EXITS: Readonly<Record<number, string>> = {
  5: "the daemon refused the session: check the replication user and shared secret, the module in the target URL, and that the daemon's allow list holds this host (a refused host is told the module is unknown)",
  10: "could not reach the daemon: check that the replica site's rsync daemon runs and that this host reaches it",
  12: 'the connection broke during the copy: check the replication network and the daemon',
  23: 'some files could not be read or written: see rsync’s messages',
  30: 'no data moved within the time limit: check the replication network',
  35: 'the daemon did not answer in time: check the replication network and the daemon',
};

/** STOPPED marks a run ended by close(). */
const STOPPED = 'stopped because the replicator was closed';

/** RunOutcome is one finished rsync process. */
interface RunOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** statistic reads one number of rsync's --stats report, or null. */
function statistic(report: string, label: string): number | null {
  const m = new RegExp(`^${label}: (\\d+)`, 'm').exec(report);
  return m ? Number(m[1]) : null;
}

/** checkTarget validates the options and returns the daemon's `rsync://user@host:port/module` base. */
function checkTarget(o: RsyncReplicatorOptions): string {
  const problems = [
    ...pathProblem('homeRoot', o.homeRoot),
    ...pathProblem('replicaRoot', o.replicaRoot),
    ...credentialProblems(o.target.user, o.target.secret),
  ];
  let url: URL | null = null;
  try {
    url = new URL(o.target.url);
  } catch {
    // reported below
  }
  const module = url?.pathname.replace(/^\/|\/$/g, '') ?? '';
  if (url?.protocol !== 'rsync:' || url.hostname === '' || url.username !== '' || !RSYNC_MODULE_RE.test(module)) {
    problems.push({
      field: 'target.url',
      problem: `must be rsync://host:port/module with no user in it, got ${JSON.stringify(o.target.url)}`,
    });
  }
  if (o.ioTimeoutS !== undefined && !(Number.isInteger(o.ioTimeoutS) && o.ioTimeoutS > 0)) {
    problems.push({ field: 'ioTimeoutS', problem: `must be a positive whole number of seconds, got ${o.ioTimeoutS}` });
  }
  refuseConfig('rsync replicator options', problems);
  return `rsync://${o.target.user}@${url?.host ?? ''}/${module}`;
}

/** rsyncReplicator copies volumes between homeRoot and the daemon at target. */
export function rsyncReplicator(o: RsyncReplicatorOptions): Replicator {
  const base = checkTarget(o);
  const rsync = o.rsyncPath ?? '/usr/bin/rsync';
  const running = new Set<ChildProcess>();
  let closing = false;

  function run(args: readonly string[]): Promise<RunOutcome> {
    return new Promise((resolve, reject) => {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', RSYNC_PASSWORD: o.target.secret };
      const child = spawn(rsync, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
      running.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout = (stdout + b.toString('utf8')).slice(-16_000)));
      child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-16_000)));
      child.on('error', (e: NodeJS.ErrnoException) => {
        running.delete(child);
        reject(
          new HostfleetError('E_CONFIG', `cannot run ${rsync}: ${e.message}; install Debian's rsync package`, {
            cause: e,
          }),
        );
      });
      child.on('close', (code) => {
        running.delete(child);
        resolve({ code, stdout, stderr: closing && code !== 0 ? `${stderr}\n${STOPPED}` : stderr });
      });
    });
  }

  async function copy(direction: Direction, ids: VolumeIds, owner: Owner) {
    const volumeId = ids.home;
    const home = volumePath(o.homeRoot, volumeId);
    const remote = `${base}/volumes/${ids.replica}/`;
    if (direction === 'sync') await requireVolume(home, `volume ${volumeId} does not exist at home`, { volumeId });
    else await prepareRoot(o.homeRoot);
    const [from, to] = direction === 'sync' ? [`${home}/`, remote] : [remote, `${home}/`];
    const r = await run([
      ...['-a', '--numeric-ids', '--delete', '--delete-delay', '--delay-updates', `--chown=${owner.uid}:${owner.gid}`],
      ...['--stats', '--no-human-readable', `--timeout=${o.ioTimeoutS ?? 120}`, '--contimeout=10', from, to],
    ]);
    const said = r.stderr.trim().slice(-2000);
    const details = { volumeId, direction, target: o.target.url, exitCode: r.code };
    if (direction === 'restore' && r.code === 23 && /change_dir .* failed: No such file or directory/.test(said)) {
      throw new HostfleetError(
        'E_NOT_FOUND',
        `volume ${volumeId} has no replica at ${o.target.url}; nothing was copied`,
        {
          details,
        },
      );
    }
    // 24 is "some files vanished before they could be transferred": deleted at home during the
    // run, so nothing written before the run started is missing.
    if (r.code !== 0 && r.code !== 24) {
      const hint = (r.code !== null && RSYNC_EXITS[r.code]) || 'see rsync’s messages';
      // Exit 23 ends a run that went on past the files it could not copy.
      const left =
        r.code === 23
          ? 'the files that arrived were switched over, whole, and no file was deleted'
          : 'the copy being written was left as it was';
      throw new HostfleetError(
        REPLICATION_FAILED,
        `${direction} of volume ${volumeId} with ${o.target.url} failed, rsync exit ${r.code ?? 'by signal'} (${hint}); ${left}: ${said}`,
        { details },
      );
    }
    const bytesSent = statistic(r.stdout, direction === 'sync' ? 'Total bytes sent' : 'Total bytes received');
    const filesTransferred = statistic(r.stdout, 'Number of regular files transferred');
    if (bytesSent === null || filesTransferred === null) {
      throw new HostfleetError(REPLICATION_FAILED, `${rsync} printed no --stats report: ${r.stdout.slice(-500)}`, {
        details,
      });
    }
    return { bytesSent, filesTransferred };
  }

  return trackedReplicator(
    {
      copy,
      replicaPath: (replicaId) => volumePath(o.replicaRoot, replicaId),
      async close() {
        closing = true;
        for (const child of running) {
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        }
      },
    },
    {
      clock: o.clock ?? systemClock,
      name: `the rsync replicator (${o.target.url})`,
      replicaPrefix: o.replicaPrefix ?? '',
    },
  );
}
