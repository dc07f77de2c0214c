/**
 * specs are the desired configuration of each service of an account: what the service server
 * must hold for it. They are data (stored as JSON, versioned), built from an order and changed
 * by the modifications of 004 (add a mailbox, add an FTP user, change a password). Every
 * builder validates what it adds, so a stored spec only ever holds values of the grammars.
 */
import type { FieldProblem } from '../errors.js';
import { checkValue, isValid } from './grammar.js';
import type { ServiceKind, Validated } from './order.js';

/** DNS_RECORD_TYPES are the record types provisioning writes. */
export const DNS_RECORD_TYPES = ['A', 'NS', 'MX', 'TXT'] as const;
/** DnsRecordType is one of DNS_RECORD_TYPES. */
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

/** DnsRecord is one record of a zone; name is '@' or a label, value a domain, an IPv4 address or TXT text. */
export interface DnsRecord {
  readonly name: string;
  readonly type: DnsRecordType;
  readonly value: string;
  readonly priority?: number | undefined;
}

/** WebSpec: nginx serves domain (and aliases) from the account's volume directory root. */
export interface WebSpec {
  readonly kind: 'web';
  readonly domain: string;
  readonly aliases: readonly string[];
  readonly root: string;
}
/** DnsSpec: an authoritative zone. */
export interface DnsSpec {
  readonly kind: 'dns';
  readonly zone: string;
  readonly records: readonly DnsRecord[];
}
/** Mailbox is one virtual mailbox (password stored as an argon2id hash only). */
export interface Mailbox {
  readonly local: string;
  readonly passwordHash: string;
}
/** MailSpec: Postfix accepts mail for domain into its mailboxes; Dovecot serves them over IMAP. */
export interface MailSpec {
  readonly kind: 'mail';
  readonly domain: string;
  readonly mailboxes: readonly Mailbox[];
}
/** FtpUser is one Pure-FTPd virtual user, jailed in dir inside the account's volume. */
export interface FtpUser {
  readonly name: string;
  readonly passwordHash: string;
  readonly dir: string;
}
/** FtpSpec: the account's FTP users, all writing as the account's uid. */
export interface FtpSpec {
  readonly kind: 'ftp';
  readonly uid: number;
  readonly users: readonly FtpUser[];
}
/** ServiceSpec is the desired configuration of one service of one account. */
export type ServiceSpec = WebSpec | DnsSpec | MailSpec | FtpSpec;

/** MIN_ACCOUNT_UID is the first uid given to accounts (above system and package users). */
export const MIN_ACCOUNT_UID = 20000;

/** Addresses are where an account's services answer (public addresses of their service servers). */
export type Addresses = Readonly<Partial<Record<ServiceKind, string>>>;

/**
 * initialSpecs builds the first desired configuration of each ordered service. The zone
 * points the domain's names at the servers that were assigned: www and the apex at the web
 * server, mail (the MX) at the mail server, ftp at the FTP server, and its NS at the
 * configured name servers.
 */
export function initialSpecs(a: {
  readonly domain: string;
  readonly services: readonly ServiceKind[];
  readonly uid: number;
  readonly addresses: Addresses;
  readonly nameservers: readonly string[];
  readonly ftpUser?: FtpUser | undefined;
}): Validated<Partial<Record<ServiceKind, ServiceSpec>>> {
  const out: Partial<Record<ServiceKind, ServiceSpec>> = {};
  const problems: FieldProblem[] = [];
  for (const k of a.services) {
    switch (k) {
      case 'web':
        out.web = { kind: 'web', domain: a.domain, aliases: [`www.${a.domain}`], root: 'www' };
        break;
      case 'mail':
        out.mail = { kind: 'mail', domain: a.domain, mailboxes: [] };
        break;
      case 'ftp':
        out.ftp = { kind: 'ftp', uid: a.uid, users: a.ftpUser ? [a.ftpUser] : [] };
        break;
      case 'dns': {
        const records: DnsRecord[] = a.nameservers.map((ns) => ({ name: '@', type: 'NS', value: ns }));
        const web = a.addresses.web;
        if (web) records.push({ name: '@', type: 'A', value: web }, { name: 'www', type: 'A', value: web });
        const mail = a.addresses.mail;
        if (mail)
          records.push(
            { name: 'mail', type: 'A', value: mail },
            { name: '@', type: 'MX', value: `mail.${a.domain}`, priority: 10 },
          );
        const ftp = a.addresses.ftp;
        if (ftp) records.push({ name: 'ftp', type: 'A', value: ftp });
        out.dns = { kind: 'dns', zone: a.domain, records };
        break;
      }
    }
  }
  for (const [k, spec] of Object.entries(out)) problems.push(...checkSpec(spec, `specs.${k}`));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
}

/** checkSpec returns every value of spec outside its grammar (empty when all are valid). */
export function checkSpec(spec: ServiceSpec, at = 'spec'): FieldProblem[] {
  const p: FieldProblem[] = [];
  const add = (e: FieldProblem | null) => {
    if (e) p.push(e);
  };
  switch (spec.kind) {
    case 'web':
      add(checkValue('domain', `${at}.domain`, spec.domain));
      spec.aliases.forEach((d, i) => add(checkValue('domain', `${at}.aliases.${i}`, d)));
      add(checkValue('relPath', `${at}.root`, spec.root));
      break;
    case 'dns':
      add(checkValue('domain', `${at}.zone`, spec.zone));
      spec.records.forEach((r, i) => {
        add(checkValue('label', `${at}.records.${i}.name`, r.name));
        if (!(DNS_RECORD_TYPES as readonly string[]).includes(r.type))
          p.push({ field: `${at}.records.${i}.type`, problem: `must be one of ${DNS_RECORD_TYPES.join(', ')}` });
        const kind = r.type === 'A' ? 'ipv4' : r.type === 'TXT' ? 'txt' : 'domain';
        add(checkValue(kind, `${at}.records.${i}.value`, r.value));
        if (
          r.type === 'MX' &&
          !(Number.isInteger(r.priority) && (r.priority as number) >= 0 && (r.priority as number) <= 65535)
        )
          p.push({ field: `${at}.records.${i}.priority`, problem: 'must be an integer from 0 to 65535' });
      });
      break;
    case 'mail':
      add(checkValue('domain', `${at}.domain`, spec.domain));
      spec.mailboxes.forEach((m, i) => {
        add(checkValue('mailbox', `${at}.mailboxes.${i}.local`, m.local));
        add(checkValue('argon2id', `${at}.mailboxes.${i}.passwordHash`, m.passwordHash));
      });
      if (new Set(spec.mailboxes.map((m) => m.local)).size !== spec.mailboxes.length)
        p.push({ field: `${at}.mailboxes`, problem: 'must not hold a mailbox twice' });
      break;
    case 'ftp':
      if (!Number.isInteger(spec.uid) || spec.uid < MIN_ACCOUNT_UID || spec.uid > 2 ** 31 - 2)
        p.push({ field: `${at}.uid`, problem: `must be an integer uid of at least ${MIN_ACCOUNT_UID}` });
      spec.users.forEach((u, i) => {
        add(checkValue('ftpUser', `${at}.users.${i}.name`, u.name));
        add(checkValue('argon2id', `${at}.users.${i}.passwordHash`, u.passwordHash));
        add(checkValue('relPath', `${at}.users.${i}.dir`, u.dir));
      });
      if (new Set(spec.users.map((u) => u.name)).size !== spec.users.length)
        p.push({ field: `${at}.users`, problem: 'must not hold a user twice' });
      break;
  }
  return p;
}

/** Change is one modification of an account's service (004's add, modify and delete). */
export type Change =
  | { readonly kind: 'putMailbox'; readonly local: string; readonly passwordHash: string }
  | { readonly kind: 'deleteMailbox'; readonly local: string }
  | { readonly kind: 'putFtpUser'; readonly name: string; readonly passwordHash: string; readonly dir: string }
  | { readonly kind: 'deleteFtpUser'; readonly name: string };

/** ChangeOutcome is a changed spec, or why the change does not apply. */
export type ChangeOutcome =
  | { readonly ok: true; readonly spec: ServiceSpec }
  | {
      readonly ok: false;
      readonly status: 'invalid' | 'not_found' | 'limit' | 'wrong_service';
      readonly problems: readonly FieldProblem[];
    };

/**
 * applyChange returns spec with change applied. put* adds or replaces (a password change is a
 * put of an existing name), so replaying a change is harmless; limit caps mailboxes or users.
 */
export function applyChange(spec: ServiceSpec, change: Change, limit: number): ChangeOutcome {
  const fail = (
    status: 'invalid' | 'not_found' | 'limit' | 'wrong_service',
    field: string,
    problem: string,
  ): ChangeOutcome => ({ ok: false, status, problems: [{ field, problem }] });
  if (change.kind === 'putMailbox' || change.kind === 'deleteMailbox') {
    if (spec.kind !== 'mail') return fail('wrong_service', 'service', 'mailboxes belong to the mail service');
    if (!isValid('mailbox', change.local))
      return {
        ok: false,
        status: 'invalid',
        problems: [checkValue('mailbox', 'body.local', change.local) as FieldProblem],
      };
    const others = spec.mailboxes.filter((m) => m.local !== change.local);
    if (change.kind === 'deleteMailbox') {
      if (others.length === spec.mailboxes.length)
        return fail('not_found', 'local', `no mailbox ${change.local}@${spec.domain}`);
      return { ok: true, spec: { ...spec, mailboxes: others } };
    }
    if (!isValid('argon2id', change.passwordHash)) return fail('invalid', 'body.password', 'could not be hashed');
    if (others.length === spec.mailboxes.length && others.length >= limit)
      return fail('limit', 'body.local', `the plan allows ${limit} mailboxes; delete one or change plan`);
    const mailboxes = [...others, { local: change.local, passwordHash: change.passwordHash }].sort((x, y) =>
      x.local < y.local ? -1 : 1,
    );
    return { ok: true, spec: { ...spec, mailboxes } };
  }
  if (spec.kind !== 'ftp') return fail('wrong_service', 'service', 'FTP users belong to the ftp service');
  if (!isValid('ftpUser', change.name))
    return {
      ok: false,
      status: 'invalid',
      problems: [checkValue('ftpUser', 'body.name', change.name) as FieldProblem],
    };
  const others = spec.users.filter((u) => u.name !== change.name);
  if (change.kind === 'deleteFtpUser') {
    if (others.length === spec.users.length) return fail('not_found', 'name', `no FTP user ${change.name}`);
    return { ok: true, spec: { ...spec, users: others } };
  }
  if (!isValid('relPath', change.dir))
    return { ok: false, status: 'invalid', problems: [checkValue('relPath', 'body.dir', change.dir) as FieldProblem] };
  if (!isValid('argon2id', change.passwordHash)) return fail('invalid', 'body.password', 'could not be hashed');
  if (others.length === spec.users.length && others.length >= limit)
    return fail('limit', 'body.name', `the plan allows ${limit} FTP users; delete one or change plan`);
  const users = [...others, { name: change.name, passwordHash: change.passwordHash, dir: change.dir }].sort((x, y) =>
    x.name < y.name ? -1 : 1,
  );
  return { ok: true, spec: { ...spec, users } };
}
