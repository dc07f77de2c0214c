/**
 * validate holds the grammars every pool, domain, server and address passes before the edge
 * stores it or a driver writes it anywhere (admin API bodies, HAProxy runtime commands, map
 * files, generated configuration). Nothing outside these grammars is accepted, so no command or
 * file can be injected into.
 */
import { checkDomain, checkSlug } from '../../core/model/names.js';
import { invalid } from '../../core/errors.js';
import type { FieldProblem } from '../../core/errors.js';
import { BALANCE_POLICIES, MAX_RATE_LIMIT } from './types.js';
import type { BalancePolicy } from './types.js';

/** HOST_RE is the grammar of an upstream host: an IPv4 address or a lower-case DNS name whose last label starts with a letter (so a bad IPv4 address is not taken for a name). */
const HOST_RE =
  /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)$/;

/** MAX_DOMAINS_PER_POOL bounds one pool's domain list so one request cannot grow the table unboundedly. */
export const MAX_DOMAINS_PER_POOL = 256;

/** ParsedAddress is an upstream address split into host and port. */
export interface ParsedAddress {
  readonly host: string;
  readonly port: number;
}

/** parseAddress splits `host:port` (IPv4 or DNS name, port 1–65535) or returns null when it is not one. */
export function parseAddress(value: unknown): ParsedAddress | null {
  if (typeof value !== 'string' || value.length > 260) return null;
  const colon = value.lastIndexOf(':');
  if (colon <= 0) return null;
  const host = value.slice(0, colon);
  const portText = value.slice(colon + 1);
  if (!HOST_RE.test(host) || !/^[1-9]\d{0,4}$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  return { host, port };
}

/** checkAddress returns a problem for field when value is not an upstream `host:port`, or null. */
export function checkAddress(field: string, value: unknown): FieldProblem | null {
  return parseAddress(value) === null
    ? {
        field,
        problem:
          'must be host:port on the data plane, such as 10.0.0.7:8080 (IPv4 address or lower-case DNS name; port 1–65535)',
      }
    : null;
}

/** checkDomains returns the problems of a pool's domain list (each a DNS name, no duplicates, bounded). */
export function checkDomains(field: string, value: unknown): FieldProblem[] {
  if (!Array.isArray(value)) return [{ field, problem: 'must be a list of lower-case DNS names' }];
  if (value.length > MAX_DOMAINS_PER_POOL)
    return [{ field, problem: `must hold at most ${MAX_DOMAINS_PER_POOL} domains` }];
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  value.forEach((d, i) => {
    const p = checkDomain(`${field}[${i}]`, d);
    if (p) problems.push(p);
    else if (seen.has(d as string))
      problems.push({ field: `${field}[${i}]`, problem: `duplicates ${String(d)}; list each domain once` });
    else seen.add(d as string);
  });
  return problems;
}

/** assertPool throws E_VALIDATION unless the pool id is a slug, its domains are valid and balance, sticky and rateLimit (optional) are allowed values. */
export function assertPool(pool: {
  id: unknown;
  domains: unknown;
  balance?: unknown;
  sticky?: unknown;
  rateLimit?: unknown;
}): { id: string; domains: string[]; balance?: BalancePolicy; sticky?: boolean; rateLimit?: number | null } {
  const problems = [checkSlug('id', pool.id), ...checkDomains('domains', pool.domains)].filter(
    (p): p is FieldProblem => p !== null,
  );
  if (pool.balance !== undefined && !(BALANCE_POLICIES as readonly unknown[]).includes(pool.balance))
    problems.push({ field: 'balance', problem: `must be one of ${BALANCE_POLICIES.join(', ')}` });
  if (pool.sticky !== undefined && typeof pool.sticky !== 'boolean')
    problems.push({ field: 'sticky', problem: 'must be true or false' });
  const r = pool.rateLimit;
  if (r !== undefined && r !== null && !(typeof r === 'number' && Number.isInteger(r) && r >= 1 && r <= MAX_RATE_LIMIT))
    problems.push({
      field: 'rateLimit',
      problem: `must be null or a whole number of requests per second from 1 to ${MAX_RATE_LIMIT}`,
    });
  if (problems.length > 0) throw invalid(problems);
  return {
    id: pool.id as string,
    domains: [...(pool.domains as string[])],
    ...(pool.balance !== undefined ? { balance: pool.balance as BalancePolicy } : {}),
    ...(pool.sticky !== undefined ? { sticky: pool.sticky as boolean } : {}),
    ...(r !== undefined ? { rateLimit: r as number | null } : {}),
  };
}

/** assertPoolId throws E_VALIDATION unless value is a slug (pool ids are slugs). */
export function assertPoolId(value: unknown, field = 'poolId'): string {
  const p = checkSlug(field, value);
  if (p) throw invalid([p]);
  return value as string;
}

/** assertServerId throws E_VALIDATION unless value is a slug (server ids are slugs). */
export function assertServerId(value: unknown, field = 'serverId'): string {
  const p = checkSlug(field, value);
  if (p) throw invalid([p]);
  return value as string;
}

/** assertServer throws E_VALIDATION unless the server id is a slug and its address is host:port. */
export function assertServer(server: { id: unknown; address: unknown }): { id: string; address: string } {
  const problems = [checkSlug('id', server.id), checkAddress('address', server.address)].filter(
    (p): p is FieldProblem => p !== null,
  );
  if (problems.length > 0) throw invalid(problems);
  return { id: server.id as string, address: server.address as string };
}

/** assertTimeoutMs throws E_VALIDATION unless value is an integer number of milliseconds in [0, 3 600 000]. */
export function assertTimeoutMs(value: unknown, field = 'timeoutMs'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 3_600_000) {
    throw invalid([{ field, problem: 'must be a whole number of milliseconds from 0 to 3600000' }]);
  }
  return value;
}
