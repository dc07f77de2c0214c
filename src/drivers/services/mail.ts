/**
 * mail is the mail service driver: Postfix accepts mail for the accounts' domains into
 * virtual maildirs, Dovecot serves them over IMAP. A new generation of the virtual maps and
 * the Dovecot passwd-file is checked with `postmap` (which builds the lookup tables) and
 * `doveconf` (`postfix check` runs at start, on main.cf and master.cf), then made live; Postfix reloads, Dovecot re-reads its
 * passwd-file on change. Both daemons run in the foreground on loopback ports.
 */
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkValue, renderDovecot, renderPostfix } from '../../core/provisioning/index.js';
import type { FieldProblem } from '../../core/errors.js';
import { hostPort, refused, specsOf } from './driver.js';
import type { ApplyOutcome, HeldEntry, ServiceDriver } from './driver.js';
import { Generations } from './generations.js';
import { run, startDaemon, waitForPort } from './process.js';
import type { Daemon } from './process.js';

/** MailOptions configure the mail driver. */
export interface MailOptions {
  readonly base: string;
  /** smtp is the address:port Postfix's smtpd listens on. */
  readonly smtp: string;
  /** imap is the address:port Dovecot's IMAP listens on. */
  readonly imap: string;
  /** mailRoot holds the maildirs (<mailRoot>/<domain>/<mailbox>/). */
  readonly mailRoot: string;
  /** hostname is Postfix's myhostname. */
  readonly hostname: string;
  /** vmailUid owns every maildir (Postfix's virtual agent and Dovecot use it). */
  readonly vmailUid: number;
  /** postfixUser owns Postfix's data directory (the Debian package creates 'postfix'). */
  readonly postfixUid: number;
  readonly postfixGid: number;
}

function postfixMain(o: MailOptions, maps: string): string {
  const b = o.base;
  return `# written by hostfleet
compatibility_level = 3.6
queue_directory = ${b}/postfix/queue
data_directory = ${b}/postfix/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = ${o.hostname}
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient
virtual_mailbox_domains = hash:${maps}/vdomains
virtual_mailbox_maps = hash:${maps}/vmailbox
virtual_mailbox_base = ${o.mailRoot}
virtual_uid_maps = static:${o.vmailUid}
virtual_gid_maps = static:${o.vmailUid}
virtual_minimum_uid = 100
maillog_file_prefixes = ${b}/postfix/data
maillog_file = ${b}/postfix/data/maillog
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = no
biff = no
`;
}

const MASTER_SERVICES = [
  'pickup unix n - n 60 1 pickup',
  'cleanup unix n - n - 0 cleanup',
  'qmgr unix n - n 300 1 qmgr',
  'rewrite unix - - n - - trivial-rewrite',
  'bounce unix - - n - 0 bounce',
  'defer unix - - n - 0 bounce',
  'trace unix - - n - 0 bounce',
  'verify unix - - n - 1 verify',
  'flush unix n - n 1000? 0 flush',
  'proxymap unix - - n - - proxymap',
  'smtp unix - - n - - smtp',
  'relay unix - - n - - smtp',
  'showq unix n - n - - showq',
  'error unix - - n - - error',
  'retry unix - - n - - error',
  'discard unix - - n - - discard',
  'local unix - n n - - local',
  'virtual unix - n n - - virtual',
  'lmtp unix - - n - - lmtp',
  'anvil unix - - n - 1 anvil',
  'scache unix - - n - 1 scache',
  'postlog unix-dgram n - n - 1 postlogd',
];

function dovecotConf(o: MailOptions, passwd: string): string {
  const b = o.base;
  const { host, port } = hostPort(o.imap);
  return `# written by hostfleet
base_dir = ${b}/dovecot/run
state_dir = ${b}/dovecot/state
log_path = ${b}/dovecot/dovecot.log
protocols = imap
listen = ${host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${o.mailRoot}/%d/%n
first_valid_uid = 100
service imap-login {
  chroot =
  inet_listener imap {
    address = ${host}
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
passdb {
  driver = passwd-file
  args = scheme=ARGON2ID username_format=%u ${passwd}
}
userdb {
  driver = static
  args = uid=${o.vmailUid} gid=${o.vmailUid} home=${o.mailRoot}/%d/%n
}
`;
}

/** mailDriver returns the mail service driver (Postfix and Dovecot). */
export function mailDriver(o: MailOptions): ServiceDriver {
  const problems = [
    checkValue('absPath', 'mail.base', o.base),
    checkValue('listen', 'mail.smtp', o.smtp),
    checkValue('listen', 'mail.imap', o.imap),
    checkValue('absPath', 'mail.mailRoot', o.mailRoot),
    checkValue('domain', 'mail.hostname', o.hostname),
  ].filter((p): p is FieldProblem => p !== null);
  if (!Number.isInteger(o.vmailUid) || o.vmailUid < 100)
    problems.push({ field: 'mail.vmailUid', problem: 'must be a uid of at least 100' });
  if (problems.length > 0)
    throw new Error(`invalid mail driver options: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`);
  const gens = new Generations(join(o.base, 'maps'));
  const pfConf = join(o.base, 'postfix', 'conf');
  const dvConf = join(o.base, 'dovecot', 'dovecot.conf');
  let postfix: Daemon | undefined;
  let dovecot: Daemon | undefined;
  // The two maps are built (and so checked line by line) at once.
  const postmap = async (dir: string): Promise<string | null> => {
    const out = await Promise.all(
      ['vdomains', 'vmailbox'].map(async (f) => ({
        f,
        r: await run('postmap', ['-c', pfConf, `hash:${join(dir, f)}`]),
      })),
    );
    const bad = out.find((x) => x.r.code !== 0);
    return bad ? `postmap ${bad.f}: ${bad.r.output}` : null;
  };
  return {
    service: 'mail',
    async start() {
      for (const d of ['postfix/conf', 'postfix/queue', 'postfix/data', 'dovecot/run', 'dovecot/state'])
        await mkdir(join(o.base, d), { recursive: true });
      await chown(join(o.base, 'postfix/data'), o.postfixUid, o.postfixGid);
      await mkdir(o.mailRoot, { recursive: true });
      await chown(o.mailRoot, o.vmailUid, o.vmailUid);
      await gens.init();
      await writeFile(join(pfConf, 'main.cf'), postfixMain(o, gens.live));
      const { host, port } = hostPort(o.smtp);
      await writeFile(
        join(pfConf, 'master.cf'),
        [`${host}:${port} inet n - n - - smtpd`, ...MASTER_SERVICES].join('\n') + '\n',
      );
      for (const f of ['vdomains', 'vmailbox']) await writeFile(join(gens.live, f), '');
      const e = await postmap(gens.live);
      if (e) throw new Error(e);
      await writeFile(dvConf, dovecotConf(o, join(gens.live, 'passwd')));
      const c = await run('postfix', ['-c', pfConf, 'check']);
      if (c.code !== 0) throw new Error(`postfix check: ${c.output}`);
      const d = await run('doveconf', ['-c', dvConf, '-n']);
      if (d.code !== 0) throw new Error(`doveconf: ${d.output}`);
      postfix = await startDaemon('postfix', ['-c', pfConf, 'start-fg'], { settleMs: 200 });
      dovecot = await startDaemon('dovecot', ['-c', dvConf, '-F'], { settleMs: 200 });
      await waitForPort(host, port);
      const imap = hostPort(o.imap);
      await waitForPort(imap.host, imap.port);
    },
    async apply(entries: ReadonlyMap<string, HeldEntry>): Promise<ApplyOutcome> {
      const { specs, problems } = specsOf('mail', entries);
      if (problems.length) return refused(problems);
      const pf = renderPostfix(specs);
      if (!pf.ok) return refused(pf.problems);
      const dv = renderDovecot(specs);
      if (!dv.ok) return refused(dv.problems);
      const dir = await gens.write(new Map([...pf.value, ...dv.value]));
      const fail = async (error: string): Promise<ApplyOutcome> => {
        await gens.discard(dir);
        return { ok: false, stage: 'check', error };
      };
      // main.cf and master.cf never change after start (where postfix check ran, and it takes
      // half a second); what a batch changes is the maps, which postmap parses line by line,
      // and the passwd-file, which doveconf checks in place. Both run at once.
      await writeFile(join(o.base, 'dovecot', 'check.conf'), dovecotConf(o, join(dir, 'passwd')));
      const [e, d] = await Promise.all([
        postmap(dir),
        run('doveconf', ['-c', join(o.base, 'dovecot', 'check.conf'), '-n']),
      ]);
      if (e) return fail(e);
      if (d.code !== 0) return fail(`doveconf: ${d.output}`);
      await gens.promote(dir);
      if (!postfix || postfix.exited() || !dovecot || dovecot.exited())
        return { ok: false, stage: 'reload', error: 'postfix or dovecot is not running' };
      const r = await run('postfix', ['-c', pfConf, 'reload']);
      if (r.code !== 0) return { ok: false, stage: 'reload', error: `postfix reload: ${r.output}` };
      return { ok: true };
    },
    async close() {
      await run('postfix', ['-c', pfConf, 'stop'], { timeoutMs: 10_000 });
      await postfix?.stop();
      await dovecot?.stop();
    },
  };
}
