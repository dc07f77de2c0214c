/**
 * status.ts tracks a bus connection's state for every implementation, so an agent or the
 * console asks any bus the same way whether it is connected.
 */
import { busError, closedError } from './codec.js';

/** BUS_STATUSES lists a bus connection's states. */
export const BUS_STATUSES = ['connected', 'reconnecting', 'closed'] as const;
/** BusStatus is one of BUS_STATUSES. */
export type BusStatus = (typeof BUS_STATUSES)[number];

/** StatusTracker holds the current status and tells listeners of changes. */
export class StatusTracker {
  private current: BusStatus;
  private readonly listeners = new Set<(s: BusStatus) => void>();

  constructor(
    initial: BusStatus,
    private readonly where: string,
  ) {
    this.current = initial;
  }

  /** get returns the current status. */
  get(): BusStatus {
    return this.current;
  }

  /** set changes the status (closed is final) and tells the listeners. */
  set(s: BusStatus): void {
    if (this.current === s || this.current === 'closed') return;
    this.current = s;
    for (const fn of [...this.listeners]) fn(s);
  }

  /** on adds a listener and returns the function that removes it. */
  on(fn: (s: BusStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** waitConnected resolves when connected; it rejects when closed or after timeoutMs. */
  async waitConnected(timeoutMs: number): Promise<void> {
    if (this.current === 'connected') return;
    if (this.current === 'closed') throw closedError('waitConnected');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(busError('disconnected', `not connected to ${this.where} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on((s) => {
        if (s === 'reconnecting') return;
        clearTimeout(timer);
        off();
        if (s === 'connected') resolve();
        else reject(closedError('waitConnected'));
      });
    });
  }
}
