/**
 * scenario-spec is what a validated simulation scenario holds: the sites with their time zones
 * and fleets, the server model, the policies' settings, and the customers with their SLAs and
 * demand sources. scenario-parse.ts builds one from a file's data.
 */

/** POLICIES are the policies the simulator compares, in report order; the last two are computed bounds (optimum.ts). */
export const POLICIES = ['static', 'hpa', 'hostfleet', 'optimum', 'optimum-cold'] as const;
/** PolicyName is one of POLICIES. */
export type PolicyName = (typeof POLICIES)[number];

/** SYNTHETIC_KINDS are the built-in demand generators. */
export const SYNTHETIC_KINDS = ['diurnal', 'flat', 'spiky'] as const;
/** SyntheticKind is one of SYNTHETIC_KINDS. */
export type SyntheticKind = (typeof SYNTHETIC_KINDS)[number];

/** ServerModel is every server's capacity and timing (seconds), and its failure law. */
export interface ServerModel {
  readonly serviceMs: number;
  readonly workers: number;
  readonly coldBootS: number;
  readonly warmBootS: number;
  readonly resetS: number;
  readonly drainS: number;
  readonly powerOffS: number;
  /** mtbfHours: mean time between failures of a powered server (exponential); 0 = no failures. */
  readonly mtbfHours: number;
  /** mttrHours: mean time to repair a failed server back to the pool. */
  readonly mttrHours: number;
}

/** SiteSpec is one site: its fleet size and its offset from UTC. */
export interface SiteSpec {
  readonly id: string;
  readonly utcOffsetHours: number;
  readonly servers: number;
}

/** SlaSpec is a customer's SLA in servers, with priority, response target and the price plan's committed rate. */
export interface SlaSpec {
  readonly committed: number;
  readonly burst: number;
  readonly extended: number;
  readonly priority: number;
  readonly targetMs: number;
  /** rate is the committed price per server-hour (burst and extended use the scenario's multiples). */
  readonly rate: number;
}

/** TraceSource maps a customer to a trace file. */
export interface TraceSource {
  readonly kind: 'trace';
  readonly file: string;
  readonly column?: string | number;
  /** from is the trace time (ISO, UTC) the scenario's first tick replays. */
  readonly from: string;
  /** shiftHours moves the replay (positive: later), on top of the site's time zone when local is true. */
  readonly shiftHours: number;
  /** local: shift by the site's UTC offset so the customer's peak falls at the same local hour. */
  readonly local: boolean;
  /** peakRps scales the replayed slice so its largest value is this rate. */
  readonly peakRps: number;
}

/** SyntheticSource is a generated demand: a day curve peaking at peakHour local time, with noise and spikes. */
export interface SyntheticSource {
  readonly kind: SyntheticKind;
  readonly baseRps: number;
  readonly peakRps: number;
  readonly peakHour: number;
  /** noise is the relative standard deviation of a slow AR(1) wobble. */
  readonly noise: number;
  /** weekendFactor scales Saturdays and Sundays. */
  readonly weekendFactor: number;
  /** spikesPerDay, spikeMultiple and spikeMinutes shape 'spiky' demand. */
  readonly spikesPerDay: number;
  readonly spikeMultiple: number;
  readonly spikeMinutes: number;
}

/** DemandSource is where a customer's demand comes from. */
export type DemandSource = TraceSource | SyntheticSource;

/** CustomerSpec is one customer after expansion of `count`. */
export interface CustomerSpec {
  readonly id: string;
  readonly site: string;
  /** replicas are the sites holding a copy of the customer's data (never its own site): the only sites that may lend to it. */
  readonly replicas: readonly string[];
  readonly sla: SlaSpec;
  readonly demand: DemandSource;
}

/** ReplicationSettings describe the copies of customers' data at their replica sites. */
export interface ReplicationSettings {
  /** lagS is how far a replica trails the working data (seconds): the global routine lends only from copies within its maxLagMs. */
  readonly lagS: number;
}

/** HpaSettings tune the Kubernetes rule. */
export interface HpaSettings {
  readonly targetUtilisation: number;
  readonly tolerance: number;
  readonly stabilisationS: number;
}

/** HostfleetSettings tune the agents and the decision loop in the simulator. */
export interface HostfleetSettings {
  /** confirm and cooldown are the agent's hysteresis in ticks. */
  readonly confirm: number;
  readonly cooldown: number;
  /** responseWindow is the aggregator's w_k for response times, in ticks. */
  readonly responseWindow: number;
  /** predictorStepS is the predictor's observation step. */
  readonly predictorStepS: number;
  readonly maxMovesPerTick: number;
  /**
   * violationCost is the price of one SLA-violating minute in server-hours (at priority 1): the
   * dial of the cost model in src/core/decision. `--sweep` varies it.
   */
  readonly violationCost: number;
  /**
   * lending: the global routine (src/core/global) lends idle servers between sites; false runs
   * every site alone, the same run otherwise, to measure what lending buys.
   */
  readonly lending: boolean;
}

/** BillingSettings are the SLA price plan's multiples (seed 000, claim 10). */
export interface BillingSettings {
  readonly currency: string;
  readonly burstMultiple: number;
  readonly extendedMultiple: number;
}

/** Scenario is a validated scenario with its customers expanded. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** start is the time of tick 0 (ms since the epoch, UTC). */
  readonly start: number;
  readonly days: number;
  readonly tickSeconds: number;
  readonly seed: number;
  /** warmupDays of demand are fed to the predictors before tick 0 (history an operator has). */
  readonly warmupDays: number;
  readonly percentile: number;
  readonly replication: ReplicationSettings;
  readonly server: ServerModel;
  readonly sites: readonly SiteSpec[];
  readonly customers: readonly CustomerSpec[];
  readonly policies: readonly PolicyName[];
  readonly hpa: HpaSettings;
  readonly hostfleet: HostfleetSettings;
  readonly billing: BillingSettings;
  /** chartCustomers are the ids plotted in the report (default: the largest few). */
  readonly chartCustomers: readonly string[];
  /** baseDir resolves relative trace paths. */
  readonly baseDir: string;
}

/** ticksOf is the number of ticks a scenario runs. */
export function ticksOf(s: Scenario): number {
  return Math.round((s.days * 86_400) / s.tickSeconds);
}

/** warmupTicksOf is the number of history ticks before tick 0. */
export function warmupTicksOf(s: Scenario): number {
  return Math.round((s.warmupDays * 86_400) / s.tickSeconds);
}

/** parseTime reads a scenario's ISO time; without a zone it is UTC. */
export function parseTime(s: string): number {
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
  return ms;
}
