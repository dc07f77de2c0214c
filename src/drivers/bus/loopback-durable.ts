/**
 * loopback-durable is the loopback client's durable part: streams and durable consumers kept
 * by the hub's DurableEngine, reached through calls. The client remembers the streams it
 * declared and the consumers it attached, so a restarted hub gets them back before anything
 * buffered reaches it; each consumer's messages go through a mailbox to its handler, one at a
 * time, and are acked or nak'ed by what the handler did.
 */
import type {
  BusErrorListener,
  ConsumeOptions,
  DurableBus,
  DurableHandler,
  DurablePublishOptions,
  PublishAck,
  StreamSpec,
  Subscription,
} from './bus.js';
import { decode, encode } from './codec.js';
import { consumerConfig, normaliseStreamSpec } from './durable-engine.js';
import type { CallTable } from './loopback-calls.js';
import { encodeFrame } from './loopback-frame.js';
import type { LoopbackLink } from './loopback-link.js';
import { Mailbox } from './mailbox.js';
import { checkSubject, checkToken } from './subjects.js';

interface Consumer {
  readonly stream: string;
  readonly durable: string;
  readonly opts: ConsumeOptions;
  readonly box: Mailbox<{ header: Record<string, unknown>; payload: Uint8Array }>;
}

/** LoopbackDurableDeps are what the durable part shares with the client. */
export interface LoopbackDurableDeps {
  readonly link: LoopbackLink;
  readonly calls: CallTable;
  readonly nextId: () => number;
  readonly onError: BusErrorListener;
  /** live throws when the client is closed. */
  readonly live: (what: string) => void;
}

/** LoopbackDurable is the DurableBus of a loopback client. */
export class LoopbackDurable implements DurableBus {
  private readonly consumers = new Map<number, Consumer>();
  private readonly streams = new Map<string, StreamSpec>();

  constructor(private readonly deps: LoopbackDurableDeps) {}

  /** ensureStream declares a stream at the hub. */
  async ensureStream(spec: StreamSpec): Promise<void> {
    const s = normaliseStreamSpec(spec);
    await this.deps.calls.call({ method: 'ensureStream', spec: s });
    // Remembered so a restarted hub gets the stream back before consumers re-attach.
    this.streams.set(s.name, s);
  }

  /** publish stores a message in the stream that captures its subject. */
  async publish(subject: string, data: unknown, o?: DurablePublishOptions): Promise<PublishAck> {
    return (await this.deps.calls.call(
      {
        method: 'publish',
        subject: checkSubject(subject),
        ...(o?.msgId === undefined ? {} : { msgId: String(o.msgId) }),
      },
      encode(data),
    )) as PublishAck;
  }

  /** deleteConsumer removes a durable consumer at the hub. */
  async deleteConsumer(stream: string, durable: string): Promise<void> {
    await this.deps.calls.call({
      method: 'deleteConsumer',
      stream: checkToken('stream name', stream),
      durable: checkToken('durable name', durable),
    });
  }

  /** deleteStream removes a stream at the hub and forgets it. */
  async deleteStream(name: string): Promise<void> {
    this.streams.delete(name);
    await this.deps.calls.call({ method: 'deleteStream', name: checkToken('stream name', name) });
  }

  /** consume attaches handler to a durable consumer; the hub redelivers what it nak's or does not ack. */
  async consume(
    stream: string,
    durable: string,
    handler: DurableHandler,
    o: ConsumeOptions = {},
  ): Promise<Subscription> {
    const { link, calls, onError } = this.deps;
    this.deps.live('consume');
    checkToken('stream name', stream);
    checkToken('durable name', durable);
    const config = consumerConfig(o); // validate here, so a bad option fails in the caller
    const cid = this.deps.nextId();
    const ack = (op: 'ack' | 'nak', h: Record<string, unknown>): void => {
      // After unsubscribe the hub has taken the message back; it is handed out again.
      if (!this.consumers.has(cid)) return;
      // An ack lost to a disconnect is harmless: the hub hands the message out again.
      link.sendIfOpen(
        encodeFrame({
          op,
          stream: h.stream,
          durable: h.durable,
          seq: h.seq,
          ...(op === 'nak' ? { delayMs: config.retryDelayMs } : {}),
        }),
      );
    };
    const box = new Mailbox<{ header: Record<string, unknown>; payload: Uint8Array }>(
      async ({ header: h, payload }) => {
        try {
          await handler(decode(payload), {
            subject: String(h.subject),
            stream: String(h.stream),
            seq: Number(h.seq),
            deliveryCount: Number(h.n),
          });
          ack('ack', h);
        } catch (e) {
          ack('nak', h);
          onError(e, {
            subject: String(h.subject),
            what: `durable handler failed (delivery ${String(h.n)}); will redeliver`,
          });
        }
      },
      () => undefined,
      Number.MAX_SAFE_INTEGER,
    );
    this.consumers.set(cid, { stream, durable, opts: o, box });
    try {
      await calls.call({ method: 'consume', cid, stream, durable, opts: o });
    } catch (e) {
      this.consumers.delete(cid);
      box.close();
      throw e;
    }
    return {
      unsubscribe: async () => {
        if (!this.consumers.delete(cid)) return;
        box.close();
        if (link.connected) await calls.call({ method: 'stopConsume', cid }).catch(() => undefined);
      },
    };
  }

  /** restore declares the streams and re-attaches the consumers again, on a new connection. */
  restore(): void {
    const { calls, onError } = this.deps;
    for (const spec of this.streams.values())
      calls.send({ method: 'ensureStream', spec }, undefined, (e) =>
        onError(e, { what: `re-declaring stream ${spec.name}` }),
      );
    for (const [cid, c] of this.consumers)
      calls.send({ method: 'consume', cid, stream: c.stream, durable: c.durable, opts: c.opts }, undefined, (e) =>
        onError(e, { what: `re-attaching consumer ${c.durable} of ${c.stream}` }),
      );
  }

  /** deliver hands a message the hub sent (a dmsg frame) to its consumer. */
  deliver(h: Record<string, unknown>, payload: Uint8Array): void {
    const c = this.consumers.get(Number(h.cid));
    if (c) c.box.push({ header: h, payload });
  }

  /** closeAll stops every consumer (the client is closing). */
  closeAll(): void {
    for (const c of this.consumers.values()) c.box.close();
    this.consumers.clear();
  }
}
