/**
 * mailbox.ts is the bounded, serial delivery queue behind one subscription: items are handled
 * one at a time in arrival order, never inside the publisher's call stack, and a subscriber
 * that falls more than maxPending behind loses the newest messages (as a NATS slow consumer
 * does) instead of growing memory without bound.
 */
import type { BusErrorListener, MessageHandler } from './bus.js';
import { decode } from './codec.js';

/** DEFAULT_MAX_PENDING is how many messages one subscription may hold unhandled. */
export const DEFAULT_MAX_PENDING = 65_536;

/** YIELD_EVERY bounds how many synchronous handler calls run before other I/O gets a turn. */
const YIELD_EVERY = 256;

/** Mailbox runs handle for each pushed item, serially. */
export class Mailbox<T> {
  private items: T[] = [];
  private head = 0;
  private running = false;
  private closed = false;
  /** dropped counts items refused because the mailbox was full. */
  dropped = 0;

  constructor(
    private readonly handle: (item: T) => void | Promise<void>,
    private readonly onDrop: (dropped: number) => void,
    private readonly maxPending = DEFAULT_MAX_PENDING,
  ) {}

  /** pending is the number of items waiting. */
  get pending(): number {
    return this.items.length - this.head;
  }

  /** push queues item; it returns false when the item was dropped. */
  push(item: T): boolean {
    if (this.closed) return false;
    if (this.pending >= this.maxPending) {
      this.dropped++;
      // Report the first drop and then every thousandth, so a flood does not flood the log too.
      if (this.dropped === 1 || this.dropped % 1000 === 0) this.onDrop(this.dropped);
      return false;
    }
    this.items.push(item);
    if (!this.running) {
      this.running = true;
      // A microtask, not setImmediate: handlers of different subscriptions (and reply handlers)
      // then start in the order their messages arrived, and never inside the publisher's stack.
      queueMicrotask(() => void this.drain());
    }
    return true;
  }

  /** close drops what is queued and stops handling; it returns the items that were never handled. */
  close(): T[] {
    this.closed = true;
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }

  private async drain(): Promise<void> {
    let sync = 0;
    while (!this.closed && this.head < this.items.length) {
      const item = this.items[this.head] as T;
      this.items[this.head] = undefined as T;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      const r = this.handle(item);
      if (r && typeof (r as Promise<void>).then === 'function') {
        await r;
        sync = 0;
      } else if (++sync >= YIELD_EVERY) {
        sync = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    this.running = false;
  }
}

/**
 * subscriptionMailbox is the mailbox behind one subscription of any implementation: it decodes
 * and hands each message to the handler in order, reports a handler that throws, and reports
 * a subscriber that falls behind.
 */
export function subscriptionMailbox<
  M extends { readonly subject: string; readonly data: Uint8Array; readonly reply?: string | undefined },
>(pattern: string, handler: MessageHandler, onError: BusErrorListener, maxPending: number): Mailbox<M> {
  return new Mailbox<M>(
    async (m) => {
      try {
        await handler(decode(m.data), { subject: m.subject, reply: m.reply || undefined });
      } catch (e) {
        onError(e, { subject: m.subject, what: 'subscription handler failed' });
      }
    },
    (n) =>
      onError(new Error(`slow consumer: ${n} messages dropped`), {
        subject: pattern,
        what: 'subscription fell behind',
      }),
    maxPending,
  );
}
