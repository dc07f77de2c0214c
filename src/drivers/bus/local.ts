/**
 * local.ts is a bus handle living in the same process as its router and durable engine: every
 * handle of the memory bus, and the loopback hub's own handle for the manager that hosts it.
 */
import { randomBytes } from 'node:crypto';
import type {
  Bus,
  BusErrorListener,
  BusKind,
  BusMessage,
  ConsumeOptions,
  DurableBus,
  DurableHandler,
  DurablePublishOptions,
  MessageHandler,
  PublishAck,
  ReplyHandler,
  RequestOptions,
  StreamSpec,
  SubscribeOptions,
  Subscription,
} from './bus.js';
import {
  ERROR_HEADER,
  STATUS_HEADER,
  checkTimeout,
  closedError,
  decode,
  encode,
  errorReply,
  noRespondersError,
  replyToError,
  timeoutError,
} from './codec.js';
import { type DurableEngine, type EngineDelivery, consumerConfig } from './durable-engine.js';
import { Mailbox, DEFAULT_MAX_PENDING, subscriptionMailbox } from './mailbox.js';
import type { Router } from './router.js';
import { type BusStatus, StatusTracker } from './status.js';
import { checkPattern, checkQueue, checkSubject, checkToken } from './subjects.js';

/** BusCore is what handles share: the router of core messages and the durable engine. */
export interface BusCore {
  readonly router: Router;
  readonly engine: DurableEngine;
}

/** LocalBusOptions tune one handle. */
export interface LocalBusOptions {
  readonly kind: BusKind;
  /** onError hears handler failures and slow-consumer drops; default: console.error. */
  readonly onError?: BusErrorListener | undefined;
  /** maxPending bounds the unhandled messages per subscription. */
  readonly maxPending?: number | undefined;
  /** onClose runs once when the handle closes. */
  readonly onClose?: (() => void) | undefined;
}

/** defaultOnError is the listener used when none is given: one line on stderr. */
export const defaultOnError: BusErrorListener = (err, ctx) => {
  console.error(
    `bus: ${ctx.what}${ctx.subject ? ` on ${ctx.subject}` : ''}: ${err instanceof Error ? err.message : String(err)}`,
  );
};

/** YIELD_EVERY_PUBLISHES: a handle's publish gives the event loop a turn this often. */
const YIELD_EVERY_PUBLISHES = 256;

interface PendingRequest {
  readonly subject: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** LocalBus implements Bus directly on a BusCore. */
export class LocalBus implements Bus {
  readonly kind: BusKind;
  readonly durable: DurableBus;
  private closed = false;
  private readonly cleanups = new Set<() => void>();
  private readonly onError: BusErrorListener;
  private readonly maxPending: number;
  private inbox: string | undefined;
  private removeInbox: (() => void) | undefined;
  private nextToken = 1;
  private readonly pending = new Map<string, PendingRequest>();
  private sinceYield = 0;
  private readonly tracker = new StatusTracker('connected', 'the in-process bus');

  constructor(
    private readonly core: BusCore,
    private readonly opts: LocalBusOptions,
  ) {
    this.kind = opts.kind;
    this.onError = opts.onError ?? defaultOnError;
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    this.durable = {
      ensureStream: async (spec: StreamSpec) => {
        this.live('ensureStream');
        core.engine.ensureStream(spec);
      },
      publish: async (subject: string, data: unknown, o?: DurablePublishOptions): Promise<PublishAck> => {
        this.live('durable publish');
        return core.engine.publish(checkSubject(subject), encode(data), o?.msgId);
      },
      consume: async (stream: string, durable: string, handler: DurableHandler, o?: ConsumeOptions) =>
        this.consume(stream, durable, handler, o),
      deleteConsumer: async (stream: string, durable: string) => {
        this.live('deleteConsumer');
        core.engine.deleteConsumer(stream, durable);
      },
      deleteStream: async (name: string) => {
        this.live('deleteStream');
        core.engine.deleteStream(name);
      },
    };
  }

  private live(what: string): void {
    if (this.closed) throw closedError(what);
  }

  /** track registers a cleanup for close() and returns the Subscription that runs it once. */
  private track(cleanup: () => void): Subscription {
    let done = false;
    const run = (): void => {
      if (done) return;
      done = true;
      this.cleanups.delete(run);
      cleanup();
    };
    this.cleanups.add(run);
    return { unsubscribe: async () => run() };
  }

  async publish(subject: string, data: unknown): Promise<void> {
    this.live('publish');
    const m = { subject: checkSubject(subject), data: encode(data) };
    this.core.router.publish(m);
    this.core.engine.capture(m.subject, m.data, false);
    // A publisher in a loop would otherwise never let subscribers run (their mailboxes drain
    // on the event loop) and they would overflow; over a socket, I/O gives them that turn.
    if (++this.sinceYield >= YIELD_EVERY_PUBLISHES) {
      this.sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async subscribe(subject: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.live('subscribe');
    const pattern = checkPattern(subject);
    const queue = checkQueue(opts.queue);
    const box = subscriptionMailbox<BusMessage>(pattern, handler, this.onError, this.maxPending);
    const remove = this.core.router.subscribe(pattern, queue, { deliver: (m) => void box.push(m) });
    return this.track(() => {
      remove();
      box.close();
    });
  }

  async reply(subject: string, handler: ReplyHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.live('reply');
    const pattern = checkPattern(subject);
    const queue = checkQueue(opts.queue);
    let active = true;
    const remove = this.core.router.subscribe(pattern, queue, {
      deliver: (m) => {
        const to = m.reply;
        if (to === undefined) return; // a plain publish to a reply subject has nobody to answer
        // Each request is answered on its own: a slow answer must not hold up the others.
        void Promise.resolve()
          .then(() => handler(decode(m.data), { subject: m.subject, reply: to }))
          .then(
            (result) => {
              if (active) this.core.router.publish({ subject: to, data: encode(result) });
            },
            (err: unknown) => {
              if (!active) return;
              const { code, payload } = errorReply(err);
              this.core.router.publish({ subject: to, data: payload, headers: { [ERROR_HEADER]: code } });
            },
          )
          .catch((e: unknown) => this.onError(e, { subject: m.subject, what: 'reply could not be sent' }));
      },
    });
    return this.track(() => {
      active = false;
      remove();
    });
  }

  async request(subject: string, data: unknown, opts: RequestOptions): Promise<unknown> {
    this.live('request');
    checkSubject(subject);
    const timeoutMs = checkTimeout('timeoutMs', opts?.timeoutMs);
    const payload = encode(data);
    const inbox = this.ensureInbox();
    const token = String(this.nextToken++);
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(timeoutError(subject, timeoutMs));
      }, timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
      this.core.router.publish({ subject, data: payload, reply: `${inbox}.${token}` });
    });
  }

  private ensureInbox(): string {
    if (this.inbox) return this.inbox;
    const inbox = `_INBOX.${randomBytes(9)
      .toString('base64url')
      .replace(/[^A-Za-z0-9]/g, 'x')}`;
    this.removeInbox = this.core.router.subscribe(`${inbox}.*`, undefined, {
      deliver: (m) => {
        const token = m.subject.slice(inbox.length + 1);
        const p = this.pending.get(token);
        if (!p) return; // late reply after a timeout, or a second responder
        this.pending.delete(token);
        clearTimeout(p.timer);
        // Settle outside the responder's call stack, as a remote reply would be.
        queueMicrotask(() => settleReply(p, m));
      },
    });
    this.inbox = inbox;
    return inbox;
  }

  private async consume(
    stream: string,
    durable: string,
    handler: DurableHandler,
    o?: ConsumeOptions,
  ): Promise<Subscription> {
    this.live('consume');
    checkToken('stream name', stream);
    checkToken('durable name', durable);
    const config = consumerConfig(o);
    const engine = this.core.engine;
    let stopped = false;
    const box = new Mailbox<EngineDelivery>(
      async (d) => {
        try {
          await handler(decode(d.data), {
            subject: d.subject,
            stream: d.stream,
            seq: d.seq,
            deliveryCount: d.deliveryCount,
          });
          if (!stopped) engine.ack(d.stream, d.consumer, d.seq);
        } catch (e) {
          if (stopped) return;
          engine.nak(d.stream, d.consumer, d.seq, config.retryDelayMs);
          this.onError(e, {
            subject: d.subject,
            what: `durable handler failed (delivery ${d.deliveryCount}); will redeliver`,
          });
        }
      },
      () => undefined, // cannot happen: the engine never hands out more than maxAckPending
      Number.MAX_SAFE_INTEGER,
    );
    const att = engine.consume(stream, durable, config, (d) => void box.push(d));
    return this.track(() => {
      stopped = true;
      box.close();
      att.detach();
    });
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

  async flush(): Promise<void> {
    this.live('flush');
    // Routing is synchronous; one turn of the event loop lets subscribers start on it.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tracker.set('closed');
    for (const c of [...this.cleanups]) c();
    this.removeInbox?.();
    for (const [token, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(token);
      p.reject(closedError(`request on ${p.subject}`));
    }
    this.opts.onClose?.();
  }
}

/** settleReply resolves or rejects a pending request from the message its inbox received. */
export function settleReply(
  p: { subject: string; resolve: (v: unknown) => void; reject: (e: unknown) => void },
  m: BusMessage,
): void {
  const status = m.headers?.[STATUS_HEADER];
  if (status === '503') {
    p.reject(noRespondersError(p.subject));
    return;
  }
  const code = m.headers?.[ERROR_HEADER];
  if (code !== undefined) {
    p.reject(replyToError(p.subject, code, m.data));
    return;
  }
  try {
    p.resolve(decode(m.data));
  } catch (e) {
    p.reject(
      replyToError(
        p.subject,
        'E_INTERNAL',
        encode({ message: `reply on ${p.subject} is not JSON: ${(e as Error).message}` }),
      ),
    );
  }
}
