/**
 * durable-engine.ts keeps durable streams and their consumers in memory: the at-least-once part
 * of the memory bus and of the loopback hub. It follows JetStream's model (streams capture
 * subjects; named durable consumers keep a position, messages in flight, redelivery after the
 * ack wait, a cap on deliveries) so code written against the memory bus behaves the same on
 * NATS. State lives as long as the process that hosts the engine: a hub restart loses it.
 */
import { HostfleetError, invalid } from '../../core/errors.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { ConsumeOptions, PublishAck, StreamSpec } from './bus.js';
import { SubjectIndex, checkPattern, checkSubject, checkToken, patternsOverlap, subjectMatches } from './subjects.js';

/** DEFAULT_MAX_MSGS bounds a stream that states no limit, so memory cannot grow without end. */
export const DEFAULT_MAX_MSGS = 100_000;
/** DEFAULT_ACK_WAIT_MS is JetStream's default ack wait. */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** DEFAULT_MAX_ACK_PENDING bounds the messages handed out and not yet acked per consumer. */
export const DEFAULT_MAX_ACK_PENDING = 256;
/** DEFAULT_RETRY_DELAY_MS is how long a message whose handler threw waits before redelivery. */
export const DEFAULT_RETRY_DELAY_MS = 1_000;
/** DUPLICATE_WINDOW_MS is JetStream's default window for msgId deduplication. */
export const DUPLICATE_WINDOW_MS = 120_000;
/** SWEEP_MS is how often ack deadlines and delayed redeliveries are checked. */
const SWEEP_MS = 50;

/** EngineDelivery is one message handed to an attachment. */
export interface EngineDelivery {
  readonly stream: string;
  readonly consumer: string;
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly deliveryCount: number;
}

/** Attachment is one handler attached to a durable consumer; detach hands its messages back. */
export interface Attachment {
  detach(): void;
}

/** ConsumerConfig is a consumer's settings with defaults filled in. */
export interface ConsumerConfig {
  readonly filterSubject: string | undefined;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly maxAckPending: number;
  readonly retryDelayMs: number;
}

interface StoredMsg {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly time: number;
}

interface Stream {
  spec: Required<StreamSpec>;
  readonly msgs: StoredMsg[];
  /** firstSeq is the seq of msgs[0] (or lastSeq + 1 when empty). */
  firstSeq: number;
  lastSeq: number;
  readonly dedupe: Map<string, { seq: number; time: number }>;
  readonly consumers: Map<string, Consumer>;
}

interface Att {
  readonly id: number;
  readonly sink: (d: EngineDelivery) => void;
  closed: boolean;
}

interface Consumer {
  readonly name: string;
  readonly stream: Stream;
  config: ConsumerConfig;
  nextSeq: number;
  readonly inflight: Map<number, { deadline: number; deliveries: number; att: Att }>;
  readonly waiting: Map<number, { notBefore: number; deliveries: number }>;
  attachments: Att[];
  rr: number;
}

/** consumerConfig validates consume options and fills in the defaults. */
export function consumerConfig(opts: ConsumeOptions = {}): ConsumerConfig {
  const posInt = (field: string, v: unknown, dflt: number, max: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw invalid([{ field, problem: `must be a whole number between 1 and ${max}; got ${JSON.stringify(v)}` }]);
    }
    return v;
  };
  return {
    filterSubject: opts.filterSubject === undefined ? undefined : checkPattern(opts.filterSubject, 'filterSubject'),
    ackWaitMs: posInt('ackWaitMs', opts.ackWaitMs, DEFAULT_ACK_WAIT_MS, 3_600_000),
    maxDeliver: posInt('maxDeliver', opts.maxDeliver, Number.POSITIVE_INFINITY, 1_000_000),
    maxAckPending: posInt('maxAckPending', opts.maxAckPending, DEFAULT_MAX_ACK_PENDING, 100_000),
    retryDelayMs: posInt('retryDelayMs', opts.retryDelayMs, DEFAULT_RETRY_DELAY_MS, 3_600_000),
  };
}

/** normaliseStreamSpec validates a stream spec and fills in the defaults. */
export function normaliseStreamSpec(spec: StreamSpec): Required<StreamSpec> {
  const name = checkToken('stream name', spec?.name);
  if (!Array.isArray(spec.subjects) || spec.subjects.length === 0) {
    throw invalid([{ field: 'subjects', problem: `stream ${name} must capture at least one subject pattern` }]);
  }
  spec.subjects.forEach((p, i) => checkPattern(p, `subjects[${i}]`));
  const maxMsgs = spec.maxMsgs ?? DEFAULT_MAX_MSGS;
  if (!Number.isInteger(maxMsgs) || maxMsgs < 1)
    throw invalid([{ field: 'maxMsgs', problem: `must be a whole number ≥ 1; got ${JSON.stringify(spec.maxMsgs)}` }]);
  const maxAgeMs = spec.maxAgeMs ?? 0;
  if (!Number.isFinite(maxAgeMs) || maxAgeMs < 0)
    throw invalid([
      {
        field: 'maxAgeMs',
        problem: `must be ≥ 0 milliseconds (0: no age limit); got ${JSON.stringify(spec.maxAgeMs)}`,
      },
    ]);
  return { name, subjects: [...spec.subjects], maxMsgs, maxAgeMs };
}

/** DurableEngine holds the streams of one memory bus or one loopback hub. */
export class DurableEngine {
  private readonly streams = new Map<string, Stream>();
  /** bySubject finds the stream capturing a subject without scanning every stream's patterns. */
  private bySubject = new SubjectIndex<Stream>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private nextAttId = 1;
  private closed = false;

  /** clock gives the times of messages, ack deadlines and redeliveries. */
  constructor(private readonly clock: Clock = systemClock) {}

  /** ensureStream creates the stream or updates its subjects and limits; E_CONFLICT on overlap. */
  ensureStream(input: StreamSpec): void {
    const spec = normaliseStreamSpec(input);
    for (const other of this.streams.values()) {
      if (other.spec.name === spec.name) continue;
      for (const a of spec.subjects) {
        for (const b of other.spec.subjects) {
          if (patternsOverlap(a, b)) {
            throw new HostfleetError(
              'E_CONFLICT',
              `stream ${spec.name} would capture ${a}, which overlaps ${b} of stream ${other.spec.name}: choose subjects that do not overlap`,
              { details: { stream: spec.name, other: other.spec.name } },
            );
          }
        }
      }
    }
    const existing = this.streams.get(spec.name);
    if (existing) {
      existing.spec = spec;
      this.trim(existing, this.clock.now().getTime());
    } else {
      this.streams.set(spec.name, { spec, msgs: [], firstSeq: 1, lastSeq: 0, dedupe: new Map(), consumers: new Map() });
    }
    this.reindex();
  }

  private reindex(): void {
    this.bySubject = new SubjectIndex<Stream>();
    for (const st of this.streams.values()) for (const p of st.spec.subjects) this.bySubject.add(p, st);
  }

  /**
   * capture stores a core publish in the stream capturing its subject, if any — JetStream
   * stores every message published on a stream's subjects, acked or not, and so must we.
   */
  capture(subject: string, data: Uint8Array, copy: boolean): void {
    if (this.streams.size === 0) return;
    const st = this.bySubject.match(subject)[0];
    if (st) this.store(st, subject, copy ? Uint8Array.prototype.slice.call(data) : data, undefined);
  }

  /** deleteStream drops a stream with its consumers; their attachments get nothing more. */
  deleteStream(name: string): void {
    const st = this.streams.get(checkToken('stream name', name));
    if (!st) return;
    for (const c of st.consumers.values()) c.attachments = [];
    this.streams.delete(name);
    this.reindex();
  }

  /** deleteConsumer forgets one durable consumer. */
  deleteConsumer(stream: string, durable: string): void {
    const st = this.streams.get(checkToken('stream name', stream));
    const c = st?.consumers.get(checkToken('durable name', durable));
    if (!st || !c) return;
    c.attachments = [];
    st.consumers.delete(durable);
  }

  /** publish stores a message in the stream capturing subject and returns where. */
  publish(subject: string, data: Uint8Array, msgId?: string): PublishAck {
    checkSubject(subject);
    const st = this.bySubject.match(subject)[0];
    if (!st) {
      throw new HostfleetError(
        'E_NOT_FOUND',
        `no durable stream captures subject ${subject}: declare one with ensureStream first`,
        { details: { subject } },
      );
    }
    return this.store(st, subject, data, msgId);
  }

  private store(st: Stream, subject: string, data: Uint8Array, msgId: string | undefined): PublishAck {
    const now = this.clock.now().getTime();
    if (msgId !== undefined) {
      const seen = st.dedupe.get(msgId);
      if (seen && now - seen.time < DUPLICATE_WINDOW_MS)
        return { stream: st.spec.name, seq: seen.seq, duplicate: true };
    }
    const seq = ++st.lastSeq;
    st.msgs.push({ seq, subject, data, time: now });
    if (msgId !== undefined) st.dedupe.set(msgId, { seq, time: now });
    this.trim(st, now);
    for (const c of st.consumers.values()) this.pump(c);
    return { stream: st.spec.name, seq, duplicate: false };
  }

  /** consume attaches sink to the durable consumer (created on first use) and starts delivery. */
  consume(stream: string, durable: string, config: ConsumerConfig, sink: (d: EngineDelivery) => void): Attachment {
    const st = this.streams.get(checkToken('stream name', stream));
    checkToken('durable name', durable);
    if (!st)
      throw new HostfleetError('E_NOT_FOUND', `no durable stream named ${stream}: declare it with ensureStream first`, {
        details: { stream },
      });
    let c = st.consumers.get(durable);
    if (c) {
      if (c.config.filterSubject !== config.filterSubject) {
        throw new HostfleetError(
          'E_CONFLICT',
          `durable consumer ${durable} of ${stream} filters ${c.config.filterSubject ?? '(all)'}, not ${config.filterSubject ?? '(all)'}: delete it first or use another name`,
          { details: { stream, durable } },
        );
      }
      c.config = config;
    } else {
      c = {
        name: durable,
        stream: st,
        config,
        nextSeq: st.firstSeq,
        inflight: new Map(),
        waiting: new Map(),
        attachments: [],
        rr: 0,
      };
      st.consumers.set(durable, c);
    }
    const att: Att = { id: this.nextAttId++, sink, closed: false };
    c.attachments.push(att);
    const consumer = c;
    this.startTimer();
    this.pump(consumer);
    return {
      detach: () => {
        if (att.closed) return;
        att.closed = true;
        consumer.attachments = consumer.attachments.filter((a) => a !== att);
        const now = this.clock.now().getTime();
        // What this attachment held but never acked goes back at once: its handler is gone.
        for (const [seq, f] of consumer.inflight) {
          if (f.att === att) {
            consumer.inflight.delete(seq);
            this.requeue(consumer, seq, f.deliveries, now);
          }
        }
        this.pump(consumer);
      },
    };
  }

  /** ack marks a delivered message done; unknown or already acked messages are ignored. */
  ack(stream: string, durable: string, seq: number): void {
    const c = this.streams.get(stream)?.consumers.get(durable);
    if (!c || !c.inflight.delete(seq)) return;
    this.pump(c);
  }

  /** nak hands a delivered message back for redelivery after delayMs. */
  nak(stream: string, durable: string, seq: number, delayMs?: number): void {
    const c = this.streams.get(stream)?.consumers.get(durable);
    const f = c?.inflight.get(seq);
    if (!c || !f) return;
    c.inflight.delete(seq);
    this.requeue(c, seq, f.deliveries, this.clock.now().getTime() + (delayMs ?? c.config.retryDelayMs));
    this.pump(c);
  }

  /** close stops the timer and drops every stream. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const st of this.streams.values()) for (const c of st.consumers.values()) c.attachments = [];
    this.streams.clear();
    this.reindex();
  }

  private requeue(c: Consumer, seq: number, deliveries: number, notBefore: number): void {
    if (deliveries >= c.config.maxDeliver) return; // given up on, as JetStream's max_deliver does
    c.waiting.set(seq, { notBefore, deliveries });
  }

  private trim(st: Stream, now: number): void {
    const { maxMsgs, maxAgeMs } = st.spec;
    let drop = Math.max(0, st.msgs.length - maxMsgs);
    if (maxAgeMs > 0) while (drop < st.msgs.length && now - (st.msgs[drop] as StoredMsg).time > maxAgeMs) drop++;
    if (drop > 0) {
      st.msgs.splice(0, drop);
      st.firstSeq = st.msgs.length > 0 ? (st.msgs[0] as StoredMsg).seq : st.lastSeq + 1;
    }
    if (st.dedupe.size > 0)
      for (const [id, d] of st.dedupe) if (now - d.time >= DUPLICATE_WINDOW_MS) st.dedupe.delete(id);
  }

  private message(st: Stream, seq: number): StoredMsg | undefined {
    return seq < st.firstSeq ? undefined : st.msgs[seq - st.firstSeq];
  }

  private pump(c: Consumer): void {
    const st = c.stream;
    const now = this.clock.now().getTime();
    while (c.attachments.length > 0 && c.inflight.size < c.config.maxAckPending && !this.closed) {
      let seq: number | undefined;
      let deliveries = 0;
      for (const [s, w] of c.waiting) {
        if (w.notBefore <= now && (seq === undefined || s < seq)) {
          seq = s;
          deliveries = w.deliveries;
        }
      }
      if (seq !== undefined) {
        c.waiting.delete(seq);
      } else {
        if (c.nextSeq < st.firstSeq) c.nextSeq = st.firstSeq;
        while (
          c.nextSeq <= st.lastSeq &&
          c.config.filterSubject !== undefined &&
          !subjectMatches(c.config.filterSubject, (this.message(st, c.nextSeq) as StoredMsg).subject)
        )
          c.nextSeq++;
        if (c.nextSeq > st.lastSeq) return;
        seq = c.nextSeq++;
      }
      const m = this.message(st, seq);
      if (!m) continue; // dropped by the stream's limits meanwhile
      const att = c.attachments[c.rr++ % c.attachments.length] as Att;
      c.inflight.set(seq, { deadline: now + c.config.ackWaitMs, deliveries: deliveries + 1, att });
      att.sink({
        stream: st.spec.name,
        consumer: c.name,
        seq,
        subject: m.subject,
        data: m.data,
        deliveryCount: deliveries + 1,
      });
    }
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  private sweep(): void {
    const now = this.clock.now().getTime();
    let busy = false;
    for (const st of this.streams.values()) {
      for (const c of st.consumers.values()) {
        for (const [seq, f] of c.inflight) {
          if (f.deadline <= now) {
            c.inflight.delete(seq);
            this.requeue(c, seq, f.deliveries, now);
          }
        }
        if (c.waiting.size > 0) this.pump(c);
        if (c.attachments.length > 0 || c.inflight.size > 0) busy = true;
      }
    }
    if (!busy && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
