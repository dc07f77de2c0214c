/**
 * render turns the specs a service server holds into the text of its configuration files:
 * nginx server blocks, BIND zone files and their named.conf list, Postfix virtual maps, the
 * Dovecot passwd-file and the Pure-FTPd passwd file. Every value is checked against its
 * grammar here again, right before it is written, so a renderer can never emit a file whose
 * structure a value changed (no newline, brace, semicolon, quote, colon or '..' gets through).
 * Output is deterministic (sorted), so the same specs always give byte-identical files.
 */
import type { FieldProblem } from '../errors.js';
import { checkValue } from './grammar.js';
import type { GrammarKind } from './grammar.js';
import type { Validated } from './order.js';
import { checkSpec } from './specs.js';
import type { DnsSpec, FtpSpec, MailSpec, WebSpec } from './specs.js';

/** Rendered is a set of files: name (relative to the service's config directory) → text. */
export type Rendered = Validated<ReadonlyMap<string, string>>;

/** HeldSpecs maps account id → spec, for one service on one server. */
export type HeldSpecs<S> = ReadonlyMap<string, S>;

const sorted = <S>(m: HeldSpecs<S>): [string, S][] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function gate(checks: readonly (readonly [GrammarKind, string, unknown])[]): FieldProblem[] {
  const p: FieldProblem[] = [];
  for (const [k, f, v] of checks) {
    const e = checkValue(k, f, v);
    if (e) p.push(e);
  }
  return p;
}

/** checkAccounts validates every account id and spec, and that no name is claimed twice on the server. */
function checkAccounts<S extends WebSpec | DnsSpec | MailSpec | FtpSpec>(
  m: HeldSpecs<S>,
  names: (s: S) => readonly string[],
  what: string,
): FieldProblem[] {
  const p: FieldProblem[] = [];
  const owner = new Map<string, string>();
  for (const [account, spec] of sorted(m)) {
    const e = checkValue('slug', `accounts.${account}`, account);
    if (e) p.push(e);
    p.push(...checkSpec(spec, `accounts.${account}`));
    for (const n of names(spec)) {
      const o = owner.get(n);
      if (o !== undefined)
        p.push({ field: `accounts.${account}`, problem: `${what} ${n} is already held by account ${o}` });
      else owner.set(n, account);
    }
  }
  return p;
}

/** NginxEnv is where the web server listens and where accounts' volumes are. */
export interface NginxEnv {
  readonly listen: string;
  readonly volumesRoot: string;
}

/** renderNginx returns one server block per account, named <account>.conf. */
export function renderNginx(specs: HeldSpecs<WebSpec>, env: NginxEnv): Rendered {
  const p = [
    ...gate([
      ['listen', 'env.listen', env.listen],
      ['absPath', 'env.volumesRoot', env.volumesRoot],
    ]),
    ...checkAccounts(specs, (s) => [s.domain, ...s.aliases], 'the domain'),
  ];
  if (p.length > 0) return { ok: false, problems: p };
  const root = env.volumesRoot.replace(/\/$/, '');
  const files = new Map<string, string>();
  for (const [account, s] of sorted(specs)) {
    const docroot = s.root === '' ? `${root}/${account}` : `${root}/${account}/${s.root}`;
    files.set(
      `${account}.conf`,
      [
        `# account ${account}: written by hostfleet from its desired state; edits are replaced.`,
        'server {',
        `    listen ${env.listen};`,
        `    server_name ${[s.domain, ...s.aliases].join(' ')};`,
        `    root ${docroot};`,
        '    index index.html;',
        '    disable_symlinks if_not_owner;',
        '    location / {',
        '        try_files $uri $uri/ =404;',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
  }
  return { ok: true, value: files };
}

/** ZoneEnv is the SOA data of every zone a DNS server holds. */
export interface ZoneEnv {
  /** primary is the SOA MNAME (the primary name server's name). */
  readonly primary: string;
  /** hostmaster is the SOA RNAME as a domain (hostmaster.example.net). */
  readonly hostmaster: string;
  readonly ttl: number;
}

/** renderZone returns the zone file text of spec, with serial as its SOA serial. */
export function renderZone(spec: DnsSpec, serial: number, env: ZoneEnv): Validated<string> {
  const p = [
    ...checkSpec(spec, 'spec'),
    ...gate([
      ['domain', 'env.primary', env.primary],
      ['domain', 'env.hostmaster', env.hostmaster],
    ]),
  ];
  if (!Number.isInteger(serial) || serial < 1 || serial > 4_294_967_295)
    p.push({ field: 'serial', problem: 'must be an integer from 1 to 4294967295' });
  if (!Number.isInteger(env.ttl) || env.ttl < 1 || env.ttl > 604_800)
    p.push({ field: 'env.ttl', problem: 'must be an integer number of seconds up to a week' });
  if (p.length > 0) return { ok: false, problems: p };
  const fq = (v: string) => `${v}.`;
  const lines = [
    `; zone ${spec.zone}: written by hostfleet from its desired state; edits are replaced.`,
    `$ORIGIN ${fq(spec.zone)}`,
    `$TTL ${env.ttl}`,
    `@ IN SOA ${fq(env.primary)} ${fq(env.hostmaster)} ( ${serial} 3600 600 1209600 ${env.ttl} )`,
  ];
  for (const r of spec.records) {
    const value =
      r.type === 'A'
        ? r.value
        : r.type === 'TXT'
          ? `"${r.value}"`
          : r.type === 'MX'
            ? `${r.priority ?? 10} ${fq(r.value)}`
            : fq(r.value);
    lines.push(`${r.name} IN ${r.type} ${value}`);
  }
  return { ok: true, value: `${lines.join('\n')}\n` };
}

/** renderBind returns zones/<zone>.zone for each account's zone and zones.conf, the list named.conf includes. */
export function renderBind(
  specs: HeldSpecs<DnsSpec>,
  serials: ReadonlyMap<string, number>,
  env: ZoneEnv & { readonly zonesDir: string },
): Rendered {
  const p = [
    ...gate([['absPath', 'env.zonesDir', env.zonesDir]]),
    ...checkAccounts(specs, (s) => [s.zone], 'the zone'),
  ];
  if (p.length > 0) return { ok: false, problems: p };
  const files = new Map<string, string>();
  const list: string[] = ['// zones written by hostfleet; edits are replaced.'];
  const dir = env.zonesDir.replace(/\/$/, '');
  for (const [account, s] of sorted(specs)) {
    const z = renderZone(s, serials.get(account) ?? 1, env);
    if (!z.ok)
      return {
        ok: false,
        problems: z.problems.map((x) => ({ field: `accounts.${account}.${x.field}`, problem: x.problem })),
      };
    files.set(`zones/${s.zone}.zone`, z.value);
    list.push(`zone "${s.zone}" { type primary; file "${dir}/${s.zone}.zone"; }; // account ${account}`);
  }
  files.set('zones.conf', `${list.join('\n')}\n`);
  return { ok: true, value: files };
}

/** renderPostfix returns the virtual mailbox domains and mailbox maps (sources for postmap). */
export function renderPostfix(specs: HeldSpecs<MailSpec>): Rendered {
  const p = checkAccounts(specs, (s) => [s.domain], 'the mail domain');
  if (p.length > 0) return { ok: false, problems: p };
  const domains: string[] = [];
  const boxes: string[] = [];
  for (const [, s] of sorted(specs)) {
    domains.push(`${s.domain} OK`);
    for (const m of s.mailboxes) boxes.push(`${m.local}@${s.domain} ${s.domain}/${m.local}/`);
  }
  return {
    ok: true,
    value: new Map([
      ['vdomains', `${domains.join('\n')}\n`],
      ['vmailbox', `${boxes.join('\n')}\n`],
    ]),
  };
}

/** renderDovecot returns the passwd-file of every mailbox (user:{ARGON2ID}hash with empty other fields). */
export function renderDovecot(specs: HeldSpecs<MailSpec>): Rendered {
  const p = checkAccounts(specs, (s) => [s.domain], 'the mail domain');
  if (p.length > 0) return { ok: false, problems: p };
  const lines: string[] = [];
  for (const [, s] of sorted(specs))
    for (const m of s.mailboxes) lines.push(`${m.local}@${s.domain}:{ARGON2ID}${m.passwordHash}::::::`);
  return { ok: true, value: new Map([['passwd', `${lines.join('\n')}\n`]]) };
}

/** FtpEnv is where accounts' volumes are on the FTP server. */
export interface FtpEnv {
  readonly volumesRoot: string;
}

/**
 * renderPureFtpd returns the Pure-FTPd passwd file (the source of `pure-pw mkdb`): one line of
 * 18 fields per user, jailed ('/./') in its directory of the account's volume, as the
 * account's uid. User names are one namespace per server, so a name held twice is refused.
 */
export function renderPureFtpd(specs: HeldSpecs<FtpSpec>, env: FtpEnv): Rendered {
  const p = [
    ...gate([['absPath', 'env.volumesRoot', env.volumesRoot]]),
    ...checkAccounts(specs, (s) => s.users.map((u) => u.name), 'the FTP user'),
  ];
  if (p.length > 0) return { ok: false, problems: p };
  const root = env.volumesRoot.replace(/\/$/, '');
  const lines: string[] = [];
  for (const [account, s] of sorted(specs)) {
    for (const u of s.users) {
      const home = u.dir === '' ? `${root}/${account}` : `${root}/${account}/${u.dir}`;
      lines.push(
        [u.name, u.passwordHash, String(s.uid), String(s.uid), '', `${home}/./`, ...Array<string>(12).fill('')].join(
          ':',
        ),
      );
    }
  }
  return { ok: true, value: new Map([['pureftpd.passwd', lines.length ? `${lines.join('\n')}\n` : '']]) };
}
