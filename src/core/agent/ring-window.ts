/**
 * ringWindow is the fixed-size buffer behind each measurement type's window w_k: the latest
 * samples overwrite the oldest, so memory stays bounded however long the agent runs.
 */

/** RingWindow keeps the last `capacity` finite samples and averages them. */
export class RingWindow {
  readonly capacity: number;
  private readonly buf: Float64Array;
  private next = 0;
  private size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`RingWindow capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.buf = new Float64Array(capacity);
  }

  /** push adds a sample; a non-finite sample is refused (false) so a broken probe cannot poison the mean. */
  push(value: number): boolean {
    if (!Number.isFinite(value)) return false;
    this.buf[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    return true;
  }

  /** count is how many samples the window holds (at most capacity). */
  get count(): number {
    return this.size;
  }

  /** mean averages the samples held; NaN when empty. Summed afresh each time: w_k is small and it avoids drift. */
  mean(): number {
    if (this.size === 0) return Number.NaN;
    let s = 0;
    for (let i = 0; i < this.size; i++) s += this.buf[i] as number;
    return s / this.size;
  }

  /** values returns the samples held, oldest first. */
  values(): number[] {
    const out: number[] = [];
    const start = this.size < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.size; i++) out.push(this.buf[(start + i) % this.capacity] as number);
    return out;
  }

  /** clear forgets every sample (a server that joins another group starts afresh). */
  clear(): void {
    this.next = 0;
    this.size = 0;
  }
}
