/**
 * hostfleet-site runs the hostfleet policy's decision loop for one site: it gathers the site's
 * tick, calls `tick` of src/core/decision, and carries out the plan's moves and the warm pool's
 * actions on the fleet. What the site could not supply goes, in the tick's result, to the
 * global round (hostfleet-global.ts), which lends servers of other sites.
 *
 * Lent servers: a group's servers of other sites count in what it holds (as joining, so the
 * tick neither moves nor releases them — the site does not own them) and are not listed; they
 * leave only when the global routine returns them to their lender.
 *
 * Snapshot: to keep a tick cheap, the input lists the servers of groups that ask for something
 * or hold more than their floor (the only possible donors), and the pool; every other group's
 * servers are folded into its `joining` count, which `decide` adds to `held`, so each group's
 * held count stays exact. The cold pool is listed up to the tick's move bound plus the
 * warm-pool target: a tick cannot use more.
 */
import { learn, newTickState, tick } from '../../core/decision/index.js';
import type {
  AgentAsk,
  DecisionRequest,
  DecisionServer,
  RecentMove,
  ServerLister,
  TickGroup,
  TickInput,
  TickResult,
  TickSettings,
  TickState,
} from '../../core/decision/index.js';
import type { SimContext } from '../context.js';
import type { Fleet } from '../fleet.js';
import type { HostfleetStats } from './hostfleet.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** AgentView is what a group's agent reported this tick. */
export interface AgentView {
  readonly measuredRps: number;
  readonly forecastRps: number | null;
  readonly agent: AgentAsk | null;
}

/** SiteDecider holds what the decision loop keeps between ticks: recent moves and cached views of servers and groups. */
export class SiteDecider {
  private readonly ids: readonly string[];
  private readonly index: ReadonlyMap<string, number>;
  private readonly tickMs: number;
  private readonly cache: (DecisionServer | undefined)[] = [];
  private readonly recent: RecentMove[][];
  private readonly recentSpan: number;
  private readonly siteCustomers: number[][];
  private readonly states: TickState[];
  private readonly groupViews: Mutable<TickGroup>[][];

  /** asking marks the customers that asked for something this tick; serverIds names servers. */
  constructor(
    private readonly ctx: SimContext,
    private readonly settings: TickSettings,
    private readonly stats: HostfleetStats,
    private readonly serverIds: readonly string[],
  ) {
    const s = ctx.scenario;
    const n = ctx.customerSite.length;
    const nSites = s.sites.length;
    this.ids = s.customers.map((c) => c.id);
    const ids = this.ids;
    this.index = new Map(ids.map((id, i) => [id, i]));
    this.tickMs = s.tickSeconds * 1000;
    this.recent = Array.from({ length: nSites }, () => []);
    this.recentSpan = Math.max(settings.reverseCooldownMs, settings.groupCooldownMs, settings.serverCooldownMs);
    this.siteCustomers = Array.from({ length: nSites }, () => []);
    for (let c = 0; c < n; c++) (this.siteCustomers[ctx.customerSite[c] as number] as number[]).push(c);
    // In id order: decide sorts its groups by id every call, and an input already in that order sorts in one pass.
    for (const l of this.siteCustomers)
      l.sort((x, y) =>
        (ids[x] as string) < (ids[y] as string) ? -1 : (ids[x] as string) > (ids[y] as string) ? 1 : 0,
      );
    this.states = Array.from({ length: nSites }, () => newTickState());
    this.groupViews = Array.from({ length: nSites }, () => []);
  }

  private serverView(fleet: Fleet, x: number, spot: 'group' | 'pool'): DecisionServer {
    const owner = fleet.owner[x] as number;
    const groupId = owner >= 0 ? (this.ids[owner] as string) : null;
    const temp = spot === 'pool' ? (fleet.state[x] === 1 ? 'warm' : 'cold') : null;
    const since = fleet.since(x);
    const movedAt = since >= 0 ? this.ctx.scenario.start + since * this.tickMs : null;
    const old = this.cache[x];
    if (
      old !== undefined &&
      old.spot === spot &&
      old.groupId === groupId &&
      old.temp === temp &&
      old.movedAt === movedAt
    )
      return old;
    const v: DecisionServer = { id: this.serverIds[x] as string, spot, groupId, temp, movedAt };
    this.cache[x] = v;
    return v;
  }

  /** learnHistory runs customer c's history tick t through its site's outlook (see `learn` of src/core/decision). */
  learnHistory(c: number, t: number, measuredRps: number, forecastRps: number | null): void {
    const { ctx } = this;
    const s = ctx.scenario;
    learn(
      this.states[ctx.customerSite[c] as number] as TickState,
      {
        id: this.ids[c] as string,
        priority: ctx.priority[c] as number,
        extended: ctx.extended[c] as number,
        maxSize: ctx.extended[c] as number,
      },
      (ctx.tables[c] as (typeof ctx.tables)[number]).spec,
      measuredRps,
      forecastRps,
      s.start + t * this.tickMs,
      this.settings.leadMs + this.tickMs,
      this.settings,
    );
  }

  /**
   * input gathers site's tick t as the manager's loop gathers it from its store and the agents'
   * statuses: every group with its levels, servers and rates, the servers (listed on demand),
   * the failure replacements and the recent moves.
   */
  input(fleet: Fleet, site: number, t: number, statuses: readonly AgentView[], failures: DecisionRequest[]): TickInput {
    const { ctx, settings, ids } = this;
    const now = ctx.scenario.start + t * this.tickMs;
    // One view per group, refreshed in place: a run makes ten million of them otherwise.
    const groups = this.groupViews[site] as Mutable<TickGroup>[];
    const list = this.siteCustomers[site] as number[];
    for (let k = 0; k < list.length; k++) {
      const c = list[k] as number;
      const st = statuses[c] as AgentView;
      let g = groups[k];
      if (g === undefined) {
        g = {
          id: ids[c] as string,
          minSize: 0,
          maxSize: ctx.extended[c] as number,
          committed: ctx.committed[c] as number,
          burst: ctx.burst[c] as number,
          extended: ctx.extended[c] as number,
          priority: ctx.priority[c] as number,
          joining: 0,
          active: 0,
          queue: (ctx.tables[c] as (typeof ctx.tables)[number]).spec,
          measuredRps: null,
          forecastRps: null,
          agent: null,
        };
        groups[k] = g;
      }
      const lent = fleet.foreignActive[c] as number;
      g.joining = (fleet.joining[c] as number) + lent;
      g.active = (fleet.active[c] as number) - lent;
      g.measuredRps = st.measuredRps;
      g.forecastRps = st.forecastRps;
      g.agent = st.agent;
    }
    const coldCap = settings.maxMovesPerTick + (settings.warmPool === 'auto' ? 64 : settings.warmPool);
    const lister: ServerLister = {
      pool: fleet.poolCold(site) + fleet.poolWarm(site),
      warm: fleet.poolWarm(site),
      list: (listed) => {
        const servers: DecisionServer[] = [];
        for (const c of this.siteCustomers[site] as number[])
          if (listed.has(ids[c] as string))
            for (const x of fleet.activeServers(c))
              if (fleet.site[x] === site) servers.push(this.serverView(fleet, x, 'group'));
        for (const x of fleet.warmServers(site)) servers.push(this.serverView(fleet, x, 'pool'));
        const cold = fleet.coldServers(site);
        for (let k = cold.length - 1; k >= 0 && k >= cold.length - coldCap; k--)
          servers.push(this.serverView(fleet, cold[k] as number, 'pool'));
        return servers;
      },
    };
    const rec = (this.recent[site] as RecentMove[]).filter((m) => now - m.at < this.recentSpan);
    this.recent[site] = rec;
    return { tickId: `${site}:${t}`, now, groups, servers: lister, requests: failures, recent: rec, settings };
  }

  /**
   * run decides site's tick t with the shared tick of src/core/decision on the agents' statuses
   * and the failure replacements, carries out its moves and warm-pool actions on the fleet, and
   * returns the tick's result (its sizings and what it could not supply feed the global round).
   */
  run(fleet: Fleet, site: number, t: number, statuses: readonly AgentView[], failures: DecisionRequest[]): TickResult {
    const { stats, ids, index } = this;
    const input = this.input(fleet, site, t, statuses, failures);
    const { now } = input;
    const rec = this.recent[site] as RecentMove[];
    const out = tick(this.states[site] as TickState, input);
    stats.requests += out.requests.length;
    if (out.input === null) return out;
    stats.decideCalls++;
    for (const m of out.plan.moves) {
      const x = Number(m.serverId.slice(1));
      const from = fleet.state[x] === 3 ? (ids[fleet.owner[x] as number] as string) : null;
      const ok = m.toGroup === null ? fleet.release(x, t) : fleet.join(x, index.get(m.toGroup) as number, t);
      if (ok) rec.push({ serverId: m.serverId, fromGroup: from, toGroup: m.toGroup, at: now });
    }
    for (const w of out.warm) {
      const x = Number(w.serverId.slice(1));
      if (w.kind === 'warm' && w.groupId !== null) {
        if (fleet.warmServer(x, index.get(w.groupId) as number, t)) stats.warmed++;
      } else if (w.kind === 'cool') fleet.cool(x);
    }
    for (const u of out.offsite) stats.unmet += u.count;
    return out;
  }
}
