/**
 * loopback-link is the loopback client's connection to the hub: it dials, says hello and waits
 * for the welcome, dials again with backoff when the hub goes away, pings to notice a hub that
 * hangs without closing, and holds what is sent while disconnected in a bounded buffer. What
 * travels over it (subscriptions, calls, consumers) is the client's business: the link calls
 * the client's hooks when a connection opens and for every frame.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { HostfleetError } from '../../core/errors.js';
import type { Clock } from '../clock/index.js';
import type { BusErrorListener } from './bus.js';
import { busError } from './codec.js';
import { FrameReader, MAX_FRAME_BYTES, PROTOCOL_VERSION, encodeFrame, type Frame } from './loopback-frame.js';
import { type BusStatus, StatusTracker } from './status.js';

/** LinkOptions are the client's options the connection needs, with defaults filled in where the client decides them. */
export interface LinkOptions {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly name: string | undefined;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number | undefined;
  readonly reconnectMaxMs: number | undefined;
  /** maxBuffer bounds the bytes waiting to be sent, buffered or in the socket. */
  readonly maxBuffer: number;
  /** roomTimeoutMs bounds how long room() waits for the socket to drain. */
  readonly roomTimeoutMs: number;
  readonly pingIntervalMs: number | undefined;
  readonly maxPingsOut: number | undefined;
  readonly onError: BusErrorListener;
  readonly clock: Clock;
}

/** LinkHooks are how the link hands a connection's events to the client. */
export interface LinkHooks {
  /** restore runs on each new connection before the buffered frames go out: it re-sends what the hub must know first. */
  restore(write: (frame: Buffer) => void): void;
  /** resend runs after the buffered frames went out: it re-sends the calls not yet sent on this connection. */
  resend(write: (frame: Buffer) => void): void;
  /** frame is called with every frame after the welcome. */
  frame(f: Frame): void;
  /** failed is told why the first connection failed, so what waits can be rejected. */
  failed(err: unknown): void;
}

/** LoopbackLink is one client's connection to the hub, kept up until close. */
export class LoopbackLink {
  private state: BusStatus | 'starting' = 'starting';
  /** tracker holds the connection's status for the client to report. */
  readonly tracker: StatusTracker;
  private socket: Socket | undefined;
  /** dialing is the connection being set up, so close() can stop it too. */
  private dialing: Socket | undefined;
  private connections = 0;
  private backoff: number;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pingsOut = 0;
  private buffer: Buffer[] = [];
  private bufferBytes = 0;

  constructor(
    private readonly opts: LinkOptions,
    private readonly hooks: LinkHooks,
  ) {
    this.backoff = opts.reconnectMinMs ?? 50;
    this.tracker = new StatusTracker('reconnecting', `the bus hub at ${opts.url}`);
  }

  /** epoch numbers the connections, so a call knows whether it was sent on the current one. */
  get epoch(): number {
    return this.connections;
  }

  /** open tells whether frames can be written to the hub now. */
  get open(): boolean {
    return this.socket !== undefined && this.state === 'connected';
  }

  /** connected tells whether the link is connected (the socket may be going away). */
  get connected(): boolean {
    return this.state === 'connected';
  }

  /** closed tells whether close has run. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** start makes the first connection; failing it is a start-up error, not a reason to retry. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.attempt(resolve, reject));
  }

  private attempt(onFirst?: () => void, onFirstFail?: (e: unknown) => void): void {
    if (this.state === 'closed') return;
    const socket = netConnect({ host: this.opts.host, port: this.opts.port });
    this.dialing = socket;
    socket.setNoDelay(true);
    const reader = new FrameReader(MAX_FRAME_BYTES);
    let welcomed = false;
    let fatal: HostfleetError | undefined;
    const timer = setTimeout(() => {
      fatal ??= busError(
        'disconnected',
        `no welcome from the bus hub at ${this.opts.url} within ${this.opts.connectTimeoutMs} ms`,
      );
      socket.destroy();
    }, this.opts.connectTimeoutMs);
    socket.on('connect', () => {
      socket.write(
        encodeFrame({ op: 'hello', v: PROTOCOL_VERSION, token: this.opts.token, name: this.opts.name ?? 'agent' }),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        this.opts.onError(e, { what: 'protocol error from the hub' });
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
            fatal = busError(code, `the bus hub at ${this.opts.url} refused the connection: ${String(h.message)}`, {
              url: this.opts.url,
            });
            socket.destroy();
          }
          continue;
        }
        this.pingsOut = 0; // any frame shows the hub is alive
        this.hooks.frame(f);
      }
    });
    socket.on('error', (e) => {
      fatal ??= busError(
        'disconnected',
        `cannot reach the bus hub at ${this.opts.url}: ${e.message}`,
        { url: this.opts.url },
        e,
      );
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (this.dialing === socket) this.dialing = undefined;
      if (this.socket === socket) this.socket = undefined;
      if (this.state === 'closed') return;
      if (onFirstFail) {
        this.setStatus('closed');
        this.hooks.failed(fatal ?? busError('disconnected', `the bus hub at ${this.opts.url} closed the connection`));
        onFirstFail(fatal ?? busError('disconnected', `the bus hub at ${this.opts.url} closed the connection`));
        return;
      }
      if (fatal && fatal.code === 'E_UNAUTHENTICATED') this.opts.onError(fatal, { what: 'reconnect refused' });
      this.setStatus('reconnecting');
      const delay = welcomed ? (this.opts.reconnectMinMs ?? 50) : this.backoff;
      this.backoff = welcomed
        ? (this.opts.reconnectMinMs ?? 50)
        : Math.min(this.backoff * 2, this.opts.reconnectMaxMs ?? 2_000);
      this.reconnectTimer = setTimeout(() => this.attempt(), delay);
    });
  }

  private onConnected(): void {
    this.connections++;
    const socket = this.socket as Socket;
    this.backoff = this.opts.reconnectMinMs ?? 50;
    this.pingsOut = 0;
    if (!this.pingTimer) {
      // A hub that hangs (or a connection that silently died) sends no close; its pongs stop.
      this.pingTimer = setInterval(() => {
        const s = this.socket;
        if (!s || this.state !== 'connected') return;
        if (this.pingsOut >= (this.opts.maxPingsOut ?? 2)) {
          this.opts.onError(new Error(`no answer to ${this.pingsOut} pings`), {
            what: 'stale connection to the bus hub; reconnecting',
          });
          s.destroy();
          return;
        }
        this.pingsOut++;
        s.write(encodeFrame({ op: 'ping' }));
      }, this.opts.pingIntervalMs ?? 10_000);
      this.pingTimer.unref();
    }
    const write = (frame: Buffer): void => void socket.write(frame);
    // Order matters: subscriptions and streams first, so what was buffered finds its listeners.
    this.hooks.restore(write);
    for (const b of this.buffer) socket.write(b);
    this.buffer = [];
    this.bufferBytes = 0;
    this.hooks.resend(write);
    this.setStatus('connected');
  }

  private setStatus(s: BusStatus): void {
    this.state = s;
    this.tracker.set(s);
  }

  /** sendIfOpen writes a frame when connected and drops it otherwise (what a reconnect re-sends anyway). */
  sendIfOpen(frame: Buffer): void {
    if (this.socket && this.state === 'connected') this.socket.write(frame);
  }

  /** send writes a frame now, or buffers it while disconnected; false when the buffer is full. */
  send(frame: Buffer): boolean {
    const s = this.socket;
    if (s && this.state === 'connected') {
      if (s.writableLength > this.opts.maxBuffer) return false;
      s.write(frame);
      return true;
    }
    if (this.bufferBytes + frame.length > this.opts.maxBuffer) return false;
    this.buffer.push(frame);
    this.bufferBytes += frame.length;
    return true;
  }

  /**
   * room waits while the connected socket holds more than maxBuffer unsent bytes, so a fast
   * publisher is slowed to the hub's pace instead of failing; it returns at once when
   * disconnected (the bounded buffer decides then) and gives up after roomTimeoutMs.
   */
  async room(): Promise<void> {
    const end = this.opts.clock.now().getTime() + this.opts.roomTimeoutMs;
    for (;;) {
      const s = this.socket;
      if (
        !s ||
        this.state !== 'connected' ||
        s.writableLength <= this.opts.maxBuffer ||
        this.opts.clock.now().getTime() > end
      )
        return;
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

  /**
   * close stops dialing and pinging, lets drain hand what is queued to the hub (bounded to a
   * second, so close never hangs), marks the link closed, lets release drop the client's state,
   * and ends the connection.
   */
  async close(drain: () => Promise<unknown>, release: () => void): Promise<void> {
    if (this.state === 'closed') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.dialing?.destroy();
    const socket = this.socket;
    if (socket && this.state === 'connected') {
      await Promise.race([drain(), new Promise((r) => setTimeout(r, 1000))]);
    }
    this.setStatus('closed');
    release();
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
