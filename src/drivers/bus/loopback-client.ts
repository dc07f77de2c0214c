/**
 * loopback-client.ts is an agent's end of the loopback bus (see loopback-hub.ts for why the
 * protocol is our own). It authenticates with the hub's token, reconnects with backoff when
 * the hub goes away, re-establishes its subscriptions, streams and durable consumers, and
 * buffers what is published while disconnected up to a bound — as the NATS client does.
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { HostfleetError } from '../../core/errors.js';
import type {
  Bus, BusErrorListener, BusMessage, ConsumeOptions, DurableBus, DurableHandler, DurablePublishOptions, MessageHandler, MessageInfo,
  PublishAck, ReplyHandler, RequestOptions, StreamSpec, SubscribeOptions, Subscription,
} from './bus.js';
import { ERROR_HEADER, busError, checkTimeout, closedError, decode, encode, errorReply, timeoutError } from './codec.js';
import { consumerConfig, normaliseStreamSpec } from './durable-engine.js';
import { defaultOnError, settleReply } from './local.js';
import { FrameReader, PROTOCOL_VERSION, encodeFrame, parseBusUrl, type Frame } from './loopback-frame.js';
import { MAX_FRAME_BYTES } from './loopback-hub.js';
import { Mailbox, DEFAULT_MAX_PENDING, subscriptionMailbox } from './mailbox.js';
import { type BusStatus, StatusTracker } from './status.js';
import { checkPattern, checkQueue, checkSubject, checkToken } from './subjects.js';

/** LoopbackBusOptions configure a client. */
export interface LoopbackBusOptions {
  /** url of the hub: hfbus://127.0.0.1:PORT. */
  readonly url: string;
  readonly token: string;
  /** name identifies the client in the hub's logs (e.g. the server's name). */
  readonly name?: string | undefined;
  /** connectTimeoutMs bounds the first connection and each reconnection attempt; default 5 000. */
  readonly connectTimeoutMs?: number | undefined;
  /** reconnectMinMs/reconnectMaxMs: backoff between attempts, doubling; defaults 50 and 2 000. */
  readonly reconnectMinMs?: number | undefined;
  readonly reconnectMaxMs?: number | undefined;
  /** maxBufferBytes bounds what waits to be sent (while disconnected or behind); default 8 MiB. */
  readonly maxBufferBytes?: number | undefined;
  /** callTimeoutMs bounds durable calls and flush; default 10 000. */
  readonly callTimeoutMs?: number | undefined;
  /** maxPending bounds the unhandled messages per subscription. */
  readonly maxPending?: number | undefined;
  /** pingIntervalMs: how often the client checks the hub is alive; default 10 000. */
  readonly pingIntervalMs?: number | undefined;
  /** maxPingsOut: unanswered pings after which the connection is dropped and re-made; default 2. */
  readonly maxPingsOut?: number | undefined;
  readonly onError?: BusErrorListener | undefined;
}

/** LoopbackBus is a Bus over the hub. */
export type LoopbackBus = Bus;

interface Sub {
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly deliver: (m: BusMessage) => void;
  readonly close: () => void;
}

interface Call {
  readonly header: Record<string, unknown>;
  readonly payload: Uint8Array | undefined;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** epoch is the connection the call was last sent on (0: not sent yet). */
  epoch: number;
}

interface Consumer {
  readonly stream: string;
  readonly durable: string;
  readonly opts: ConsumeOptions;
  readonly box: Mailbox<{ header: Record<string, unknown>; payload: Uint8Array }>;
}

/** loopbackBus connects to a hub; it rejects (E_UNAUTHENTICATED, or E_INTERNAL with failure 'disconnected') when the first connection fails. */
export async function loopbackBus(opts: LoopbackBusOptions): Promise<LoopbackBus> {
  const client = new LoopbackClient(opts);
  await client.start();
  return client;
}

class LoopbackClient implements LoopbackBus {
  readonly kind = 'loopback' as const;
  readonly durable: DurableBus;
  private readonly host: string;
  private readonly port: number;
  private readonly onError: BusErrorListener;
  private readonly maxBuffer: number;
  private readonly callTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxPending: number;
  private state: BusStatus | 'starting' = 'starting';
  private readonly tracker: StatusTracker;
  private socket: Socket | undefined;
  /** dialing is the connection being set up, so close() can stop it too. */
  private dialing: Socket | undefined;
  private epoch = 0;
  private backoff: number;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pingsOut = 0;
  private buffer: Buffer[] = [];
  private bufferBytes = 0;
  private nextId = 1;
  private readonly subs = new Map<number, Sub>();
  private readonly calls = new Map<number, Call>();
  private readonly consumers = new Map<number, Consumer>();
  private readonly streams = new Map<string, StreamSpec>();
  private readonly inbox = `_INBOX.${randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`;
  private readonly requests = new Map<string, { subject: string; resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: ReturnType<typeof setTimeout> }>();

  constructor(private readonly opts: LoopbackBusOptions) {
    try {
      ({ host: this.host, port: this.port } = parseBusUrl(opts.url));
    } catch (e) {
      throw new HostfleetError('E_CONFIG', `bus url: ${(e as Error).message}`);
    }
    if (typeof opts.token !== 'string' || opts.token.length === 0) throw new HostfleetError('E_CONFIG', 'bus token is required: pass the token the hub was started with');
    this.onError = opts.onError ?? defaultOnError;
    this.maxBuffer = opts.maxBufferBytes ?? 8 * 1024 * 1024;
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    this.backoff = opts.reconnectMinMs ?? 50;
    this.tracker = new StatusTracker('reconnecting', `the bus hub at ${opts.url}`);
    this.durable = {
      ensureStream: async (spec: StreamSpec) => {
        const s = normaliseStreamSpec(spec);
        await this.call({ method: 'ensureStream', spec: s });
        // Remembered so a restarted hub gets the stream back before consumers re-attach.
        this.streams.set(s.name, s);
      },
      publish: async (subject: string, data: unknown, o?: DurablePublishOptions) =>
        (await this.call({ method: 'publish', subject: checkSubject(subject), ...(o?.msgId === undefined ? {} : { msgId: String(o.msgId) }) }, encode(data))) as PublishAck,
      consume: (stream, durable, handler, o) => this.consume(stream, durable, handler, o),
      deleteConsumer: async (stream: string, durable: string) => {
        await this.call({ method: 'deleteConsumer', stream: checkToken('stream name', stream), durable: checkToken('durable name', durable) });
      },
      deleteStream: async (name: string) => {
        this.streams.delete(name);
        await this.call({ method: 'deleteStream', name: checkToken('stream name', name) });
      },
    };
  }

  // ---- connection -------------------------------------------------------------------------

  /** start makes the first connection; failing it is a start-up error, not a reason to retry. */
  async start(): Promise<void> {
    this.addSub(`${this.inbox}.*`, undefined, (m) => {
      const token = m.subject.slice(this.inbox.length + 1);
      const p = this.requests.get(token);
      if (!p) return;
      this.requests.delete(token);
      clearTimeout(p.timer);
      settleReply(p, m);
    }, () => undefined);
    await new Promise<void>((resolve, reject) => this.attempt(resolve, reject));
  }

  private attempt(onFirst?: () => void, onFirstFail?: (e: unknown) => void): void {
    if (this.state === 'closed') return;
    const socket = netConnect({ host: this.host, port: this.port });
    this.dialing = socket;
    socket.setNoDelay(true);
    const reader = new FrameReader(MAX_FRAME_BYTES);
    let welcomed = false;
    let fatal: HostfleetError | undefined;
    const timer = setTimeout(() => {
      fatal ??= busError('disconnected', `no welcome from the bus hub at ${this.opts.url} within ${this.connectTimeoutMs} ms`);
      socket.destroy();
    }, this.connectTimeoutMs);
    socket.on('connect', () => {
      socket.write(encodeFrame({ op: 'hello', v: PROTOCOL_VERSION, token: this.opts.token, name: this.opts.name ?? 'agent' }));
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        this.onError(e, { what: 'protocol error from the hub' });
        socket.destroy();
        return;
      }
      for (const f of frames) {
        const h = f.header;
        if (!welcomed) {
          if (h.op === 'welcome') {
            welcomed = true;
            clearTimeout(timer);
            this.dialing = undefined;
            if (this.state === 'closed') {
              socket.destroy();
              return;
            }
            this.socket = socket;
            this.onConnected();
            onFirst?.();
            onFirst = undefined;
            onFirstFail = undefined;
          } else if (h.op === 'err') {
            const code = h.code === 'E_UNAUTHENTICATED' ? 'auth' : 'disconnected';
            fatal = busError(code, `the bus hub at ${this.opts.url} refused the connection: ${String(h.message)}`, { url: this.opts.url });
            socket.destroy();
          }
          continue;
        }
        this.onFrame(f);
      }
    });
    socket.on('error', (e) => {
      fatal ??= busError('disconnected', `cannot reach the bus hub at ${this.opts.url}: ${e.message}`, { url: this.opts.url }, e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (this.dialing === socket) this.dialing = undefined;
      if (this.socket === socket) this.socket = undefined;
      if (this.state === 'closed') return;
      if (onFirstFail) {
        this.setStatus('closed');
        this.clearPending(fatal ?? busError('disconnected', `the bus hub at ${this.opts.url} closed the connection`));
        onFirstFail(fatal ?? busError('disconnected', `the bus hub at ${this.opts.url} closed the connection`));
        return;
      }
      if (fatal && busErrorIsAuth(fatal)) this.onError(fatal, { what: 'reconnect refused' });
      this.setStatus('reconnecting');
      const delay = welcomed ? (this.opts.reconnectMinMs ?? 50) : this.backoff;
      this.backoff = welcomed ? (this.opts.reconnectMinMs ?? 50) : Math.min(this.backoff * 2, this.opts.reconnectMaxMs ?? 2_000);
      this.reconnectTimer = setTimeout(() => this.attempt(), delay);
    });
  }

  private onConnected(): void {
    this.epoch++;
    const socket = this.socket as Socket;
    this.backoff = this.opts.reconnectMinMs ?? 50;
    this.pingsOut = 0;
    if (!this.pingTimer) {
      // A hub that hangs (or a connection that silently died) sends no close; its pongs stop.
      this.pingTimer = setInterval(() => {
        const s = this.socket;
        if (!s || this.state !== 'connected') return;
        if (this.pingsOut >= (this.opts.maxPingsOut ?? 2)) {
          this.onError(new Error(`no answer to ${this.pingsOut} pings`), { what: 'stale connection to the bus hub; reconnecting' });
          s.destroy();
          return;
        }
        this.pingsOut++;
        s.write(encodeFrame({ op: 'ping' }));
      }, this.opts.pingIntervalMs ?? 10_000);
      this.pingTimer.unref();
    }
    // Order matters: subscriptions and streams first, so what was buffered finds its listeners.
    for (const [sid, s] of this.subs) socket.write(encodeFrame({ op: 'sub', sid, subject: s.pattern, ...(s.queue ? { queue: s.queue } : {}) }));
    for (const spec of this.streams.values()) this.sendCall({ method: 'ensureStream', spec }, undefined, (e) => this.onError(e, { what: `re-declaring stream ${spec.name}` }));
    for (const [cid, c] of this.consumers) this.sendCall({ method: 'consume', cid, stream: c.stream, durable: c.durable, opts: c.opts }, undefined, (e) => this.onError(e, { what: `re-attaching consumer ${c.durable} of ${c.stream}` }));
    for (const b of this.buffer) socket.write(b);
    this.buffer = [];
    this.bufferBytes = 0;
    for (const c of this.calls.values()) {
      if (c.epoch !== this.epoch) {
        c.epoch = this.epoch;
        socket.write(encodeFrame(c.header, c.payload));
      }
    }
    this.setStatus('connected');
  }

  private setStatus(s: BusStatus): void {
    this.state = s;
    this.tracker.set(s);
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

  /** write sends a frame now, or buffers it while disconnected; false when the buffer is full. */
  private write(frame: Buffer): boolean {
    const s = this.socket;
    if (s && this.state === 'connected') {
      if (s.writableLength > this.maxBuffer) return false;
      s.write(frame);
      return true;
    }
    if (this.bufferBytes + frame.length > this.maxBuffer) return false;
    this.buffer.push(frame);
    this.bufferBytes += frame.length;
    return true;
  }

  /**
   * room waits while the connected socket holds more than maxBuffer unsent bytes, so a fast
   * publisher is slowed to the hub's pace instead of failing; it returns at once when
   * disconnected (the bounded buffer decides then) and gives up after callTimeoutMs.
   */
  private async room(): Promise<void> {
    const end = Date.now() + this.callTimeoutMs;
    for (;;) {
      const s = this.socket;
      if (!s || this.state !== 'connected' || s.writableLength <= this.maxBuffer || Date.now() > end) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          s.off('drain', done);
          s.off('close', done);
          resolve();
        };
        const t = setTimeout(done, 100);
        s.once('drain', done);
        s.once('close', done);
      });
    }
  }

  private onFrame(f: Frame): void {
    const h = f.header;
    this.pingsOut = 0; // any frame shows the hub is alive
    switch (h.op) {
      case 'msg': {
        const sub = this.subs.get(Number(h.sid));
        if (!sub) return;
        sub.deliver({ subject: String(h.subject), reply: typeof h.reply === 'string' ? h.reply : undefined, headers: h.headers as Record<string, string> | undefined, data: f.payload ?? new Uint8Array(0) });
        return;
      }
      case 'dmsg': {
        const c = this.consumers.get(Number(h.cid));
        if (c) c.box.push({ header: h, payload: f.payload ?? new Uint8Array(0) });
        return;
      }
      case 'result': {
        const id = Number(h.id);
        const c = this.calls.get(id);
        if (!c) return;
        this.calls.delete(id);
        clearTimeout(c.timer);
        if (h.ok === true) c.resolve(h.value);
        else {
          const code = typeof h.code === 'string' && h.code.startsWith('E_') ? h.code : 'E_INTERNAL';
          c.reject(new HostfleetError(code as 'E_INTERNAL', String(h.message), h.fields ? { fields: h.fields as never } : {}));
        }
        return;
      }
      case 'pong':
        this.pingsOut = 0;
        return;
      case 'err':
        this.onError(new Error(`${String(h.code)}: ${String(h.message)}`), { what: 'the hub rejected a frame' });
        return;
      default:
        return;
    }
  }

  // ---- calls (durable operations and flush) --------------------------------------------------

  private sendCall(body: Record<string, unknown>, payload: Uint8Array | undefined, onFail: (e: unknown) => void, resolve: (v: unknown) => void = () => undefined): void {
    const id = this.nextId++;
    const header = { op: 'call', id, ...body };
    const timer = setTimeout(() => {
      this.calls.delete(id);
      onFail(busError('timeout', `the bus hub did not answer ${String(body.method)} within ${this.callTimeoutMs} ms`, { method: body.method }));
    }, this.callTimeoutMs);
    const call: Call = { header, payload, resolve, reject: onFail, timer, epoch: 0 };
    this.calls.set(id, call);
    if (this.socket && this.state === 'connected') {
      call.epoch = this.epoch;
      this.socket.write(encodeFrame(header, payload));
    }
  }

  private call(body: Record<string, unknown>, payload?: Uint8Array): Promise<unknown> {
    if (this.state === 'closed') return Promise.reject(closedError(String(body.method)));
    return new Promise((resolve, reject) => this.sendCall(body, payload, reject, resolve));
  }

  private clearPending(err: unknown): void {
    for (const [id, c] of this.calls) {
      clearTimeout(c.timer);
      this.calls.delete(id);
      c.reject(err);
    }
    for (const [token, r] of this.requests) {
      clearTimeout(r.timer);
      this.requests.delete(token);
      r.reject(err);
    }
  }

  // ---- Bus -----------------------------------------------------------------------------------

  private live(what: string): void {
    if (this.state === 'closed') throw closedError(what);
  }

  private addSub(pattern: string, queue: string | undefined, deliver: (m: BusMessage) => void, close: () => void): number {
    const sid = this.nextId++;
    this.subs.set(sid, { pattern, queue, deliver, close });
    if (this.socket && this.state === 'connected') this.socket.write(encodeFrame({ op: 'sub', sid, subject: pattern, ...(queue ? { queue } : {}) }));
    return sid;
  }

  private removeSub(sid: number): Subscription {
    return {
      unsubscribe: async () => {
        const s = this.subs.get(sid);
        if (!s) return;
        this.subs.delete(sid);
        s.close();
        if (this.socket && this.state === 'connected') this.socket.write(encodeFrame({ op: 'unsub', sid }));
      },
    };
  }

  async publish(subject: string, data: unknown): Promise<void> {
    this.live('publish');
    const frame = encodeFrame({ op: 'pub', subject: checkSubject(subject) }, encode(data));
    await this.room();
    if (!this.write(frame)) throw busError('overflow', `publish to ${subject}: more than ${this.maxBuffer} bytes wait to be sent to the bus hub (disconnected or too slow); retry later`, { subject });
  }

  async subscribe(subject: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.live('subscribe');
    const pattern = checkPattern(subject);
    const queue = checkQueue(opts.queue);
    const box = subscriptionMailbox<BusMessage>(pattern, handler, this.onError, this.maxPending);
    const sid = this.addSub(pattern, queue, (m) => void box.push(m), () => void box.close());
    await this.settled();
    return this.removeSub(sid);
  }

  async reply(subject: string, handler: ReplyHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.live('reply');
    const pattern = checkPattern(subject);
    const queue = checkQueue(opts.queue);
    let active = true;
    const answer = (m: BusMessage, to: string): void => {
      void Promise.resolve()
        .then(() => handler(decode(m.data), { subject: m.subject, reply: to } satisfies MessageInfo))
        .then(
          (result) => (active ? this.write(encodeFrame({ op: 'pub', subject: to }, encode(result))) : true),
          (err: unknown) => {
            if (!active) return true;
            const { code, payload } = errorReply(err);
            return this.write(encodeFrame({ op: 'pub', subject: to, headers: { [ERROR_HEADER]: code } }, payload));
          },
        )
        .then((sent) => {
          if (!sent) this.onError(new Error('send buffer full'), { subject: m.subject, what: 'reply dropped' });
        })
        .catch((e: unknown) => this.onError(e, { subject: m.subject, what: 'reply could not be sent' }));
    };
    const sid = this.addSub(pattern, queue, (m) => {
      if (m.reply !== undefined) answer(m, m.reply);
    }, () => {
      active = false;
    });
    await this.settled();
    return this.removeSub(sid);
  }

  async request(subject: string, data: unknown, opts: RequestOptions): Promise<unknown> {
    this.live('request');
    checkSubject(subject);
    const timeoutMs = checkTimeout('timeoutMs', opts?.timeoutMs);
    const token = String(this.nextId++);
    const frame = encodeFrame({ op: 'pub', subject, reply: `${this.inbox}.${token}` }, encode(data));
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(token);
        reject(timeoutError(subject, timeoutMs));
      }, timeoutMs);
      this.requests.set(token, { subject, resolve, reject, timer });
      if (!this.write(frame)) {
        clearTimeout(timer);
        this.requests.delete(token);
        reject(busError('overflow', `request to ${subject}: the send buffer to the bus hub is full; retry later`, { subject }));
      }
    });
  }

  private async consume(stream: string, durable: string, handler: DurableHandler, o: ConsumeOptions = {}): Promise<Subscription> {
    this.live('consume');
    checkToken('stream name', stream);
    checkToken('durable name', durable);
    const config = consumerConfig(o); // validate here, so a bad option fails in the caller
    const cid = this.nextId++;
    const ack = (op: 'ack' | 'nak', h: Record<string, unknown>): void => {
      // After unsubscribe the hub has taken the message back; it is handed out again.
      if (!this.consumers.has(cid)) return;
      // An ack lost to a disconnect is harmless: the hub hands the message out again.
      if (this.socket && this.state === 'connected') this.socket.write(encodeFrame({ op, stream: h.stream, durable: h.durable, seq: h.seq, ...(op === 'nak' ? { delayMs: config.retryDelayMs } : {}) }));
    };
    const box = new Mailbox<{ header: Record<string, unknown>; payload: Uint8Array }>(
      async ({ header: h, payload }) => {
        try {
          await handler(decode(payload), { subject: String(h.subject), stream: String(h.stream), seq: Number(h.seq), deliveryCount: Number(h.n) });
          ack('ack', h);
        } catch (e) {
          ack('nak', h);
          this.onError(e, { subject: String(h.subject), what: `durable handler failed (delivery ${String(h.n)}); will redeliver` });
        }
      },
      () => undefined,
      Number.MAX_SAFE_INTEGER,
    );
    this.consumers.set(cid, { stream, durable, opts: o, box });
    try {
      await this.call({ method: 'consume', cid, stream, durable, opts: o });
    } catch (e) {
      this.consumers.delete(cid);
      box.close();
      throw e;
    }
    return {
      unsubscribe: async () => {
        if (!this.consumers.delete(cid)) return;
        box.close();
        if (this.state === 'connected') await this.call({ method: 'stopConsume', cid }).catch(() => undefined);
      },
    };
  }

  /** settled waits until the hub has processed what was sent, so a new subscription is live; while disconnected it returns at once (resubscribing happens on reconnect). */
  private async settled(): Promise<void> {
    if (this.state === 'connected') await this.call({ method: 'ping' }).catch(() => undefined);
  }

  async flush(): Promise<void> {
    this.live('flush');
    await this.call({ method: 'ping' });
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.dialing?.destroy();
    const socket = this.socket;
    if (socket && this.state === 'connected') {
      // Hand what is still queued to the hub before leaving, bounded so close never hangs.
      await Promise.race([this.call({ method: 'ping' }).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    this.setStatus('closed');
    for (const s of this.subs.values()) s.close();
    this.subs.clear();
    for (const c of this.consumers.values()) c.box.close();
    this.consumers.clear();
    this.clearPending(closedError('close'));
    this.buffer = [];
    this.bufferBytes = 0;
    if (socket) {
      socket.end();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          socket.destroy();
          resolve();
        }, 1000);
        socket.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

function busErrorIsAuth(e: HostfleetError): boolean {
  return e.code === 'E_UNAUTHENTICATED';
}
