/**
 * group-heap orders the groups that want servers for the rank stage: the tick serves demand one
 * server at a time, always to the group the fairness rule puts first.
 */
import type { GroupState } from './snapshot.js';

/** GroupHeap is a heap of groups keyed by the fairness rule; smaller key first. */
export class GroupHeap {
  private readonly a: GroupState[] = [];
  constructor(private readonly less: (x: GroupState, y: GroupState) => boolean) {}
  get size(): number {
    return this.a.length;
  }
  push(x: GroupState): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i] as GroupState, a[p] as GroupState)) break;
      [a[i], a[p]] = [a[p] as GroupState, a[i] as GroupState];
      i = p;
    }
  }
  pop(): GroupState | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l] as GroupState, a[m] as GroupState)) m = l;
        if (r < a.length && this.less(a[r] as GroupState, a[m] as GroupState)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as GroupState, a[i] as GroupState];
        i = m;
      }
    }
    return top;
  }
}
