/**
 * loopback-calls keeps the loopback client's calls to the hub (durable operations and flush):
 * each waits, under a timeout, for the hub's result frame with its id. A call made while
 * disconnected, or sent on a connection that dropped before the answer, is sent again on the
 * next connection; the hub's operations are idempotent, so a repeat does no harm.
 */
import { HostfleetError } from '../../core/errors.js';
import { busError, closedError } from './codec.js';
import { encodeFrame } from './loopback-frame.js';
import type { LoopbackLink } from './loopback-link.js';

interface Call {
  readonly header: Record<string, unknown>;
  readonly payload: Uint8Array | undefined;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** epoch is the connection the call was last sent on (0: not sent yet). */
  epoch: number;
}

/** CallTable holds the calls waiting for the hub's answer. */
export class CallTable {
  private readonly calls = new Map<number, Call>();

  constructor(
    private readonly link: LoopbackLink,
    private readonly timeoutMs: number,
    private readonly nextId: () => number,
  ) {}

  /** send registers a call and sends it when connected; onFail hears its failure, resolve its value. */
  send(
    body: Record<string, unknown>,
    payload: Uint8Array | undefined,
    onFail: (e: unknown) => void,
    resolve: (v: unknown) => void = () => undefined,
  ): void {
    const id = this.nextId();
    const header = { op: 'call', id, ...body };
    const timer = setTimeout(() => {
      this.calls.delete(id);
      onFail(
        busError('timeout', `the bus hub did not answer ${String(body.method)} within ${this.timeoutMs} ms`, {
          method: body.method,
        }),
      );
    }, this.timeoutMs);
    const call: Call = { header, payload, resolve, reject: onFail, timer, epoch: 0 };
    this.calls.set(id, call);
    if (this.link.open) {
      call.epoch = this.link.epoch;
      this.link.sendIfOpen(encodeFrame(header, payload));
    }
  }

  /** call sends a call and resolves with the hub's value; it rejects at once once the client is closed. */
  call(body: Record<string, unknown>, payload?: Uint8Array): Promise<unknown> {
    if (this.link.closed) return Promise.reject(closedError(String(body.method)));
    return new Promise((resolve, reject) => this.send(body, payload, reject, resolve));
  }

  /** settle completes the call a result frame answers. */
  settle(h: Record<string, unknown>): void {
    const id = Number(h.id);
    const c = this.calls.get(id);
    if (!c) return;
    this.calls.delete(id);
    clearTimeout(c.timer);
    if (h.ok === true) c.resolve(h.value);
    else {
      const code = typeof h.code === 'string' && h.code.startsWith('E_') ? h.code : 'E_INTERNAL';
      c.reject(
        new HostfleetError(code as 'E_INTERNAL', String(h.message), h.fields ? { fields: h.fields as never } : {}),
      );
    }
  }

  /** resend writes, on a new connection, every call not yet sent on it. */
  resend(write: (frame: Buffer) => void): void {
    for (const c of this.calls.values()) {
      if (c.epoch !== this.link.epoch) {
        c.epoch = this.link.epoch;
        write(encodeFrame(c.header, c.payload));
      }
    }
  }

  /** rejectAll fails every waiting call with err. */
  rejectAll(err: unknown): void {
    for (const [id, c] of this.calls) {
      clearTimeout(c.timer);
      this.calls.delete(id);
      c.reject(err);
    }
  }
}
