/**
 * loopback-client.ts is an agent's end of the loopback bus (see loopback-hub.ts for why the
 * protocol is our own). It authenticates with the hub's token, reconnects with backoff when
 * the hub goes away, re-establishes its subscriptions, streams and durable consumers, and
 * buffers what is published while disconnected up to a bound — as the NATS client does. The
 * connection is loopback-link.ts, the calls to the hub loopback-calls.ts and the durable part
 * loopback-durable.ts; this file holds the core publish, subscribe and request-reply.
 */
import { randomBytes } from 'node:crypto';
import { HostfleetError } from '../../core/errors.js';
import { systemClock, type Clock } from '../clock/index.js';
import type {
  Bus,
  BusErrorListener,
  BusMessage,
  MessageHandler,
  MessageInfo,
  ReplyHandler,
  RequestOptions,
  SubscribeOptions,
  Subscription,
} from './bus.js';
import {
  ERROR_HEADER,
  busError,
  checkTimeout,
  closedError,
  decode,
  encode,
  errorReply,
  timeoutError,
} from './codec.js';
import { defaultOnError, settleReply } from './local.js';
import { CallTable } from './loopback-calls.js';
import { LoopbackDurable } from './loopback-durable.js';
import { encodeFrame, parseBusUrl, type Frame } from './loopback-frame.js';
import { LoopbackLink } from './loopback-link.js';
import { DEFAULT_MAX_PENDING, subscriptionMailbox } from './mailbox.js';
import type { BusStatus } from './status.js';
import { checkPattern, checkQueue, checkSubject } from './subjects.js';

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
  /** clock bounds how long a publish waits for a slow hub; default the system clock. */
  readonly clock?: Clock | undefined;
}

/** LoopbackBus is a Bus over the hub. */
export type LoopbackBus = Bus;

interface Sub {
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly deliver: (m: BusMessage) => void;
  readonly close: () => void;
}

/** loopbackBus connects to a hub; it rejects (E_UNAUTHENTICATED, or E_INTERNAL with failure 'disconnected') when the first connection fails. */
export async function loopbackBus(opts: LoopbackBusOptions): Promise<LoopbackBus> {
  const client = new LoopbackClient(opts);
  await client.start();
  return client;
}

class LoopbackClient implements LoopbackBus {
  readonly kind = 'loopback' as const;
  readonly durable: LoopbackDurable;
  private readonly onError: BusErrorListener;
  private readonly maxBuffer: number;
  private readonly maxPending: number;
  private readonly link: LoopbackLink;
  private readonly calls: CallTable;
  private nextId = 1;
  private readonly subs = new Map<number, Sub>();
  private readonly inbox = `_INBOX.${randomBytes(9)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x')}`;
  private readonly requests = new Map<
    string,
    {
      subject: string;
      resolve: (v: unknown) => void;
      reject: (e: unknown) => void;
      timer: ReturnType<typeof setTimeout>;
    }
  >();

  constructor(opts: LoopbackBusOptions) {
    let host: string;
    let port: number;
    try {
      ({ host, port } = parseBusUrl(opts.url));
    } catch (e) {
      throw new HostfleetError('E_CONFIG', `bus url: ${(e as Error).message}`);
    }
    if (typeof opts.token !== 'string' || opts.token.length === 0)
      throw new HostfleetError('E_CONFIG', 'bus token is required: pass the token the hub was started with');
    this.onError = opts.onError ?? defaultOnError;
    this.maxBuffer = opts.maxBufferBytes ?? 8 * 1024 * 1024;
    const callTimeoutMs = opts.callTimeoutMs ?? 10_000;
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    this.link = new LoopbackLink(
      {
        url: opts.url,
        host,
        port,
        token: opts.token,
        name: opts.name,
        connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
        reconnectMinMs: opts.reconnectMinMs,
        reconnectMaxMs: opts.reconnectMaxMs,
        maxBuffer: this.maxBuffer,
        roomTimeoutMs: callTimeoutMs,
        pingIntervalMs: opts.pingIntervalMs,
        maxPingsOut: opts.maxPingsOut,
        onError: this.onError,
        clock: opts.clock ?? systemClock,
      },
      {
        restore: (write) => {
          for (const [sid, s] of this.subs)
            write(encodeFrame({ op: 'sub', sid, subject: s.pattern, ...(s.queue ? { queue: s.queue } : {}) }));
          this.durable.restore();
        },
        resend: (write) => this.calls.resend(write),
        frame: (f) => this.onFrame(f),
        failed: (err) => this.clearPending(err),
      },
    );
    const ids = (): number => this.nextId++;
    this.calls = new CallTable(this.link, callTimeoutMs, ids);
    this.durable = new LoopbackDurable({
      link: this.link,
      calls: this.calls,
      nextId: ids,
      onError: this.onError,
      live: (what) => this.live(what),
    });
  }

  /** start makes the first connection; failing it is a start-up error, not a reason to retry. */
  async start(): Promise<void> {
    this.addSub(
      `${this.inbox}.*`,
      undefined,
      (m) => {
        const token = m.subject.slice(this.inbox.length + 1);
        const p = this.requests.get(token);
        if (!p) return;
        this.requests.delete(token);
        clearTimeout(p.timer);
        settleReply(p, m);
      },
      () => undefined,
    );
    await this.link.start();
  }

  status(): BusStatus {
    return this.link.tracker.get();
  }

  onStatus(fn: (s: BusStatus) => void): () => void {
    return this.link.tracker.on(fn);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.link.tracker.waitConnected(timeoutMs);
  }

  private onFrame(f: Frame): void {
    const h = f.header;
    switch (h.op) {
      case 'msg': {
        const sub = this.subs.get(Number(h.sid));
        if (!sub) return;
        sub.deliver({
          subject: String(h.subject),
          reply: typeof h.reply === 'string' ? h.reply : undefined,
          headers: h.headers as Record<string, string> | undefined,
          data: f.payload ?? new Uint8Array(0),
        });
        return;
      }
      case 'dmsg':
        this.durable.deliver(h, f.payload ?? new Uint8Array(0));
        return;
      case 'result':
        this.calls.settle(h);
        return;
      case 'pong':
        return; // the link counts every frame as a sign of life
      case 'err':
        this.onError(new Error(`${String(h.code)}: ${String(h.message)}`), { what: 'the hub rejected a frame' });
        return;
      default:
        return;
    }
  }

  private clearPending(err: unknown): void {
    this.calls.rejectAll(err);
    for (const [token, r] of this.requests) {
      clearTimeout(r.timer);
      this.requests.delete(token);
      r.reject(err);
    }
  }

  // ---- Bus -----------------------------------------------------------------------------------

  private live(what: string): void {
    if (this.link.closed) throw closedError(what);
  }

  private addSub(
    pattern: string,
    queue: string | undefined,
    deliver: (m: BusMessage) => void,
    close: () => void,
  ): number {
    const sid = this.nextId++;
    this.subs.set(sid, { pattern, queue, deliver, close });
    this.link.sendIfOpen(encodeFrame({ op: 'sub', sid, subject: pattern, ...(queue ? { queue } : {}) }));
    return sid;
  }

  private removeSub(sid: number): Subscription {
    return {
      unsubscribe: async () => {
        const s = this.subs.get(sid);
        if (!s) return;
        this.subs.delete(sid);
        s.close();
        this.link.sendIfOpen(encodeFrame({ op: 'unsub', sid }));
      },
    };
  }

  async publish(subject: string, data: unknown): Promise<void> {
    this.live('publish');
    const frame = encodeFrame({ op: 'pub', subject: checkSubject(subject) }, encode(data));
    await this.link.room();
    if (!this.link.send(frame))
      throw busError(
        'overflow',
        `publish to ${subject}: more than ${this.maxBuffer} bytes wait to be sent to the bus hub (disconnected or too slow); retry later`,
        { subject },
      );
  }

  async subscribe(subject: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.live('subscribe');
    const pattern = checkPattern(subject);
    const queue = checkQueue(opts.queue);
    const box = subscriptionMailbox<BusMessage>(pattern, handler, this.onError, this.maxPending);
    const sid = this.addSub(
      pattern,
      queue,
      (m) => void box.push(m),
      () => void box.close(),
    );
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
          (result) => (active ? this.link.send(encodeFrame({ op: 'pub', subject: to }, encode(result))) : true),
          (err: unknown) => {
            if (!active) return true;
            const { code, payload } = errorReply(err);
            return this.link.send(encodeFrame({ op: 'pub', subject: to, headers: { [ERROR_HEADER]: code } }, payload));
          },
        )
        .then((sent) => {
          if (!sent) this.onError(new Error('send buffer full'), { subject: m.subject, what: 'reply dropped' });
        })
        .catch((e: unknown) => this.onError(e, { subject: m.subject, what: 'reply could not be sent' }));
    };
    const sid = this.addSub(
      pattern,
      queue,
      (m) => {
        if (m.reply !== undefined) answer(m, m.reply);
      },
      () => {
        active = false;
      },
    );
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
      if (!this.link.send(frame)) {
        clearTimeout(timer);
        this.requests.delete(token);
        reject(
          busError('overflow', `request to ${subject}: the send buffer to the bus hub is full; retry later`, {
            subject,
          }),
        );
      }
    });
  }

  /** settled waits until the hub has processed what was sent, so a new subscription is live; while disconnected it returns at once (resubscribing happens on reconnect). */
  private async settled(): Promise<void> {
    if (this.link.connected) await this.calls.call({ method: 'ping' }).catch(() => undefined);
  }

  async flush(): Promise<void> {
    this.live('flush');
    await this.calls.call({ method: 'ping' });
  }

  async close(): Promise<void> {
    await this.link.close(
      () => this.calls.call({ method: 'ping' }).catch(() => undefined),
      () => {
        for (const s of this.subs.values()) s.close();
        this.subs.clear();
        this.durable.closeAll();
        this.clearPending(closedError('close'));
      },
    );
  }
}
