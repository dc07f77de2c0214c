/**
 * hostfleet is the product's policy, wired from the same src/core functions as the live
 * services: on every group an agent feeds the aggregator (B_k of measured response time and
 * CPU), the Holt-Winters predictor (arrival rate per predictor step) and runs `decisionStep`
 * (aggregate → predict → FIS → hysteresis); its add and release requests, plus a replacement
 * request for every failed server (claim 5), go each tick to `decide` of src/core/decision per
 * site, whose plan is carried out on the fleet with move durations from src/core/dispatch;
 * `planWarmPool` keeps the warm pool. Demand a site cannot meet locally is served with servers
 * from the site with the most spare pool (the extended level of seed 001, paying the
 * replication lag) — the global coordinator's part, done here in the simulator while
 * src/core/global is empty.
 *
 * Measurements: the agent sees what a real one would — the ground-truth queue's mean response
 * time and utilisation — not the demand itself; its request size (`count`) comes from its own
 * predictor's M/M/c model at the forecast rate.
 *
 * Snapshot: to keep a tick cheap, each site's DecisionInput lists the servers of groups that
 * ask for something or hold more than their floor (the only possible donors), and the pool;
 * every other group's servers are folded into its `joining` count, which `decide` adds to
 * `held`, so each group's held count stays exact. The cold pool is listed up to the tick's
 * move bound plus the warm-pool target: a tick cannot use more.
 */
import {
  addSample, compileFis, groupDecider, createAggregator, createPredictor, DEFAULT_FIS, DEFAULT_HW_PARAMS, DEFAULT_THRESHOLDS, decisionStep,
  INITIAL_DECIDE_STATE, observeRates, predictQueue, resolveProbeSpecs, createStepMemo,
} from '../../core/agent/index.js';
import type { Aggregator, CompiledFis, DecideState, Predictor, RequestTypeSpec, StepMemo, Thresholds } from '../../core/agent/index.js';
import { decide, DEFAULT_DECISION_SETTINGS, planWarmPool } from '../../core/decision/index.js';
import type { DecisionGroup, DecisionInput, DecisionRequest, DecisionServer, DecisionSettings, RecentMove } from '../../core/decision/index.js';
import { capacityTable, meanResponseMs, serversNeeded } from '../capacity.js';
import type { CapacityTable } from '../capacity.js';
import type { Policy, SimContext } from '../context.js';
import { rateAt } from '../context.js';
import type { Fleet } from '../fleet.js';
import { moveSeconds } from '../fleet.js';

interface Agent {
  readonly agg: Aggregator;
  readonly pred: Predictor;
  state: DecideState;
  readonly memo: StepMemo;
  sum: number;
  count: number;
}

/** HostfleetStats counts what the decision loop did, for the report. */
export interface HostfleetStats {
  decideCalls: number;
  requests: number;
  unmet: number;
  borrowed: number;
  warmed: number;
}

/** hostfleetPolicy builds the agents and the decision loop for a run. */
export function hostfleetPolicy(ctx: SimContext, stats: HostfleetStats = { decideCalls: 0, requests: 0, unmet: 0, borrowed: 0, warmed: 0 }): Policy & { readonly stats: HostfleetStats; readonly agentWant: (c: number, lambda: number, upTo: number) => number; readonly agentWantSlow: (c: number, lambda: number, upTo: number) => number } {
  const s = ctx.scenario;
  const hf = s.hostfleet;
  const n = ctx.customerSite.length;
  const nSites = s.sites.length;
  const tickMs = s.tickSeconds * 1000;
  const fis: CompiledFis = compileFis(DEFAULT_FIS);
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, confirm: hf.confirm, cooldown: hf.cooldown };
  const settings: DecisionSettings = { ...DEFAULT_DECISION_SETTINGS, maxMovesPerTick: hf.maxMovesPerTick, warmPoolSize: hf.warmPoolSize };
  const stepTicks = Math.max(1, Math.round(hf.predictorStepS / s.tickSeconds));
  const horizonS = moveSeconds(s.server, null, 'g');
  const ids = s.customers.map((c) => c.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const types: RequestTypeSpec[][] = [];
  const agents: Agent[] = [];
  const tol = 1 - s.percentile;
  for (let c = 0; c < n; c++) {
    const cust = s.customers[c] as (typeof s.customers)[number];
    // One queue per worker slot: c = servers × workers at the per-worker rate, the same queue the ground truth is.
    const t: RequestTypeSpec[] = [{ name: 'dynamic', serviceRate: 1000 / s.server.serviceMs, targetMs: cust.sla.targetMs }];
    types.push(t);
    const specs = resolveProbeSpecs({
      dynamic_rt_ms: { window: hf.responseWindow, min: s.server.serviceMs, max: 2 * cust.sla.targetMs },
      cpu_pct: { window: hf.responseWindow },
    });
    const period = Math.round(86_400 / hf.predictorStepS);
    const pred = createPredictor({
      stepSeconds: hf.predictorStepS, seasonSeconds: 86_400, horizonSeconds: horizonS,
      hw: { ...DEFAULT_HW_PARAMS, smooth: Math.min(Math.floor((period - 1) / 2), Math.round(2400 / hf.predictorStepS)) },
      requestTypes: t,
    });
    agents.push({ agg: createAggregator(specs), pred, state: INITIAL_DECIDE_STATE, memo: createStepMemo(), sum: 0, count: 0 });
  }

  /** agentWant is the smallest server count the agent's own M/M/c model says meets the percentile at rate λ. */
  const w = s.server.workers;
  // The agent's model for one request type is M/M/(servers × workers) at the per-worker rate, so
  // "how many servers meet the percentile at rate λ" is tabulated once with the same Erlang C.
  const agentTables = new Map<number, CapacityTable>();
  const agentTable: CapacityTable[] = [];
  for (let c = 0; c < n; c++) {
    const cust = s.customers[c] as (typeof s.customers)[number];
    let tb = agentTables.get(cust.sla.targetMs);
    const size = (ctx.tables[c] as CapacityTable).lamMax.length - 1;
    if (tb === undefined || tb.lamMax.length <= size) {
      tb = capacityTable({ serviceMs: s.server.serviceMs, workers: w, targetMs: cust.sla.targetMs, percentile: s.percentile }, size);
      agentTables.set(cust.sla.targetMs, tb);
    }
  }
  for (let c = 0; c < n; c++) agentTable.push(agentTables.get((s.customers[c] as (typeof s.customers)[number]).sla.targetMs) as CapacityTable);
  const agentWant = (c: number, lambda: number, upTo: number): number => Math.min(upTo, serversNeeded(agentTable[c] as CapacityTable, lambda));
  /** agentWantSlow is agentWant straight from predictQueue; the tests check the two agree. */
  const agentWantSlow = (c: number, lambda: number, upTo: number): number => {
    const t = types[c] as RequestTypeSpec[];
    let lo = 1;
    let hi = Math.max(1, upTo);
    if ((predictQueue(t, [lambda], hi * w)[0]?.pMiss ?? 1) > tol) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((predictQueue(t, [lambda], mid * w)[0]?.pMiss ?? 1) <= tol) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  const serverIds: string[] = [];
  const cache: (DecisionServer | undefined)[] = [];
  const recent: RecentMove[][] = Array.from({ length: nSites }, () => []);
  const recentSpan = Math.max(settings.reverseCooldownMs, settings.groupCooldownMs, settings.serverCooldownMs);
  const requests: DecisionRequest[][] = Array.from({ length: nSites }, () => []);
  const siteCustomers: number[][] = Array.from({ length: nSites }, () => []);
  for (let c = 0; c < n; c++) (siteCustomers[ctx.customerSite[c] as number] as number[]).push(c);
  // In id order: decide sorts its groups by id every call, and an input already in that order sorts in one pass.
  for (const l of siteCustomers) l.sort((x, y) => ((ids[x] as string) < (ids[y] as string) ? -1 : (ids[x] as string) > (ids[y] as string) ? 1 : 0));
  // A group's entry changes only with its joining count: kept and reused while that is the same.
  const groupViews: (DecisionGroup | undefined)[] = new Array<DecisionGroup | undefined>(n);
  const asking = new Uint8Array(n);
  let reqSeq = 0;

  const serverView = (fleet: Fleet, x: number, spot: 'group' | 'pool', t: number): DecisionServer => {
    const owner = fleet.owner[x] as number;
    const groupId = owner >= 0 ? (ids[owner] as string) : null;
    const temp = spot === 'pool' ? (fleet.state[x] === 1 ? 'warm' : 'cold') : null;
    const since = fleet.since(x);
    const movedAt = since >= 0 ? s.start + since * tickMs : null;
    const old = cache[x];
    if (old !== undefined && old.spot === spot && old.groupId === groupId && old.temp === temp && old.movedAt === movedAt) return old;
    void t;
    const v: DecisionServer = { id: serverIds[x] as string, spot, groupId, temp, movedAt };
    cache[x] = v;
    return v;
  };

  const runSite = (fleet: Fleet, site: number, t: number): void => {
    const now = s.start + t * tickMs;
    const servers: DecisionServer[] = [];
    const groups: DecisionGroup[] = [];
    let adds = 0;
    for (const r of requests[site] as DecisionRequest[]) if (r.kind === 'add') adds += r.count;
    // Donors are only drawn on when the pool is empty (decide's source order), so their servers
    // are listed only when the tick's adds exceed the site's pool.
    const donorsMatter = adds > fleet.poolCold(site) + fleet.poolWarm(site);
    for (const c of siteCustomers[site] as number[]) {
      const held = fleet.held(c);
      const listed = asking[c] === 1 || (donorsMatter && held > (ctx.committed[c] as number));
      if (listed) for (const x of fleet.activeServers(c)) servers.push(serverView(fleet, x, 'group', t));
      const joining = (fleet.joining[c] as number) + (listed ? 0 : (fleet.active[c] as number));
      let g = groupViews[c];
      if (g === undefined || g.joining !== joining) {
        g = {
          id: ids[c] as string, minSize: 0, maxSize: ctx.extended[c] as number, committed: ctx.committed[c] as number,
          burst: ctx.burst[c] as number, extended: ctx.extended[c] as number, priority: ctx.priority[c] as number, joining,
        };
        groupViews[c] = g;
      }
      groups.push(g);
    }
    for (const x of fleet.warmServers(site)) servers.push(serverView(fleet, x, 'pool', t));
    const cold = fleet.coldServers(site);
    const coldCap = settings.maxMovesPerTick + settings.warmPoolSize;
    for (let k = cold.length - 1; k >= 0 && k >= cold.length - coldCap; k--) servers.push(serverView(fleet, cold[k] as number, 'pool', t));
    const rec = (recent[site] as RecentMove[]).filter((m) => now - m.at < recentSpan);
    recent[site] = rec;
    const input: DecisionInput = { tickId: `${site}:${t}`, now, servers, groups, requests: requests[site] as DecisionRequest[], recent: rec, settings };
    const plan = decide(input);
    stats.decideCalls++;
    for (const m of plan.moves) {
      const x = Number(m.serverId.slice(1));
      const from = fleet.state[x] === 3 ? (ids[fleet.owner[x] as number] as string) : null;
      const ok = m.toGroup === null ? fleet.release(x, t) : fleet.join(x, index.get(m.toGroup) as number, t);
      if (ok) rec.push({ serverId: m.serverId, fromGroup: from, toGroup: m.toGroup, at: now });
    }
    for (const w of planWarmPool(input, plan)) {
      const x = Number(w.serverId.slice(1));
      if (w.kind === 'warm' && w.groupId !== null) {
        if (fleet.warmServer(x, index.get(w.groupId) as number, t)) stats.warmed++;
      } else if (w.kind === 'cool') fleet.cool(x);
    }
    // Demand the site could not meet from its own pool: borrow from the site with the most spare servers.
    for (const u of plan.unmet) {
      if (u.code !== 'no-supply' && u.code !== 'extended-pool-only' && u.code !== 'tick-limit') continue;
      stats.unmet += u.wanted - u.granted;
      const c = index.get(u.groupId) as number;
      for (let k = u.granted; k < u.wanted && fleet.held(c) < (ctx.extended[c] as number); k++) {
        let best = -1;
        for (let o = 0; o < nSites; o++) if (o !== site && fleet.poolCold(o) > settings.warmPoolSize && (best < 0 || fleet.poolCold(o) > fleet.poolCold(best))) best = o;
        if (best < 0) break;
        const pool = fleet.coldServers(best);
        if (!fleet.join(pool[pool.length - 1] as number, c, t)) break;
        stats.borrowed++;
      }
    }
  };

  return {
    name: 'hostfleet',
    stats,
    agentWant,
    agentWantSlow,
    init(fleet: Fleet) {
      for (let x = 0; x < fleet.n; x++) serverIds.push(`s${x}`);
      for (let c = 0; c < n; c++) {
        const want = Math.max(ctx.committed[c] as number, serversNeeded(ctx.tables[c] as (typeof ctx.tables)[number], rateAt(ctx, c, -1)));
        for (let k = 0; k < Math.min(want, ctx.extended[c] as number); k++) fleet.placeActive(c, 0);
        // History: the predictor learns the warm-up days the operator already has.
        const a = agents[c] as Agent;
        for (let t = -ctx.demand.warmup; t + stepTicks <= 0; t += stepTicks) {
          let sum = 0;
          for (let k = 0; k < stepTicks; k++) sum += rateAt(ctx, c, t + k);
          observeRates(a.pred, [sum / stepTicks]);
        }
      }
    },
    tick(fleet: Fleet, t: number, hit: readonly number[]) {
      for (const r of requests) r.length = 0;
      asking.fill(0);
      let any = false;
      for (const c of hit) {
        (requests[ctx.customerSite[c] as number] as DecisionRequest[]).push({ id: `f${reqSeq++}`, groupId: ids[c] as string, kind: 'add', count: 1, urgency: 1, source: 'failure' });
        asking[c] = 1;
        any = true;
      }
      for (let c = 0; c < n; c++) {
        const a = agents[c] as Agent;
        const lambda = rateAt(ctx, c, t - 1);
        a.sum += lambda;
        a.count++;
        if (a.count === stepTicks) {
          observeRates(a.pred, [a.sum / a.count]);
          a.sum = 0;
          a.count = 0;
        }
        const active = fleet.active[c] as number;
        const cust = s.customers[c] as (typeof s.customers)[number];
        if (active > 0) {
          const rt = meanResponseMs((ctx.tables[c] as (typeof ctx.tables)[number]).spec, lambda, active);
          addSample(a.agg, 'dynamic_rt_ms', Number.isFinite(rt) ? rt : 10 * cust.sla.targetMs);
          addSample(a.agg, 'cpu_pct', Math.min(100, (100 * lambda * s.server.serviceMs) / (1000 * active * s.server.workers)));
        }
        const out = decisionStep({ fis, aggregator: a.agg, predictor: a.pred, priority: ctx.priority[c] as number, servers: active * w, state: a.state, thresholds, memo: a.memo });
        a.state = out.state;
        const held = fleet.held(c);
        const forecast = out.predictions[0]?.lambda ?? Number.NaN;
        const expect = Math.max(Number.isFinite(forecast) ? forecast : 0, lambda) * (1 + hf.headroom);
        const ext = ctx.extended[c] as number;
        const req = requests[ctx.customerSite[c] as number] as DecisionRequest[];
        // Claim 6: the predictor's horizon asks for what the forecast needs before the load arrives.
        if (held < ext) {
          const want = agentWant(c, expect, ext);
          if (want > held) {
            req.push({ id: `p${reqSeq++}`, groupId: ids[c] as string, kind: 'add', count: want - held, urgency: Math.min(1, Math.max(0, out.predictions[0]?.pMiss ?? 1)), source: 'predicted' });
            asking[c] = 1;
            any = true;
            continue;
          }
        }
        if (out.request === 'none') continue;
        const want = agentWant(c, expect, ext + 1);
        let count: number;
        if (out.request === 'add') count = Math.max(1, want - held);
        else count = Math.min(held - want, Math.ceil(held / 4));
        // The agent does not offer a server its own forecast says it still needs.
        if (count <= 0) continue;
        const urgency = out.request === 'add' ? Math.min(1, Math.max(0, out.predictions[0]?.pMiss ?? out.need.need)) : Math.min(1, Math.max(0, -out.need.need));
        // As live, the request comes from the group's decider (its lowest server id), which names it.
        const decider = groupDecider(fleet.activeServers(c).map((x) => serverIds[x] as string)) ?? 'none';
        req.push({ id: `${decider}:${t}:${reqSeq++}`, groupId: ids[c] as string, kind: out.request, count, urgency, source: 'agent' });
        asking[c] = 1;
        any = true;
      }
      for (let site = 0; site < nSites; site++) {
        const reqs = requests[site] as DecisionRequest[];
        stats.requests += reqs.length;
        // A tick without requests changes nothing but the warm pool, which only moves when asked.
        if (reqs.length > 0 || (any && fleet.poolWarm(site) < settings.warmPoolSize)) runSite(fleet, site, t);
      }
    },
  };
}
