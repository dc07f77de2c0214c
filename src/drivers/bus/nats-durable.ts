/**
 * nats-durable is the NATS bus's durable part on JetStream: streams declared (or brought up to
 * date) on demand, publishes acknowledged by the stream, and durable pull consumers whose
 * handlers run one message at a time, acked on success and nak'ed with a delay on failure.
 */
import {
  AckPolicy,
  DeliverPolicy,
  StorageType,
  nanos,
  ErrorCode,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
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
import { busError, decode, encode } from './codec.js';
import { DUPLICATE_WINDOW_MS, consumerConfig, normaliseStreamSpec } from './durable-engine.js';
import { asNats, isNotFound, jsError } from './nats-errors.js';
import type { NatsBusOptions } from './nats.js';
import { checkSubject, checkToken } from './subjects.js';

/** NatsDurable is the DurableBus of a NATS connection. */
export class NatsDurable implements DurableBus {
  private readonly consumers = new Set<ConsumerMessages>();
  private jsmP: Promise<JetStreamManager> | undefined;
  private jsC: JetStreamClient | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: Pick<NatsBusOptions, 'jsDomain' | 'storage' | 'streamReplicas'>,
    private readonly onError: BusErrorListener,
    /** live throws when the bus is closed. */
    private readonly live: (what: string) => void,
  ) {}

  private jsm(): Promise<JetStreamManager> {
    this.live('durable');
    this.jsmP ??= this.nc
      .jetstreamManager(this.opts.jsDomain ? { domain: this.opts.jsDomain } : {})
      .catch((e: unknown) => {
        this.jsmP = undefined;
        throw busError(
          'remote',
          `JetStream is not available on NATS (start nats-server with -js): ${asNats(e).message ?? String(e)}`,
          {},
          e,
        );
      });
    return this.jsmP;
  }

  private js(): JetStreamClient {
    this.jsC ??= this.nc.jetstream(this.opts.jsDomain ? { domain: this.opts.jsDomain } : {});
    return this.jsC;
  }

  /** ensureStream creates the stream, or updates its subjects and limits when they differ. */
  async ensureStream(spec: StreamSpec): Promise<void> {
    const s = normaliseStreamSpec(spec);
    const jsm = await this.jsm();
    const limits = { subjects: [...s.subjects], max_msgs: s.maxMsgs, max_age: nanos(s.maxAgeMs) };
    try {
      const info = await jsm.streams.info(s.name);
      const c = info.config;
      const same =
        c.max_msgs === limits.max_msgs &&
        c.max_age === limits.max_age &&
        JSON.stringify([...(c.subjects ?? [])].sort()) === JSON.stringify([...limits.subjects].sort());
      if (!same) await jsm.streams.update(s.name, { ...c, ...limits });
    } catch (e) {
      if (!isNotFound(e)) throw jsError(e, `declaring stream ${s.name}`);
      try {
        await jsm.streams.add({
          name: s.name,
          ...limits,
          storage: this.opts.storage === 'memory' ? StorageType.Memory : StorageType.File,
          num_replicas: this.opts.streamReplicas ?? 1,
          duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        });
      } catch (e2) {
        throw jsError(e2, `declaring stream ${s.name}`);
      }
    }
  }

  /** publish stores a message in the stream that captures its subject (deduplicated by msgId). */
  async publish(subject: string, data: unknown, o?: DurablePublishOptions): Promise<PublishAck> {
    this.live('durable publish');
    checkSubject(subject);
    const payload = encode(data);
    await this.jsm();
    try {
      const ack = await this.js().publish(subject, payload, o?.msgId === undefined ? {} : { msgID: String(o.msgId) });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (e) {
      if (asNats(e).code === ErrorCode.NoResponders) {
        throw new HostfleetError(
          'E_NOT_FOUND',
          `no durable stream captures subject ${subject}: declare one with ensureStream first`,
          { details: { subject } },
        );
      }
      throw jsError(e, `durable publish to ${subject}`);
    }
  }

  /** consume attaches handler to a durable consumer, creating it or bringing its settings up to date. */
  async consume(stream: string, durable: string, handler: DurableHandler, o?: ConsumeOptions): Promise<Subscription> {
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
        throw new HostfleetError(
          'E_CONFLICT',
          `durable consumer ${durable} of ${stream} filters ${filter ?? '(all)'}, not ${config.filterSubject ?? '(all)'}: delete it first or use another name`,
          { details: { stream, durable } },
        );
      }
      if (
        info.config.ack_wait !== wanted.ack_wait ||
        info.config.max_deliver !== wanted.max_deliver ||
        info.config.max_ack_pending !== wanted.max_ack_pending
      ) {
        await jsm.consumers.update(stream, durable, wanted);
      }
    } catch (e) {
      if (isHostfleetError(e)) throw e;
      if (!isNotFound(e)) throw jsError(e, `reading consumer ${durable} of ${stream}`);
      try {
        await jsm.consumers.add(stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ...wanted,
          ...(config.filterSubject ? { filter_subject: config.filterSubject } : {}),
        });
      } catch (e2) {
        throw jsError(e2, `creating consumer ${durable} of ${stream}`);
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
          await handler(decode(m.data), {
            subject: m.subject,
            stream: m.info.stream,
            seq: m.seq,
            deliveryCount: m.info.redeliveryCount,
          });
          if (!stopped) m.ack();
        } catch (e) {
          if (stopped) continue;
          m.nak(config.retryDelayMs);
          this.onError(e, {
            subject: m.subject,
            what: `durable handler failed (delivery ${m.info.redeliveryCount}); will redeliver`,
          });
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

  /** deleteConsumer removes a durable consumer; an absent one is already gone. */
  async deleteConsumer(stream: string, durable: string): Promise<void> {
    const jsm = await this.jsm();
    await jsm.consumers
      .delete(checkToken('stream name', stream), checkToken('durable name', durable))
      .catch((e: unknown) => {
        if (!isNotFound(e)) throw jsError(e, `deleting consumer ${durable} of ${stream}`);
      });
  }

  /** deleteStream removes a stream; an absent one is already gone. */
  async deleteStream(name: string): Promise<void> {
    const jsm = await this.jsm();
    await jsm.streams.delete(checkToken('stream name', name)).catch((e: unknown) => {
      if (!isNotFound(e)) throw jsError(e, `deleting stream ${name}`);
    });
  }

  /** stopAll stops every consumer (the bus is closing). */
  stopAll(): void {
    for (const m of this.consumers) m.stop();
    this.consumers.clear();
  }
}
