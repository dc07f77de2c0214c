/**
 * loopback-hub.ts is the cross-process bus of the embedded site: the manager hosts the hub and
 * each agent (one OS process per server) connects with loopbackBus().
 *
 * Why hand-written: the embedded site must run with no server to install, so NATS itself is
 * out; the npm candidates are either NATS-protocol servers that are unmaintained or partial
 * (no queue groups or no JetStream), or general brokers (MQTT, AMQP) whose wildcard, queue and
 * request-reply semantics differ from NATS's, which would make the embedded site behave unlike
 * production. Routing is the same Router and DurableEngine the memory bus uses; this file only
 * adds TCP, authentication and per-connection bookkeeping (loopback-hub-connection.ts), in a few hundred lines.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { isIP } from 'node:net';
import { HostfleetError } from '../../core/errors.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { Bus, BusErrorListener } from './bus.js';
import { DurableEngine } from './durable-engine.js';
import { LocalBus, defaultOnError } from './local.js';
import { URL_SCHEME } from './loopback-frame.js';
import { HubConnection, digest } from './loopback-hub-connection.js';
import { Router } from './router.js';

/** MIN_TOKEN_LENGTH: a shorter token is refused at start-up (guessable). */
export const MIN_TOKEN_LENGTH = 16;
/** HELLO_TIMEOUT_MS: a connection that has not authenticated by then is closed. */
const HELLO_TIMEOUT_MS = 5_000;

/** HubStats are the hub's counters since start (for the console and metrics). */
export interface HubStats {
  readonly connections: number;
  /** messages routed from clients (core publishes). */
  readonly published: number;
  /** messages to clients dropped because the client fell behind. */
  readonly dropped: number;
  /** connections refused at hello (wrong token, version, protocol). */
  readonly refused: number;
}

/** BusHubOptions configure the hub. */
export interface BusHubOptions {
  /** host to listen on; loopback only unless allowNonLoopback (the wire is not encrypted). */
  readonly host?: string | undefined;
  /** port to listen on; 0 picks a free one (the hub's url tells which). */
  readonly port?: number | undefined;
  /** token every client must present; at least 16 characters. */
  readonly token: string;
  /** allowNonLoopback lets the hub listen beyond 127.0.0.0/8 and ::1 — only on an isolated management network. */
  readonly allowNonLoopback?: boolean | undefined;
  /** maxConnections bounds connected clients (default 4 096). */
  readonly maxConnections?: number | undefined;
  /** maxOutBytes: a client whose unsent output exceeds this loses messages (slow consumer); default 16 MiB. */
  readonly maxOutBytes?: number | undefined;
  /** name is told to clients in the welcome (logs). */
  readonly name?: string | undefined;
  /** helloTimeoutMs: a connection must authenticate within this; default 5 000. */
  readonly helloTimeoutMs?: number | undefined;
  readonly onError?: BusErrorListener | undefined;
  /** clock times the durable streams' ack waits, redeliveries and ages; default the system clock. */
  readonly clock?: Clock | undefined;
}

/** BusHub is a running hub. */
export interface BusHub {
  /** url is what clients pass to loopbackBus: hfbus://HOST:PORT. */
  readonly url: string;
  readonly port: number;
  /** bus is the hosting process's own handle, without a socket in between. */
  readonly bus: Bus;
  /** connections is the number of authenticated clients. */
  connections(): number;
  /** stats returns the hub's counters. */
  stats(): HubStats;
  /** close disconnects every client and stops listening; durable state is dropped. */
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** startBusHub validates its options, listens, and resolves once clients can connect. */
export async function startBusHub(opts: BusHubOptions): Promise<BusHub> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  const cfg = (msg: string): HostfleetError => new HostfleetError('E_CONFIG', `bus hub: ${msg}`);
  if (typeof opts.token !== 'string' || opts.token.length < MIN_TOKEN_LENGTH)
    throw cfg(`token must be at least ${MIN_TOKEN_LENGTH} characters (generate one with crypto.randomBytes)`);
  if (!isLoopback(host) && !opts.allowNonLoopback)
    throw cfg(
      `host ${host} is not a loopback address; the loopback bus is unencrypted — use NATS with TLS across machines, or set allowNonLoopback on an isolated management network`,
    );
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw cfg(`port must be 0–65535, got ${String(port)}`);
  const onError = opts.onError ?? defaultOnError;
  const maxOut = opts.maxOutBytes ?? 16 * 1024 * 1024;
  const tokenDigest = digest(opts.token);
  const core = { router: new Router(), engine: new DurableEngine(opts.clock ?? systemClock) };
  const local = new LocalBus(core, { kind: 'loopback', onError });
  const sockets = new Set<Socket>();
  let authed = 0;
  const counters = { published: 0, dropped: 0, refused: 0 };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const conn = new HubConnection(socket, core, {
      tokenDigest,
      maxOut,
      name: opts.name ?? 'hostfleet-hub',
      helloTimeoutMs: opts.helloTimeoutMs ?? HELLO_TIMEOUT_MS,
      counters,
      onError,
      onAuth: () => authed++,
    });
    socket.on('close', () => {
      sockets.delete(socket);
      if (conn.authenticated) authed--;
      conn.dispose();
    });
  });
  server.maxConnections = opts.maxConnections ?? 4096;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(cfg(`cannot listen on ${host}:${port}: ${e.message}`)));
    server.listen(port, host, () => resolve());
  });
  server.on('error', (e) => onError(e, { what: 'hub listener' }));
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `${URL_SCHEME}//${urlHost}:${actualPort}`,
    port: actualPort,
    bus: local,
    connections: () => authed,
    stats: () => ({ connections: authed, ...counters }),
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await local.close();
        core.engine.close();
        await closed;
      })();
      return closing;
    },
  };
}
