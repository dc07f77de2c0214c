/**
 * bus.ts states the management bus contract that every implementation (memory, loopback, NATS)
 * keeps; test/contract/bus.test.ts checks it against all three.
 *
 * The bus is the seed's out-of-band communication channel: agents' status and add/release
 * requests go to the site's manager, the manager's pushes (priority inputs, provisioning
 * nudges) go to agents — never over the customers' data path.
 *
 * Semantics shared by all implementations:
 * - Payloads are JSON values (encoded once, so a subscriber never shares an object with the
 *   publisher). `undefined` travels as an empty payload and arrives as `undefined`.
 * - Subjects are dot-separated tokens; subscriptions may use NATS wildcards: `*` is exactly one
 *   token, `>` (last token only) is one or more tokens. Anything else is rejected with
 *   E_VALIDATION before it reaches the wire.
 * - Core pub/sub is at-most-once: a message published while nobody listens is gone.
 *   Messages from one publisher reach one subscription in the order they were published.
 * - A subscription's handler runs for one message at a time, in order; its promise is awaited
 *   before the next message is handed over. A reply handler runs concurrently per request.
 * - Subscriptions with the same queue name on the same subject pattern share the messages:
 *   each message goes to exactly one of them.
 * - request() fails fast when nobody listens (failure `no_responders`) and after timeoutMs
 *   otherwise (failure `timeout`); a reply handler that throws a HostfleetError makes the
 *   request reject with the same code and message.
 * - The durable part (JetStream in NATS) is at-least-once: a message is kept in a stream until
 *   its limits drop it; each named durable consumer sees every message of its stream (or of
 *   its filter) and a message is redelivered until the handler returns without throwing.
 */
import type { BusStatus } from './status.js';

/** BusMessage is one message as it travels: subject, JSON payload bytes, reply subject, headers. */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly reply?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** MessageInfo is what a subscription handler learns about a message besides its data. */
export interface MessageInfo {
  readonly subject: string;
  readonly reply?: string | undefined;
}

/** Subscription ends one subscribe, reply or consume; unsubscribing twice is harmless. */
export interface Subscription {
  unsubscribe(): Promise<void>;
}

/** SubscribeOptions: queue puts the subscription in a queue group (one member gets each message). */
export interface SubscribeOptions {
  readonly queue?: string | undefined;
}

/** RequestOptions: timeoutMs bounds the wait for the reply (required: a bus call never hangs). */
export interface RequestOptions {
  readonly timeoutMs: number;
}

/** MessageHandler handles one core message; a throw is reported to onError and delivery goes on. */
export type MessageHandler = (data: unknown, msg: MessageInfo) => void | Promise<void>;

/** ReplyHandler computes the answer to one request; a throw becomes the requester's error. */
export type ReplyHandler = (data: unknown, msg: MessageInfo) => unknown;

/**
 * StreamSpec declares a durable stream: which subjects it captures and how much it keeps.
 * Streams of one bus must not capture overlapping subjects.
 */
export interface StreamSpec {
  /** name is a token (letters, digits, '-' and '_'). */
  readonly name: string;
  /** subjects are subject patterns (wildcards allowed) whose messages the stream keeps. */
  readonly subjects: readonly string[];
  /** maxMsgs bounds the messages kept (oldest dropped first); default 100 000. */
  readonly maxMsgs?: number | undefined;
  /** maxAgeMs drops messages older than this; default: kept until maxMsgs drops them. */
  readonly maxAgeMs?: number | undefined;
}

/** PublishAck tells where a durable message was stored; duplicate is true for a repeated msgId. */
export interface PublishAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** DurablePublishOptions: msgId makes a retried publish idempotent within two minutes. */
export interface DurablePublishOptions {
  readonly msgId?: string | undefined;
}

/** DurableMessageInfo is what a durable handler learns about a message. */
export interface DurableMessageInfo {
  readonly subject: string;
  readonly stream: string;
  /** seq is the message's position in its stream (1, 2, …): a handler can skip what it has done. */
  readonly seq: number;
  /** deliveryCount is 1 on first delivery, more on redeliveries. */
  readonly deliveryCount: number;
}

/** DurableHandler handles one durable message: returning acks it, throwing asks for redelivery. */
export type DurableHandler = (data: unknown, msg: DurableMessageInfo) => void | Promise<void>;

/** ConsumeOptions tunes a durable consumer; the first consume of a durable name creates it. */
export interface ConsumeOptions {
  /** filterSubject narrows the consumer to a subject pattern within the stream. */
  readonly filterSubject?: string | undefined;
  /** ackWaitMs: a message not acked within this is redelivered; default 30 000. */
  readonly ackWaitMs?: number | undefined;
  /** maxDeliver: after this many deliveries a message is given up on; default unlimited. */
  readonly maxDeliver?: number | undefined;
  /** maxAckPending bounds the messages handed out and not yet acked; default 256. */
  readonly maxAckPending?: number | undefined;
  /** retryDelayMs: a handler that throws gets the message again after this; default 1 000. */
  readonly retryDelayMs?: number | undefined;
}

/**
 * DurableBus is the at-least-once part of the bus (JetStream on NATS). ensureStream and
 * deleteStream are idempotent; publish resolves only once the stream has stored the message.
 */
export interface DurableBus {
  ensureStream(spec: StreamSpec): Promise<void>;
  /** publish stores data in the stream capturing subject; E_NOT_FOUND when no stream does. */
  publish(subject: string, data: unknown, opts?: DurablePublishOptions): Promise<PublishAck>;
  /**
   * consume attaches handler to the durable consumer durableName of stream. Several attached
   * handlers (in one process or many) share the messages; handlers of one attachment run one
   * message at a time, in stream order except for redeliveries.
   */
  consume(stream: string, durableName: string, handler: DurableHandler, opts?: ConsumeOptions): Promise<Subscription>;
  /** deleteConsumer forgets a durable consumer and its position; unknown names are fine. */
  deleteConsumer(stream: string, durableName: string): Promise<void>;
  /** deleteStream drops a stream, its messages and its consumers; unknown names are fine. */
  deleteStream(name: string): Promise<void>;
}

/** Bus is the management bus: core pub/sub, request-reply, queue groups and durable streams. */
export interface Bus {
  /** kind names the implementation (for logs and the console). */
  readonly kind: BusKind;
  /** publish sends data (JSON-encoded) to subject; fire and forget. */
  publish(subject: string, data: unknown): Promise<void>;
  /** subscribe runs handler for every message on subject (a pattern: `*` one token, `>` the rest). */
  subscribe(subject: string, handler: MessageHandler, opts?: SubscribeOptions): Promise<Subscription>;
  /** request sends data and waits for one reply; rejects with a HostfleetError on timeout or no responders. */
  request(subject: string, data: unknown, opts: RequestOptions): Promise<unknown>;
  /** reply answers requests on subject with handler's result. */
  reply(subject: string, handler: ReplyHandler, opts?: SubscribeOptions): Promise<Subscription>;
  /** flush resolves once everything published so far has reached the bus's router. */
  flush(): Promise<void>;
  /** durable is the at-least-once part. */
  readonly durable: DurableBus;
  /** status tells whether the connection is up ('connected'), being re-made ('reconnecting') or closed. */
  status(): BusStatus;
  /** onStatus calls fn on every change of status; it returns the function that stops it. */
  onStatus(fn: (s: BusStatus) => void): () => void;
  /** waitConnected resolves when connected, or rejects (failure 'disconnected') after timeoutMs. */
  waitConnected(timeoutMs: number): Promise<void>;
  /** close unsubscribes everything, rejects pending requests and releases the connection. */
  close(): Promise<void>;
}

/** BUS_KINDS lists the implementations. */
export const BUS_KINDS = ['memory', 'loopback', 'nats'] as const;
/** BusKind is one of BUS_KINDS. */
export type BusKind = (typeof BUS_KINDS)[number];

/** BusErrorListener hears errors that have no caller to go to (a handler that threw, a slow consumer). */
export type BusErrorListener = (
  err: unknown,
  context: { readonly subject?: string | undefined; readonly what: string },
) => void;
