/**
 * grammar holds the strict grammars every value passes before provisioning writes it into a
 * configuration file (nginx server blocks, zone files, Postfix maps, the Dovecot passwd-file,
 * Pure-FTPd users). Values are checked, never escaped: a value outside its grammar is
 * rejected, so a newline, a brace, a semicolon, a quote, a colon or a `..` can never reach a
 * file and change its meaning. The renderers check again (defence in depth).
 */
import type { FieldProblem } from '../errors.js';
import { DOMAIN_RE, SLUG_RE } from '../model/names.js';

/** Check is one grammar: a test and the sentence that tells a user what is allowed. */
export interface Check {
  readonly test: (v: string) => boolean;
  readonly allowed: string;
}

const re = (r: RegExp, allowed: string): Check => ({ test: (v: string) => r.test(v), allowed });

/** IPV4_RE is a dotted-quad IPv4 address, each part 0–255 without leading zeros. */
export const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** ARGON2ID_RE is an encoded argon2id hash ($argon2id$v=19$m=…,t=…,p=…$salt$hash): no ':' or spaces. */
export const ARGON2ID_RE =
  /^\$argon2id\$v=19\$m=\d{1,7},t=\d{1,3},p=\d{1,2}\$[A-Za-z0-9+/]{11,64}\$[A-Za-z0-9+/]{16,128}$/;

/** GRAMMARS are the value kinds provisioning accepts; each is the only way such a value enters a file. */
export const GRAMMARS = {
  /** domain: a lower-case DNS host name with at least two labels (no '..', no trailing dot). */
  domain: re(
    DOMAIN_RE,
    'a lower-case DNS name such as shop.example.com (labels of letters, digits and inner hyphens, at least two labels)',
  ),
  /** label: one DNS label relative to a zone (a record's owner name). */
  label: re(
    /^(?:@|_?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$/,
    "'@' or one DNS label: lower-case letters, digits and inner hyphens, at most 63, optionally after one leading '_' (as in _dmarc)",
  ),
  /** slug: account and server ids. */
  slug: re(
    SLUG_RE,
    '1–40 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen',
  ),
  /** mailbox: the local part of an address; dots only between other characters. */
  mailbox: re(
    /^[a-z0-9](?:[a-z0-9_-]|\.(?!\.)){0,62}(?<!\.)$/,
    'a mailbox name of 1–64 lower-case letters, digits, "_", "-" and single inner dots (like info or first.last)',
  ),
  /** ftpUser: a Pure-FTPd virtual user name. */
  ftpUser: re(
    /^[a-z][a-z0-9_-]{0,31}$/,
    'an FTP user name of 1–32 lower-case letters, digits, "_" and "-", starting with a letter',
  ),
  /** relPath: a directory inside an account's volume: segments of letters, digits, '_', '-' and inner dots. */
  relPath: {
    test: (v: string) =>
      v === '' ||
      (v.length <= 200 &&
        v
          .split('/')
          .every((s: string) => /^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_-])?$/.test(s) && !s.includes('..'))),
    allowed:
      "a relative directory such as www or sites/shop: segments of letters, digits, '_', '-' and inner dots, no '..', no leading '/'",
  },
  /** absPath: a directory on a service server (driver configuration), never from customers. */
  absPath: {
    test: (v: string) =>
      v.length <= 400 &&
      /^(?:\/[A-Za-z0-9_.-]+)+\/?$/.test(v) &&
      !v.split('/').some((s: string) => s === '.' || s === '..'),
    allowed: "an absolute path of segments of letters, digits, '_', '-' and '.', without '.' or '..' segments",
  },
  /** ipv4: an IPv4 address. */
  ipv4: re(IPV4_RE, 'an IPv4 address such as 192.0.2.10'),
  /** listen: host:port of a daemon's listener. */
  listen: {
    test: (v: string) => {
      const m = /^(.+):(\d{1,5})$/.exec(v);
      return m !== null && IPV4_RE.test(m[1] as string) && Number(m[2]) > 0 && Number(m[2]) < 65536;
    },
    allowed: 'an IPv4 address and port such as 127.0.0.1:8080',
  },
  /** argon2id: a password hash (passwords themselves are never written). */
  argon2id: re(ARGON2ID_RE, 'an encoded argon2id hash'),
  /** txt: TXT record text (the verification challenge): base64url characters only. */
  txt: re(/^[A-Za-z0-9_-]{1,255}$/, 'up to 255 letters, digits, "_" and "-"'),
  /** email: a contact address (stored, written nowhere, but still strict). */
  email: {
    test: (v: string) => {
      const at = v.lastIndexOf('@');
      return (
        v.length <= 254 &&
        at > 0 &&
        /^[A-Za-z0-9._%+-]{1,64}$/.test(v.slice(0, at)) &&
        !v.slice(0, at).includes('..') &&
        DOMAIN_RE.test(v.slice(at + 1).toLowerCase())
      );
    },
    allowed: 'an e-mail address such as ops@example.com',
  },
  /** personName: a contact name: printable letters, spaces and . , ' - only. */
  personName: re(/^[\p{L}\p{M}][\p{L}\p{M} .,'-]{0,99}$/u, "1–100 letters, spaces and . , ' -"),
  /** phone: an international phone number. */
  phone: re(/^\+[1-9][0-9 ]{5,19}$/, 'an international number such as +44 20 7946 0000'),
  /** country: an ISO 3166-1 alpha-2 code. */
  country: re(/^[A-Z]{2}$/, 'a two-letter ISO country code such as GB'),
  /** password: what a person types (hashed with argon2id before anything stores it). */
  password: re(/^[\x21-\x7e]{10,128}$/, '10–128 printable ASCII characters without spaces'),
} as const;

/** GrammarKind names one of GRAMMARS. */
export type GrammarKind = keyof typeof GRAMMARS;

/** checkValue returns the problem of field when value is not a string of the kind's grammar, or null. */
export function checkValue(kind: GrammarKind, field: string, value: unknown): FieldProblem | null {
  const g: Check = GRAMMARS[kind];
  if (typeof value !== 'string' || !g.test(value))
    return { field, problem: `must be ${g.allowed}; got ${describe(value)}` };
  return null;
}

/** isValid tells whether value is a string of the kind's grammar. */
export function isValid(kind: GrammarKind, value: unknown): value is string {
  return typeof value === 'string' && (GRAMMARS[kind] as Check).test(value);
}

/** describe shows a rejected value briefly and safely (control characters visible, length bounded). */
export function describe(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'nothing' : typeof value;
  const s = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return s;
}
