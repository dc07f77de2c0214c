/**
 * static is the prior art of the seed's Figure 2: every customer is given enough servers for
 * its own peak, for the whole run. A failed server is replaced from the site's pool, as an
 * operator would, after a cold boot.
 */
import type { Policy, SimContext } from '../context.js';
import type { Fleet } from '../fleet.js';

/** staticPeakPolicy sizes each customer for its peak (at least its committed level). */
export function staticPeakPolicy(ctx: SimContext): Policy {
  const n = ctx.customerSite.length;
  const want = new Int32Array(n);
  for (let c = 0; c < n; c++) want[c] = Math.max(ctx.committed[c] as number, ctx.peakNeed[c] as number);
  let short: number[] = [];
  return {
    name: 'static',
    init(fleet: Fleet) {
      for (let c = 0; c < n; c++)
        for (let k = 0; k < (want[c] as number); k++) if (!fleet.placeActive(c, 0)) short.push(c);
    },
    tick(fleet: Fleet, t: number, hit: readonly number[]) {
      for (const c of hit) short.push(c);
      if (short.length === 0) return;
      const still: number[] = [];
      for (const c of short) {
        if (fleet.held(c) >= (want[c] as number)) continue;
        const site = ctx.customerSite[c] as number;
        const pool = fleet.coldServers(site);
        if (pool.length === 0 || !fleet.join(pool[pool.length - 1] as number, c, t)) still.push(c);
      }
      short = still;
    },
  };
}
