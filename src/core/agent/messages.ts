/**
 * messages are the shapes the agents and the manager exchange over the management bus (the
 * seed's out-of-band channel, Figure 15/16): the status every agent publishes every tick, the
 * add/release requests the group's decider puts on the durable requests stream, and the priority
 * the manager pushes to a group's agents. Both sides import these types and parse what arrives
 * with the parse functions below, because the bus carries untyped JSON and one bad peer must not
 * crash the other side.
 *
 * JSON has no NaN or Infinity, so every number a message carries is finite or null: null means
 * "not known" (no samples yet, not the decider) and an unstable queue's response time is sent as
 * null with `stable: false`, never as a huge number a consumer might average.
 */
import { MEASUREMENT_TYPES } from './probes.js';
import type { MeasurementType } from './probes.js';

/** MESSAGE_VERSION is the version of these shapes; a receiver drops messages of another version. */
export const MESSAGE_VERSION = 1 as const;

/** REQUEST_KINDS are what an agent can ask of the manager. */
export const REQUEST_KINDS = ['add', 'release'] as const;
/** RequestKind is one of REQUEST_KINDS. */
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * AgentLoad is what the server serves now, measured from the workload's own counters over the
 * last tick: the figures an operator reads first (`hostfleet status`).
 */
export interface AgentLoad {
  /** rps is completed requests per second over the last tick (static + dynamic). */
  readonly rps: number;
  /** staticRps and dynamicRps split rps by request type; the decider sums them over the group. */
  readonly staticRps: number;
  readonly dynamicRps: number;
  /** p95Ms is the 95th percentile response time of the requests completed in the last tick; null without any. */
  readonly p95Ms: number | null;
  /** inFlight is requests being served now; queued is requests waiting for a worker. */
  readonly inFlight: number;
  readonly queued: number;
  /** errorRate is the fraction of requests that failed or were refused in the last tick. */
  readonly errorRate: number;
  /** cpuPct is the workload process's CPU use over the last tick (100 = one core); null when unreadable. */
  readonly cpuPct: number | null;
  /** rssBytes is the workload process's resident memory; null when unreadable. */
  readonly rssBytes: number | null;
}

/** AgentMeasurement is one measurement type's aggregate: the mean of the last w_k samples and B_k. */
export interface AgentMeasurement {
  readonly mean: number | null;
  /** b is B_k clamped to [−50, 50] (what the FIS sees); raw is unclamped. */
  readonly b: number | null;
  readonly raw: number | null;
  readonly samples: number;
}

/**
 * AgentDecision is what the group's decider concluded this tick (absent on the other agents):
 * the predictor's output for the request type that set the need, and the FIS's need.
 */
export interface AgentDecision {
  /** servers is the c of M/M/c: the group's active servers the decider counted. */
  readonly servers: number;
  /** arrivalRps is the group's summed arrival rate the decider observed this tick. */
  readonly arrivalRps: number;
  /** requestType is the request type whose need won (the most urgent one); null when none could be evaluated. */
  readonly requestType: string | null;
  /** expectedResponseMs is the predicted mean response time at the horizon; null when unknown or unstable. */
  readonly expectedResponseMs: number | null;
  /** stable is false when the forecast load exceeds the group's capacity (response time unbounded). */
  readonly stable: boolean;
  /** probability is P(response > target) at the horizon: the FIS's probability input. */
  readonly probability: number | null;
  readonly horizonSeconds: number;
  /**
   * forecastRps is the predictor's forecast of the group's arrival rate at the horizon (all
   * request types); null before the predictor has a forecast. Absent from agents older than it.
   */
  readonly forecastRps?: number | null;
  /** need is the FIS output in [−1, 1], −1 release … +1 add; null when it could not be evaluated. */
  readonly need: number | null;
}

/**
 * AgentStatus is published by every agent on `subjects.status(site, group, server)` every tick.
 * It is also the heartbeat: a server whose status stops arriving is presumed failed.
 */
export interface AgentStatus {
  readonly v: typeof MESSAGE_VERSION;
  readonly site: string;
  readonly group: string;
  readonly server: string;
  /** at is the sample time, ms since the epoch (the agent's clock). */
  readonly at: number;
  /** boot identifies this run of the agent, so a restart (seq back to 1) is not mistaken for a replay. */
  readonly boot: string;
  /** seq counts ticks from 1 within one boot. */
  readonly seq: number;
  /** tickMs is the agent's tick, so the receiver knows when a heartbeat is late. */
  readonly tickMs: number;
  /** priority is the SLA priority in [0, 1] the agent currently steers by (the manager's last push). */
  readonly priority: number;
  /** responseTargetMs is the SLA response-time target it steers by. */
  readonly responseTargetMs: number;
  /** healthy is false when the workload's stats could not be read this tick. */
  readonly healthy: boolean;
  readonly load: AgentLoad;
  /** measurements holds B_k and the window mean per measurement type (the aggregator's output on this server). */
  readonly measurements: Readonly<Record<MeasurementType, AgentMeasurement>>;
  /** decider is true on the group's decider (lowest active server id); decision is set only there. */
  readonly decider: boolean;
  readonly decision: AgentDecision | null;
}

/**
 * AgentRequest is an add/release request, published on `subjects.request(site, group, server)`
 * into the durable requests stream with `msgId: id`, so a re-sent request is stored once. Only
 * the group's decider sends them; after one it waits out the cool-down (decide.ts).
 */
export interface AgentRequest {
  readonly v: typeof MESSAGE_VERSION;
  readonly kind: RequestKind;
  readonly site: string;
  readonly group: string;
  /** server is the decider that asked. */
  readonly server: string;
  /** need is the FIS output that triggered the request, in [−1, 1]. */
  readonly need: number;
  /**
   * urgency in [0, 1] ranks requests when supply is short: for 'add', the probability of
   * missing the response target at the horizon (1 when the measured response is past it now);
   * for 'release', how firmly the FIS wants to release (−need, clamped).
   */
  readonly urgency: number;
  /** predictedResponseMs is the expected response time at the horizon with the current servers; null when unbounded. */
  readonly predictedResponseMs: number | null;
  /** targetMs is the SLA response-time target the prediction was compared with. */
  readonly targetMs: number;
  /** servers is how many active servers the decider counted in its group. */
  readonly servers: number;
  /** priority is the SLA priority the FIS used. */
  readonly priority: number;
  /** at is when the request was made, ms since the epoch. */
  readonly at: number;
  /** id is unique per request (`requestId`): the stream's msgId. */
  readonly id: string;
}

/**
 * PriorityPush is what the manager sends on `subjects.priority(site, group)` at start, when a
 * group's SLA changes, and periodically (so an agent that booted in between learns it).
 */
export interface PriorityPush {
  readonly v: typeof MESSAGE_VERSION;
  readonly group: string;
  /** priority in [0, 1]: the FIS's priority input. */
  readonly priority: number;
  readonly responseTargetMs: number;
  /** committed, burst and extended are the SLA levels in servers. */
  readonly committed: number;
  readonly burst: number;
  readonly extended: number;
  readonly at: number;
}

/** requestId makes a request's id from the decider's server, its boot and its tick sequence. */
export function requestId(server: string, boot: string, seq: number): string {
  return `${server}-${boot}-${seq}`;
}

/** finiteOrNull maps NaN and ±Infinity to null, for numbers that go into a message. */
export function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isFin = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isFinOrNull = (x: unknown): x is number | null => x === null || isFin(x);
const isName = (x: unknown): x is string => typeof x === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(x);
const isBool = (x: unknown): x is boolean => typeof x === 'boolean';

function isLoad(x: unknown): x is AgentLoad {
  if (!isObj(x)) return false;
  return (
    isFin(x.rps) &&
    isFin(x.staticRps) &&
    isFin(x.dynamicRps) &&
    isFinOrNull(x.p95Ms) &&
    isFin(x.inFlight) &&
    isFin(x.queued) &&
    isFin(x.errorRate) &&
    isFinOrNull(x.cpuPct) &&
    isFinOrNull(x.rssBytes)
  );
}

function isMeasurements(x: unknown): x is Record<MeasurementType, AgentMeasurement> {
  if (!isObj(x)) return false;
  return MEASUREMENT_TYPES.every((t) => {
    const m = x[t];
    return isObj(m) && isFinOrNull(m.mean) && isFinOrNull(m.b) && isFinOrNull(m.raw) && isFin(m.samples);
  });
}

function isDecision(x: unknown): x is AgentDecision {
  if (!isObj(x)) return false;
  return (
    isFin(x.servers) &&
    isFin(x.arrivalRps) &&
    (x.requestType === null || typeof x.requestType === 'string') &&
    isFinOrNull(x.expectedResponseMs) &&
    isBool(x.stable) &&
    isFinOrNull(x.probability) &&
    isFin(x.horizonSeconds) &&
    (x.forecastRps === undefined || isFinOrNull(x.forecastRps)) &&
    isFinOrNull(x.need)
  );
}

/** parseAgentStatus returns the message as an AgentStatus, or null when it is not one (wrong version, missing or non-finite fields, bad names). */
export function parseAgentStatus(x: unknown): AgentStatus | null {
  if (!isObj(x) || x.v !== MESSAGE_VERSION) return null;
  if (!isName(x.site) || !isName(x.group) || !isName(x.server) || typeof x.boot !== 'string' || x.boot.length > 64)
    return null;
  if (
    !isFin(x.at) ||
    !isFin(x.seq) ||
    !isFin(x.tickMs) ||
    x.tickMs <= 0 ||
    !isFin(x.priority) ||
    !isFin(x.responseTargetMs)
  )
    return null;
  if (!isBool(x.healthy) || !isBool(x.decider) || !isLoad(x.load) || !isMeasurements(x.measurements)) return null;
  if (!(x.decision === null || isDecision(x.decision))) return null;
  return x as unknown as AgentStatus;
}

/** parseAgentRequest returns the message as an AgentRequest, or null when it is not one. */
export function parseAgentRequest(x: unknown): AgentRequest | null {
  if (!isObj(x) || x.v !== MESSAGE_VERSION) return null;
  if (!(REQUEST_KINDS as readonly unknown[]).includes(x.kind)) return null;
  if (
    !isName(x.site) ||
    !isName(x.group) ||
    !isName(x.server) ||
    typeof x.id !== 'string' ||
    x.id === '' ||
    x.id.length > 200
  )
    return null;
  if (!isFin(x.need) || x.need < -1 || x.need > 1 || !isFin(x.urgency) || x.urgency < 0 || x.urgency > 1) return null;
  if (
    !isFinOrNull(x.predictedResponseMs) ||
    !isFin(x.targetMs) ||
    !isFin(x.servers) ||
    !isFin(x.priority) ||
    !isFin(x.at)
  )
    return null;
  return x as unknown as AgentRequest;
}

/** parsePriorityPush returns the message as a PriorityPush, or null when it is not one. */
export function parsePriorityPush(x: unknown): PriorityPush | null {
  if (!isObj(x) || x.v !== MESSAGE_VERSION || !isName(x.group)) return null;
  if (!isFin(x.priority) || x.priority < 0 || x.priority > 1 || !isFin(x.responseTargetMs) || x.responseTargetMs <= 0)
    return null;
  if (!isFin(x.committed) || !isFin(x.burst) || !isFin(x.extended) || !isFin(x.at)) return null;
  return x as unknown as PriorityPush;
}
