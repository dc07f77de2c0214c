/**
 * nats-errors maps what the NATS client throws onto the HostfleetErrors every bus
 * implementation raises, so a caller handles a refused login, a timeout or a missing stream the
 * same way on NATS as on the memory bus and the loopback hub.
 */
import { ErrorCode } from 'nats';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import { busError, closedError, noRespondersError, timeoutError } from './codec.js';

interface NatsErrorLike {
  readonly code?: string;
  readonly message?: string;
  readonly api_error?: { readonly code?: number; readonly err_code?: number; readonly description?: string };
}

/** asNats reads an error as the shape NATS's errors have (an empty one for anything else). */
export const asNats = (e: unknown): NatsErrorLike => (typeof e === 'object' && e !== null ? (e as NatsErrorLike) : {});

/** isNotFound tells whether JetStream answered 404 (no such stream or consumer). */
export const isNotFound = (e: unknown): boolean => asNats(e).api_error?.code === 404;

/** NATS's JetStream error codes this driver reacts to (see nats-server's errors.json). */
const JS_ERR_STREAM_SUBJECT_OVERLAP = 10065;

/** connectError explains why the first connection to NATS failed: refused credentials, or the servers out of reach. */
export function connectError(e: unknown, servers: readonly string[]): HostfleetError {
  const code = asNats(e).code;
  if (
    code === ErrorCode.AuthorizationViolation ||
    code === ErrorCode.BadAuthentication ||
    code === ErrorCode.AuthenticationExpired
  ) {
    return busError(
      'auth',
      `NATS at ${servers.join(', ')} refused the credentials: check token or user/pass`,
      { servers },
      e,
    );
  }
  return busError(
    'disconnected',
    `cannot connect to NATS at ${servers.join(', ')}: ${asNats(e).message ?? String(e)}`,
    { servers },
    e,
  );
}

/** requestError maps a failed request: no responders, a timeout, a closed connection, or the server's own error. */
export function requestError(e: unknown, subject: string, timeoutMs: number): HostfleetError {
  const code = asNats(e).code;
  if (code === ErrorCode.NoResponders) return noRespondersError(subject);
  if (code === ErrorCode.Timeout) return timeoutError(subject, timeoutMs);
  if (code === ErrorCode.ConnectionClosed) return closedError(`request on ${subject}`);
  return busError('remote', `request on ${subject} failed: ${asNats(e).message ?? String(e)}`, { subject }, e);
}

/** jsError maps a JetStream failure while doing `what`: E_NOT_FOUND, E_CONFLICT for overlapping subjects, a timeout, or a remote error. */
export function jsError(e: unknown, what: string): HostfleetError {
  if (isHostfleetError(e)) return e;
  const n = asNats(e);
  if (n.api_error?.code === 404)
    return new HostfleetError('E_NOT_FOUND', `${what}: ${n.api_error.description ?? 'not found'}`, { cause: e });
  if (n.api_error?.err_code === JS_ERR_STREAM_SUBJECT_OVERLAP)
    return new HostfleetError(
      'E_CONFLICT',
      `${what}: ${n.api_error.description ?? 'subjects overlap'} — choose subjects that do not overlap`,
      { cause: e },
    );
  if (n.code === ErrorCode.Timeout) return busError('timeout', `${what}: JetStream did not answer in time`, {}, e);
  return busError('remote', `${what}: ${n.api_error?.description ?? n.message ?? String(e)}`, {}, e);
}
