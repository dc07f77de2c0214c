/**
 * loopback-hub-connection is one client's session at the loopback hub: the hello that
 * authenticates it, the frames it sends (publishes, subscriptions, acks, calls on the durable
 * engine) and what the hub sends back, with a bound on its unsent output so one slow client
 * cannot make the hub buffer without end.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import type { BusErrorListener, BusMessage } from './bus.js';
import { type Attachment, type DurableEngine, consumerConfig } from './durable-engine.js';
import { FrameReader, MAX_FRAME_BYTES, PROTOCOL_VERSION, encodeFrame, type Frame } from './loopback-frame.js';
import type { Router } from './router.js';
import { checkPattern, checkQueue, checkSubject } from './subjects.js';

/** PRE_AUTH_MAX_FRAME: before hello, frames are tiny; a stranger cannot make the hub buffer much. */
const PRE_AUTH_MAX_FRAME = 4_096;

/** digest hashes a token, so tokens of any length compare in constant time. */
export function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** ConnectionDeps are what every connection shares with the hub. */
export interface ConnectionDeps {
  readonly tokenDigest: Buffer;
  readonly maxOut: number;
  readonly name: string;
  readonly helloTimeoutMs: number;
  readonly counters: { published: number; dropped: number; refused: number };
  readonly onError: BusErrorListener;
  readonly onAuth: () => void;
}

/** HubConnection is one client's session at the hub: its subscriptions and durable attachments. */
export class HubConnection {
  authenticated = false;
  private readonly reader = new FrameReader(PRE_AUTH_MAX_FRAME);
  private readonly subs = new Map<number, () => void>();
  private readonly consumers = new Map<number, Attachment>();
  private readonly helloTimer: ReturnType<typeof setTimeout>;
  private dropped = 0;
  private clientName = '?';

  constructor(
    private readonly socket: Socket,
    private readonly core: { router: Router; engine: DurableEngine },
    private readonly deps: ConnectionDeps,
  ) {
    this.helloTimer = setTimeout(
      () => this.fail('E_UNAUTHENTICATED', `no hello within ${deps.helloTimeoutMs} ms`),
      deps.helloTimeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (e) {
        this.fail('E_VALIDATION', `protocol error: ${(e as Error).message}`);
        return;
      }
      for (const f of frames) {
        if (socket.destroyed) return;
        try {
          this.handle(f);
        } catch (e) {
          const code = isHostfleetError(e) ? e.code : 'E_INTERNAL';
          this.send({ op: 'err', code, message: (e as Error).message });
        }
      }
    });
    socket.on('error', () => socket.destroy());
  }

  private send(header: Record<string, unknown>, payload?: Uint8Array): boolean {
    if (this.socket.destroyed) return false;
    if (this.socket.writableLength > this.deps.maxOut) {
      this.dropped++;
      this.deps.counters.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.deps.onError(new Error(`slow consumer ${this.clientName}: ${this.dropped} messages dropped`), {
          what: 'hub connection fell behind',
        });
      }
      return false;
    }
    this.socket.write(encodeFrame(header, payload));
    return true;
  }

  private fail(code: string, message: string): void {
    if (this.socket.destroyed) return;
    if (!this.authenticated) this.deps.counters.refused++;
    this.socket.end(encodeFrame({ op: 'err', code, message, fatal: true }));
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private handle(f: Frame): void {
    const h = f.header;
    if (!this.authenticated) {
      if (h.op !== 'hello') return this.fail('E_UNAUTHENTICATED', 'the first frame must be hello');
      if (h.v !== PROTOCOL_VERSION)
        return this.fail(
          'E_CONFIG',
          `protocol version ${String(h.v)} is not ${PROTOCOL_VERSION}: upgrade the agent and the manager together`,
        );
      const given = typeof h.token === 'string' ? digest(h.token) : Buffer.alloc(32);
      if (!timingSafeEqual(given, this.deps.tokenDigest)) return this.fail('E_UNAUTHENTICATED', 'wrong bus token');
      clearTimeout(this.helloTimer);
      this.authenticated = true;
      this.clientName = typeof h.name === 'string' ? h.name.slice(0, 100) : '?';
      this.reader.limit(MAX_FRAME_BYTES);
      this.deps.onAuth();
      this.send({ op: 'welcome', v: PROTOCOL_VERSION, server: this.deps.name });
      return;
    }
    switch (h.op) {
      case 'pub': {
        const m: BusMessage = {
          subject: checkSubject(h.subject),
          data: f.payload ?? new Uint8Array(0),
          reply: h.reply === undefined ? undefined : checkSubject(h.reply, 'reply'),
          headers: stringRecord(h.headers),
        };
        this.core.router.publish(m);
        this.deps.counters.published++;
        // Requests are not stored: on NATS a stream would answer them with its own ack.
        if (m.reply === undefined) this.core.engine.capture(m.subject, m.data, true); // the payload is a view into the socket's chunk
        return;
      }
      case 'sub': {
        const sid = Number(h.sid);
        const pattern = checkPattern(h.subject);
        const queue = checkQueue(h.queue ?? undefined);
        this.subs.get(sid)?.();
        this.subs.set(
          sid,
          this.core.router.subscribe(pattern, queue, {
            deliver: (m) =>
              void this.send(
                {
                  op: 'msg',
                  sid,
                  subject: m.subject,
                  ...(m.reply === undefined ? {} : { reply: m.reply }),
                  ...(m.headers ? { headers: m.headers } : {}),
                },
                m.data,
              ),
          }),
        );
        return;
      }
      case 'unsub': {
        const sid = Number(h.sid);
        this.subs.get(sid)?.();
        this.subs.delete(sid);
        return;
      }
      case 'ping':
        // Keepalive: the client closes a connection whose pongs stop (a hung or vanished hub).
        this.send({ op: 'pong' });
        return;
      case 'ack':
        this.core.engine.ack(String(h.stream), String(h.durable), Number(h.seq));
        return;
      case 'nak':
        this.core.engine.nak(
          String(h.stream),
          String(h.durable),
          Number(h.seq),
          typeof h.delayMs === 'number' ? h.delayMs : undefined,
        );
        return;
      case 'call':
        return this.call(h, f.payload);
      default:
        throw new HostfleetError('E_VALIDATION', `unknown op ${JSON.stringify(h.op)}`);
    }
  }

  private call(h: Record<string, unknown>, payload: Buffer | undefined): void {
    const id = h.id;
    try {
      const value = this.dispatch(h, payload);
      this.send({ op: 'result', id, ok: true, value: value ?? null });
    } catch (e) {
      const code = isHostfleetError(e) ? e.code : 'E_INTERNAL';
      this.send({
        op: 'result',
        id,
        ok: false,
        code,
        message: (e as Error).message,
        ...(isHostfleetError(e) && e.fields ? { fields: e.fields } : {}),
      });
    }
  }

  private dispatch(h: Record<string, unknown>, payload: Buffer | undefined): unknown {
    const engine = this.core.engine;
    switch (h.method) {
      case 'ping':
        return null;
      case 'ensureStream':
        engine.ensureStream(h.spec as never);
        return null;
      case 'publish':
        // Copy: the payload is a view into the socket's chunk, and the stream keeps it.
        return engine.publish(
          String(h.subject),
          Buffer.from(payload ?? new Uint8Array(0)),
          typeof h.msgId === 'string' ? h.msgId : undefined,
        );
      case 'consume': {
        const cid = Number(h.cid);
        const config = consumerConfig((h.opts ?? {}) as never);
        this.consumers.get(cid)?.detach();
        const att = engine.consume(String(h.stream), String(h.durable), config, (d) => {
          this.send(
            {
              op: 'dmsg',
              cid,
              stream: d.stream,
              durable: d.consumer,
              seq: d.seq,
              subject: d.subject,
              n: d.deliveryCount,
            },
            d.data,
          );
        });
        this.consumers.set(cid, att);
        return null;
      }
      case 'stopConsume': {
        const cid = Number(h.cid);
        this.consumers.get(cid)?.detach();
        this.consumers.delete(cid);
        return null;
      }
      case 'deleteConsumer':
        engine.deleteConsumer(String(h.stream), String(h.durable));
        return null;
      case 'deleteStream':
        engine.deleteStream(String(h.name));
        return null;
      default:
        throw new HostfleetError('E_VALIDATION', `unknown method ${JSON.stringify(h.method)}`);
    }
  }

  /** dispose drops the connection's subscriptions and hands its unacked messages back. */
  dispose(): void {
    clearTimeout(this.helloTimer);
    for (const remove of this.subs.values()) remove();
    this.subs.clear();
    for (const att of this.consumers.values()) att.detach();
    this.consumers.clear();
  }
}

function stringRecord(v: unknown): Record<string, string> | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}
