import { HostfleetError } from '../../core/errors.js';
import type { Bus, BusErrorListener } from './bus.js';
import { loopbackBus } from './loopback-client.js';
import { URL_SCHEME } from './loopback-frame.js';
import { memoryBus } from './memory.js';
import { natsBus, type NatsTlsOptions } from './nats.js';

/** OpenBusOptions name the bus by URL, as configuration and the command line give it. */
export interface OpenBusOptions {
  /** url: 'memory:' | 'hfbus://127.0.0.1:PORT' | 'nats://HOST:4222' (or tls://, several comma-separated). */
  readonly url: string;
  /** token: the hub's token, or the NATS token. */
  readonly token?: string | undefined;
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  readonly tls?: NatsTlsOptions | undefined;
  /** name identifies this process to the hub or NATS server. */
  readonly name?: string | undefined;
  readonly onError?: BusErrorListener | undefined;
}

/**
 * openBus opens the bus a URL names, so a process is pointed at memory, a loopback hub or NATS
 * by configuration alone. A URL of no known kind fails at start-up with E_CONFIG.
 */
export async function openBus(opts: OpenBusOptions): Promise<Bus> {
  const url = opts.url.trim();
  if (url === 'memory:') return memoryBus({ onError: opts.onError });
  if (url.startsWith(`${URL_SCHEME}//`)) {
    if (!opts.token) throw new HostfleetError('E_CONFIG', `bus ${url}: a token is required for the loopback hub`);
    return loopbackBus({ url, token: opts.token, name: opts.name, onError: opts.onError });
  }
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length > 0 && servers.every((s) => /^(nats|tls):\/\//.test(s))) {
    return natsBus({
      servers,
      token: opts.token,
      user: opts.user,
      pass: opts.pass,
      tls: opts.tls,
      name: opts.name,
      onError: opts.onError,
    });
  }
  throw new HostfleetError(
    'E_CONFIG',
    `bus url ${JSON.stringify(url)} is not memory:, hfbus://HOST:PORT or nats://HOST:PORT`,
  );
}
