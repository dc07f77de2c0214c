/**
 * hpa is reactive autoscaling with the Kubernetes Horizontal Pod Autoscaler's rule, per
 * customer, from its own site's pool:
 *
 *   desired = ceil(current × utilisation / target)
 *
 * with utilisation measured over the last tick on the ready (active) servers, no change while
 * |utilisation / target − 1| ≤ tolerance, scale-up at once, and scale-down to the largest
 * recommendation of the stabilisation window (5 minutes by default). Bounds: the SLA's committed
 * level (at least 1) and its extended level.
 */
import type { Policy, SimContext } from '../context.js';
import { rateAt } from '../context.js';
import type { Fleet } from '../fleet.js';

/** hpaPolicy builds the HPA baseline for a run. */
export function hpaPolicy(ctx: SimContext): Policy {
  const s = ctx.scenario;
  const n = ctx.customerSite.length;
  const capacity = (1000 / s.server.serviceMs) * s.server.workers; // requests/s one server serves at 100 %
  const w = Math.max(1, Math.round(s.hpa.stabilisationS / s.tickSeconds));
  const recs = new Int32Array(n * w);
  const lo = (c: number) => Math.max(1, ctx.committed[c] as number);
  return {
    name: 'hpa',
    init(fleet: Fleet) {
      for (let c = 0; c < n; c++) {
        const lambda = rateAt(ctx, c, -1);
        const want = Math.min(
          ctx.extended[c] as number,
          Math.max(lo(c), Math.ceil(lambda / (capacity * s.hpa.targetUtilisation))),
        );
        for (let k = 0; k < want; k++) fleet.placeActive(c, 0);
        for (let i = 0; i < w; i++) recs[c * w + i] = want;
      }
    },
    tick(fleet: Fleet, t: number) {
      const slot = t % w;
      for (let c = 0; c < n; c++) {
        const current = fleet.active[c] as number;
        const lambda = rateAt(ctx, c, t - 1);
        let desired: number;
        if (current === 0) desired = Math.max(lo(c), Math.ceil(lambda / (capacity * s.hpa.targetUtilisation)));
        else {
          const util = lambda / (current * capacity);
          const ratio = util / s.hpa.targetUtilisation;
          desired = Math.abs(ratio - 1) <= s.hpa.tolerance ? current : Math.ceil(current * ratio);
        }
        desired = Math.min(ctx.extended[c] as number, Math.max(lo(c), desired));
        recs[c * w + slot] = desired;
        let rec = desired;
        for (let i = 0; i < w; i++) if ((recs[c * w + i] as number) > rec) rec = recs[c * w + i] as number;
        const held = fleet.held(c);
        if (rec > held) {
          const site = ctx.customerSite[c] as number;
          const pool = fleet.coldServers(site);
          for (let k = held; k < rec && pool.length > 0; k++) fleet.join(pool[pool.length - 1] as number, c, t);
        } else if (rec < held) {
          const act = fleet.activeServers(c);
          for (let k = rec; k < held && act.length > 0; k++) fleet.release(act[act.length - 1] as number, t);
        }
      }
    },
  };
}
