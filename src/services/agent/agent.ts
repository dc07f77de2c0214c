/**
 * agent is the local decision software of one server (the seed's Figure 15): every tick it
 * reads the probes, feeds the aggregator (B_k), publishes its status on the management bus, and
 * — on the group's decider only, the lowest active server id (groupDecider) — runs the predictor
 * and the FIS through decisionStep and puts add/release requests on the durable requests stream.
 *
 * Every agent of a group hears the group's statuses: that is how it knows which servers are
 * active (a status within three of their ticks) and the group's arrival rate, and every agent
 * feeds its own predictor with the group's rates, so when the decider disappears the next one
 * takes over with the history already learnt.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  addSample,
  aggregate,
  createAggregator,
  createPredictor,
  DEFAULT_THRESHOLDS,
  decisionStep,
  groupDecider,
  INITIAL_DECIDE_STATE,
  MEASUREMENT_TYPES,
  observeRates,
} from '../../core/agent/index.js';
import type { Aggregator, DecideState, Predictor, Reading } from '../../core/agent/index.js';
import {
  finiteOrNull,
  MESSAGE_VERSION,
  parseAgentStatus,
  parsePriorityPush,
  requestId,
} from '../../core/agent/messages.js';
import type {
  AgentDecision,
  AgentMeasurement,
  AgentRequest,
  AgentStatus,
  RequestKind,
} from '../../core/agent/messages.js';
import type { MeasurementType } from '../../core/agent/index.js';
import { subjects } from '../../drivers/bus/index.js';
import type { Bus, Subscription } from '../../drivers/bus/index.js';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import type { AgentSettings } from './config.js';
import { fetchWorkloadStats, measure, readMemTotal, readProcSample } from './probes.js';
import type { Observation } from './probes.js';

/** WarmStatus is an AgentStatus that may carry `warm: true` (from the agent of a warm pool server). */
export type WarmStatus = AgentStatus & { readonly warm?: boolean };

/** isServingNudge tells whether a nudge tells this server's agent that it now serves its group. */
export function isServingNudge(x: unknown, server: string, group: string): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const n = x as Record<string, unknown>;
  return n.v === 1 && n.kind === 'serving' && n.server === server && n.group === group;
}

/** AgentOptions wire an agent to its bus, its workload and its clocks. */
export interface AgentOptions {
  readonly bus: Bus;
  readonly settings: AgentSettings;
  /** statsUrl is the workload's base URL (http://host:port); the agent reads /_runtime/stats there. */
  readonly statsUrl: string;
  /** workloadPid is the workload's process id for CPU and memory; null reads the pid the runtime reports. */
  readonly workloadPid: number | null;
  /** clock gives the wall-clock time stamped on messages; default systemClock. */
  readonly clock?: Clock;
  /** mono is a monotonic clock in ms for rates; default performance.now. */
  readonly mono?: () => number;
  readonly procRoot?: string;
  /** autoTick runs the tick loop; false lets a test call tick() itself. Default true. */
  readonly autoTick?: boolean;
  readonly log?: (line: string) => void;
}

/** RunningAgent is a started agent. */
export interface RunningAgent {
  /** tick samples, decides and publishes once; the loop calls it every tickMs. */
  tick(): Promise<AgentStatus>;
  /** last is the last status published, or null before the first tick. */
  last(): AgentStatus | null;
  /** requests lists the requests this agent has published (newest last, at most 100). */
  requests(): readonly AgentRequest[];
  close(): Promise<void>;
}

interface Peer {
  status: AgentStatus;
  seenAt: number;
}

/** LIVENESS_TICKS is how many of its ticks a peer may stay silent and still count as active. */
export const LIVENESS_TICKS = 3;

/** measurementsOf turns the aggregator's readings into the status's measurements (finite numbers or null). */
export function measurementsOf(readings: readonly Reading[]): Record<MeasurementType, AgentMeasurement> {
  const out = {} as Record<MeasurementType, AgentMeasurement>;
  for (const r of readings)
    out[r.type] = { mean: finiteOrNull(r.mean), b: finiteOrNull(r.b), raw: finiteOrNull(r.raw), samples: r.samples };
  return out;
}

/** startAgent subscribes to the group's statuses and priority pushes and starts the tick loop. */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { bus, settings } = opts;
  const sec = settings.section;
  const clock = opts.clock ?? systemClock;
  const mono = opts.mono ?? (() => performance.now());
  const log = opts.log ?? (() => undefined);
  const boot = randomUUID().slice(0, 8);
  const tickMs = settings.tickMs;
  const stepMs = settings.predictor.stepSeconds * 1000;
  const aggregator: Aggregator = createAggregator(settings.specs);
  let predictor: Predictor = createPredictor(settings.predictor);
  let decide: DecideState = INITIAL_DECIDE_STATE;
  let priority = sec.priority;
  let targetMs = sec.responseTargetMs;
  // committed is the SLA's committed level in servers (from the manager's pushes); until the
  // first push, a group keeps at least one server.
  let committed = 1;
  let seq = 0;
  let prev: Observation | null = null;
  let last: AgentStatus | null = null;
  const sent: AgentRequest[] = [];
  const peers = new Map<string, Peer>();
  let step = { start: Number.NaN, sums: [0, 0], n: 0 };
  let pending: AgentRequest | null = null;
  let publishing = false;
  let closed = false;
  // A warm agent's server is booted but not attached: it learns the group's rates (so it joins
  // with a history) but is nobody's member until the manager says it serves.
  let warm = settings.warm;
  const memTotal = await readMemTotal(opts.procRoot);

  const subs: Subscription[] = [];
  subs.push(
    await bus.subscribe(subjects.statusOfGroup(sec.site, sec.group), (data) => {
      const s = parseAgentStatus(data);
      if (s === null || s.server === sec.server || s.group !== sec.group) return;
      // A warm peer serves nobody: it neither counts as active nor can it decide.
      if ((s as WarmStatus).warm === true) {
        peers.delete(s.server);
        return;
      }
      peers.set(s.server, { status: s, seenAt: mono() });
    }),
  );
  if (warm) {
    subs.push(
      await bus.subscribe(subjects.nudge(sec.site, sec.server), (data) => {
        if (!warm || !isServingNudge(data, sec.server, sec.group)) return;
        warm = false;
        log(`agent: ${sec.server} serves ${sec.group} now (left the warm pool)`);
      }),
    );
  }
  subs.push(
    await bus.subscribe(subjects.priority(sec.site, sec.group), (data) => {
      const p = parsePriorityPush(data);
      if (p === null || p.group !== sec.group) return;
      priority = p.priority;
      committed = Math.max(1, p.committed);
      if (p.responseTargetMs !== targetMs) {
        targetMs = p.responseTargetMs;
        // The models keep what they learnt; only the target the queue is judged against changes.
        predictor = {
          config: { ...predictor.config, requestTypes: predictor.config.requestTypes.map((t) => ({ ...t, targetMs })) },
          models: predictor.models,
        };
      }
    }),
  );

  function alivePeers(t: number): Peer[] {
    const out: Peer[] = [];
    for (const [id, p] of peers) {
      if (t - p.seenAt > LIVENESS_TICKS * p.status.tickMs) peers.delete(id);
      else out.push(p);
    }
    return out;
  }

  async function flushPending(): Promise<void> {
    if (pending === null || publishing) return;
    const r = pending;
    publishing = true;
    try {
      await bus.durable.publish(subjects.request(sec.site, sec.group, sec.server), r, { msgId: r.id });
      if (pending === r) pending = null;
      log(`agent: ${r.kind} request ${r.id} published (need ${r.need.toFixed(2)})`);
    } catch (e) {
      // Kept and re-sent next tick with the same msgId: the stream stores it once.
      log(`agent: request ${r.id} not stored yet: ${(e as Error).message}`);
    } finally {
      publishing = false;
    }
  }

  async function tick(): Promise<AgentStatus> {
    const t = mono();
    const stats = await fetchWorkloadStats(opts.statsUrl, Math.max(100, Math.min(2000, tickMs)));
    const pid = opts.workloadPid ?? stats?.pid ?? null;
    const proc = pid === null ? null : await readProcSample(pid, opts.procRoot);
    const cur: Observation = { atMs: t, stats, proc, memTotalBytes: memTotal };
    const m = measure(prev, cur);
    prev = cur;
    for (const type of MEASUREMENT_TYPES) addSample(aggregator, type, m.samples[type]);

    // The group's arrival rates: this server's plus the latest of every active peer.
    const peerList = alivePeers(t);
    const group = [m.rates[0], m.rates[1]];
    for (const p of peerList) {
      group[0] = (group[0] as number) + p.status.load.dynamicRps;
      group[1] = (group[1] as number) + p.status.load.staticRps;
    }
    const haveRates = Number.isFinite(group[0]) && Number.isFinite(group[1]);
    if (haveRates) {
      if (Number.isNaN(step.start)) {
        // The first rates known: observe at once, so the predictor has a level from the start.
        observeRates(predictor, group as number[]);
        step = { start: t, sums: [0, 0], n: 0 };
      } else {
        step.sums[0] = (step.sums[0] as number) + (group[0] as number);
        step.sums[1] = (step.sums[1] as number) + (group[1] as number);
        step.n++;
        if (t - step.start >= stepMs) {
          observeRates(predictor, [(step.sums[0] as number) / step.n, (step.sums[1] as number) / step.n]);
          step = { start: t, sums: [0, 0], n: 0 };
        }
      }
    }

    const members = peerList.map((p) => p.status.server);
    const active = warm ? members : [sec.server, ...members];
    const isDecider = !warm && groupDecider(active) === sec.server;
    seq++;
    const at = clock.now().getTime();
    let decision: AgentDecision | null = null;
    let readings: readonly Reading[];
    if (isDecider && !Number.isNaN(step.start)) {
      // The queue's servers are worker slots (see requestTypesFor).
      const out = decisionStep({
        fis: settings.fis,
        aggregator,
        predictor,
        priority,
        servers: active.length * settings.runtime.concurrency,
        state: decide,
        thresholds: DEFAULT_THRESHOLDS,
      });
      decide = out.state;
      let request = out.request;
      if (request === 'release' && active.length <= committed) {
        // Nothing to give back below the committed level: no request, and no cool-down that
        // would hold back an add when the load rises.
        request = 'none';
        decide = INITIAL_DECIDE_STATE;
      }
      readings = out.readings;
      const winner = out.predictions.find((p) => p.type === out.need.type) ?? out.predictions[0] ?? null;
      const need = finiteOrNull(out.need.need);
      decision = {
        servers: active.length,
        arrivalRps: haveRates ? (group[0] as number) + (group[1] as number) : 0,
        requestType: out.need.type,
        expectedResponseMs: winner && winner.stable ? finiteOrNull(winner.meanResponseMs) : null,
        stable: winner?.stable ?? false,
        probability: winner ? finiteOrNull(winner.pMiss) : null,
        horizonSeconds: winner?.horizonSeconds ?? settings.predictor.horizonSeconds,
        forecastRps: forecastOf(out.predictions),
        need,
      };
      if (request !== 'none' && need !== null) {
        const kind: RequestKind = request;
        const measuredPast = m.load.p95Ms !== null && m.load.p95Ms > targetMs;
        const urgency =
          kind === 'add'
            ? measuredPast
              ? 1
              : Math.min(1, Math.max(0, decision.probability ?? 0))
            : Math.min(1, Math.max(0, -need));
        const req: AgentRequest = {
          v: MESSAGE_VERSION,
          kind,
          site: sec.site,
          group: sec.group,
          server: sec.server,
          need: Math.max(-1, Math.min(1, need)),
          urgency,
          predictedResponseMs: decision.expectedResponseMs,
          targetMs,
          servers: active.length,
          priority,
          at,
          id: requestId(sec.server, boot, seq),
        };
        pending = req;
        sent.push(req);
        if (sent.length > 100) sent.shift();
      }
    } else {
      // Not the decider: start afresh if this server becomes it (the streak was someone else's).
      decide = INITIAL_DECIDE_STATE;
      readings = aggregate(aggregator);
    }
    const status: WarmStatus = {
      ...(warm ? { warm: true } : {}),
      v: MESSAGE_VERSION,
      site: sec.site,
      group: sec.group,
      server: sec.server,
      at,
      boot,
      seq,
      tickMs,
      priority,
      responseTargetMs: targetMs,
      healthy: m.healthy,
      load: {
        ...m.load,
        rps: m.load.rps,
        p95Ms: finiteOrNull(m.load.p95Ms),
        cpuPct: finiteOrNull(m.load.cpuPct),
        rssBytes: finiteOrNull(m.load.rssBytes),
      },
      measurements: measurementsOf(readings),
      decider: isDecider,
      decision,
    };
    last = status;
    try {
      await bus.publish(subjects.status(sec.site, sec.group, sec.server), status);
    } catch (e) {
      log(`agent: status not sent: ${(e as Error).message}`);
    }
    await flushPending();
    return status;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const loop = (): void => {
    if (closed) return;
    const started = mono();
    running = tick()
      .catch((e: unknown) => log(`agent: tick failed: ${(e as Error).message}`))
      .finally(() => {
        if (closed) return;
        timer = setTimeout(loop, Math.max(0, tickMs - (mono() - started)));
      });
  };
  if (opts.autoTick !== false) loop();

  return {
    tick,
    last: () => last,
    requests: () => [...sent],
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      for (const s of subs) await s.unsubscribe().catch(() => undefined);
    },
  };
}

/** forecastOf is the group's forecast arrival rate at the horizon, summed over request types; null until every type has one. */
function forecastOf(predictions: readonly { readonly lambda: number }[]): number | null {
  let sum = 0;
  for (const p of predictions) {
    if (!Number.isFinite(p.lambda)) return null;
    sum += p.lambda;
  }
  return predictions.length > 0 ? sum : null;
}
