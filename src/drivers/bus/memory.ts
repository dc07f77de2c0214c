/**
 * memory.ts is the in-process bus: the simulator's and the unit tests' management bus. It keeps
 * the contract of the other implementations (payloads are encoded, handlers never run inside
 * the publisher's call stack, subjects are checked) so code tested on it runs unchanged on
 * the loopback hub and on NATS.
 */
import { systemClock, type Clock } from '../clock/index.js';
import type { Bus, BusErrorListener } from './bus.js';
import { DurableEngine } from './durable-engine.js';
import { LocalBus } from './local.js';
import { Router } from './router.js';

/** MemoryBusOptions tune the memory bus. */
export interface MemoryBusOptions {
  /** onError hears handler failures and slow-consumer drops; default: one line on stderr. */
  readonly onError?: BusErrorListener | undefined;
  /** maxPending bounds the unhandled messages per subscription (default 65 536). */
  readonly maxPending?: number | undefined;
  /** clock times the durable streams' ack waits, redeliveries and ages; default the system clock (read by memoryBus only, not by connect). */
  readonly clock?: Clock | undefined;
}

/**
 * MemoryBus is a memory bus handle; connect() opens another handle on the same subjects and
 * streams — one per simulated process, so closing one process's handle drops only its
 * subscriptions. Closing the first handle closes them all.
 */
export interface MemoryBus extends Bus {
  connect(opts?: MemoryBusOptions): Bus;
}

/** memoryBus creates an in-process bus. */
export function memoryBus(opts: MemoryBusOptions = {}): MemoryBus {
  const core = { router: new Router(), engine: new DurableEngine(opts.clock ?? systemClock) };
  const handles = new Set<LocalBus>();
  const open = (o: MemoryBusOptions): LocalBus => {
    const h: LocalBus = new LocalBus(core, {
      kind: 'memory',
      onError: o.onError ?? opts.onError,
      maxPending: o.maxPending ?? opts.maxPending,
      onClose: () => handles.delete(h),
    });
    handles.add(h);
    return h;
  };
  const root = open(opts);
  const close = root.close.bind(root);
  return Object.assign(root, {
    connect: (o: MemoryBusOptions = {}): Bus => open(o),
    close: async (): Promise<void> => {
      for (const h of [...handles]) if (h !== root) await h.close();
      await close();
      core.engine.close();
    },
  });
}
