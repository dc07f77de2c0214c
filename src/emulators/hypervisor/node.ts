/**
 * node is one emulated hardware node of the placement grid (seed 003): a capacity (RAM, CPU,
 * disk, bandwidth) and a small HTTP API through which the manager's deployer starts and stops
 * components. Each component — a virtual server — runs as its own server runtime process (the
 * bundled image of src/emulators/bmc/image.ts) with its own personality, on its own port. The
 * node reports what each process uses as a hypervisor would: CPU time and resident memory read
 * from /proc, beside the runtime's own /_runtime/stats.
 *
 *   GET    /healthz                         → { ok, id }                      (no token)
 *   GET    /v1/node                         → { id, capacity, components }
 *   PUT    /v1/components/:id  {personality} → { id, address, pid }           (idempotent)
 *   GET    /v1/components/:id/usage         → { cpuSeconds, rssBytes, stats }
 *   DELETE /v1/components/:id               → 204 (absent too)
 *
 * Components are children of the node's process with an IPC channel: when the node dies, the
 * runtimes see the channel close and exit, as virtual machines die with their host.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import type { ResourceVector } from '../../core/scheduler/index.js';
import { COMPONENT_ID_RE } from '../../drivers/hypervisor/index.js';
import { checkPersonality } from '../../core/model/check-personality.js';
import { freePort } from '../bmc/machine.js';

/** NodeOptions configure one emulated hardware node. */
export interface NodeOptions {
  readonly id: string;
  readonly capacity: ResourceVector;
  /** host is where the node's API and its components listen (loopback in the embedded site). */
  readonly host: string;
  /** port of the node's API; 0 picks a free one. */
  readonly port: number;
  /** token is the bearer token the manager presents. */
  readonly token: string;
  /** image is the bundled server runtime every component runs with node. */
  readonly image: string;
  /** dir holds one scratch directory and console log per component. */
  readonly dir: string;
  /** startTimeoutMs bounds a component's start until its runtime reports ready (default 15000). */
  readonly startTimeoutMs?: number;
}

/** ComponentView is one running component as the node reports it. */
export interface ComponentView {
  readonly id: string;
  readonly address: string;
  readonly pid: number;
}

/** RunningNode is a started node. */
export interface RunningNode {
  readonly url: string;
  readonly components: () => ComponentView[];
  /** close stops every component (SIGTERM, bounded) and the API. */
  close(): Promise<void>;
}

interface Entry {
  readonly id: string;
  readonly address: string;
  readonly child: ChildProcess;
}

const ID_RE = COMPONENT_ID_RE;
// Linux reports process CPU time in clock ticks; USER_HZ is 100 on every architecture Node runs on.
const TICKS_PER_SECOND = 100;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** processUsage reads a process's CPU seconds and resident bytes from /proc, or null when it is gone. */
export async function processUsage(pid: number): Promise<{ cpuSeconds: number; rssBytes: number } | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: m ? Number(m[1]) * 1024 : 0 };
  } catch {
    return null;
  }
}

/** startNode starts a node's API; components start when the manager asks. */
export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const want = digest(`Bearer ${opts.token}`);
  const startTimeoutMs = opts.startTimeoutMs ?? 15_000;
  const running = new Map<string, Entry>();
  const starting = new Map<string, Promise<Entry>>();
  await mkdir(opts.dir, { recursive: true });

  const stop = async (e: Entry): Promise<void> => {
    running.delete(e.id);
    const c = e.child;
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    await rm(join(opts.dir, e.id), { recursive: true, force: true });
  };

  const start = async (id: string, personality: unknown): Promise<Entry> => {
    const check = checkPersonality(personality);
    if (!check.ok)
      throw Object.assign(
        new Error(`invalid personality: ${check.problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`),
        { status: 400 },
      );
    const scratch = join(opts.dir, id);
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true, mode: 0o700 });
    const port = await freePort(opts.host);
    const address = `${opts.host}:${port}`;
    const child = spawn(process.execPath, ['--enable-source-maps', opts.image], {
      cwd: scratch,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: scratch,
        HOSTFLEET_PERSONALITY: JSON.stringify(check.personality),
        HOSTFLEET_SCRATCH: scratch,
        HOSTFLEET_LISTEN: address,
      },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const entry: Entry = { id, address, child };
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`component ${id} did not start in ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      child.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(t);
        reject(new Error(`component ${id} exited while starting (${signal ?? `code ${code}`})`));
      });
      child.on('message', (m: { kind?: string }) => {
        if (m.kind === 'ready') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    child.once('exit', () => {
      if (running.get(id) === entry) running.delete(id);
    });
    running.set(id, entry);
    return entry;
  };

  const view = (e: Entry): ComponentView => ({ id: e.id, address: e.address, pid: e.child.pid ?? 0 });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://node');
    if (url.pathname === '/healthz') return send(res, 200, { ok: true, id: opts.id });
    if (!timingSafeEqual(digest(req.headers.authorization ?? ''), want))
      return send(res, 401, {
        error: { code: 'E_UNAUTHENTICATED', message: 'send the node token as Authorization: Bearer <token>' },
      });
    if (url.pathname === '/v1/node' && req.method === 'GET') {
      return send(res, 200, { id: opts.id, capacity: opts.capacity, components: [...running.values()].map(view) });
    }
    const m = /^\/v1\/components\/([^/]+)(\/usage)?$/.exec(url.pathname);
    const id = m ? decodeURIComponent(m[1]!) : '';
    if (!m || !ID_RE.test(id))
      return send(res, 404, { error: { code: 'E_NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } });
    if (m[2]) {
      const e = running.get(id);
      if (!e || req.method !== 'GET')
        return send(res, 404, { error: { code: 'E_NOT_FOUND', message: `component ${id} is not running here` } });
      const usage = await processUsage(e.child.pid ?? 0);
      const stats = await request(`http://${e.address}/_runtime/stats`, {
        headersTimeout: 2000,
        bodyTimeout: 2000,
      }).then(
        (r) => r.body.json(),
        () => null,
      );
      return send(res, 200, { id, ...(usage ?? { cpuSeconds: 0, rssBytes: 0 }), stats });
    }
    if (req.method === 'PUT') {
      const body = (await readBody(req)) as { personality?: unknown } | undefined;
      const have = running.get(id);
      if (have) return send(res, 200, view(have));
      let p = starting.get(id);
      if (!p) {
        p = start(id, body?.personality).finally(() => starting.delete(id));
        starting.set(id, p);
      }
      try {
        return send(res, 201, view(await p));
      } catch (e) {
        const status = (e as { status?: number }).status ?? 500;
        return send(res, status, {
          error: { code: status === 400 ? 'E_VALIDATION' : 'E_INTERNAL', message: (e as Error).message },
        });
      }
    }
    if (req.method === 'DELETE') {
      const e = running.get(id);
      if (e) await stop(e);
      return send(res, 204);
    }
    return send(res, 405, { error: { code: 'E_VALIDATION', message: `method ${req.method} is not allowed here` } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 400, { error: { code: 'E_VALIDATION', message: (e as Error).message } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${a.port}`,
    components: () => [...running.values()].map(view),
    async close() {
      server.close();
      server.closeAllConnections();
      await Promise.all([...running.values()].map(stop));
    },
  };
}
