/**
 * hostfleet is the product's policy, wired from the same src/core functions as the live
 * services: on every group an agent feeds the aggregator (B_k of measured response time and
 * CPU), the Holt-Winters predictor (arrival rate per predictor step) and runs `decisionStep`
 * (aggregate → predict → FIS → hysteresis); its add and release requests, plus a replacement
 * request for every failed server (claim 5), go each tick to `decide` of src/core/decision per
 * site, whose plan is carried out on the fleet with move durations from src/core/dispatch;
 * `planWarmPool` keeps the warm pool. Demand a site cannot meet locally is served with servers
 * from the site with the most spare pool — the global coordinator's part, done here in the
 * simulator while src/core/global is empty. The agents are hostfleet-agents.ts, each site's
 * decision loop hostfleet-site.ts.
 */
import { DEFAULT_DECISION_SETTINGS } from '../../core/decision/index.js';
import type { DecisionRequest, DecisionSettings } from '../../core/decision/index.js';
import { serversNeeded } from '../capacity.js';
import type { Policy, SimContext } from '../context.js';
import { rateAt } from '../context.js';
import type { Fleet } from '../fleet.js';
import { SimAgents } from './hostfleet-agents.js';
import { SiteDecider } from './hostfleet-site.js';

/** HostfleetStats counts what the decision loop did, for the report. */
export interface HostfleetStats {
  decideCalls: number;
  requests: number;
  unmet: number;
  borrowed: number;
  warmed: number;
}

/** hostfleetPolicy builds the agents and the decision loop for a run. */
export function hostfleetPolicy(
  ctx: SimContext,
  stats: HostfleetStats = { decideCalls: 0, requests: 0, unmet: 0, borrowed: 0, warmed: 0 },
): Policy & {
  readonly stats: HostfleetStats;
  readonly agentWant: (c: number, lambda: number, upTo: number) => number;
  readonly agentWantSlow: (c: number, lambda: number, upTo: number) => number;
} {
  const s = ctx.scenario;
  const hf = s.hostfleet;
  const n = ctx.customerSite.length;
  const nSites = s.sites.length;
  const settings: DecisionSettings = {
    ...DEFAULT_DECISION_SETTINGS,
    maxMovesPerTick: hf.maxMovesPerTick,
    warmPoolSize: hf.warmPoolSize,
  };
  const ids = s.customers.map((c) => c.id);
  const agents = new SimAgents(ctx);
  const serverIds: string[] = [];
  const requests: DecisionRequest[][] = Array.from({ length: nSites }, () => []);
  const asking = new Uint8Array(n);
  const sites = new SiteDecider(ctx, settings, stats, serverIds, asking);
  let reqSeq = 0;
  const nextSeq = (): number => reqSeq++;

  return {
    name: 'hostfleet',
    stats,
    agentWant: agents.agentWant,
    agentWantSlow: agents.agentWantSlow,
    init(fleet: Fleet) {
      for (let x = 0; x < fleet.n; x++) serverIds.push(`s${x}`);
      for (let c = 0; c < n; c++) {
        const want = Math.max(
          ctx.committed[c] as number,
          serversNeeded(ctx.tables[c] as (typeof ctx.tables)[number], rateAt(ctx, c, -1)),
        );
        for (let k = 0; k < Math.min(want, ctx.extended[c] as number); k++) fleet.placeActive(c, 0);
        // History: the predictor learns the warm-up days the operator already has.
        agents.learnHistory(c);
      }
    },
    tick(fleet: Fleet, t: number, hit: readonly number[]) {
      for (const r of requests) r.length = 0;
      asking.fill(0);
      let any = false;
      for (const c of hit) {
        (requests[ctx.customerSite[c] as number] as DecisionRequest[]).push({
          id: `f${nextSeq()}`,
          groupId: ids[c] as string,
          kind: 'add',
          count: 1,
          urgency: 1,
          source: 'failure',
        });
        asking[c] = 1;
        any = true;
      }
      for (let c = 0; c < n; c++) {
        const r = agents.request(fleet, c, t, serverIds, nextSeq);
        if (r === null) continue;
        (requests[ctx.customerSite[c] as number] as DecisionRequest[]).push(r);
        asking[c] = 1;
        any = true;
      }
      for (let site = 0; site < nSites; site++) {
        const reqs = requests[site] as DecisionRequest[];
        stats.requests += reqs.length;
        // A tick without requests changes nothing but the warm pool, which only moves when asked.
        if (reqs.length > 0 || (any && fleet.poolWarm(site) < settings.warmPoolSize)) sites.run(fleet, site, t, reqs);
      }
    },
  };
}
