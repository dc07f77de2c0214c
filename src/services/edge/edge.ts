/**
 * edge is the built-in edge: the data-plane reverse proxy (proxy.ts), the active health checker
 * (health.ts), the admin API with /metrics (admin.ts) and the state file (state-file.ts), wired
 * around one routing table (table.ts). `startEdge` starts them all; `close` stops them in the
 * order that fails no request: stop accepting, let in-flight requests finish (bounded), then
 * release upstream connections.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { HostfleetError, invalid } from '../../core/errors.js';
import type { FieldProblem } from '../../core/errors.js';
import { RoutingTable } from './table.js';
import type { Upstream } from './table.js';
import { createMetrics } from './metrics.js';
import { createDataPlane } from './proxy.js';
import { startHealthChecks } from './health.js';
import { buildAdmin } from './admin.js';
import { loadState, stateWriter } from './state-file.js';

/** EdgeOptions configure a built-in edge. */
export interface EdgeOptions {
  /** host and port of the data plane (customers' traffic); port 0 picks a free port. */
  readonly host: string;
  readonly port: number;
  /** adminHost and adminPort of the admin API and /metrics; keep it on the management network. */
  readonly adminHost: string;
  readonly adminPort: number;
  /** token is the admin API's bearer token (at least 16 characters). */
  readonly token: string;
  /** healthIntervalMs is the period of active health checks (default 1000). */
  readonly healthIntervalMs?: number;
  /** healthPath is the path the health checks GET on each server (default /healthz). */
  readonly healthPath?: string;
  /** stateFile, when given, keeps the routing table across restarts. */
  readonly stateFile?: string;
  /** upstreamConnections bounds keep-alive connections per server (default 128). */
  readonly upstreamConnections?: number;
  /** shutdownGraceMs bounds how long close() waits for in-flight requests (default 10000). */
  readonly shutdownGraceMs?: number;
  readonly logger?: Logger;
}

/** RunningEdge is a started edge: its URLs and its stop. */
export interface RunningEdge {
  /** url is the data plane's base URL (http://host:port). */
  readonly url: string;
  /** adminUrl is the admin API's base URL. */
  readonly adminUrl: string;
  close(): Promise<void>;
}

/** checkEdgeOptions returns every problem of the options (bad configuration fails at start-up). */
export function checkEdgeOptions(o: EdgeOptions): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const port = (field: string, v: unknown): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535)
      problems.push({ field, problem: 'must be a port number from 0 to 65535 (0 picks a free port)' });
  };
  const host = (field: string, v: unknown): void => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 253)
      problems.push({ field, problem: 'must be an address to listen on, such as 127.0.0.1 or 0.0.0.0' });
  };
  host('host', o.host);
  port('port', o.port);
  host('adminHost', o.adminHost);
  port('adminPort', o.adminPort);
  if (typeof o.token !== 'string' || o.token.length < 16)
    problems.push({
      field: 'token',
      problem: 'must be at least 16 characters; generate one with `openssl rand -hex 24`',
    });
  const interval = o.healthIntervalMs ?? 1000;
  if (!Number.isInteger(interval) || interval < 50 || interval > 600_000)
    problems.push({ field: 'healthIntervalMs', problem: 'must be a whole number of milliseconds from 50 to 600000' });
  const path = o.healthPath ?? '/healthz';
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~/-]{0,200}$/.test(path))
    problems.push({
      field: 'healthPath',
      problem: 'must be a path starting with / made of letters, digits and . _ ~ / -',
    });
  const conns = o.upstreamConnections ?? 128;
  if (!Number.isInteger(conns) || conns < 1 || conns > 10_000)
    problems.push({ field: 'upstreamConnections', problem: 'must be a whole number from 1 to 10000' });
  return problems;
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function urlOf(a: AddressInfo): string {
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}

/** startEdge starts a built-in edge; it routes the state file's table (if any) before it answers. */
export async function startEdge(opts: EdgeOptions): Promise<RunningEdge> {
  const problems = checkEdgeOptions(opts);
  if (problems.length > 0) {
    const e = invalid(problems);
    throw new HostfleetError('E_CONFIG', `edge configuration: ${e.message.replace(/^invalid input: /, '')}`, {
      fields: problems,
    });
  }
  const logger = opts.logger ?? pino({ level: 'silent' });
  const healthIntervalMs = opts.healthIntervalMs ?? 1000;
  const connections = opts.upstreamConnections ?? 128;
  const graceMs = opts.shutdownGraceMs ?? 10_000;

  const makeUpstream = (address: string): Upstream<Dispatcher> => {
    const pool = new Pool(`http://${address}`, {
      connections,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 30_000,
      connect: { timeout: 5_000 },
    });
    return { dispatcher: pool, close: () => pool.close() };
  };
  let writer: ReturnType<typeof stateWriter> | undefined;
  const table = new RoutingTable<Dispatcher>({ makeUpstream, onChange: () => writer?.schedule() });
  if (opts.stateFile) {
    const saved = await loadState(opts.stateFile);
    for (const p of saved.pools) {
      table.upsertPool(p.id, p.domains, { balance: p.balance, sticky: p.sticky, rateLimit: p.rateLimit });
      for (const s of p.servers) table.attach(p.id, { id: s.id, address: s.address }, { draining: s.draining });
    }
    writer = stateWriter(
      opts.stateFile,
      () => table.snapshot(),
      (err) => logger.error({ err }, 'edge: cannot write the state file'),
    );
  }
  const metrics = createMetrics(table);
  const health = startHealthChecks({
    table,
    intervalMs: healthIntervalMs,
    path: opts.healthPath ?? '/healthz',
    logger,
  });

  const data = createServer(
    { keepAliveTimeout: 5_000 },
    createDataPlane({ table, metrics, logger, retryAfterS: Math.max(1, Math.ceil((2 * healthIntervalMs) / 1000)) }),
  );
  const admin = buildAdmin({ table, metrics, token: opts.token, persisted: async () => writer?.flush() });
  let dataAddr: AddressInfo;
  try {
    dataAddr = await listen(data, opts.host, opts.port);
    await admin.listen({ host: opts.adminHost, port: opts.adminPort });
  } catch (err) {
    await health.stop();
    data.close();
    await admin.close().catch(() => {});
    await table.closeAll();
    throw new HostfleetError(
      'E_CONFIG',
      `the edge cannot listen: ${(err as Error).message}; choose another host or port`,
      { cause: err },
    );
  }
  const adminAddr = admin.server.address() as AddressInfo;
  const url = urlOf(dataAddr);
  const adminUrl = urlOf(adminAddr);
  logger.info({ url, adminUrl }, 'edge: listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    adminUrl,
    close() {
      closing ??= (async () => {
        await health.stop();
        const drained = new Promise<void>((resolve) => data.close(() => resolve()));
        data.closeIdleConnections();
        const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        await Promise.race([drained, grace]);
        data.closeAllConnections();
        await admin.close();
        await writer?.flush();
        await Promise.race([table.closeAll(), new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
      })();
      return closing;
    },
  };
}
