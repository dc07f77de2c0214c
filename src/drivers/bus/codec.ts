/**
 * codec.ts turns bus payloads into bytes and back (JSON, UTF-8), and defines the bus's failures
 * as HostfleetErrors, so every implementation fails the same way for the same cause.
 */
import { HostfleetError, invalid, isHostfleetError, ERROR_CATALOGUE, type ErrorCode } from '../../core/errors.js';

/** MAX_PAYLOAD_BYTES bounds one encoded payload: NATS's default max_payload (1 MiB). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** ERROR_HEADER carries a reply handler's error code back to the requester. */
export const ERROR_HEADER = 'Hf-Error';

/** STATUS_HEADER marks a message the bus itself sends to a reply subject (e.g. 503 no responders). */
export const STATUS_HEADER = 'Hf-Status';

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

/** encode turns a JSON value into payload bytes; undefined becomes an empty payload. */
export function encode(data: unknown, maxBytes = MAX_PAYLOAD_BYTES): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (e) {
    throw invalid([{ field: 'data', problem: `must be JSON-serialisable (${(e as Error).message})` }]);
  }
  if (text === undefined) return EMPTY;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > maxBytes) {
    throw invalid([
      {
        field: 'data',
        problem: `encodes to ${bytes.length} bytes; the bus carries at most ${maxBytes} per message — send a reference instead`,
      },
    ]);
  }
  return bytes;
}

/** decode turns payload bytes back into the JSON value; an empty payload is undefined. */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  return JSON.parse(decoder.decode(bytes));
}

/** BUS_FAILURES lists why a bus call can fail besides bad input. */
export const BUS_FAILURES = [
  'timeout',
  'no_responders',
  'closed',
  'disconnected',
  'overflow',
  'remote',
  'auth',
] as const;
/** BusFailure is one of BUS_FAILURES. */
export type BusFailure = (typeof BUS_FAILURES)[number];

/**
 * FAILURE_CODES maps a bus failure to the closest code of the error catalogue. The catalogue
 * has no bus-specific code yet, so transport failures are E_INTERNAL with details.failure
 * telling them apart; callers use busFailure(), never the message text.
 */
const FAILURE_CODES: Record<BusFailure, ErrorCode> = {
  timeout: 'E_INTERNAL',
  no_responders: 'E_INTERNAL',
  closed: 'E_INTERNAL',
  disconnected: 'E_INTERNAL',
  overflow: 'E_INTERNAL',
  remote: 'E_INTERNAL',
  auth: 'E_UNAUTHENTICATED',
};

/** busError builds the HostfleetError for a bus failure; details.failure names it. */
export function busError(
  failure: BusFailure,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): HostfleetError {
  return new HostfleetError(FAILURE_CODES[failure], message, {
    details: { ...details, failure },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** busFailure returns the failure a bus error stands for, or undefined for any other error. */
export function busFailure(e: unknown): BusFailure | undefined {
  if (!isHostfleetError(e)) return undefined;
  const f = e.details?.['failure'];
  return typeof f === 'string' && (BUS_FAILURES as readonly string[]).includes(f) ? (f as BusFailure) : undefined;
}

/** timeoutError is the failure of a request nobody answered in time. */
export function timeoutError(subject: string, timeoutMs: number): HostfleetError {
  return busError(
    'timeout',
    `no reply on ${subject} within ${timeoutMs} ms: is the service that answers it running and reachable over the management bus?`,
    { subject, timeoutMs },
  );
}

/** noRespondersError is the failure of a request nobody listens to. */
export function noRespondersError(subject: string): HostfleetError {
  return busError(
    'no_responders',
    `nobody answers requests on ${subject}: start the service that replies there, or check the site name`,
    { subject },
  );
}

/** closedError is the failure of a call on a closed bus. */
export function closedError(what: string): HostfleetError {
  return busError('closed', `the bus is closed (${what}); open a new one`, { what });
}

/** checkTimeout throws E_VALIDATION unless ms is a positive finite number of milliseconds. */
export function checkTimeout(field: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > 24 * 3600_000) {
    throw invalid([
      { field, problem: `must be a number of milliseconds between 1 and 86400000; got ${JSON.stringify(ms)}` },
    ]);
  }
  return ms;
}

/** ErrorReply is the payload of a reply whose handler failed (with ERROR_HEADER set to code). */
export interface ErrorReply {
  readonly message: string;
  readonly details?: Record<string, unknown> | undefined;
}

/** errorReply turns what a reply handler threw into the code and payload sent back. */
export function errorReply(e: unknown): { code: ErrorCode; payload: Uint8Array } {
  if (isHostfleetError(e)) {
    return { code: e.code, payload: encode({ message: e.message, details: e.details } satisfies ErrorReply) };
  }
  // A bug in a handler must not leak its internals to another process; the message is enough.
  return {
    code: 'E_INTERNAL',
    payload: encode({
      message: `the replying service failed: ${e instanceof Error ? e.message : String(e)}`,
    } satisfies ErrorReply),
  };
}

/** replyToError rebuilds the requester-side error from an error reply. */
export function replyToError(subject: string, code: string, payload: Uint8Array): HostfleetError {
  const known = Object.hasOwn(ERROR_CATALOGUE, code) ? (code as ErrorCode) : 'E_INTERNAL';
  let body: ErrorReply = { message: `request on ${subject} failed with ${code}` };
  try {
    const d = decode(payload) as ErrorReply | undefined;
    if (d && typeof d.message === 'string') body = d;
  } catch {
    // keep the generic message: the payload was not ours
  }
  return new HostfleetError(known, body.message, { details: { ...(body.details ?? {}), subject, remote: true } });
}
