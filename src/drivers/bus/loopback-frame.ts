/**
 * loopback-frame.ts is the loopback bus's wire format: newline-delimited frames, each a JSON
 * header optionally followed by a TAB and the message's JSON payload. JSON text never holds a
 * raw TAB or newline, so the first TAB splits header from payload and the hub forwards payload
 * bytes without parsing them.
 *
 * Client → hub:  hello {v, token, name} · sub {sid, subject, queue?} · unsub {sid} ·
 *                pub {subject, reply?, headers?}⇥payload · call {id, method, …} · ack/nak {stream, durable, seq}
 * Hub → client:  welcome {v, server} · err {code, message} · msg {sid, subject, reply?, headers?}⇥payload ·
 *                result {id, ok, value | code, message} · dmsg {cid, stream, durable, seq, subject, n}⇥payload
 */
import { MAX_PAYLOAD_BYTES } from './codec.js';

/** PROTOCOL_VERSION is checked at hello, so a client and hub of different versions refuse each other. */
export const PROTOCOL_VERSION = 1;

/** URL_SCHEME is the scheme of loopback bus URLs: hfbus://127.0.0.1:PORT. */
export const URL_SCHEME = 'hfbus:';

/** MAX_FRAME_BYTES: one payload plus room for its header. */
export const MAX_FRAME_BYTES = MAX_PAYLOAD_BYTES + 16_384;

const TAB = 0x09;
const NL = 0x0a;
const NL_BUF = Buffer.from([NL]);
const TAB_BUF = Buffer.from([TAB]);

/** Frame is one decoded frame: the parsed header and the raw payload bytes (empty when none). */
export interface Frame {
  readonly header: Record<string, unknown>;
  readonly payload: Buffer | undefined;
}

/** encodeFrame builds one frame's bytes. */
export function encodeFrame(header: Record<string, unknown>, payload?: Uint8Array): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  if (payload === undefined) return Buffer.concat([h, NL_BUF]);
  return Buffer.concat([h, TAB_BUF, payload, NL_BUF], h.length + payload.length + 2);
}

/**
 * FrameReader splits a byte stream into frames. A frame longer than maxFrameBytes, or a
 * header that is not a JSON object, is a protocol error: the connection is closed, since the
 * peer is not speaking this protocol.
 */
export class FrameReader {
  private parts: Buffer[] = [];
  private partBytes = 0;

  constructor(private maxFrameBytes: number) {}

  /** limit changes the frame size bound (the hub allows bigger frames once a peer has authenticated). */
  limit(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** push feeds a chunk and returns the complete frames in it; it throws on a protocol error. */
  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) break;
      let line = chunk.subarray(start, nl);
      if (this.partBytes > 0) {
        line = Buffer.concat([...this.parts, line], this.partBytes + line.length);
        this.parts = [];
        this.partBytes = 0;
      }
      if (line.length > this.maxFrameBytes)
        throw new Error(`frame of ${line.length} bytes exceeds ${this.maxFrameBytes}`);
      if (line.length > 0) out.push(parseLine(line));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.partBytes += rest.length;
      if (this.partBytes > this.maxFrameBytes) throw new Error(`frame exceeds ${this.maxFrameBytes} bytes`);
      this.parts.push(rest);
    }
    return out;
  }
}

function parseLine(line: Buffer): Frame {
  const tab = line.indexOf(TAB);
  const headerText = (tab < 0 ? line : line.subarray(0, tab)).toString('utf8');
  const header: unknown = JSON.parse(headerText);
  if (
    typeof header !== 'object' ||
    header === null ||
    Array.isArray(header) ||
    typeof (header as { op?: unknown }).op !== 'string'
  ) {
    throw new Error('frame header is not an object with an op');
  }
  return { header: header as Record<string, unknown>, payload: tab < 0 ? undefined : line.subarray(tab + 1) };
}

/** parseBusUrl reads host and port from an hfbus:// URL. */
export function parseBusUrl(url: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`${JSON.stringify(url)} is not a URL; expected hfbus://HOST:PORT`);
  }
  const port = Number(u.port);
  if (u.protocol !== URL_SCHEME || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${JSON.stringify(url)} is not a loopback bus URL; expected hfbus://HOST:PORT`);
  }
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}
