/**
 * faults is the fault injection every fake driver shares, so a dispatcher test says "the next
 * reset fails" or "the drain hangs until I let it go" the same way for every driver. Each fake
 * calls `enter(op, args)` first thing in every method: the call is logged, then fails or waits
 * as the test arranged. `leave` does the same after the effect, for "it happened, but the
 * caller never heard" (a crash between an action and its record).
 */

/** Stall holds one call of an operation until the test lets it go. */
export interface Stall {
  /** reached resolves when a call arrives at the stall. */
  readonly reached: Promise<void>;
  /** release lets the call go on as if nothing happened. */
  release(): void;
  /** fail makes the call throw (the fake's own error unless one is given). */
  fail(error?: Error): void;
}

/** Call is one logged call of a fake: its operation and arguments. */
export interface Call<Op extends string> {
  readonly op: Op;
  readonly args: readonly unknown[];
}

interface Failure {
  remaining: number;
  readonly error: (op: string) => Error;
}

interface PendingStall {
  readonly after: boolean;
  readonly arrive: () => void;
  readonly wait: Promise<Error | null>;
}

/** ANY_OP matches every operation of a fake (a whole component that stopped answering). */
export const ANY_OP = '*';

/** Faults logs a fake's calls and injects failures and stalls by operation name. */
export class Faults<Op extends string> {
  /** calls is every call so far, in order. */
  readonly calls: Call<Op>[] = [];
  private readonly failures = new Map<string, Failure[]>();
  private readonly stalls = new Map<string, PendingStall[]>();

  /** defaultError is the error a failing call throws when the test names none (E_BMC for a BMC, …). */
  constructor(private readonly defaultError: (op: string) => Error) {}

  /** failNext makes the next `times` calls of op (or of any op, ANY_OP) fail. */
  failNext(op: Op | typeof ANY_OP, opts: { error?: Error; times?: number } = {}): void {
    this.pushFailure(op, opts.times ?? 1, opts.error);
  }

  /** failAlways makes every call of op (or of every op) fail until heal. */
  failAlways(op: Op | typeof ANY_OP, error?: Error): void {
    this.pushFailure(op, Number.POSITIVE_INFINITY, error);
  }

  /** heal forgets every failure, and every stall no call has reached yet. */
  heal(): void {
    this.failures.clear();
    this.stalls.clear();
  }

  /** stallNext holds the next call of op: before its effect, or after it (`after: true`) so the effect happens but the caller waits. */
  stallNext(op: Op, opts: { after?: boolean } = {}): Stall {
    let arrive!: () => void;
    const reached = new Promise<void>((r) => (arrive = r));
    let settle!: (e: Error | null) => void;
    const wait = new Promise<Error | null>((r) => (settle = r));
    const list = this.stalls.get(op) ?? [];
    list.push({ after: opts.after ?? false, arrive, wait });
    this.stalls.set(op, list);
    return { reached, release: () => settle(null), fail: (e) => settle(e ?? this.defaultError(op)) };
  }

  /** count is how many calls of op were made. */
  count(op: Op): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  /** enter logs a call, then fails or waits as arranged; fakes call it before any effect. */
  async enter(op: Op, args: readonly unknown[]): Promise<void> {
    this.calls.push({ op, args });
    const f = this.takeFailure(op);
    if (f) throw f;
    await this.stallAt(op, false);
  }

  /** leave waits at an `after` stall of op; fakes call it after the effect, before answering. */
  async leave(op: Op): Promise<void> {
    await this.stallAt(op, true);
  }

  private pushFailure(op: string, times: number, error: Error | undefined): void {
    const list = this.failures.get(op) ?? [];
    list.push({ remaining: times, error: (o) => error ?? this.defaultError(o) });
    this.failures.set(op, list);
  }

  private takeFailure(op: Op): Error | null {
    for (const key of [op, ANY_OP]) {
      const list = this.failures.get(key);
      const f = list?.[0];
      if (!list || !f) continue;
      f.remaining -= 1;
      if (f.remaining <= 0) list.shift();
      return f.error(op);
    }
    return null;
  }

  private async stallAt(op: Op, after: boolean): Promise<void> {
    const list = this.stalls.get(op);
    const i = list?.findIndex((s) => s.after === after) ?? -1;
    if (!list || i < 0) return;
    const [s] = list.splice(i, 1);
    s!.arrive();
    const e = await s!.wait;
    if (e) throw e;
  }
}
