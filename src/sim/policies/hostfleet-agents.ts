/**
 * hostfleet-agents are the simulated agents of the hostfleet policy, one per group, wired from
 * the same src/core functions as the live agent: the aggregator (B_k of measured response time
 * and CPU), the Holt-Winters predictor (arrival rate per predictor step) and `decisionStep`
 * (aggregate → predict → FIS → hysteresis). An agent sees what a real one would — the
 * ground-truth queue's mean response time and utilisation — not the demand itself; its request
 * size comes from its own predictor's M/M/c model at the forecast rate.
 */
import {
  addSample,
  compileFis,
  groupDecider,
  createAggregator,
  createPredictor,
  DEFAULT_FIS,
  DEFAULT_HW_PARAMS,
  DEFAULT_THRESHOLDS,
  decisionStep,
  INITIAL_DECIDE_STATE,
  observeRates,
  forecastRates,
  resolveProbeSpecs,
  createStepMemo,
} from '../../core/agent/index.js';
import type {
  Aggregator,
  CompiledFis,
  DecideState,
  Predictor,
  RequestTypeSpec,
  StepMemo,
  Thresholds,
} from '../../core/agent/index.js';
import type { AgentAsk } from '../../core/decision/index.js';
import { meanResponseMs } from '../capacity.js';
import type { SimContext } from '../context.js';
import { rateAt } from '../context.js';
import type { Fleet } from '../fleet.js';
import { moveSeconds } from '../move-time.js';

interface Agent {
  readonly agg: Aggregator;
  readonly pred: Predictor;
  state: DecideState;
  readonly memo: StepMemo;
  sum: number;
  count: number;
}

/** SimAgents holds every group's agent of one run. */
export class SimAgents {
  private readonly fis: CompiledFis;
  private readonly thresholds: Thresholds;
  private readonly stepTicks: number;
  private readonly types: RequestTypeSpec[][] = [];
  private readonly agents: Agent[] = [];

  constructor(private readonly ctx: SimContext) {
    const s = ctx.scenario;
    const hf = s.hostfleet;
    const n = ctx.customerSite.length;
    this.fis = compileFis(DEFAULT_FIS);
    this.thresholds = { ...DEFAULT_THRESHOLDS, confirm: hf.confirm, cooldown: hf.cooldown };
    this.stepTicks = Math.max(1, Math.round(hf.predictorStepS / s.tickSeconds));
    const horizonS = moveSeconds(s.server, null, 'g');
    for (let c = 0; c < n; c++) {
      const cust = s.customers[c] as (typeof s.customers)[number];
      // One queue per worker slot: c = servers × workers at the per-worker rate, the same queue the ground truth is.
      const t: RequestTypeSpec[] = [
        { name: 'dynamic', serviceRate: 1000 / s.server.serviceMs, targetMs: cust.sla.targetMs },
      ];
      this.types.push(t);
      const specs = resolveProbeSpecs({
        dynamic_rt_ms: { window: hf.responseWindow, min: s.server.serviceMs, max: 2 * cust.sla.targetMs },
        cpu_pct: { window: hf.responseWindow },
      });
      const period = Math.round(86_400 / hf.predictorStepS);
      const pred = createPredictor({
        stepSeconds: hf.predictorStepS,
        seasonSeconds: 86_400,
        horizonSeconds: horizonS,
        hw: {
          ...DEFAULT_HW_PARAMS,
          smooth: Math.min(Math.floor((period - 1) / 2), Math.round(2400 / hf.predictorStepS)),
        },
        requestTypes: t,
      });
      this.agents.push({
        agg: createAggregator(specs),
        pred,
        state: INITIAL_DECIDE_STATE,
        memo: createStepMemo(),
        sum: 0,
        count: 0,
      });
    }
  }

  /**
   * learnHistory feeds customer c's predictor the warm-up days the operator already has, and
   * hands each history tick's measured rate and the forecast the agent had then to `seen`.
   */
  learnHistory(c: number, seen: (t: number, measuredRps: number, forecastRps: number | null) => void): void {
    const a = this.agents[c] as Agent;
    let forecast: number | null = null;
    for (let t = -this.ctx.demand.warmup; t + this.stepTicks <= 0; t += this.stepTicks) {
      let sum = 0;
      for (let k = 0; k < this.stepTicks; k++) {
        const r = rateAt(this.ctx, c, t + k);
        sum += r;
        seen(t + k, r, forecast);
      }
      observeRates(a.pred, [sum / this.stepTicks]);
      const f = forecastRates(a.pred)[0];
      forecast = f !== undefined && Number.isFinite(f) ? f : null;
    }
  }

  /**
   * status runs customer c's agent at the start of tick t on what it measured at t − 1: the
   * rate it measured, its forecast at the horizon and what its fuzzy inference asks, as the
   * live decider reports them. nextSeq numbers the run's requests; serverIds names servers.
   */
  status(
    fleet: Fleet,
    c: number,
    t: number,
    serverIds: readonly string[],
    nextSeq: () => number,
  ): { measuredRps: number; forecastRps: number | null; agent: AgentAsk | null } {
    const ctx = this.ctx;
    const s = ctx.scenario;
    const w = s.server.workers;
    const a = this.agents[c] as Agent;
    const lambda = rateAt(ctx, c, t - 1);
    a.sum += lambda;
    a.count++;
    if (a.count === this.stepTicks) {
      observeRates(a.pred, [a.sum / a.count]);
      a.sum = 0;
      a.count = 0;
    }
    const active = fleet.active[c] as number;
    const cust = s.customers[c] as (typeof s.customers)[number];
    if (active > 0) {
      const rt = meanResponseMs((ctx.tables[c] as (typeof ctx.tables)[number]).spec, lambda, active);
      addSample(a.agg, 'dynamic_rt_ms', Number.isFinite(rt) ? rt : 10 * cust.sla.targetMs);
      addSample(
        a.agg,
        'cpu_pct',
        Math.min(100, (100 * lambda * s.server.serviceMs) / (1000 * active * s.server.workers)),
      );
    }
    const out = decisionStep({
      fis: this.fis,
      aggregator: a.agg,
      predictor: a.pred,
      priority: ctx.priority[c] as number,
      servers: active * w,
      state: a.state,
      thresholds: this.thresholds,
      memo: a.memo,
    });
    a.state = out.state;
    const f = out.predictions[0]?.lambda;
    const forecastRps = f !== undefined && Number.isFinite(f) ? f : null;
    if (out.request === 'none') return { measuredRps: lambda, forecastRps, agent: null };
    const urgency =
      out.request === 'add'
        ? Math.min(1, Math.max(0, out.predictions[0]?.pMiss ?? out.need.need))
        : Math.min(1, Math.max(0, -out.need.need));
    // As live, the request comes from the group's decider (its lowest server id), which names it.
    const decider = groupDecider(fleet.activeServers(c).map((x) => serverIds[x] as string));
    return {
      measuredRps: lambda,
      forecastRps,
      agent: { id: `${decider ?? 'none'}:${t}:${nextSeq()}`, kind: out.request, urgency, serverId: decider ?? null },
    };
  }
}
