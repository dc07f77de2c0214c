/**
 * fleet is one policy's simulated fleet: every server's state in typed arrays, per-customer and
 * per-site counters kept in step with them, and moves timed by the move state machine of
 * src/core/dispatch (each step of `stepsFor` gets a duration from the server model). Nothing is
 * allocated per server per tick: a tick touches only the servers whose move, failure or repair
 * ends in it (bucketed by tick).
 *
 * States are the lifecycle of src/core/model/server.ts folded to what changes a count:
 * pool-cold, pool-warm (booted, not serving; holds a group's personality or none), joining (a
 * move towards a group: moving + booting), active, leaving (draining + power-off back to the
 * pool) and failed. Powered servers — warm, joining, active, leaving — are what server-hours
 * count.
 *
 * Every server belongs to one site for good (`site`): lent to a group of another site, it
 * serves there and, released or repaired, goes back to its own site's pool. The fleet counts
 * what each group holds from each site, so a lender's loans can be checked against it.
 */
import { checkFleet } from './fleet-check.js';
import { moveSeconds } from './move-time.js';
import type { Rng } from './rng.js';
import type { ServerModel } from './scenario.js';
import {
  ACTIVE,
  COLD,
  FAILED,
  JOINING,
  LEAVING,
  SIM_STATES,
  WARM,
  type FleetCounts,
  type SimState,
} from './server-states.js';

export { SIM_STATES, type FleetCounts, type SimState } from './server-states.js';
export { moveSeconds, stepSeconds } from './move-time.js';

/** JoinKind says where a joining server comes from, which decides its delay. */
export type JoinKind = 'cold' | 'warm' | 'group';

/** Fleet is one policy's servers. Customers and sites are numbered 0 … n − 1. */
export class Fleet {
  readonly n: number;
  readonly state: Uint8Array;
  /** owner is the group a joining/active server belongs to, or the personality a warm server holds (−1: none). */
  readonly owner: Int32Array;
  readonly site: Uint8Array;
  /** pos is a server's index in whichever list holds it (customer's active list or a site pool list). */
  private readonly pos: Int32Array;
  private readonly eventTick: Int32Array;
  private readonly buckets: (number[] | undefined)[];
  readonly active: Int32Array;
  readonly joining: Int32Array;
  private readonly activeList: number[][];
  private readonly coldList: number[][];
  private readonly warmList: number[][];
  readonly customerSite: Uint8Array;
  /** heldFrom[c × sites + site] is how many servers of site customer c holds (joining or active). */
  readonly heldFrom: Int32Array;
  /** foreignActive[c] is how many of customer c's active servers belong to another site (lent to it). */
  readonly foreignActive: Int32Array;
  readonly stateCount: Int32Array;
  /** moves and crossSiteMoves count started moves towards groups; releases count moves to the pool. */
  moves = 0;
  crossSiteMoves = 0;
  releases = 0;
  failures = 0;
  private readonly tickS: number;
  private readonly joinTicks: { cold: number; warm: number; group: number; release: number };
  private readonly rng: Rng;
  private readonly mtbfTicks: number;
  private readonly mttrTicks: number;

  constructor(
    model: ServerModel,
    siteSizes: readonly number[],
    customerSite: readonly number[],
    ticks: number,
    tickSeconds: number,
    rng: Rng,
  ) {
    this.n = siteSizes.reduce((a, b) => a + b, 0);
    this.state = new Uint8Array(this.n);
    this.owner = new Int32Array(this.n).fill(-1);
    this.site = new Uint8Array(this.n);
    this.pos = new Int32Array(this.n);
    this.eventTick = new Int32Array(this.n).fill(-1);
    this.buckets = new Array<number[] | undefined>(ticks + 1);
    const nc = customerSite.length;
    this.active = new Int32Array(nc);
    this.joining = new Int32Array(nc);
    this.activeList = Array.from({ length: nc }, () => []);
    this.customerSite = Uint8Array.from(customerSite);
    this.heldFrom = new Int32Array(nc * siteSizes.length);
    this.foreignActive = new Int32Array(nc);
    this.coldList = siteSizes.map(() => []);
    this.warmList = siteSizes.map(() => []);
    this.stateCount = new Int32Array(SIM_STATES.length);
    let s = 0;
    siteSizes.forEach((size, si) => {
      for (let k = 0; k < size; k++, s++) {
        this.site[s] = si;
        this.pushList(this.coldList[si] as number[], s);
      }
    });
    this.stateCount[COLD] = this.n;
    this.tickS = tickSeconds;
    const t = (sec: number) => Math.max(1, Math.ceil(sec / tickSeconds - 1e-9));
    this.joinTicks = {
      cold: t(moveSeconds(model, null, 'g')),
      warm: t(moveSeconds(model, null, 'g', true)),
      group: t(moveSeconds(model, 'a', 'b')),
      release: t(moveSeconds(model, 'a', null)),
    };
    this.rng = rng;
    this.mtbfTicks = (model.mtbfHours * 3600) / tickSeconds;
    this.mttrTicks = (model.mttrHours * 3600) / tickSeconds;
  }

  /** joinDelayTicks is how many ticks a join takes (a lent server's too: its site holds a replica of the data). */
  joinDelayTicks(kind: JoinKind): number {
    return this.joinTicks[kind];
  }

  /** hold counts server s of its site into (k = 1) or out of (k = −1) what customer c holds; active: it serves. */
  private hold(s: number, c: number, k: number, active: boolean): void {
    const site = this.site[s] as number;
    const i = c * this.coldList.length + site;
    this.heldFrom[i] = (this.heldFrom[i] as number) + k;
    if (active && site !== this.customerSite[c]) this.foreignActive[c] = (this.foreignActive[c] as number) + k;
  }

  /** lentTo is how many servers of site customer c holds (joining or active). */
  lentTo(c: number, site: number): number {
    return this.heldFrom[c * this.coldList.length + site] as number;
  }

  private pushList(list: number[], s: number): void {
    this.pos[s] = list.length;
    list.push(s);
  }

  private removeList(list: number[], s: number): void {
    const i = this.pos[s] as number;
    const last = list.pop() as number;
    if (last !== s) {
      list[i] = last;
      this.pos[last] = i;
    }
  }

  private setState(s: number, to: number): void {
    const from = this.state[s] as number;
    this.stateCount[from] = (this.stateCount[from] as number) - 1;
    this.stateCount[to] = (this.stateCount[to] as number) + 1;
    this.state[s] = to;
  }

  private schedule(s: number, tick: number): void {
    this.eventTick[s] = tick;
    if (tick >= this.buckets.length) return; // ends after the run
    let b = this.buckets[tick];
    if (b === undefined) {
      b = [];
      this.buckets[tick] = b;
    }
    b.push(s);
  }

  /** poolCold and poolWarm are the sizes of a site's pool. */
  poolCold(site: number): number {
    return (this.coldList[site] as number[]).length;
  }

  /** poolWarm is the number of warm pool servers at a site. */
  poolWarm(site: number): number {
    return (this.warmList[site] as number[]).length;
  }

  /** held is a customer's active plus joining servers. */
  held(c: number): number {
    return (this.active[c] as number) + (this.joining[c] as number);
  }

  /** powered is the number of servers that draw power and count as server-hours. */
  powered(): number {
    return (
      (this.stateCount[WARM] as number) +
      (this.stateCount[JOINING] as number) +
      (this.stateCount[ACTIVE] as number) +
      (this.stateCount[LEAVING] as number)
    );
  }

  /** activeServers lists a customer's active servers (a live view: do not keep it across calls). */
  activeServers(c: number): readonly number[] {
    return this.activeList[c] as number[];
  }

  /** coldServers and warmServers list a site's pool (live views). */
  coldServers(site: number): readonly number[] {
    return this.coldList[site] as number[];
  }

  /** warmServers lists a site's warm pool (a live view). */
  warmServers(site: number): readonly number[] {
    return this.warmList[site] as number[];
  }

  /** placeActive puts a pool server straight into a group, active (the state before tick 0). */
  placeActive(c: number, now: number): boolean {
    const site = this.customerSite[c] as number;
    const cold = this.coldList[site] as number[];
    if (cold.length === 0) return false;
    const s = cold[cold.length - 1] as number;
    this.removeList(cold, s);
    this.setState(s, ACTIVE);
    this.owner[s] = c;
    this.pushList(this.activeList[c] as number[], s);
    this.active[c] = (this.active[c] as number) + 1;
    this.hold(s, c, 1, true);
    this.eventTick[s] = now;
    return true;
  }

  /**
   * join starts moving server s to customer c from wherever it is (pool or another group);
   * it becomes active after the move's duration. Returns false for a server that cannot move
   * (failed, already joining or leaving).
   */
  join(s: number, c: number, now: number): boolean {
    const st = this.state[s] as number;
    const site = this.site[s] as number;
    let kind: JoinKind;
    if (st === COLD) {
      this.removeList(this.coldList[site] as number[], s);
      kind = 'cold';
    } else if (st === WARM) {
      this.removeList(this.warmList[site] as number[], s);
      kind = this.owner[s] === c ? 'warm' : 'cold';
    } else if (st === ACTIVE) {
      const from = this.owner[s] as number;
      if (from === c) return false;
      this.removeList(this.activeList[from] as number[], s);
      this.active[from] = (this.active[from] as number) - 1;
      this.hold(s, from, -1, true);
      kind = 'group';
    } else return false;
    const cross = site !== this.customerSite[c];
    this.setState(s, JOINING);
    this.owner[s] = c;
    this.joining[c] = (this.joining[c] as number) + 1;
    this.hold(s, c, 1, false);
    this.moves++;
    if (cross) this.crossSiteMoves++;
    this.schedule(s, now + this.joinDelayTicks(kind));
    return true;
  }

  /** release starts returning an active server to its site's cold pool (drain, wipe, power off). */
  release(s: number, now: number): boolean {
    if (this.state[s] !== ACTIVE) return false;
    const c = this.owner[s] as number;
    this.removeList(this.activeList[c] as number[], s);
    this.active[c] = (this.active[c] as number) - 1;
    this.hold(s, c, -1, true);
    this.setState(s, LEAVING);
    this.owner[s] = -1;
    this.releases++;
    this.schedule(s, now + this.joinTicks.release);
    return true;
  }

  /** warm boots a cold pool server with customer c's personality (−1: a generic one) into the warm pool. */
  warm(site: number, c: number, now: number): boolean {
    const cold = this.coldList[site] as number[];
    if (cold.length === 0) return false;
    const s = cold[cold.length - 1] as number;
    this.removeList(cold, s);
    this.setState(s, WARM);
    this.owner[s] = c;
    this.pushList(this.warmList[site] as number[], s);
    this.eventTick[s] = now;
    return true;
  }

  /** warmServer boots one given cold pool server with customer c's personality into the warm pool. */
  warmServer(s: number, c: number, now: number): boolean {
    if (this.state[s] !== COLD) return false;
    const site = this.site[s] as number;
    this.removeList(this.coldList[site] as number[], s);
    this.setState(s, WARM);
    this.owner[s] = c;
    this.pushList(this.warmList[site] as number[], s);
    this.eventTick[s] = now;
    return true;
  }

  /** since is the tick a server's last move, release, failure or repair started or ended (−1: never). */
  since(s: number): number {
    return this.eventTick[s] as number;
  }

  /** cool powers a warm pool server off. */
  cool(s: number): boolean {
    if (this.state[s] !== WARM) return false;
    const site = this.site[s] as number;
    this.removeList(this.warmList[site] as number[], s);
    this.setState(s, COLD);
    this.owner[s] = -1;
    this.pushList(this.coldList[site] as number[], s);
    return true;
  }

  /** fail takes a powered server out of service until it is repaired; returns the customer it served (or −1). */
  fail(s: number, now: number): number {
    const st = this.state[s] as number;
    if (st === COLD || st === FAILED) return -1;
    const c = this.owner[s] as number;
    const site = this.site[s] as number;
    let hit = -1;
    if (st === WARM) this.removeList(this.warmList[site] as number[], s);
    else if (st === ACTIVE) {
      this.removeList(this.activeList[c] as number[], s);
      this.active[c] = (this.active[c] as number) - 1;
      this.hold(s, c, -1, true);
      hit = c;
    } else if (st === JOINING) {
      this.joining[c] = (this.joining[c] as number) - 1;
      this.hold(s, c, -1, false);
      hit = c;
    }
    this.setState(s, FAILED);
    this.owner[s] = -1;
    this.failures++;
    this.schedule(s, now + Math.max(1, Math.round(this.rng.exponential(this.mttrTicks))));
    return hit;
  }

  /**
   * advance runs tick `now`: moves, releases and repairs that end now, then random failures of
   * powered servers (each fails at rate 1/MTBF). Returns the customers that lost a server.
   */
  advance(now: number, hitOut: number[]): void {
    hitOut.length = 0;
    const b = this.buckets[now];
    if (b !== undefined) {
      for (const s of b) {
        if (this.eventTick[s] !== now) continue; // superseded by a failure
        const st = this.state[s] as number;
        if (st === JOINING) {
          const c = this.owner[s] as number;
          this.joining[c] = (this.joining[c] as number) - 1;
          this.active[c] = (this.active[c] as number) + 1;
          if (this.site[s] !== this.customerSite[c]) this.foreignActive[c] = (this.foreignActive[c] as number) + 1;
          this.setState(s, ACTIVE);
          this.pushList(this.activeList[c] as number[], s);
        } else if (st === LEAVING || st === FAILED) {
          this.setState(s, COLD);
          this.owner[s] = -1;
          this.pushList(this.coldList[this.site[s] as number] as number[], s);
        }
      }
      this.buckets[now] = undefined;
    }
    if (this.mtbfTicks > 0) {
      const k = this.rng.poisson(this.n / this.mtbfTicks);
      for (let i = 0; i < k; i++) {
        const hit = this.fail(this.rng.int(this.n), now);
        if (hit >= 0) hitOut.push(hit);
      }
    }
  }

  /** counts returns servers per state. */
  counts(): FleetCounts {
    const o = {} as Record<SimState, number>;
    SIM_STATES.forEach((st, i) => (o[st] = this.stateCount[i] as number));
    return o;
  }

  /**
   * check recounts everything from the per-server arrays and returns what disagrees with the
   * counters and lists (empty when the fleet is consistent): the conservation test's oracle.
   */
  check(): string[] {
    return checkFleet(this);
  }

  /** siteCount is the number of sites. */
  get siteCount(): number {
    return this.coldList.length;
  }

  /** tickSeconds is the fleet's tick. */
  get tickSeconds(): number {
    return this.tickS;
  }
}
