/**
 * throttle counts failed attempts per key in fixed windows, so the console's login refuses a
 * name (and an address) after too many wrong passwords. Written here because it counts
 * failures only: @fastify/rate-limit counts every request, and a person who logs in correctly
 * many times must not be locked out. In memory, per manager: a standby that takes over starts
 * counting afresh, which costs an attacker at most one more window's worth of guesses.
 */

/** FailureThrottle remembers failures per key for windowMs; at most maxKeys keys are kept. */
export class FailureThrottle {
  private readonly counts = new Map<string, { n: number; until: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** blockedFor returns how many ms the key stays blocked at limit failures (0: not blocked). */
  blockedFor(key: string, limit: number, now: number): number {
    const c = this.counts.get(key);
    if (!c || c.until <= now) return 0;
    return c.n >= limit ? c.until - now : 0;
  }

  /** fail counts one failure of the key. */
  fail(key: string, now: number): void {
    const c = this.counts.get(key);
    if (c && c.until > now) {
      c.n++;
      return;
    }
    if (this.counts.size >= this.maxKeys) this.sweep(now);
    // Still full of live keys: forget the oldest rather than grow without bound.
    if (this.counts.size >= this.maxKeys) this.counts.delete(this.counts.keys().next().value as string);
    this.counts.set(key, { n: 1, until: now + this.windowMs });
  }

  /** forget clears the key's failures (after a successful login). */
  forget(key: string): void {
    this.counts.delete(key);
  }

  private sweep(now: number): void {
    for (const [k, c] of this.counts) if (c.until <= now) this.counts.delete(k);
  }
}
