/**
 * main runs the global coordinator as a process (`hostfleet global`): on NATS in production
 * (every site's cluster joined by leaf nodes or a supercluster, so `hf-global.>` reaches all),
 * or, for sites on one machine, hosting a loopback hub the sites' managers connect to.
 */
import pino from 'pino';
import { systemClock } from '../../drivers/clock/index.js';
import { openBus, startBusHub } from '../../drivers/bus/index.js';
import type { Bus } from '../../drivers/bus/index.js';
import { DEFAULT_GLOBAL_SETTINGS } from '../../core/global/index.js';
import { startCoordinator } from './coordinator.js';
import type { Coordinator } from './coordinator.js';

/** GlobalProcessOptions are the flags of `hostfleet global`. */
export interface GlobalProcessOptions {
  /** busUrl: nats://… to join NATS; absent, hubPort hosts a loopback hub. */
  readonly busUrl?: string;
  readonly busToken?: string;
  readonly hubPort?: number;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly roundMs: number;
  readonly lostAfterMs: number;
  readonly maxLagMs: number;
}

/** startGlobalProcess opens the bus (or hosts the hub) and starts the coordinator with its HTTP view. */
export async function startGlobalProcess(
  o: GlobalProcessOptions,
): Promise<Omit<Coordinator, 'url'> & { url: string; busUrl: string }> {
  const log = pino({ level: process.env.HOSTFLEET_GLOBAL_LOG_LEVEL ?? 'info', base: { service: 'global' } });
  let bus: Bus;
  let busUrl: string;
  let closeBus: () => Promise<void>;
  if (o.busUrl !== undefined) {
    bus = await openBus({ url: o.busUrl, token: o.busToken, name: 'global' });
    busUrl = o.busUrl;
    closeBus = () => bus.close();
  } else {
    if (!o.busToken) throw new Error('set HOSTFLEET_GLOBAL_BUS_TOKEN: the hub the sites join needs a token');
    const hub = await startBusHub({ host: '127.0.0.1', port: o.hubPort ?? 0, token: o.busToken, name: 'global' });
    bus = hub.bus;
    busUrl = hub.url;
    closeBus = () => hub.close();
  }
  const c = await startCoordinator({
    bus,
    clock: systemClock,
    log,
    roundMs: o.roundMs,
    settings: { ...DEFAULT_GLOBAL_SETTINGS, lostAfterMs: o.lostAfterMs, maxLagMs: o.maxLagMs },
    listen: { host: o.host, port: o.port, token: o.token },
  });
  log.info({ url: c.url, bus: busUrl }, 'global coordinator listening');
  return {
    ...c,
    busUrl,
    url: c.url ?? '',
    async close() {
      await c.close();
      await closeBus();
    },
  };
}
