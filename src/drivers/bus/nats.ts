/**
 * nats.ts is the production management bus: NATS core for status, requests and pushes,
 * JetStream for the durable part. It maps NATS's failures onto the same HostfleetErrors the
 * other implementations raise, and keeps the same delivery rules (serial handlers per
 * subscription, bounded pending, error replies carried in a header).
 */
import {
  AckPolicy, DeliverPolicy, ErrorCode, StorageType, connect, headers as natsHeaders, nanos,
  type ConnectionOptions, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type Msg, type NatsConnection, type Subscription as NatsSubscription,
} from 'nats';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import type {
  Bus, BusErrorListener, BusMessage, ConsumeOptions, DurableBus, DurableHandler, DurablePublishOptions, MessageHandler,
  PublishAck, ReplyHandler, RequestOptions, StreamSpec, SubscribeOptions, Subscription,
} from './bus.js';
import { ERROR_HEADER, busError, checkTimeout, closedError, decode, encode, errorReply, noRespondersError, timeoutError } from './codec.js';
import { consumerConfig, normaliseStreamSpec, DUPLICATE_WINDOW_MS } from './durable-engine.js';
import { defaultOnError, settleReply } from './local.js';
import { DEFAULT_MAX_PENDING, subscriptionMailbox } from './mailbox.js';
import { type BusStatus, StatusTracker } from './status.js';
import { checkPattern, checkQueue, checkSubject, checkToken } from './subjects.js';

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

interface NatsErrorLike {
  readonly code?: string;
  readonly message?: string;
  readonly api_error?: { readonly code?: number; readonly err_code?: number; readonly description?: string };
}

const asNats = (e: unknown): NatsErrorLike => (typeof e === 'object' && e !== null ? (e as NatsErrorLike) : {});
const isNotFound = (e: unknown): boolean => asNats(e).api_error?.code === 404;

/** NATS's JetStream error codes this driver reacts to (see nats-server's errors.json). */
const JS_ERR_STREAM_SUBJECT_OVERLAP = 10065;

/** natsBus connects to NATS; it rejects with E_UNAUTHENTICATED or a 'disconnected' bus error when it cannot. */
export async function natsBus(opts: NatsBusOptions): Promise<Bus> {
  const servers = typeof opts.servers === 'string' ? [opts.servers] : [...opts.servers];
  if (servers.length === 0) throw new HostfleetError('E_CONFIG', 'nats bus: servers is empty; give at least one nats:// URL');
  const r = opts.streamReplicas;
  if (r !== undefined && (!Number.isInteger(r) || r < 1 || r > 5)) throw new HostfleetError('E_CONFIG', `nats bus: streamReplicas must be 1–5 (JetStream's limit), got ${String(r)}`);
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
    const code = asNats(e).code;
    if (code === ErrorCode.AuthorizationViolation || code === ErrorCode.BadAuthentication || code === ErrorCode.AuthenticationExpired) {
      throw busError('auth', `NATS at ${servers.join(', ')} refused the credentials: check token or user/pass`, { servers }, e);
    }
    throw busError('disconnected', `cannot connect to NATS at ${servers.join(', ')}: ${asNats(e).message ?? String(e)}`, { servers }, e);
  }
  return new NatsBus(nc, opts);
}

class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  readonly durable: DurableBus;
  private closed = false;
  private readonly onError: BusErrorListener;
  private readonly maxPending: number;
  private readonly subs = new Set<{ sub: NatsSubscription; close: () => void }>();
  private readonly consumers = new Set<ConsumerMessages>();
  private jsmP: Promise<JetStreamManager> | undefined;
  private jsC: JetStreamClient | undefined;
  private readonly tracker: StatusTracker;

  constructor(private readonly nc: NatsConnection, private readonly opts: NatsBusOptions) {
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
    this.durable = {
      ensureStream: (spec) => this.ensureStream(spec),
      publish: (subject, data, o) => this.durablePublish(subject, data, o),
      consume: (stream, durable, handler, o) => this.consume(stream, durable, handler, o),
      deleteConsumer: async (stream, durable) => {
        const jsm = await this.jsm();
        await jsm.consumers.delete(checkToken('stream name', stream), checkToken('durable name', durable)).catch((e: unknown) => {
          if (!isNotFound(e)) throw this.jsError(e, `deleting consumer ${durable} of ${stream}`);
        });
      },
      deleteStream: async (name) => {
        const jsm = await this.jsm();
        await jsm.streams.delete(checkToken('stream name', name)).catch((e: unknown) => {
          if (!isNotFound(e)) throw this.jsError(e, `deleting stream ${name}`);
        });
      },
    };
  }

  private live(what: string): void {
    if (this.closed || this.nc.isClosed()) throw closedError(what);
  }

  private jsm(): Promise<JetStreamManager> {
    this.live('durable');
    this.jsmP ??= this.nc.jetstreamManager(this.opts.jsDomain ? { domain: this.opts.jsDomain } : {}).catch((e: unknown) => {
      this.jsmP = undefined;
      throw busError('remote', `JetStream is not available on NATS (start nats-server with -js): ${asNats(e).message ?? String(e)}`, {}, e);
    });
    return this.jsmP;
  }

  private js(): JetStreamClient {
    this.jsC ??= this.nc.jetstream(this.opts.jsDomain ? { domain: this.opts.jsDomain } : {});
    return this.jsC;
  }

  private jsError(e: unknown, what: string): HostfleetError {
    if (isHostfleetError(e)) return e;
    const n = asNats(e);
    if (n.api_error?.code === 404) return new HostfleetError('E_NOT_FOUND', `${what}: ${n.api_error.description ?? 'not found'}`, { cause: e });
    if (n.api_error?.err_code === JS_ERR_STREAM_SUBJECT_OVERLAP) return new HostfleetError('E_CONFLICT', `${what}: ${n.api_error.description ?? 'subjects overlap'} — choose subjects that do not overlap`, { cause: e });
    if (n.code === ErrorCode.Timeout) return busError('timeout', `${what}: JetStream did not answer in time`, {}, e);
    return busError('remote', `${what}: ${n.api_error?.description ?? n.message ?? String(e)}`, {}, e);
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
    const sub = this.nc.subscribe(pattern, { ...(queue ? { queue } : {}), callback: (err, m) => (err ? this.onError(err, { subject: pattern, what: 'subscription' }) : void box.push(m)) });
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
      const code = asNats(e).code;
      if (code === ErrorCode.NoResponders) throw noRespondersError(subject);
      if (code === ErrorCode.Timeout) throw timeoutError(subject, timeoutMs);
      if (code === ErrorCode.ConnectionClosed) throw closedError(`request on ${subject}`);
      throw busError('remote', `request on ${subject} failed: ${asNats(e).message ?? String(e)}`, { subject }, e);
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

  // ---- durable (JetStream) -------------------------------------------------------------------

  private async ensureStream(spec: StreamSpec): Promise<void> {
    const s = normaliseStreamSpec(spec);
    const jsm = await this.jsm();
    const limits = { subjects: [...s.subjects], max_msgs: s.maxMsgs, max_age: nanos(s.maxAgeMs) };
    try {
      const info = await jsm.streams.info(s.name);
      const c = info.config;
      const same = c.max_msgs === limits.max_msgs && c.max_age === limits.max_age && JSON.stringify([...(c.subjects ?? [])].sort()) === JSON.stringify([...limits.subjects].sort());
      if (!same) await jsm.streams.update(s.name, { ...c, ...limits });
    } catch (e) {
      if (!isNotFound(e)) throw this.jsError(e, `declaring stream ${s.name}`);
      try {
        await jsm.streams.add({
          name: s.name,
          ...limits,
          storage: this.opts.storage === 'memory' ? StorageType.Memory : StorageType.File,
          num_replicas: this.opts.streamReplicas ?? 1,
          duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        });
      } catch (e2) {
        throw this.jsError(e2, `declaring stream ${s.name}`);
      }
    }
  }

  private async durablePublish(subject: string, data: unknown, o?: DurablePublishOptions): Promise<PublishAck> {
    this.live('durable publish');
    checkSubject(subject);
    const payload = encode(data);
    await this.jsm();
    try {
      const ack = await this.js().publish(subject, payload, o?.msgId === undefined ? {} : { msgID: String(o.msgId) });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (e) {
      if (asNats(e).code === ErrorCode.NoResponders) {
        throw new HostfleetError('E_NOT_FOUND', `no durable stream captures subject ${subject}: declare one with ensureStream first`, { details: { subject } });
      }
      throw this.jsError(e, `durable publish to ${subject}`);
    }
  }

  private async consume(stream: string, durable: string, handler: DurableHandler, o?: ConsumeOptions): Promise<Subscription> {
    this.live('consume');
    checkToken('stream name', stream);
    checkToken('durable name', durable);
    const config = consumerConfig(o);
    const jsm = await this.jsm();
    const wanted = {
      ack_wait: nanos(config.ackWaitMs),
      max_deliver: Number.isFinite(config.maxDeliver) ? config.maxDeliver : -1,
      max_ack_pending: config.maxAckPending,
    };
    try {
      const info = await jsm.consumers.info(stream, durable);
      const filter = info.config.filter_subject || undefined;
      if (filter !== config.filterSubject) {
        throw new HostfleetError('E_CONFLICT', `durable consumer ${durable} of ${stream} filters ${filter ?? '(all)'}, not ${config.filterSubject ?? '(all)'}: delete it first or use another name`, { details: { stream, durable } });
      }
      if (info.config.ack_wait !== wanted.ack_wait || info.config.max_deliver !== wanted.max_deliver || info.config.max_ack_pending !== wanted.max_ack_pending) {
        await jsm.consumers.update(stream, durable, wanted);
      }
    } catch (e) {
      if (isHostfleetError(e)) throw e;
      if (!isNotFound(e)) throw this.jsError(e, `reading consumer ${durable} of ${stream}`);
      try {
        await jsm.consumers.add(stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ...wanted,
          ...(config.filterSubject ? { filter_subject: config.filterSubject } : {}),
        });
      } catch (e2) {
        throw this.jsError(e2, `creating consumer ${durable} of ${stream}`);
      }
    }
    const consumer = await this.js().consumers.get(stream, durable);
    // Fetch no more than the handler can work through before the ack wait runs out.
    const messages = await consumer.consume({ max_messages: Math.min(config.maxAckPending, 64) });
    this.consumers.add(messages);
    let stopped = false;
    const loop = (async () => {
      for await (const m of messages) {
        if (stopped) break; // not acked: JetStream redelivers after the ack wait
        try {
          await handler(decode(m.data), { subject: m.subject, stream: m.info.stream, seq: m.seq, deliveryCount: m.info.redeliveryCount });
          if (!stopped) m.ack();
        } catch (e) {
          if (stopped) continue;
          m.nak(config.retryDelayMs);
          this.onError(e, { subject: m.subject, what: `durable handler failed (delivery ${m.info.redeliveryCount}); will redeliver` });
        }
      }
    })().catch((e: unknown) => this.onError(e, { what: `consumer ${durable} of ${stream} stopped` }));
    return {
      unsubscribe: async () => {
        if (stopped) return;
        stopped = true;
        this.consumers.delete(messages);
        // Not awaiting the loop: a handler still running must not hold up the caller; what it
        // was handling is not acked and comes back after the ack wait.
        messages.stop();
        void loop;
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tracker.set('closed');
    for (const m of this.consumers) m.stop();
    this.consumers.clear();
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
