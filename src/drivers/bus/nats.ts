/**
 * nats.ts is the production management bus: NATS core for status, requests and pushes,
 * JetStream for the durable part. It maps NATS's failures onto the same HostfleetErrors the
 * other implementations raise, and keeps the same delivery rules (serial handlers per
 * subscription, bounded pending, error replies carried in a header). The JetStream part is
 * nats-durable.ts, the mapping of failures nats-errors.ts.
 */
import {
  connect,
  headers as natsHeaders,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
  type Subscription as NatsSubscription,
} from 'nats';
import { HostfleetError } from '../../core/errors.js';
import type {
  Bus,
  BusErrorListener,
  BusMessage,
  MessageHandler,
  ReplyHandler,
  RequestOptions,
  SubscribeOptions,
  Subscription,
} from './bus.js';
import { ERROR_HEADER, checkTimeout, closedError, decode, encode, errorReply } from './codec.js';
import { defaultOnError, settleReply } from './local.js';
import { DEFAULT_MAX_PENDING, subscriptionMailbox } from './mailbox.js';
import { NatsDurable } from './nats-durable.js';
import { connectError, requestError } from './nats-errors.js';
import { type BusStatus, StatusTracker } from './status.js';
import { checkPattern, checkQueue, checkSubject } from './subjects.js';

/** NatsTlsOptions are the TLS settings for a NATS connection (files in PEM). */
export interface NatsTlsOptions {
  /** caFile verifies the server's certificate (a private CA on the management network). */
  readonly caFile?: string | undefined;
  /** certFile and keyFile give a client certificate when the server requires mutual TLS. */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** handshakeFirst starts TLS before NATS's INFO (server option handshake_first). */
  readonly handshakeFirst?: boolean | undefined;
}

/** NatsBusOptions configure the NATS bus. */
export interface NatsBusOptions {
  /** servers: e.g. 'nats://10.0.0.5:4222' or several for a cluster. */
  readonly servers: string | readonly string[];
  /** token, or user and pass: whichever the server's authorization block expects. */
  readonly token?: string | undefined;
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  /** tls: on when given (required by the server, or use tls:// URLs). */
  readonly tls?: NatsTlsOptions | undefined;
  /** name shows in the server's connection list (the server's or manager's name). */
  readonly name?: string | undefined;
  /** connectTimeoutMs bounds the first connection; default 5 000. */
  readonly connectTimeoutMs?: number | undefined;
  /** maxReconnectAttempts: -1 (default) retries for ever — an agent must outlive a NATS restart. */
  readonly maxReconnectAttempts?: number | undefined;
  /** reconnectTimeWaitMs between reconnect attempts; default 1 000. */
  readonly reconnectTimeWaitMs?: number | undefined;
  /** storage for streams this bus creates: 'file' (default; survives a NATS restart) or 'memory'. */
  readonly storage?: 'file' | 'memory' | undefined;
  /** streamReplicas: copies JetStream keeps of each stream this bus creates (1, or 3 on a cluster); default 1. */
  readonly streamReplicas?: number | undefined;
  /** jsDomain when JetStream runs in a separate domain (leaf nodes). */
  readonly jsDomain?: string | undefined;
  readonly maxPending?: number | undefined;
  readonly onError?: BusErrorListener | undefined;
}

/** natsBus connects to NATS; it rejects with E_UNAUTHENTICATED or a 'disconnected' bus error when it cannot. */
export async function natsBus(opts: NatsBusOptions): Promise<Bus> {
  const servers = typeof opts.servers === 'string' ? [opts.servers] : [...opts.servers];
  if (servers.length === 0)
    throw new HostfleetError('E_CONFIG', 'nats bus: servers is empty; give at least one nats:// URL');
  const r = opts.streamReplicas;
  if (r !== undefined && (!Number.isInteger(r) || r < 1 || r > 5))
    throw new HostfleetError('E_CONFIG', `nats bus: streamReplicas must be 1–5 (JetStream's limit), got ${String(r)}`);
  const co: ConnectionOptions = {
    servers,
    name: opts.name ?? 'hostfleet',
    timeout: opts.connectTimeoutMs ?? 5_000,
    maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 1_000,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    ...(opts.user !== undefined ? { user: opts.user, pass: opts.pass ?? '' } : {}),
    ...(opts.tls ? { tls: { ...opts.tls } } : {}),
  };
  let nc: NatsConnection;
  try {
    nc = await connect(co);
  } catch (e) {
    throw connectError(e, servers);
  }
  return new NatsBus(nc, opts);
}

class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  readonly durable: NatsDurable;
  private closed = false;
  private readonly onError: BusErrorListener;
  private readonly maxPending: number;
  private readonly subs = new Set<{ sub: NatsSubscription; close: () => void }>();
  private readonly tracker: StatusTracker;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: NatsBusOptions,
  ) {
    this.onError = opts.onError ?? defaultOnError;
    const tracker = new StatusTracker('connected', `NATS (${nc.getServer()})`);
    this.tracker = tracker;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnecting') tracker.set('reconnecting');
        else if (s.type === 'reconnect') tracker.set('connected');
      }
    })().catch(() => undefined);
    void nc.closed().then(() => tracker.set('closed'));
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    this.durable = new NatsDurable(nc, opts, this.onError, (what) => this.live(what));
  }

  private live(what: string): void {
    if (this.closed || this.nc.isClosed()) throw closedError(what);
  }

  async publish(subject: string, data: unknown): Promise<void> {
    this.live('publish');
    this.nc.publish(checkSubject(subject), encode(data));
  }

  async subscribe(subject: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.live('subscribe');
    const pattern = checkPattern(subject);
    const queue = checkQueue(opts.queue);
    const box = subscriptionMailbox<Msg>(pattern, handler, this.onError, this.maxPending);
    const sub = this.nc.subscribe(pattern, {
      ...(queue ? { queue } : {}),
      callback: (err, m) => (err ? this.onError(err, { subject: pattern, what: 'subscription' }) : void box.push(m)),
    });
    // Resolve once the server has the subscription, as the other implementations do.
    await this.nc.flush();
    return this.track(sub, () => void box.close());
  }

  private track(sub: NatsSubscription, close: () => void): Subscription {
    const entry = { sub, close };
    this.subs.add(entry);
    return {
      unsubscribe: async () => {
        if (!this.subs.delete(entry)) return;
        close();
        if (!this.nc.isClosed()) sub.unsubscribe();
      },
    };
  }

  async reply(subject: string, handler: ReplyHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.live('reply');
    const pattern = checkPattern(subject);
    const queue = checkQueue(opts.queue);
    let active = true;
    const sub = this.nc.subscribe(pattern, {
      ...(queue ? { queue } : {}),
      callback: (err, m) => {
        if (err) return this.onError(err, { subject: pattern, what: 'reply subscription' });
        if (!m.reply) return;
        void Promise.resolve()
          .then(() => handler(decode(m.data), { subject: m.subject, reply: m.reply }))
          .then(
            (result) => {
              if (active) m.respond(encode(result));
            },
            (e: unknown) => {
              if (!active) return;
              const { code, payload } = errorReply(e);
              const h = natsHeaders();
              h.set(ERROR_HEADER, code);
              m.respond(payload, { headers: h });
            },
          )
          .catch((e: unknown) => this.onError(e, { subject: m.subject, what: 'reply could not be sent' }));
      },
    });
    await this.nc.flush();
    return this.track(sub, () => {
      active = false;
    });
  }

  async request(subject: string, data: unknown, opts: RequestOptions): Promise<unknown> {
    this.live('request');
    checkSubject(subject);
    const timeoutMs = checkTimeout('timeoutMs', opts?.timeoutMs);
    let m: Msg;
    try {
      m = await this.nc.request(subject, encode(data), { timeout: timeoutMs });
    } catch (e) {
      throw requestError(e, subject, timeoutMs);
    }
    const headers: Record<string, string> = {};
    const errCode = m.headers?.get(ERROR_HEADER);
    if (errCode) headers[ERROR_HEADER] = errCode;
    const msg: BusMessage = { subject: m.subject, data: m.data, headers };
    return new Promise((resolve, reject) => settleReply({ subject, resolve, reject }, msg));
  }

  async flush(): Promise<void> {
    this.live('flush');
    await this.nc.flush();
  }

  status(): BusStatus {
    return this.tracker.get();
  }

  onStatus(fn: (s: BusStatus) => void): () => void {
    return this.tracker.on(fn);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.tracker.waitConnected(timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tracker.set('closed');
    this.durable.stopAll();
    for (const s of this.subs) s.close();
    this.subs.clear();
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }
}
