/**
 * edge-fixtures are the edge tests' upstream servers and client: small node:http servers on
 * loopback that answer with their own name after a delay chosen per request (`?delay=ms`),
 * count what they are doing, and can be killed (every connection reset, port closed) the way a
 * crashed server process would be.
 */
import { createServer } from 'node:http';
import type { Server, IncomingHttpHeaders } from 'node:http';
import type { Socket, AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

/** TestUpstream is one upstream server under the test's control. */
export interface TestUpstream {
  readonly name: string;
  readonly address: string;
  /** inflight counts requests received and not yet answered. */
  readonly inflight: () => number;
  /** hits counts requests answered (health checks excluded). */
  readonly hits: () => number;
  /** lastHeaders are the headers of the last non-health request. */
  readonly lastHeaders: () => IncomingHttpHeaders | undefined;
  /** setHealthy makes /healthz answer 200 (true) or 500 (false). */
  setHealthy(ok: boolean): void;
  /** kill resets every connection and closes the port, like a crashed process. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** startUpstream starts an upstream named name on 127.0.0.1 (port 0, or the port given to come back on). */
export async function startUpstream(name: string, port = 0): Promise<TestUpstream> {
  let inflight = 0;
  let hits = 0;
  let healthy = true;
  let last: IncomingHttpHeaders | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/healthz') {
      res.writeHead(healthy ? 200 : 500, { 'content-type': 'text/plain' }).end(healthy ? 'ok' : 'sick');
      return;
    }
    inflight += 1;
    last = req.headers;
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      const delay = Math.min(Number(url.searchParams.get('delay') ?? '0') || 0, 30_000);
      const size = Math.min(Number(url.searchParams.get('size') ?? '0') || 0, 64 << 20);
      const timer = setTimeout(() => {
        inflight -= 1;
        hits += 1;
        if (size > 0) {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-upstream': name });
          const chunk = Buffer.alloc(64 * 1024, 97);
          let left = size;
          const pump = (): void => {
            while (left > 0) {
              const n = Math.min(left, chunk.length);
              left -= n;
              if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
            }
            res.end();
          };
          pump();
          return;
        }
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-upstream': name,
          'keep-alive': 'timeout=5',
          'x-drop-me': '1',
          connection: 'x-drop-me',
        });
        res.end(JSON.stringify({ server: name, method: req.method, path: req.url, bodyBytes }));
      }, delay);
      res.on('close', () => {
        if (!res.writableFinished) {
          clearTimeout(timer);
          inflight -= 1;
        }
      });
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  let closed = false;
  const shut = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    name,
    address: `127.0.0.1:${addr.port}`,
    inflight: () => inflight,
    hits: () => hits,
    lastHeaders: () => last,
    setHealthy: (ok) => {
      healthy = ok;
    },
    kill: shut,
    close: shut,
  };
}

/** Reply is what the test client saw. */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** server is the upstream that answered (from the JSON body), or undefined. */
  readonly server: string | undefined;
}

/** client is a keep-alive HTTP client for the edge's data plane. */
export function edgeClient(baseUrl: string): {
  get(
    host: string,
    path?: string,
    init?: { method?: string; body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<Reply>;
  close(): Promise<void>;
} {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 2_000 });
  return {
    async get(host, path = '/', init = {}) {
      const r = await request(`${baseUrl}${path}`, {
        dispatcher: agent,
        method: (init.method ?? 'GET') as 'GET',
        headers: { ...init.headers, host },
        body: init.body ?? null,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const text = await r.body.text();
      let server: string | undefined;
      try {
        server = (JSON.parse(text) as { server?: string }).server;
      } catch {
        server = undefined;
      }
      return { status: r.statusCode, headers: r.headers, text, server };
    },
    async close() {
      await agent.close();
    },
  };
}

/** waitFor polls check every 25 ms until it is true, or fails after timeoutMs with what. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
