/**
 * hostfleet is the product's policy, wired from the same src/core functions as the live
 * services: on every group an agent feeds the aggregator (B_k of measured response time and
 * CPU), the Holt-Winters predictor (arrival rate per predictor step) and runs `decisionStep`
 * (aggregate → predict → FIS → hysteresis); its add and release requests, plus a replacement
 * request for every failed server (claim 5), go each tick to `decide` of src/core/decision per
 * site, whose plan is carried out on the fleet with move durations from src/core/dispatch;
 * `planWarmPool` keeps the warm pool. Then, once per tick, the global routine of src/core/global
 * lends servers between sites for what a site could not supply (east first, only where a
 * current replica of the customer's data lives) and takes them back when the ask falls or the
 * lender recalls them; `hostfleet.lending: false` leaves it out. The agents are
 * hostfleet-agents.ts, each site's decision loop hostfleet-site.ts, the global round
 * hostfleet-global.ts.
 */
import { DEFAULT_TICK_SETTINGS } from '../../core/decision/index.js';
import type { DecisionRequest, TickResult, TickSettings } from '../../core/decision/index.js';
import { serversNeeded } from '../capacity.js';
import type { Policy, SimContext } from '../context.js';
import { rateAt } from '../context.js';
import type { Fleet } from '../fleet.js';
import { SimAgents } from './hostfleet-agents.js';
import { GlobalRound } from './hostfleet-global.js';
import { SiteDecider } from './hostfleet-site.js';
import type { AgentView } from './hostfleet-site.js';
import { moveSeconds } from '../move-time.js';

/** HostfleetStats counts what the decision loop did, for the report. */
export interface HostfleetStats {
  decideCalls: number;
  requests: number;
  unmet: number;
  /** borrowed counts servers lent to groups of other sites; returned, lent servers given back. */
  borrowed: number;
  returned: number;
  warmed: number;
}

/** hostfleetPolicy builds the agents and the decision loop for a run. */
export function hostfleetPolicy(
  ctx: SimContext,
  stats: HostfleetStats = { decideCalls: 0, requests: 0, unmet: 0, borrowed: 0, returned: 0, warmed: 0 },
): Policy & { readonly stats: HostfleetStats } {
  const s = ctx.scenario;
  const hf = s.hostfleet;
  const n = ctx.customerSite.length;
  const nSites = s.sites.length;
  // A join ends at the first tick after its duration (the fleet counts moves in whole ticks).
  const leadMs = Math.max(1, Math.ceil(moveSeconds(s.server, null, 'g') / s.tickSeconds - 1e-9)) * s.tickSeconds * 1000;
  const settings: TickSettings = {
    ...DEFAULT_TICK_SETTINGS,
    maxMovesPerTick: hf.maxMovesPerTick,
    cost: { violationCost: hf.violationCost },
    leadMs,
    holdMs: leadMs,
  };
  const ids = s.customers.map((c) => c.id);
  const agents = new SimAgents(ctx);
  const serverIds: string[] = [];
  const failures: DecisionRequest[][] = Array.from({ length: nSites }, () => []);
  const views: AgentView[] = new Array<AgentView>(n);
  const sites = new SiteDecider(ctx, settings, stats, serverIds);
  const global = hf.lending ? new GlobalRound(ctx, stats, Math.round(settings.holdMs / (s.tickSeconds * 1000))) : null;
  const results: TickResult[] = new Array<TickResult>(nSites);
  let reqSeq = 0;
  const nextSeq = (): number => reqSeq++;

  return {
    name: 'hostfleet',
    stats,
    init(fleet: Fleet) {
      for (let x = 0; x < fleet.n; x++) serverIds.push(`s${x}`);
      for (let c = 0; c < n; c++) {
        const want = Math.max(
          ctx.committed[c] as number,
          serversNeeded(ctx.tables[c] as (typeof ctx.tables)[number], rateAt(ctx, c, -1)),
        );
        for (let k = 0; k < Math.min(want, ctx.extended[c] as number); k++) fleet.placeActive(c, 0);
        // History: the predictor and the group's outlook learn the warm-up days the operator already has.
        agents.learnHistory(c, (t, measured, forecast) => sites.learnHistory(c, t, measured, forecast));
      }
    },
    tick(fleet: Fleet, t: number, hit: readonly number[]) {
      for (const f of failures) f.length = 0;
      for (const c of hit)
        (failures[ctx.customerSite[c] as number] as DecisionRequest[]).push({
          id: `f${nextSeq()}`,
          groupId: ids[c] as string,
          kind: 'add',
          count: 1,
          urgency: 1,
          source: 'failure',
        });
      for (let c = 0; c < n; c++) views[c] = agents.status(fleet, c, t, serverIds, nextSeq);
      for (let site = 0; site < nSites; site++)
        results[site] = sites.run(fleet, site, t, views, failures[site] as DecisionRequest[]);
      global?.round(fleet, t, results);
    },
  };
}
