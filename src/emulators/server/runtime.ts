/**
 * runtime is the demo workload of a customer's server, what an emulated machine runs after it
 * booted a personality: an HTTP server on the data plane with a finite, wall-clock capacity
 * (dynamic requests hold a slot for serviceTimeMs), static files from the customer's volume,
 * a health endpoint for the edge and the dispatcher, and counters for the agent's probes.
 */
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Personality } from '../../core/model/personality.js';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import { Slots } from './slots.js';
import { contentType, resolveStatic } from './static.js';
import { LatencyWindow, REQUEST_KINDS, type Percentiles, type RequestKind } from './stats.js';

/** RUNTIME_STATES are the runtime's lifecycle states; only 'ok' answers /healthz with 200. */
export const RUNTIME_STATES = ['starting', 'ok', 'stopping'] as const;
/** RuntimeState is one of RUNTIME_STATES. */
export type RuntimeState = (typeof RUNTIME_STATES)[number];

/** SCRATCH_FILE is the session cache the runtime writes to scratch at start (tests prove it is wiped at power-off). */
export const SCRATCH_FILE = 'session-cache.json';

/** RuntimeOptions configures startRuntime. */
export interface RuntimeOptions {
  readonly personality: Personality;
  /** listen is host:port ([v6]:port for IPv6); port 0 picks a free one. */
  readonly listen: string;
  /** volume is the mounted customer volume (static files under <volume>/site/), or null for none. */
  readonly volume: string | null;
  /** scratch is the machine's local disk, wiped at every power-on and power-off. */
  readonly scratch: string;
  /** drainTimeoutMs bounds how long close waits for in-flight requests; default 5000. */
  readonly drainTimeoutMs?: number;
  /** statsWindowMs is the window of the response-time percentiles; default 10000. */
  readonly statsWindowMs?: number;
  /** log receives one line per lifecycle event (the machine's console). */
  readonly log?: (line: string) => void;
  /** clock gives the wall-clock times the runtime reports (stats, the scratch file); latencies use performance.now. Default systemClock. */
  readonly clock?: Clock;
}

/** RuntimeStats is the body of GET /_runtime/stats. */
export interface RuntimeStats {
  readonly server: string;
  readonly machine: string;
  readonly state: RuntimeState;
  readonly pid: number;
  readonly time: number;
  readonly uptimeMs: number;
  readonly requests: Readonly<Record<RequestKind, number>>;
  readonly responses: Readonly<Record<'2xx' | '3xx' | '4xx' | '5xx', number>>;
  readonly inFlight: number;
  readonly queued: number;
  readonly busySlots: number;
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly serviceTimeMs: number;
  /** rejected counts dynamic requests refused with 503 because the queue was full. */
  readonly rejected: number;
  /** errors counts 5xx answers (rejections included). */
  readonly errors: number;
  readonly responseTimeMs: {
    readonly windowMs: number;
    readonly all: Percentiles;
    readonly app: Percentiles;
    readonly static: Percentiles;
  };
}

/** Runtime is a started runtime. */
export interface Runtime {
  readonly url: string;
  /** address is host:port as listened. */
  readonly address: string;
  state(): RuntimeState;
  stats(): RuntimeStats;
  /** close stops accepting, lets in-flight requests finish (bounded), and closes every connection. */
  close(): Promise<void>;
}

/** parseListen splits host:port (or [v6]:port). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(listen) ?? /^([^:[\]]+):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw new Error(`listen address must be host:port, got ${JSON.stringify(listen)}`);
  return { host: m[1], port };
}

const NOT_FOUND_PAGE =
  '<!doctype html>\n<html><head><meta charset="utf-8"><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested page does not exist on this site.</p></body></html>\n';

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function kindOf(path: string): RequestKind {
  if (path === '/healthz') return 'health';
  if (path === '/_runtime/stats') return 'stats';
  if (path === '/app' || path.startsWith('/app/')) return 'app';
  if (path.startsWith('/_runtime/')) return 'other';
  return 'static';
}

/** startRuntime starts the workload and resolves once it listens (health turns ok right after its start-up work). */
export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const p = opts.personality;
  const log = opts.log ?? (() => undefined);
  const clock = opts.clock ?? systemClock;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 5000;
  const windowMs = opts.statsWindowMs ?? 10_000;
  const { host, port } = parseListen(opts.listen);
  const slots = new Slots(p.runtime.concurrency, p.runtime.maxQueue);
  const site = opts.volume === null ? null : join(opts.volume, 'site');
  const started = performance.now();
  let state: RuntimeState = 'starting';
  let inFlight = 0;
  let rejected = 0;
  let errors = 0;
  const requests = Object.fromEntries(REQUEST_KINDS.map((k) => [k, 0])) as Record<RequestKind, number>;
  const responses = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  const lat = { all: new LatencyWindow(8192), app: new LatencyWindow(4096), static: new LatencyWindow(4096) };

  function stats(): RuntimeStats {
    const now = performance.now();
    return {
      server: p.server,
      machine: p.machine,
      state,
      pid: process.pid,
      time: clock.now().getTime(),
      uptimeMs: Math.round(now - started),
      requests: { ...requests },
      responses: { ...responses },
      inFlight,
      queued: slots.queued,
      busySlots: slots.inUse,
      concurrency: slots.concurrency,
      maxQueue: slots.maxQueue,
      serviceTimeMs: p.runtime.serviceTimeMs,
      rejected,
      errors,
      responseTimeMs: {
        windowMs,
        all: lat.all.summary(now, windowMs),
        app: lat.app.summary(now, windowMs),
        static: lat.static.summary(now, windowMs),
      },
    };
  }

  async function serveApp(req: IncomingMessage, res: ServerResponse, path: string, t0: number): Promise<void> {
    const ticket = slots.acquire();
    if (ticket === null) {
      rejected++;
      // Expected wait for the queue ahead to drain, so well-behaved clients back off long enough.
      const retry = Math.max(1, Math.ceil(((slots.maxQueue / slots.concurrency + 1) * p.runtime.serviceTimeMs) / 1000));
      sendJson(
        res,
        503,
        {
          error: 'overloaded',
          server: p.server,
          message: `all ${slots.concurrency} slots busy and ${slots.maxQueue} requests queued; retry later`,
        },
        { 'retry-after': String(retry) },
      );
      return;
    }
    const gone = (): void => ticket.cancel();
    req.once('close', gone);
    const release = await ticket.wait;
    req.off('close', gone);
    const waited = performance.now() - t0;
    try {
      await new Promise<void>((resolve) => setTimeout(resolve, p.runtime.serviceTimeMs));
    } finally {
      release();
    }
    if (res.destroyed) return;
    sendJson(res, 200, {
      server: p.server,
      account: p.account.id,
      group: p.group.id,
      role: p.group.role,
      path,
      queueWaitMs: Math.round(waited * 100) / 100,
      serviceTimeMs: p.runtime.serviceTimeMs,
    });
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed', allow: 'GET, HEAD' }, { allow: 'GET, HEAD' });
      return;
    }
    const r = site === null ? ({ kind: 'not-found' } as const) : await resolveStatic(site, rawPath);
    switch (r.kind) {
      case 'bad-request':
        sendJson(res, 400, { error: 'bad request path' });
        return;
      case 'redirect':
        res.writeHead(301, { location: r.location, 'content-length': 0 });
        res.end();
        return;
      case 'not-found':
        res.writeHead(404, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(NOT_FOUND_PAGE),
        });
        res.end(req.method === 'HEAD' ? undefined : NOT_FOUND_PAGE);
        return;
      case 'file': {
        res.writeHead(200, {
          'content-type': contentType(r.path),
          'content-length': r.size,
          'last-modified': r.mtime.toUTCString(),
          'x-content-type-options': 'nosniff',
        });
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        await new Promise<void>((resolve) => {
          const s = createReadStream(r.path);
          s.on('error', () => {
            res.destroy();
            resolve();
          });
          res.on('close', resolve);
          s.pipe(res);
        });
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const kind = kindOf(rawPath);
    requests[kind]++;
    inFlight++;
    res.once('close', () => {
      inFlight--;
      const ms = performance.now() - t0;
      const cls = `${Math.floor(res.statusCode / 100)}xx` as keyof typeof responses;
      if (cls in responses) responses[cls]++;
      if (res.statusCode >= 500) errors++;
      const now = performance.now();
      lat.all.add(now, ms);
      if (kind === 'app') lat.app.add(now, ms);
      else if (kind === 'static') lat.static.add(now, ms);
    });
    try {
      if (kind === 'health') {
        if (state === 'ok')
          sendJson(res, 200, {
            status: 'ok',
            server: p.server,
            account: p.account.id,
            group: p.group.id,
            role: p.group.role,
            machine: p.machine,
          });
        else sendJson(res, 503, { status: state, server: p.server });
      } else if (kind === 'stats') {
        sendJson(res, 200, stats());
      } else if (kind === 'app') {
        await serveApp(req, res, rawPath, t0);
      } else if (kind === 'other') {
        sendJson(res, 404, { error: 'no such runtime endpoint' });
      } else {
        await serveStatic(req, res, rawPath);
      }
    } catch (e) {
      log(`runtime: request ${req.method} ${rawPath} failed: ${(e as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  }

  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const address = `${hostPart}:${addr.port}`;

  // Start-up work: the local session cache (scratch), and the site check. Health turns ok after.
  await mkdir(opts.scratch, { recursive: true });
  await writeFile(
    join(opts.scratch, SCRATCH_FILE),
    JSON.stringify({
      server: p.server,
      account: p.account.id,
      group: p.group.id,
      pid: process.pid,
      startedAt: clock.now().toISOString(),
    }) + '\n',
    { mode: 0o600 },
  );
  state = 'ok';
  log(
    `runtime: ${p.server} (${p.account.id}/${p.group.id}, ${p.group.role}) serving on ${address}, site ${site ?? 'none'}`,
  );

  let closing: Promise<void> | null = null;
  return {
    url: `http://${address}`,
    address,
    state: () => state,
    stats,
    close() {
      closing ??= (async () => {
        state = 'stopping';
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = performance.now() + drainTimeoutMs;
        while (inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        server.closeAllConnections();
        await closed;
        log(`runtime: ${p.server} stopped`);
      })();
      return closing;
    },
  };
}
