/**
 * config turns a personality's agent section into the agent's settings: it validates the
 * section (a machine that received a bad one logs why and runs no agent, rather than crash the
 * boot), picks the FIS rule base, and derives the probes' bounds and the predictor's request
 * types from the SLA target and the runtime's capacity, so that B_k = +50 means "at the SLA
 * target" on every server without an operator computing bounds per group.
 */
import { HostfleetError } from '../../core/errors.js';
import type { FieldProblem } from '../../core/errors.js';
import {
  compileFis,
  DEFAULT_FIS,
  DEFAULT_PREDICTOR_CONFIG,
  DEFAULT_PROBE_SPECS,
  resolveProbeSpecs,
} from '../../core/agent/index.js';
import type { CompiledFis, FisSpec, PredictorConfig, ProbeSpecs, RequestTypeSpec } from '../../core/agent/index.js';
import type { Personality, PersonalityAgent, RuntimeConfig } from '../../core/model/personality.js';
import { TOKEN_RE } from '../../drivers/bus/index.js';

/** RULE_BASES are the FIS rule bases an agent can be told to use by name. */
export const RULE_BASES = ['default'] as const;
/** RuleBase is one of RULE_BASES. */
export type RuleBase = (typeof RULE_BASES)[number];

const SPECS: Readonly<Record<RuleBase, FisSpec>> = { default: DEFAULT_FIS };

/** DEFAULT_TICK_MS is the agent's default sampling and status interval. */
export const DEFAULT_TICK_MS = 1000;
/**
 * DEFAULT_STEP_SECONDS is the predictor's default observation step on a live agent: one tick,
 * because an embedded server joins in seconds and a 5-minute step would see a ramp only after
 * it is over.
 */
export const DEFAULT_STEP_SECONDS = 1;
/**
 * LIVE_HW_TREND are the Holt-Winters level and trend parameters for steps of seconds: the
 * bench-tuned defaults (5-minute steps) learn a trend over hours, so a ramp of a minute would
 * be over before the forecast rose. A faster, lightly damped trend lets the forecast at the
 * horizon run ahead of a ramp, which is what makes the agent ask before the target is missed.
 */
export const LIVE_HW_TREND = { alpha: 0.5, beta: 0.1, phi: 0.98 } as const;
/** DEFAULT_HORIZON_SECONDS is the default look-ahead: about the time a cold embedded server needs to join a group. */
export const DEFAULT_HORIZON_SECONDS = 15;
/** STATIC_SERVICE_RATE is the assumed static requests per second one server completes (files from the volume, no worker slot). */
export const STATIC_SERVICE_RATE = 2000;

/**
 * WarmAgentSection is an agent section that may say `warm: true`: the server was booted into the
 * warm pool with its group's personality but serves nobody yet (the boot service sets it when the
 * machine redeems a warm-up's pointer). Such an agent publishes its status marked warm, counts
 * itself as nobody's member, never decides nor asks, and turns into an ordinary agent when the
 * manager nudges it that the server joined the group.
 */
export interface WarmAgentSection extends PersonalityAgent {
  readonly warm?: boolean;
}

/** AgentSettings is a validated agent section with everything derived from it. */
export interface AgentSettings {
  readonly section: PersonalityAgent;
  /** warm is true when the agent starts on a warm pool server (see WarmAgentSection). */
  readonly warm: boolean;
  readonly tickMs: number;
  readonly specs: ProbeSpecs;
  readonly fis: CompiledFis;
  readonly rules: RuleBase;
  readonly predictor: PredictorConfig;
  readonly runtime: RuntimeConfig;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const num = (x: unknown, lo: number, hi: number): boolean =>
  typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;

/**
 * baseProbeSpecs are the probes' bounds for a runtime and an SLA target before the personality's
 * overrides: a dynamic request's minimum is its service time and its maximum the target; the
 * queue may wait what the target leaves after service. Windows are 5 samples (5 s at the
 * default tick), short enough to see a ramp before the target is missed.
 */
export function baseProbeSpecs(runtime: RuntimeConfig, targetMs: number): ProbeSpecs {
  const d = DEFAULT_PROBE_SPECS;
  const service = Math.max(0, runtime.serviceTimeMs);
  const dynMax = Math.max(targetMs, service + 1);
  return {
    ...d,
    static_rt_ms: { ...d.static_rt_ms, window: 5, max: Math.max(targetMs, d.static_rt_ms.min + 1) },
    dynamic_rt_ms: { ...d.dynamic_rt_ms, window: 5, min: service, max: dynMax },
    queue_wait_ms: { ...d.queue_wait_ms, window: 5, min: 0, max: Math.max(1, targetMs - service) },
  };
}

/**
 * requestTypesFor are the predictor's request types for a runtime: dynamic and static. The
 * queue's servers are the group's worker slots (servers × concurrency), so the rates are per
 * slot: a server with two 50 ms workers is M/M/2 at 20/s each, not one M/M/1 at 40/s, whose
 * waits would be twice as long.
 */
export function requestTypesFor(runtime: RuntimeConfig, targetMs: number): RequestTypeSpec[] {
  const dynamicRate = runtime.serviceTimeMs > 0 ? 1000 / runtime.serviceTimeMs : 1e6;
  return [
    { name: 'dynamic', serviceRate: dynamicRate, targetMs },
    { name: 'static', serviceRate: STATIC_SERVICE_RATE / runtime.concurrency, targetMs },
  ];
}

/** predictorConfigFor builds the predictor's configuration for a step, a horizon and request types. */
export function predictorConfigFor(
  stepSeconds: number,
  horizonSeconds: number,
  types: readonly RequestTypeSpec[],
): PredictorConfig {
  const season = DEFAULT_PREDICTOR_CONFIG.seasonSeconds;
  const period = Math.round(season / stepSeconds);
  // smooth ≈ 40 minutes of steps, bounded so 2 × smooth + 1 fits the season.
  const smooth = Math.max(0, Math.min(Math.floor((period - 1) / 2), Math.round(2400 / stepSeconds)));
  const hw =
    stepSeconds < 60
      ? { ...DEFAULT_PREDICTOR_CONFIG.hw, ...LIVE_HW_TREND, smooth }
      : { ...DEFAULT_PREDICTOR_CONFIG.hw, smooth };
  return {
    ...DEFAULT_PREDICTOR_CONFIG,
    stepSeconds,
    seasonSeconds: period * stepSeconds,
    horizonSeconds,
    hw,
    requestTypes: types,
  };
}

/**
 * checkAgentSection validates a personality's agent section; it throws E_VALIDATION naming
 * every bad field (under `agent.`), and never echoes the token.
 */
export function checkAgentSection(p: Personality): AgentSettings {
  const a = p.agent as unknown;
  const problems: FieldProblem[] = [];
  if (!isObj(a))
    throw new HostfleetError('E_VALIDATION', 'the personality has no agent section', {
      fields: [{ field: 'agent', problem: 'must be an object' }],
    });
  if (typeof a.busUrl !== 'string' || !/^(hfbus|nats|tls):\/\/\S+$/.test(a.busUrl))
    problems.push({ field: 'agent.busUrl', problem: 'must be an hfbus://, nats:// or tls:// URL' });
  if (!(a.busToken === null || (typeof a.busToken === 'string' && a.busToken.length > 0 && a.busToken.length <= 1024)))
    problems.push({ field: 'agent.busToken', problem: 'must be a non-empty string or null' });
  for (const k of ['site', 'group', 'server'] as const) {
    if (typeof a[k] !== 'string' || !TOKEN_RE.test(a[k]))
      problems.push({ field: `agent.${k}`, problem: 'must be a bus token (letters, digits, _ and -; at most 64)' });
  }
  if (a.group !== p.group.id)
    problems.push({ field: 'agent.group', problem: `must be the personality's group (${p.group.id})` });
  if (a.server !== p.server)
    problems.push({ field: 'agent.server', problem: `must be the personality's server (${p.server})` });
  if (a.tickMs !== undefined && !(num(a.tickMs, 100, 60_000) && Number.isInteger(a.tickMs)))
    problems.push({ field: 'agent.tickMs', problem: 'must be a whole number of milliseconds from 100 to 60000' });
  if (!num(a.priority, 0, 1)) problems.push({ field: 'agent.priority', problem: 'must be a number from 0 to 1' });
  if (!num(a.responseTargetMs, 1, 600_000))
    problems.push({ field: 'agent.responseTargetMs', problem: 'must be milliseconds from 1 to 600000' });
  if (!(RULE_BASES as readonly unknown[]).includes(a.rules))
    problems.push({ field: 'agent.rules', problem: `must be one of ${RULE_BASES.join(', ')}` });
  if (a.stepSeconds !== undefined && !num(a.stepSeconds, 1, 3600))
    problems.push({ field: 'agent.stepSeconds', problem: 'must be seconds from 1 to 3600' });
  if (a.horizonSeconds !== undefined && !num(a.horizonSeconds, 0, 86_400))
    problems.push({ field: 'agent.horizonSeconds', problem: 'must be seconds from 0 to 86400' });
  if (a.warm !== undefined && typeof a.warm !== 'boolean')
    problems.push({ field: 'agent.warm', problem: 'must be true or false' });
  if (a.probes !== undefined && !isObj(a.probes))
    problems.push({ field: 'agent.probes', problem: 'must be an object of per-type overrides' });
  if (problems.length > 0)
    throw new HostfleetError(
      'E_VALIDATION',
      `invalid agent section: ${problems.map((x) => `${x.field} ${x.problem}`).join('; ')}`,
      { fields: problems },
    );
  const section = a as unknown as PersonalityAgent;
  const specs = resolveProbeSpecs(section.probes, 'agent.probes', baseProbeSpecs(p.runtime, section.responseTargetMs));
  const rules = section.rules as RuleBase;
  const step = section.stepSeconds ?? DEFAULT_STEP_SECONDS;
  return {
    section,
    warm: a.warm === true,
    tickMs: section.tickMs ?? DEFAULT_TICK_MS,
    specs,
    fis: compileFis(SPECS[rules]),
    rules,
    predictor: predictorConfigFor(
      step,
      section.horizonSeconds ?? DEFAULT_HORIZON_SECONDS,
      requestTypesFor(p.runtime, section.responseTargetMs),
    ),
    runtime: p.runtime,
  };
}

/** workloadPersonality is the personality as the workload may see it: without the agent section, which holds the bus token. */
export function workloadPersonality(p: Personality): Personality {
  if (p.agent === undefined) return p;
  const { agent: _agent, ...rest } = p;
  return rest;
}
