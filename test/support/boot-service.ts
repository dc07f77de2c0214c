/**
 * boot-service holds a static boot service for tests that run the BMC emulator without
 * the manager: it hands out personalities by URL path, checks the machine header the way the
 * real boot service must (a personality goes only to the machine it was issued for), and
 * records every fetch so a test can prove which machine asked for what.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Personality } from '../../src/core/model/personality.js';

/** BootFetch is one recorded boot pointer request. */
export interface BootFetch {
  readonly path: string;
  readonly machine: string | null;
  readonly status: number;
}

/** StaticBootService serves personalities at url + path. */
export interface StaticBootService {
  readonly url: string;
  readonly fetches: readonly BootFetch[];
  /** set publishes personality at path (replacing what was there). */
  set(path: string, personality: Personality | unknown): void;
  close(): Promise<void>;
}

/**
 * startStaticBootService listens on 127.0.0.1 (a free port). A request for an unknown path is
 * 404; one whose X-Hostfleet-Machine differs from the personality's machine is 403, as
 * E_BOOT_POINTER_INVALID would be from the manager's boot service. Personalities that are not
 * valid on purpose (tests of boot failures) are served as given when `machine` is absent.
 */
export async function startStaticBootService(): Promise<StaticBootService> {
  const byPath = new Map<string, unknown>();
  const fetches: BootFetch[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const machine = typeof req.headers['x-hostfleet-machine'] === 'string' ? req.headers['x-hostfleet-machine'] : null;
    const p = byPath.get(path) as { machine?: unknown } | undefined;
    let status = 200;
    if (p === undefined) status = 404;
    else if (typeof p.machine === 'string' && p.machine !== machine) status = 403;
    fetches.push({ path, machine, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      status === 200
        ? JSON.stringify(p)
        : JSON.stringify({
            error: status === 404 ? 'no such boot pointer' : 'boot pointer issued for another machine',
          }),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    fetches,
    set(path, personality) {
      byPath.set(path, personality);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** waitFor polls check every intervalMs until it returns a value other than undefined, or fails after timeoutMs naming what. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** demoPersonality builds a valid personality for machine with test defaults. */
export function demoPersonality(machine: string, over: Partial<Personality> = {}): Personality {
  return {
    kind: 'hostfleet.personality/v1',
    machine,
    server: 'srv-1',
    account: { id: 'acme', name: 'Acme' },
    group: { id: 'acme-web', name: 'Acme web', role: 'web' },
    image: 'hostfleet/demo-runtime',
    runtime: { serviceTimeMs: 20, concurrency: 4, maxQueue: 50 },
    volume: { id: 'acme' },
    uid: 41001,
    gid: 41001,
    config: {},
    ...over,
  };
}
