/**
 * haproxy-config generates the HAProxy configuration the haproxyEdge driver programs: one
 * frontend that routes by Host through a map file, a fixed number of backend slots (HAProxy
 * cannot create backends at run time, so pools are assigned to pre-declared slots), a 404
 * backend for unknown hosts, a 503 page with Retry-After, and the Runtime API socket. Every
 * value is checked against a strict grammar before it is written, so the generated text cannot
 * be injected into; the function is pure and returns the files to write.
 */
import { HostfleetError } from '../../core/errors.js';
import type { FieldProblem } from '../../core/errors.js';

/** HaproxyConfigOptions are the values the generated configuration is made of. */
export interface HaproxyConfigOptions {
  /** dir is the absolute directory that will hold the configuration, map files and pages. */
  readonly dir: string;
  /** bindHost and bindPort of the data plane (an IPv4 address; port 1–65535). */
  readonly bindHost: string;
  readonly bindPort: number;
  /** socketPath is the Runtime API's Unix socket (absolute); defaults to `${dir}/admin.sock`. */
  readonly socketPath?: string;
  /** slots is how many pools the edge can hold (backends declared in advance; default 64). */
  readonly slots?: number;
  /** backendPrefix names the slots `${backendPrefix}0…` (default `hf_pool_`). */
  readonly backendPrefix?: string;
  /** roundRobinSlots is how many round-robin pools the edge can hold, in slots `${backendPrefix}rr0…` (default 16); the others balance by leastconn. */
  readonly roundRobinSlots?: number;
  /** healthPath is what the health checks GET (default /healthz). */
  readonly healthPath?: string;
  /** retryAfterS is the Retry-After of the 503 page (default 2). */
  readonly retryAfterS?: number;
  /** maxconn bounds concurrent connections (default 4096). */
  readonly maxconn?: number;
}

/** HaproxyFiles are the generated files, by name relative to dir, and the paths the driver needs. */
export interface HaproxyFiles {
  readonly files: Readonly<Record<string, string>>;
  readonly configPath: string;
  readonly socketPath: string;
  readonly hostsMap: string;
  readonly poolsMap: string;
  /** ratesMap holds slot → requests per second for rate-limited pools. */
  readonly ratesMap: string;
  readonly backendPrefix: string;
  readonly slots: number;
  readonly roundRobinSlots: number;
}

const PATH_RE = /^\/[A-Za-z0-9._/-]{1,200}$/;
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const PREFIX_RE = /^[a-z][a-z0-9_]{0,30}$/;
const HEALTH_PATH_RE = /^\/[A-Za-z0-9._~/-]{0,200}$/;

/** NOT_FOUND_PAGE and UNAVAILABLE_TEXT are the fixed pages HAProxy answers with. */
const NOT_FOUND_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>404 Site not found</title></head><body><h1>Site not found</h1><p>No site is configured for this host name at this address. Check the address you typed.</p><hr><p>hostfleet edge</p></body></html>';
const LIMITED_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>429 Too many requests</title></head><body><h1>Too many requests</h1><p>This site receives more requests than its plan allows right now. Please try again in a moment.</p><hr><p>hostfleet edge</p></body></html>';
const UNAVAILABLE_PAGE =
  '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>503 Service temporarily unavailable</title></head>\n<body><h1>Service temporarily unavailable</h1><p>No server of this site can take the request right now. Please try again in a moment.</p><hr><p>hostfleet edge</p></body></html>\n';

/** haproxyConfig returns the configuration and its companion files; bad values are E_CONFIG. */
export function haproxyConfig(o: HaproxyConfigOptions): HaproxyFiles {
  const problems: FieldProblem[] = [];
  const dir = o.dir.replace(/\/+$/, '');
  const socketPath = o.socketPath ?? `${dir}/admin.sock`;
  const slots = o.slots ?? 64;
  const prefix = o.backendPrefix ?? 'hf_pool_';
  const healthPath = o.healthPath ?? '/healthz';
  const retryAfterS = o.retryAfterS ?? 2;
  const maxconn = o.maxconn ?? 4096;
  const rrSlots = o.roundRobinSlots ?? 16;
  if (!PATH_RE.test(dir) || dir.includes('..'))
    problems.push({ field: 'dir', problem: 'must be an absolute path of letters, digits and . _ / - without ..' });
  if (!PATH_RE.test(socketPath) || socketPath.includes('..'))
    problems.push({
      field: 'socketPath',
      problem: 'must be an absolute path of letters, digits and . _ / - without ..',
    });
  if (!IPV4_RE.test(o.bindHost))
    problems.push({ field: 'bindHost', problem: 'must be an IPv4 address such as 0.0.0.0 or 127.0.0.1' });
  if (!Number.isInteger(o.bindPort) || o.bindPort < 1 || o.bindPort > 65535)
    problems.push({ field: 'bindPort', problem: 'must be a port from 1 to 65535' });
  if (!Number.isInteger(slots) || slots < 1 || slots > 10_000)
    problems.push({ field: 'slots', problem: 'must be a whole number from 1 to 10000' });
  if (!Number.isInteger(rrSlots) || rrSlots < 0 || rrSlots > 10_000)
    problems.push({ field: 'roundRobinSlots', problem: 'must be a whole number from 0 to 10000' });
  if (!PREFIX_RE.test(prefix))
    problems.push({
      field: 'backendPrefix',
      problem: 'must be lower-case letters, digits and _, starting with a letter',
    });
  if (!HEALTH_PATH_RE.test(healthPath))
    problems.push({
      field: 'healthPath',
      problem: 'must be a path starting with / made of letters, digits and . _ ~ / -',
    });
  if (!Number.isInteger(retryAfterS) || retryAfterS < 1 || retryAfterS > 3600)
    problems.push({ field: 'retryAfterS', problem: 'must be a whole number of seconds from 1 to 3600' });
  if (!Number.isInteger(maxconn) || maxconn < 16 || maxconn > 1_000_000)
    problems.push({ field: 'maxconn', problem: 'must be a whole number from 16 to 1000000' });
  if (problems.length > 0) {
    throw new HostfleetError(
      'E_CONFIG',
      `HAProxy configuration: ${problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`,
      { fields: problems },
    );
  }
  const hostsMap = `${dir}/hosts.map`;
  const poolsMap = `${dir}/pools.map`;
  const ratesMap = `${dir}/rates.map`;
  const page503 = `${dir}/503.http`;
  const lines: string[] = [
    '# Generated by hostfleet (src/drivers/edge/haproxy-config.ts). Pools, domains and servers',
    '# are programmed at run time by the haproxyEdge driver through the Runtime API below.',
    'global',
    `  stats socket ${socketPath} mode 600 level admin`,
    `  maxconn ${maxconn}`,
    '',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 5s',
    '  timeout queue 10s',
    // A request that fails to connect, or gets no response at all, goes to another server; a
    // response that started is never repeated (HAProxy only retries requests it still holds).
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response junk-response',
    '  option forwardfor',
    `  errorfile 503 ${page503}`,
    '',
    'frontend hf_edge',
    `  bind ${o.bindHost}:${o.bindPort}`,
    '  http-request set-header X-Forwarded-Host %[req.hdr(host)]',
    '  http-request set-header X-Forwarded-Proto http',
    `  http-request set-var(txn.hf_slot) req.hdr(host),lower,field(1,:),map(${hostsMap})`,
    '  use_backend %[var(txn.hf_slot)] if { var(txn.hf_slot) -m found }',
    '  default_backend hf_unknown_host',
    '',
    'backend hf_unknown_host',
    // Never true: it only makes HAProxy load the pools map so the driver can keep it at run time.
    `  http-request set-var(txn.hf_unused) str(-),map(${poolsMap}) if FALSE`,
    `  http-request return status 404 content-type "text/html; charset=utf-8" string "${NOT_FOUND_PAGE.replace(/"/g, '\\"')}"`,
  ];
  // Every slot can be sticky: servers get dynamic cookies (a hash of their address; the key is
  // no secret, the cookie only picks among the pool's servers), honoured only while the pools
  // map holds "<slot> on" (switched at run time with add/del map). The
  // balance algorithm cannot change at run time, so it is fixed per slot and a pool changing
  // policy moves to a slot of the other kind.
  // Every slot can be rate-limited (billing's throttle): the rates map entry "<slot> N" caps
  // its requests per second (a map of its own: HAProxy parses a map read as integers as
  // integers), counted over the last second in a one-entry stick table; beyond it HAProxy
  // answers 429 with Retry-After itself. No entry, no tracking.
  const backend = (name: string, balance: string): void => {
    lines.push(
      '',
      `backend ${name}`,
      `  balance ${balance}`,
      `  option httpchk GET ${healthPath}`,
      '  http-reuse safe',
      '  cookie HFSRV insert indirect nocache dynamic',
      '  dynamic-cookie-key hostfleet',
      `  ignore-persist unless { be_name,map(${poolsMap}) -m str on }`,
      '  stick-table type integer size 1 expire 2s store http_req_rate(1s)',
      `  http-request set-var(txn.hf_limit) str(${name}),map_str_int(${ratesMap},0)`,
      '  http-request track-sc0 int(0) if { var(txn.hf_limit) -m int gt 0 }',
      `  http-request return status 429 content-type "text/html; charset=utf-8" hdr retry-after 1 string "${LIMITED_PAGE.replace(/"/g, '\\"')}" if { var(txn.hf_limit) -m int gt 0 } { sc_http_req_rate(0),sub(txn.hf_limit) -m int gt 0 }`,
    );
  };
  for (let i = 0; i < slots; i++) backend(`${prefix}${i}`, 'leastconn');
  for (let i = 0; i < rrSlots; i++) backend(`${prefix}rr${i}`, 'roundrobin');
  const files: Record<string, string> = {
    'haproxy.cfg': `${lines.join('\n')}\n`,
    'hosts.map': '',
    'pools.map': '',
    'rates.map': '',
    '503.http': `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html; charset=utf-8\r\nRetry-After: ${retryAfterS}\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(UNAVAILABLE_PAGE)}\r\n\r\n${UNAVAILABLE_PAGE}`,
  };
  return {
    files,
    configPath: `${dir}/haproxy.cfg`,
    socketPath,
    hostsMap,
    poolsMap,
    ratesMap,
    backendPrefix: prefix,
    slots,
    roundRobinSlots: rrSlots,
  };
}
