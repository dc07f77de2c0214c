/**
 * rsync-daemon runs the replica site's end of the replication channel: `rsync --daemon` in the
 * foreground with one module whose path is the replica root, writable only by the replication
 * user with the shared secret. Its configuration and secrets file live in a private temporary
 * directory, removed on close. rsyncd forks a process per connection, and those outlive their
 * parent, so the daemon gets a process group of its own and close signals the whole group.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostfleetError } from '../../core/errors.js';
import { waitForPort } from '../services/process.js';
import { isRoot, prepareRoot } from './layout.js';
import { credentialProblems, pathProblem, refuseConfig, RSYNC_MODULE_RE } from './rsync-options.js';

/** RsyncDaemonOptions configure startRsyncDaemon. */
export interface RsyncDaemonOptions {
  /** root is the replica root (`root/volumes/<id>`), the module's path. */
  readonly root: string;
  /** host is the address to listen on: the replica site's address on the replication network. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly secret: string;
  /** allow lists the addresses or networks (`10.9.0.0/24`) that may connect; default any. */
  readonly allow?: readonly string[];
  /** module is the module's name (default `replicas`). */
  readonly module?: string;
  /** rsyncPath is the rsync binary (default /usr/bin/rsync). */
  readonly rsyncPath?: string;
  /** pidFile, when given, records the daemon's pid, and a daemon it names that outlived its starter is ended first. */
  readonly pidFile?: string;
}

/**
 * endStaleDaemon ends the daemon a pid file names when its process is still an rsync daemon:
 * one whose starter was killed (SIGKILL leaves the detached daemon and its transfers running,
 * holding the port). Its whole process group goes, as close() would have done.
 */
export async function endStaleDaemon(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  let cmd = '';
  try {
    cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    // Gone already.
  }
  if (cmd.includes('rsync') && cmd.includes('--daemon')) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await sleep(20);
    }
  }
  await rm(pidFile, { force: true });
}

/** RsyncDaemon is a running daemon. */
export interface RsyncDaemon {
  /** url is `rsync://host:port/module`, the target URL of the home site's rsyncReplicator. */
  readonly url: string;
  readonly pid: number;
  /** close stops the daemon and every transfer it serves; repeating it does nothing. */
  close(): Promise<void>;
}

/** rsyncdConf is the daemon's configuration; every value in it was checked by startRsyncDaemon. */
function rsyncdConf(o: RsyncDaemonOptions, module: string, runDir: string): string {
  const root = isRoot();
  return [
    '# The replica site end of hostfleet replication (written at start, removed at close).',
    `lock file = ${join(runDir, 'rsyncd.lock')}`,
    'log file = /dev/stderr',
    'reverse lookup = no',
    `[${module}]`,
    `  path = ${o.root}`,
    '  comment = hostfleet volume replicas',
    '  read only = false',
    '  list = false',
    // Root keeps each account's uid and gid on the replica (-a --numeric-ids) and confines
    // each connection to the replica root; another user can do neither.
    `  use chroot = ${root ? 'yes' : 'no'}`,
    ...(root ? ['  uid = 0', '  gid = 0'] : []),
    // Links are replicated as they are. Outside a chroot rsyncd would rewrite them; the only
    // client is a home site holding the secret, and its rsync never follows links (-a, no -L).
    '  munge symlinks = no',
    '  numeric ids = yes',
    ...(o.allow ? [`  hosts allow = ${o.allow.join(' ')}`, '  hosts deny = *'] : []),
    `  auth users = ${o.user}`,
    `  secrets file = ${join(runDir, 'rsyncd.secrets')}`,
    '  strict modes = yes',
    '',
  ].join('\n');
}

/** startRsyncDaemon starts the daemon and resolves once it accepts connections. */
export async function startRsyncDaemon(o: RsyncDaemonOptions): Promise<RsyncDaemon> {
  const module = o.module ?? 'replicas';
  refuseConfig('rsync daemon options', [
    ...pathProblem('root', o.root),
    ...credentialProblems(o.user, o.secret),
    ...(/^[A-Za-z0-9.:-]+$/.test(o.host)
      ? []
      : [{ field: 'host', problem: `must be an address or host name, got ${JSON.stringify(o.host)}` }]),
    ...(Number.isInteger(o.port) && o.port > 0 && o.port < 65536
      ? []
      : [{ field: 'port', problem: `must be 1–65535, got ${o.port}` }]),
    ...(RSYNC_MODULE_RE.test(module) ? [] : [{ field: 'module', problem: `must match ${RSYNC_MODULE_RE.source}` }]),
    ...(o.allow ?? [])
      .filter((a) => !/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/.test(a))
      .map((a) => ({
        field: 'allow',
        problem: `must hold addresses or networks (10.9.0.0/24), got ${JSON.stringify(a)}`,
      })),
  ]);
  if (o.pidFile !== undefined) await endStaleDaemon(o.pidFile);
  await prepareRoot(o.root);
  const runDir = await mkdtemp(join(tmpdir(), 'hf-rsyncd-'));
  const conf = join(runDir, 'rsyncd.conf');
  await writeFile(join(runDir, 'rsyncd.secrets'), `${o.user}:${o.secret}\n`, { mode: 0o600 });
  await writeFile(conf, rsyncdConf(o, module, runDir), { mode: 0o600 });

  const rsync = o.rsyncPath ?? '/usr/bin/rsync';
  const args = ['--daemon', '--no-detach', `--address=${o.host}`, `--port=${o.port}`, `--config=${conf}`];
  const child = spawn(rsync, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (b: Buffer) => (output = (output + b.toString('utf8')).slice(-16_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const ended = new Promise<void>((resolve) => {
    child.on('error', (e) => {
      output += e.message;
      exited = true;
      resolve();
    });
    child.on('close', () => {
      exited = true;
      resolve();
    });
  });
  const group = (sig: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      // The group is gone already.
    }
  };
  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      group('SIGTERM');
      await Promise.race([ended, sleep(3000)]);
      // Transfers the daemon forked do not end with it; whatever is left of the group goes now.
      group('SIGKILL');
      await ended;
      await rm(runDir, { recursive: true, force: true });
      if (o.pidFile !== undefined) await rm(o.pidFile, { force: true });
    })());

  // Ready once the port answers and the daemon is still there a moment later (something else
  // may have answered on the port while rsyncd failed to bind it).
  const up = waitForPort(o.host, o.port).then(
    () => sleep(100).then(() => 'up' as const),
    (e: unknown) => e as Error,
  );
  const why = await Promise.race([up, ended.then(() => 'ended' as const)]);
  if (why !== 'up' || exited) {
    await close();
    const reason = typeof why === 'string' ? 'it ended at start' : why.message;
    throw new HostfleetError(
      'E_CONFIG',
      `the rsync daemon on ${o.host}:${o.port} did not start (${reason}); is ${rsync} installed and the port free? ${output.trim().slice(-2000)}`,
    );
  }
  if (o.pidFile !== undefined && child.pid !== undefined) await writeFile(o.pidFile, `${child.pid}\n`, { mode: 0o600 });
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return { url: `rsync://${host}:${o.port}/${module}`, pid: child.pid ?? -1, close };
}
