/**
 * loopback-hub.ts is the cross-process bus of the embedded site: the manager hosts the hub and
 * each agent (one OS process per server) connects with loopbackBus().
 *
 * Why hand-written: the embedded site must run with no server to install, so NATS itself is
 * out; the npm candidates are either NATS-protocol servers that are unmaintained or partial
 * (no queue groups or no JetStream), or general brokers (MQTT, AMQP) whose wildcard, queue and
 * request-reply semantics differ from NATS's, which would make the embedded site behave unlike
 * production. Routing is the same Router and DurableEngine the memory bus uses; this file only
 * adds TCP, authentication and per-connection bookkeeping, in a few hundred lines.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { isIP } from 'node:net';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import type { Bus, BusErrorListener, BusMessage } from './bus.js';
import { MAX_PAYLOAD_BYTES } from './codec.js';
import { type Attachment, DurableEngine, consumerConfig } from './durable-engine.js';
import { LocalBus, defaultOnError } from './local.js';
import { FrameReader, PROTOCOL_VERSION, URL_SCHEME, encodeFrame, type Frame } from './loopback-frame.js';
import { Router } from './router.js';
import { checkPattern, checkQueue, checkSubject } from './subjects.js';

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
/** PRE_AUTH_MAX_FRAME: before hello, frames are tiny; a stranger cannot make the hub buffer much. */
const PRE_AUTH_MAX_FRAME = 4_096;
/** MAX_FRAME_BYTES: one payload plus room for its header. */
export const MAX_FRAME_BYTES = MAX_PAYLOAD_BYTES + 16_384;

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

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
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
  if (typeof opts.token !== 'string' || opts.token.length < MIN_TOKEN_LENGTH) throw cfg(`token must be at least ${MIN_TOKEN_LENGTH} characters (generate one with crypto.randomBytes)`);
  if (!isLoopback(host) && !opts.allowNonLoopback) throw cfg(`host ${host} is not a loopback address; the loopback bus is unencrypted — use NATS with TLS across machines, or set allowNonLoopback on an isolated management network`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw cfg(`port must be 0–65535, got ${String(port)}`);
  const onError = opts.onError ?? defaultOnError;
  const maxOut = opts.maxOutBytes ?? 16 * 1024 * 1024;
  const tokenDigest = digest(opts.token);
  const core = { router: new Router(), engine: new DurableEngine() };
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

interface ConnectionDeps {
  readonly tokenDigest: Buffer;
  readonly maxOut: number;
  readonly name: string;
  readonly helloTimeoutMs: number;
  readonly counters: { published: number; dropped: number; refused: number };
  readonly onError: BusErrorListener;
  readonly onAuth: () => void;
}

/** HubConnection is one client's session at the hub: its subscriptions and durable attachments. */
class HubConnection {
  authenticated = false;
  private readonly reader = new FrameReader(PRE_AUTH_MAX_FRAME);
  private readonly subs = new Map<number, () => void>();
  private readonly consumers = new Map<number, Attachment>();
  private readonly helloTimer: ReturnType<typeof setTimeout>;
  private dropped = 0;
  private clientName = '?';

  constructor(private readonly socket: Socket, private readonly core: { router: Router; engine: DurableEngine }, private readonly deps: ConnectionDeps) {
    this.helloTimer = setTimeout(() => this.fail('E_UNAUTHENTICATED', `no hello within ${deps.helloTimeoutMs} ms`), deps.helloTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (e) {
        this.fail('E_VALIDATION', `protocol error: ${(e as Error).message}`);
        return;
      }
      for (const f of frames) {
        if (socket.destroyed) return;
        try {
          this.handle(f);
        } catch (e) {
          const code = isHostfleetError(e) ? e.code : 'E_INTERNAL';
          this.send({ op: 'err', code, message: (e as Error).message });
        }
      }
    });
    socket.on('error', () => socket.destroy());
  }

  private send(header: Record<string, unknown>, payload?: Uint8Array): boolean {
    if (this.socket.destroyed) return false;
    if (this.socket.writableLength > this.deps.maxOut) {
      this.dropped++;
      this.deps.counters.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.deps.onError(new Error(`slow consumer ${this.clientName}: ${this.dropped} messages dropped`), { what: 'hub connection fell behind' });
      }
      return false;
    }
    this.socket.write(encodeFrame(header, payload));
    return true;
  }

  private fail(code: string, message: string): void {
    if (this.socket.destroyed) return;
    if (!this.authenticated) this.deps.counters.refused++;
    this.socket.end(encodeFrame({ op: 'err', code, message, fatal: true }));
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private handle(f: Frame): void {
    const h = f.header;
    if (!this.authenticated) {
      if (h.op !== 'hello') return this.fail('E_UNAUTHENTICATED', 'the first frame must be hello');
      if (h.v !== PROTOCOL_VERSION) return this.fail('E_CONFIG', `protocol version ${String(h.v)} is not ${PROTOCOL_VERSION}: upgrade the agent and the manager together`);
      const given = typeof h.token === 'string' ? digest(h.token) : Buffer.alloc(32);
      if (!timingSafeEqual(given, this.deps.tokenDigest)) return this.fail('E_UNAUTHENTICATED', 'wrong bus token');
      clearTimeout(this.helloTimer);
      this.authenticated = true;
      this.clientName = typeof h.name === 'string' ? h.name.slice(0, 100) : '?';
      this.reader.limit(MAX_FRAME_BYTES);
      this.deps.onAuth();
      this.send({ op: 'welcome', v: PROTOCOL_VERSION, server: this.deps.name });
      return;
    }
    switch (h.op) {
      case 'pub': {
        const m: BusMessage = {
          subject: checkSubject(h.subject),
          data: f.payload ?? new Uint8Array(0),
          reply: h.reply === undefined ? undefined : checkSubject(h.reply, 'reply'),
          headers: stringRecord(h.headers),
        };
        this.core.router.publish(m);
        this.deps.counters.published++;
        // Requests are not stored: on NATS a stream would answer them with its own ack.
        if (m.reply === undefined) this.core.engine.capture(m.subject, m.data, true); // the payload is a view into the socket's chunk
        return;
      }
      case 'sub': {
        const sid = Number(h.sid);
        const pattern = checkPattern(h.subject);
        const queue = checkQueue(h.queue ?? undefined);
        this.subs.get(sid)?.();
        this.subs.set(sid, this.core.router.subscribe(pattern, queue, {
          deliver: (m) => void this.send({ op: 'msg', sid, subject: m.subject, ...(m.reply === undefined ? {} : { reply: m.reply }), ...(m.headers ? { headers: m.headers } : {}) }, m.data),
        }));
        return;
      }
      case 'unsub': {
        const sid = Number(h.sid);
        this.subs.get(sid)?.();
        this.subs.delete(sid);
        return;
      }
      case 'ping':
        // Keepalive: the client closes a connection whose pongs stop (a hung or vanished hub).
        this.send({ op: 'pong' });
        return;
      case 'ack':
        this.core.engine.ack(String(h.stream), String(h.durable), Number(h.seq));
        return;
      case 'nak':
        this.core.engine.nak(String(h.stream), String(h.durable), Number(h.seq), typeof h.delayMs === 'number' ? h.delayMs : undefined);
        return;
      case 'call':
        return this.call(h, f.payload);
      default:
        throw new HostfleetError('E_VALIDATION', `unknown op ${JSON.stringify(h.op)}`);
    }
  }

  private call(h: Record<string, unknown>, payload: Buffer | undefined): void {
    const id = h.id;
    try {
      const value = this.dispatch(h, payload);
      this.send({ op: 'result', id, ok: true, value: value ?? null });
    } catch (e) {
      const code = isHostfleetError(e) ? e.code : 'E_INTERNAL';
      this.send({ op: 'result', id, ok: false, code, message: (e as Error).message, ...(isHostfleetError(e) && e.fields ? { fields: e.fields } : {}) });
    }
  }

  private dispatch(h: Record<string, unknown>, payload: Buffer | undefined): unknown {
    const engine = this.core.engine;
    switch (h.method) {
      case 'ping':
        return null;
      case 'ensureStream':
        engine.ensureStream(h.spec as never);
        return null;
      case 'publish':
        // Copy: the payload is a view into the socket's chunk, and the stream keeps it.
        return engine.publish(String(h.subject), Buffer.from(payload ?? new Uint8Array(0)), typeof h.msgId === 'string' ? h.msgId : undefined);
      case 'consume': {
        const cid = Number(h.cid);
        const config = consumerConfig((h.opts ?? {}) as never);
        this.consumers.get(cid)?.detach();
        const att = engine.consume(String(h.stream), String(h.durable), config, (d) => {
          this.send({ op: 'dmsg', cid, stream: d.stream, durable: d.consumer, seq: d.seq, subject: d.subject, n: d.deliveryCount }, d.data);
        });
        this.consumers.set(cid, att);
        return null;
      }
      case 'stopConsume': {
        const cid = Number(h.cid);
        this.consumers.get(cid)?.detach();
        this.consumers.delete(cid);
        return null;
      }
      case 'deleteConsumer':
        engine.deleteConsumer(String(h.stream), String(h.durable));
        return null;
      case 'deleteStream':
        engine.deleteStream(String(h.name));
        return null;
      default:
        throw new HostfleetError('E_VALIDATION', `unknown method ${JSON.stringify(h.method)}`);
    }
  }

  /** dispose drops the connection's subscriptions and hands its unacked messages back. */
  dispose(): void {
    clearTimeout(this.helloTimer);
    for (const remove of this.subs.values()) remove();
    this.subs.clear();
    for (const att of this.consumers.values()) att.detach();
    this.consumers.clear();
  }
}

function stringRecord(v: unknown): Record<string, string> | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}
