/**
 * hostfleet-global is the global routine's round in the simulator (seed 001, Figures 9, 10 and
 * 13): once per tick, after every site's tick, each site reports to `planGlobal` of
 * src/core/global what it can lend, what it wants back and what its groups ask of other sites,
 * and the round's loans are carried out on the fleet.
 *
 * A site's report, from the fleet and its tick's result:
 *   - spare: its cold pool less what it keeps for itself — the warm pool's shortfall from its
 *     target (the tick warms cold servers next) and what its own groups could not get;
 *   - recall: of the servers it has lent, as many as its own groups could not get from the pool;
 *   - asks: per group, the servers it wants from other sites in all: its sizing's `want` less
 *     the servers of its own site it holds (so the servers already lent count, and the ask falls
 *     when the sizing falls), at least what is lent plus what the tick could not supply (its
 *     unmet demand but what the group's own limits stopped, see GROUP_LIMITS). A group
 *     that received a loan within the tick's hold time keeps asking for it (the tick releases
 *     nothing it has just received either);
 *   - accounts: the groups that ask or borrow, with what they hold at home, their extended
 *     level and the replica sites of their data at the scenario's replication lag (while every
 *     site reports, a round reads no other account);
 *   - lending: per loan, the servers of the lender the group holds.
 *
 * Carrying out: the loans of the round's state are the target. A lender and a borrower whose
 * servers are fewer than their loans get the rest from the lender's cold pool (a cold join);
 * more than their loans, the borrower drains the excess back to the lender's pool (a server
 * still joining goes when it has joined). Running it twice does nothing twice.
 */
import {
  DEFAULT_GLOBAL_SETTINGS,
  newGlobalState,
  planGlobal,
  type GlobalSettings,
  type GlobalState,
  type HomeAccount,
  type OffsiteAsk,
  type ReplicaView,
  type SiteReport,
  type SiteSeen,
} from '../../core/global/index.js';
import type { TickResult } from '../../core/decision/index.js';
import type { SimContext } from '../context.js';
import type { Fleet } from '../fleet.js';
import type { HostfleetStats } from './hostfleet.js';

/** GlobalRound keeps the global routine's state and the lender–borrower pairs it has to keep in step. */
export class GlobalRound {
  private state: GlobalState = newGlobalState();
  /** pairs holds c × sites + lender for every borrower and lender with a loan or lent servers. */
  private readonly pairs = new Set<number>();
  private readonly nSites: number;
  private readonly ids: readonly string[];
  private readonly index: ReadonlyMap<string, number>;
  private readonly siteIndex: ReadonlyMap<string, number>;
  /** slot[c] is customer c's place among its site's groups (the order of its tick's sizings). */
  private readonly slot: Int32Array;
  private readonly replicas: readonly (readonly ReplicaView[])[];
  /** lastLend[c] is the tick customer c last received lent servers. */
  private readonly lastLend: Float64Array;
  private readonly offsite: Int32Array;
  private readonly tickMs: number;

  /** holdTicks: a group that received a loan this recently keeps asking for it. */
  constructor(
    private readonly ctx: SimContext,
    private readonly stats: HostfleetStats,
    private readonly holdTicks: number,
    private readonly settings: GlobalSettings = DEFAULT_GLOBAL_SETTINGS,
  ) {
    const s = ctx.scenario;
    this.nSites = s.sites.length;
    this.ids = s.customers.map((c) => c.id);
    this.index = new Map(this.ids.map((id, i) => [id, i]));
    this.siteIndex = new Map(s.sites.map((x, i) => [x.id, i]));
    const n = this.ids.length;
    this.slot = new Int32Array(n);
    const seen = new Int32Array(this.nSites);
    for (let c = 0; c < n; c++) {
      const h = ctx.customerSite[c] as number;
      this.slot[c] = seen[h] as number;
      seen[h] = (seen[h] as number) + 1;
    }
    const lagMs = s.replication.lagS * 1000;
    this.replicas = s.customers.map((c) => c.replicas.map((site) => ({ site, lagMs })));
    this.lastLend = new Float64Array(n).fill(-Infinity);
    this.offsite = new Int32Array(n);
    this.tickMs = s.tickSeconds * 1000;
  }

  /** lentHeld is how many servers of other sites customer c holds (joining or active). */
  private lentHeld(fleet: Fleet, c: number): number {
    const home = this.ctx.customerSite[c] as number;
    let k = 0;
    for (let site = 0; site < this.nSites; site++) if (site !== home) k += fleet.lentTo(c, site);
    return k;
  }

  /** wantOf is group c's sizing this tick (the servers it wants), or undefined when the tick did not size it. */
  private wantOf(c: number, out: TickResult): number | undefined {
    const id = this.ids[c] as string;
    const at = out.sizings[this.slot[c] as number];
    return at?.groupId === id ? at.want : out.sizings.find((z) => z.groupId === id)?.want;
  }

  /** round runs the global routine for tick t over the sites' tick results (indexed by site) and carries out its loans. */
  round(fleet: Fleet, t: number, results: readonly TickResult[]): void {
    const { ctx, ids } = this;
    const now = ctx.scenario.start + t * this.tickMs;
    // Who takes part: groups the tick left short, and groups with loans.
    const groups = new Set<number>();
    for (const out of results)
      for (const u of out.offsite) {
        const c = this.index.get(u.groupId) as number;
        this.offsite[c] = (this.offsite[c] as number) + u.count;
        groups.add(c);
      }
    for (const l of this.state.loans) groups.add(this.index.get(l.to.group) as number);
    if (groups.size === 0 && this.pairs.size === 0) return;

    const loansTo = new Map<number, number>();
    const lentBy = new Float64Array(this.nSites);
    for (const l of this.state.loans) {
      const c = this.index.get(l.to.group) as number;
      loansTo.set(c, (loansTo.get(c) ?? 0) + l.count);
      const lender = this.siteIndex.get(l.lender) as number;
      lentBy[lender] = (lentBy[lender] as number) + l.count;
    }
    const asks: OffsiteAsk[][] = Array.from({ length: this.nSites }, () => []);
    const accounts: HomeAccount[][] = Array.from({ length: this.nSites }, () => []);
    const short = new Float64Array(this.nSites);
    for (const c of groups) {
      const home = ctx.customerSite[c] as number;
      const out = results[home] as TickResult;
      const lent = this.lentHeld(fleet, c);
      const atHome = fleet.held(c) - lent;
      const unmet = this.offsite[c] as number;
      short[home] = (short[home] as number) + unmet;
      let count = Math.max(0, (this.wantOf(c, out) ?? 0) - atHome, unmet > 0 ? lent + unmet : 0);
      if (t - (this.lastLend[c] as number) < this.holdTicks) count = Math.max(count, loansTo.get(c) ?? 0);
      const id = ids[c] as string;
      asks[home]?.push({ group: id, account: id, count, priority: ctx.priority[c] as number });
      accounts[home]?.push({
        account: id,
        groups: [{ group: id, held: atHome, extended: ctx.extended[c] as number }],
        replicas: this.replicas[c] as readonly ReplicaView[],
      });
    }
    for (const c of groups) this.offsite[c] = 0;

    // Each loan's servers handed over: what the borrower holds of the lender, oldest loan first.
    const handed = new Map<string, number>();
    const left = new Map<number, number>();
    for (const l of this.state.loans) {
      const key = (this.index.get(l.to.group) as number) * this.nSites + (this.siteIndex.get(l.lender) as number);
      const have = left.get(key) ?? fleet.lentTo(Math.floor(key / this.nSites), key % this.nSites);
      handed.set(l.id, Math.min(l.count, have));
      left.set(key, have - Math.min(l.count, have));
    }
    const seen: SiteSeen[] = ctx.scenario.sites.map((site, i) => {
      const out = results[i] as TickResult;
      const cold = fleet.poolCold(i);
      const keep = Math.max(0, out.warmTarget - fleet.poolWarm(i)) + (short[i] as number);
      const report: SiteReport = {
        site: site.id,
        utcOffsetMinutes: Math.round(site.utcOffsetHours * 60),
        at: now,
        spare: Math.max(0, cold - keep),
        recall: Math.min(lentBy[i] as number, Math.max(0, keep - cold)),
        asks: asks[i] as OffsiteAsk[],
        accounts: accounts[i] as HomeAccount[],
        lending: this.state.loans
          .filter((l) => l.lender === site.id)
          .map((l) => ({ loanId: l.id, servers: handed.get(l.id) ?? 0 })),
        restored: [],
      };
      return { report, receivedAt: now };
    });
    const plan = planGlobal(this.state, seen, now, this.settings);
    this.state = plan.state;
    this.settle(fleet, t);
  }

  /** settle brings what each borrower holds of each lender to the loans of the state. */
  private settle(fleet: Fleet, t: number): void {
    const target = new Map<number, number>();
    for (const l of this.state.loans) {
      const key = (this.index.get(l.to.group) as number) * this.nSites + (this.siteIndex.get(l.lender) as number);
      target.set(key, (target.get(key) ?? 0) + l.count);
      this.pairs.add(key);
    }
    for (const key of this.pairs) {
      const c = Math.floor(key / this.nSites);
      const lender = key % this.nSites;
      const want = target.get(key) ?? 0;
      let have = fleet.lentTo(c, lender);
      if (have < want) {
        const pool = fleet.coldServers(lender);
        while (have < want && pool.length > 0 && fleet.join(pool[pool.length - 1] as number, c, t)) {
          have++;
          this.stats.borrowed++;
          this.lastLend[c] = t;
        }
      } else if (have > want) {
        const mine = fleet.activeServers(c).filter((x) => fleet.site[x] === lender);
        for (let k = 0; k < mine.length && have > want; k++)
          if (fleet.release(mine[k] as number, t)) {
            have--;
            this.stats.returned++;
          }
      }
      if (want === 0 && have === 0) this.pairs.delete(key);
    }
  }
}
