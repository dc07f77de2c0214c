/**
 * slots is the runtime's finite capacity: `concurrency` requests are served at once, the rest
 * wait in FIFO order, and past `maxQueue` waiting requests the runtime refuses. This is what
 * makes a server saturate, so that adding servers to a group visibly helps.
 */

/** Ticket is a place in the queue: wait resolves with a release function once a slot is held. */
export interface Ticket {
  readonly wait: Promise<() => void>;
  /** cancel leaves the queue (the client went away); it does nothing once the slot is held. */
  cancel(): void;
}

/** Slots is a FIFO counting semaphore with a bounded queue. */
export class Slots {
  private active = 0;
  private readonly queue: { grant: (release: () => void) => void; cancelled: boolean }[] = [];
  private head = 0;

  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
  ) {}

  /** inUse is the number of slots held. */
  get inUse(): number {
    return this.active;
  }

  /** queued is the number of requests waiting for a slot. */
  get queued(): number {
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) if (!this.queue[i]?.cancelled) n++;
    return n;
  }

  /** acquire takes a slot now or queues for one; null means the queue is full. */
  acquire(): Ticket | null {
    if (this.active < this.concurrency) {
      this.active++;
      return { wait: Promise.resolve(this.releaser()), cancel: () => undefined };
    }
    if (this.queued >= this.maxQueue) return null;
    let grant!: (release: () => void) => void;
    const wait = new Promise<() => void>((resolve) => {
      grant = resolve;
    });
    const entry = { grant, cancelled: false };
    this.queue.push(entry);
    return {
      wait,
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      this.next();
    };
  }

  private next(): void {
    while (this.head < this.queue.length && this.active < this.concurrency) {
      const e = this.queue[this.head++];
      if (!e || e.cancelled) continue;
      this.active++;
      e.grant(this.releaser());
    }
    // Compact once the consumed prefix dominates, so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
