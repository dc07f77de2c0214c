/**
 * proxy is the built-in edge's data plane: an HTTP reverse proxy that routes by Host header to
 * the pool owning the domain and balances over that pool's servers by least outstanding
 * requests. Its promise is zero failed requests while servers move: draining servers get no new
 * request, and a server that fails before sending any response byte is marked down and the
 * request goes to another server of the pool, when that is safe (see `canRetry`).
 */
import { Readable, pipeline } from 'node:stream';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { RoutingTable, ServerEntry } from './table.js';
import { STICKY_COOKIE } from '../../drivers/edge/types.js';
import type { EdgeMetrics } from './metrics.js';
import { pageStatus, sendPage } from './pages.js';

/** IDEMPOTENT_METHODS are the methods RFC 9110 §9.2.2 lets a proxy repeat after a failure. */
export const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'] as const;

/** CONNECT_ERROR_CODES are failures that happen before the upstream could see the request. */
export const CONNECT_ERROR_CODES = [
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
] as const;

/** HOP_BY_HOP are the headers that describe one connection and never cross a proxy (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** hostOf extracts the routing key from a Host header: lower-cased, port stripped; '' when absent. */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  let h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** stickyServerOf returns the server id a request's STICKY_COOKIE names, or undefined. */
export function stickyServerOf(cookie: string | string[] | undefined): string | undefined {
  if (cookie === undefined) return undefined;
  for (const part of (Array.isArray(cookie) ? cookie.join(';') : cookie).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === STICKY_COOKIE) {
      const v = part.slice(eq + 1).trim();
      // Only a slug can name a server; anything else is ignored, never echoed.
      return /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

/** connectionTokens lists the header names a Connection header marks as hop-by-hop. */
function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0);
}

/** upstreamHeaders copies the client's headers for the upstream: hop-by-hop removed, X-Forwarded-* added. */
export function upstreamHeaders(
  headers: IncomingHttpHeaders,
  clientIp: string,
  host: string,
): Record<string, string | string[]> {
  const drop = new Set([...HOP_BY_HOP, ...connectionTokens(headers.connection), 'expect']);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || drop.has(k)) continue;
    out[k] = v;
  }
  const prior = headers['x-forwarded-for'];
  const priorText = Array.isArray(prior) ? prior.join(', ') : prior;
  out['x-forwarded-for'] = priorText ? `${priorText}, ${clientIp}` : clientIp;
  out['x-forwarded-host'] = host;
  out['x-forwarded-proto'] = 'http';
  return out;
}

/** downstreamHeaders copies the upstream's response headers for the client, hop-by-hop removed. */
export function downstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const drop = new Set([...HOP_BY_HOP, ...connectionTokens(headers.connection)]);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || drop.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * canRetry tells whether a request that failed before any response byte may go to another
 * server: idempotent methods always; others only when the upstream cannot have seen them
 * (the connection never opened, or the body was not started — an upstream does not act on a
 * request whose body it never received).
 */
export function canRetry(method: string, errCode: string | undefined, hasBody: boolean, bodyStarted: boolean): boolean {
  if (hasBody && bodyStarted) return false; // part of the body is gone; it cannot be sent again
  if ((IDEMPOTENT_METHODS as readonly string[]).includes(method)) return true;
  if (errCode !== undefined && (CONNECT_ERROR_CODES as readonly string[]).includes(errCode)) return true;
  return hasBody;
}

/**
 * BodyGate hands the client's request body to one upstream attempt at a time, lazily: nothing
 * is read from the client until the upstream client asks for it, so an attempt that failed
 * before reading leaves the body intact for the next server.
 */
class BodyGate {
  started = false;
  private detach: (() => void) | undefined;

  constructor(private readonly req: IncomingMessage) {
    req.pause();
  }

  /** stream returns a fresh body stream for the next attempt. */
  stream(): Readable {
    this.release();
    const req = this.req;
    const onData = (chunk: Buffer): void => {
      this.started = true;
      if (!out.push(chunk)) req.pause();
    };
    const onEnd = (): void => {
      out.push(null);
    };
    const onError = (err: Error): void => {
      out.destroy(err);
    };
    let attached = false;
    const out = new Readable({
      read: () => {
        if (!attached) {
          attached = true;
          req.on('data', onData);
          req.on('end', onEnd);
          req.on('error', onError);
          if (req.readableEnded) out.push(null);
        }
        req.resume();
      },
      destroy: (err, cb) => {
        this.release();
        cb(err);
      },
    });
    this.detach = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.pause();
    };
    return out;
  }

  /** release stops feeding the current attempt (it failed) so the rest of the body waits for the next one. */
  release(): void {
    this.detach?.();
    this.detach = undefined;
  }
}

/** DataPlaneDeps are what the request handler needs. */
export interface DataPlaneDeps {
  readonly table: RoutingTable<Dispatcher>;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  /** retryAfterS is the Retry-After the 503 page suggests (about two health intervals). */
  readonly retryAfterS: number;
}

/** createDataPlane returns the request handler of the data-plane HTTP server. */
export function createDataPlane(deps: DataPlaneDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      deps.logger.error({ err }, 'edge: unexpected error while proxying');
      if (!res.headersSent) sendPage(res, 'bad-gateway');
      else res.destroy();
    });
  };
}

async function handle(deps: DataPlaneDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { table, metrics, logger } = deps;
  const host = hostOf(req.headers.host);
  const pool = host ? table.lookup(host) : undefined;
  if (!pool) {
    metrics.requests.inc({ pool: '', code: String(pageStatus('unknown-host')) });
    req.resume();
    sendPage(res, 'unknown-host');
    return;
  }
  if (!table.admit(pool)) {
    metrics.requests.inc({ pool: pool.id, code: String(pageStatus('rate-limited')) });
    req.resume();
    sendPage(res, 'rate-limited', 1);
    return;
  }
  const method = req.method ?? 'GET';
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  const hasBody = te !== undefined || (cl !== undefined && cl !== '0');
  const body = hasBody ? new BodyGate(req) : undefined;
  const headers = upstreamHeaders(req.headers, req.socket.remoteAddress ?? '', req.headers.host ?? host);
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });

  const preferred = pool.sticky ? stickyServerOf(req.headers.cookie) : undefined;
  const tried = new Set<ServerEntry<Dispatcher>>();
  // Bounded by the pool size: each attempt goes to a server not tried before.
  const maxAttempts = Math.max(1, pool.servers.size);
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const server = table.pick(pool, tried, preferred);
    if (!server) break;
    tried.add(server);
    if (attempt > 0) metrics.retries.inc({ pool: pool.id });
    table.begin(server);
    const started = performance.now();
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await server.upstream.dispatcher.request({
        origin: `http://${server.address}`,
        path: req.url ?? '/',
        method: method as Dispatcher.HttpMethod,
        headers,
        body: body?.stream() ?? null,
        signal: abort.signal,
      });
    } catch (err) {
      table.end(server, false);
      body?.release();
      if (abort.signal.aborted) return; // the client went away; nothing to answer
      const code = (err as { code?: string }).code;
      table.markFailed(server);
      logger.warn(
        { pool: pool.id, server: server.id, address: server.address, code, err: (err as Error).message },
        'edge: upstream failed before answering; marked down',
      );
      if (!canRetry(method, code, hasBody, body?.started ?? false)) {
        metrics.requests.inc({ pool: pool.id, code: String(pageStatus('bad-gateway')) });
        sendPage(res, 'bad-gateway');
        return;
      }
      continue;
    }
    metrics.upstreamSeconds.observe({ pool: pool.id }, (performance.now() - started) / 1000);
    metrics.requests.inc({ pool: pool.id, code: String(upstream.statusCode) });
    const out = downstreamHeaders(upstream.headers);
    if (pool.sticky && preferred !== server.id) {
      const prior = out['set-cookie'];
      const mine = `${STICKY_COOKIE}=${server.id}; Path=/; HttpOnly; SameSite=Lax`;
      out['set-cookie'] = prior === undefined ? [mine] : [...(Array.isArray(prior) ? prior : [prior]), mine];
    }
    res.writeHead(upstream.statusCode, out);
    pipeline(upstream.body, res, (err) => {
      table.end(server, !err);
      if (err && !abort.signal.aborted)
        logger.warn({ pool: pool.id, server: server.id, err: err.message }, 'edge: response body interrupted');
    });
    return;
  }
  metrics.requests.inc({ pool: pool.id, code: String(pageStatus('no-server')) });
  body?.release();
  req.resume();
  sendPage(res, 'no-server', deps.retryAfterS);
}
