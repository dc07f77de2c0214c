/**
 * scenario reads a simulation scenario (YAML or JSON): the sites with their time zones and
 * fleets, the server model (capacity, boot and reset delays, failures), the policies' settings,
 * and the customers — each mapped to a trace from data/traces (sliced, shifted, scaled) or to a
 * synthetic generator, with an SLA and a site. It validates once, naming every bad field and
 * every unknown key (with the known key it most likely meant), and builds each customer's
 * demand as requests per second per tick.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { invalid, isHostfleetError } from '../core/errors.js';
import type { FieldProblem } from '../core/errors.js';
import { settleProblems, unknownKeys } from '../core/keys.js';
import type { KeyProblem } from '../core/keys.js';
import { readDocument } from '../services/shared/document.js';
import { Rng, seedOf } from './rng.js';
import { loadTrace, valueAt } from './traces.js';
import type { Trace } from './traces.js';

/** POLICIES are the policies the simulator compares, in report order. */
export const POLICIES = ['static', 'hpa', 'hostfleet', 'optimum'] as const;
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
  readonly sla: SlaSpec;
  readonly demand: DemandSource;
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
  /** warmPoolSize per site. */
  readonly warmPoolSize: number;
  readonly maxMovesPerTick: number;
  /** headroom: the agent sizes an add for its forecast × (1 + headroom). */
  readonly headroom: number;
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
  readonly replicationLagS: number;
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

const DEFAULT_SERVER: ServerModel = { serviceMs: 50, workers: 8, coldBootS: 120, warmBootS: 15, resetS: 20, drainS: 10, powerOffS: 5, mtbfHours: 2000, mttrHours: 4 };
const DEFAULT_HPA: HpaSettings = { targetUtilisation: 0.6, tolerance: 0.1, stabilisationS: 300 };
const DEFAULT_HOSTFLEET: HostfleetSettings = { confirm: 2, cooldown: 3, responseWindow: 2, predictorStepS: 300, warmPoolSize: 4, maxMovesPerTick: 64, headroom: 0.1 };
const DEFAULT_BILLING: BillingSettings = { currency: 'EUR', burstMultiple: 1.5, extendedMultiple: 2 };

// The keys each level of a scenario file may hold; the blocks with defaults (server, hpa,
// hostfleet, billing) take theirs from the defaults, so a new setting cannot be forgotten here.
const SCENARIO_KEYS = ['name', 'description', 'start', 'days', 'tickSeconds', 'seed', 'warmupDays', 'percentile', 'replicationLagS', 'server', 'sites', 'policies', 'hpa', 'hostfleet', 'billing', 'customers', 'chartCustomers'] as const;
const SITE_KEYS = ['id', 'utcOffsetHours', 'servers'] as const;
const CUSTOMER_KEYS = ['id', 'count', 'site', 'sla', 'trace', 'synthetic'] as const;
const SLA_KEYS = ['committed', 'burst', 'extended', 'priority', 'targetMs', 'rate'] as const;
const TRACE_KEYS = ['file', 'column', 'from', 'shiftHours', 'local', 'peakRps'] as const;
const SYNTHETIC_KEYS = ['kind', 'baseRps', 'peakRps', 'peakHour', 'noise', 'weekendFactor', 'spikesPerDay', 'spikeMultiple', 'spikeMinutes'] as const;

type Raw = Record<string, unknown>;

class Reader {
  readonly problems: (FieldProblem | KeyProblem)[] = [];
  /** keys records the keys of o (named at) that allowed does not name. */
  keys(o: unknown, allowed: readonly string[], at: string): void {
    this.problems.push(...unknownKeys(o, allowed, at));
  }
  num(o: Raw, k: string, field: string, def: number | undefined, min = -Infinity, max = Infinity): number {
    const v = o[k] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.problems.push({ field: `${field}.${k}`, problem: `must be a number from ${min} to ${max}${def === undefined ? ' (required)' : ''}; got ${JSON.stringify(v)}` });
      return def ?? min;
    }
    return v;
  }
  /** numOrRange reads a number or [lo, hi] (drawn per expanded customer). */
  numOrRange(o: Raw, k: string, field: string, def: number | undefined, rng: Rng, min = 0): number {
    const v = o[k];
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number' && v[0] <= v[1] && v[0] >= min) return rng.between(v[0], v[1]);
    return this.num(o, k, field, def, min);
  }
  str(o: Raw, k: string, field: string, def?: string): string {
    const v = o[k] ?? def;
    if (typeof v !== 'string' || v === '') {
      this.problems.push({ field: `${field}.${k}`, problem: 'must be a non-empty string' });
      return def ?? '';
    }
    return v;
  }
  /** obj reads the optional mapping o[k] holding only allowed keys; its fields are named k at the top (`server.workers`), else field.k. */
  obj(o: Raw, k: string, field: string, allowed: readonly string[]): Raw {
    const v = o[k];
    if (v === undefined) return {};
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.problems.push({ field: `${field}.${k}`, problem: 'must be a mapping' });
      return {};
    }
    this.keys(v, allowed, field === 'scenario' ? k : `${field}.${k}`);
    return v as Raw;
  }
}

function parseTime(s: string): number {
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
  return ms;
}

/** parseScenario validates raw scenario data (parsed YAML or JSON); baseDir resolves trace paths. */
export function parseScenario(raw: unknown, baseDir: string): Scenario {
  const r = new Reader();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid([{ field: 'scenario', problem: 'must be a mapping' }]);
  const o = raw as Raw;
  r.keys(o, SCENARIO_KEYS, 'scenario');
  const seed = r.num(o, 'seed', 'scenario', 1, 0, 2 ** 32 - 1);
  const startStr = r.str(o, 'start', 'scenario', '2015-03-02T00:00:00Z');
  const start = parseTime(startStr);
  if (Number.isNaN(start)) r.problems.push({ field: 'scenario.start', problem: `must be an ISO time such as 2015-03-02T00:00:00Z; got ${startStr}` });
  const so = r.obj(o, 'server', 'scenario', Object.keys(DEFAULT_SERVER));
  const server: ServerModel = Object.fromEntries(Object.entries(DEFAULT_SERVER).map(([k, d]) => [k, r.num(so, k, 'server', d, k === 'serviceMs' || k === 'workers' ? 1e-6 : 0)])) as unknown as ServerModel;
  if (!Number.isInteger(server.workers)) r.problems.push({ field: 'server.workers', problem: 'must be a whole number' });
  const sitesRaw = Array.isArray(o['sites']) ? (o['sites'] as unknown[]) : [];
  if (sitesRaw.length === 0) r.problems.push({ field: 'scenario.sites', problem: 'needs at least one site' });
  const sites: SiteSpec[] = sitesRaw.map((s, i) => {
    const so2 = (s ?? {}) as Raw;
    const f = `sites[${i}]`;
    r.keys(so2, SITE_KEYS, f);
    return { id: r.str(so2, 'id', f), utcOffsetHours: r.num(so2, 'utcOffsetHours', f, 0, -12, 14), servers: Math.round(r.num(so2, 'servers', f, undefined, 0, 1e6)) };
  });
  const siteIds = new Set(sites.map((s) => s.id));
  if (siteIds.size !== sites.length) r.problems.push({ field: 'scenario.sites', problem: 'site ids must be unique' });
  const policiesRaw = (o['policies'] ?? POLICIES) as unknown;
  const policies: PolicyName[] = [];
  if (!Array.isArray(policiesRaw)) r.problems.push({ field: 'scenario.policies', problem: `must be a list of ${POLICIES.join(', ')}` });
  else for (const p of policiesRaw) {
    if ((POLICIES as readonly unknown[]).includes(p)) policies.push(p as PolicyName);
    else r.problems.push({ field: 'scenario.policies', problem: `unknown policy ${JSON.stringify(p)}; allowed: ${POLICIES.join(', ')}` });
  }
  const ho = r.obj(o, 'hpa', 'scenario', Object.keys(DEFAULT_HPA));
  const hpa: HpaSettings = {
    targetUtilisation: r.num(ho, 'targetUtilisation', 'hpa', DEFAULT_HPA.targetUtilisation, 0.01, 1),
    tolerance: r.num(ho, 'tolerance', 'hpa', DEFAULT_HPA.tolerance, 0, 1),
    stabilisationS: r.num(ho, 'stabilisationS', 'hpa', DEFAULT_HPA.stabilisationS, 0),
  };
  const hfo = r.obj(o, 'hostfleet', 'scenario', Object.keys(DEFAULT_HOSTFLEET));
  const hostfleet = Object.fromEntries(Object.entries(DEFAULT_HOSTFLEET).map(([k, d]) => [k, r.num(hfo, k, 'hostfleet', d, k === 'confirm' || k === 'responseWindow' || k === 'maxMovesPerTick' || k === 'predictorStepS' ? 1 : 0)])) as unknown as HostfleetSettings;
  const bo = r.obj(o, 'billing', 'scenario', Object.keys(DEFAULT_BILLING));
  const billing: BillingSettings = {
    currency: r.str(bo, 'currency', 'billing', DEFAULT_BILLING.currency),
    burstMultiple: r.num(bo, 'burstMultiple', 'billing', DEFAULT_BILLING.burstMultiple, 1),
    extendedMultiple: r.num(bo, 'extendedMultiple', 'billing', DEFAULT_BILLING.extendedMultiple, 1),
  };
  const custRaw = Array.isArray(o['customers']) ? (o['customers'] as unknown[]) : [];
  if (custRaw.length === 0) r.problems.push({ field: 'scenario.customers', problem: 'needs at least one customer' });
  const customers: CustomerSpec[] = [];
  const rng = new Rng(seedOf(seed, 'customers'));
  custRaw.forEach((c, i) => {
    const co = (c ?? {}) as Raw;
    const f = `customers[${i}]`;
    r.keys(co, CUSTOMER_KEYS, f);
    const id = r.str(co, 'id', f);
    const count = Math.round(r.num(co, 'count', f, 1, 1, 100_000));
    const siteField = co['site'];
    const siteList = Array.isArray(siteField) ? (siteField as string[]) : [r.str(co, 'site', f, sites[0]?.id)];
    for (const s of siteList) if (!siteIds.has(s)) r.problems.push({ field: `${f}.site`, problem: `no site '${s}'; sites: ${[...siteIds].join(', ')}` });
    const sla = r.obj(co, 'sla', f, SLA_KEYS);
    // Read once per customer, not once per expanded copy: each problem is told once.
    const to = co['trace'] === undefined ? undefined : r.obj(co, 'trace', f, TRACE_KEYS);
    const sy = to !== undefined || co['synthetic'] === undefined ? undefined : r.obj(co, 'synthetic', f, SYNTHETIC_KEYS);
    if (to !== undefined && co['synthetic'] !== undefined) r.problems.push({ field: f, problem: 'has both a trace and a synthetic demand; keep one' });
    for (let k = 0; k < count; k++) {
      const site = siteList[k % siteList.length] as string;
      const committed = Math.round(r.numOrRange(sla, 'committed', `${f}.sla`, 1, rng));
      const burst = Math.max(committed, Math.round(r.numOrRange(sla, 'burst', `${f}.sla`, committed * 4, rng)));
      const extended = Math.max(burst, Math.round(r.numOrRange(sla, 'extended', `${f}.sla`, burst * 2, rng)));
      const slaSpec: SlaSpec = {
        committed, burst, extended,
        priority: r.numOrRange(sla, 'priority', `${f}.sla`, 0.5, rng),
        targetMs: r.num(sla, 'targetMs', `${f}.sla`, 200, 1),
        rate: r.num(sla, 'rate', `${f}.sla`, 0.1, 0),
      };
      let demand: DemandSource;
      if (to !== undefined) {
        demand = {
          kind: 'trace', file: r.str(to, 'file', `${f}.trace`), column: (to['column'] as string | number | undefined),
          from: r.str(to, 'from', `${f}.trace`), shiftHours: r.numOrRange(to, 'shiftHours', `${f}.trace`, 0, rng, -1e4), local: to['local'] !== false,
          peakRps: r.numOrRange(to, 'peakRps', `${f}.trace`, undefined, rng, 1e-9),
        };
        if (Number.isNaN(parseTime((to['from'] as string) ?? ''))) r.problems.push({ field: `${f}.trace.from`, problem: 'must be an ISO time within the trace' });
      } else if (sy !== undefined) {
        const kind = (sy['kind'] ?? 'diurnal') as SyntheticKind;
        if (!(SYNTHETIC_KINDS as readonly string[]).includes(kind)) r.problems.push({ field: `${f}.synthetic.kind`, problem: `must be one of ${SYNTHETIC_KINDS.join(', ')}` });
        const peakRps = r.numOrRange(sy, 'peakRps', `${f}.synthetic`, undefined, rng, 1e-9);
        demand = {
          kind, peakRps,
          baseRps: Math.min(peakRps, r.numOrRange(sy, 'baseRps', `${f}.synthetic`, peakRps * 0.2, rng)),
          peakHour: r.numOrRange(sy, 'peakHour', `${f}.synthetic`, 20, rng),
          noise: r.numOrRange(sy, 'noise', `${f}.synthetic`, 0.05, rng),
          weekendFactor: r.numOrRange(sy, 'weekendFactor', `${f}.synthetic`, 1, rng),
          spikesPerDay: r.numOrRange(sy, 'spikesPerDay', `${f}.synthetic`, kind === 'spiky' ? 2 : 0, rng),
          spikeMultiple: r.numOrRange(sy, 'spikeMultiple', `${f}.synthetic`, 3, rng, 1),
          spikeMinutes: r.numOrRange(sy, 'spikeMinutes', `${f}.synthetic`, 30, rng, 1),
        };
      } else {
        r.problems.push({ field: f, problem: 'needs a trace or a synthetic demand' });
        continue;
      }
      customers.push({ id: count === 1 ? id : `${id}-${k + 1}`, site, sla: slaSpec, demand });
    }
  });
  const ids = new Set(customers.map((c) => c.id));
  if (ids.size !== customers.length) r.problems.push({ field: 'scenario.customers', problem: 'customer ids must be unique after expanding count' });
  const chart = Array.isArray(o['chartCustomers']) ? (o['chartCustomers'] as string[]) : [];
  for (const c of chart) if (!ids.has(c)) r.problems.push({ field: 'scenario.chartCustomers', problem: `no customer '${c}'` });
  const sc: Scenario = {
    name: r.str(o, 'name', 'scenario', 'scenario'),
    description: typeof o['description'] === 'string' ? o['description'] : '',
    start, seed,
    days: r.num(o, 'days', 'scenario', 7, 1 / 24, 366),
    tickSeconds: r.num(o, 'tickSeconds', 'scenario', 60, 1, 3600),
    warmupDays: r.num(o, 'warmupDays', 'scenario', 1, 0, 30),
    percentile: r.num(o, 'percentile', 'scenario', 0.95, 0.5, 0.9999),
    replicationLagS: r.num(o, 'replicationLagS', 'scenario', 300, 0),
    server, sites, customers, policies, hpa, hostfleet, billing, chartCustomers: chart, baseDir,
  };
  const problems = settleProblems(r.problems);
  if (problems.length > 0) throw invalid(problems);
  return sc;
}

/** loadScenario reads a .yaml, .yml or .json scenario file; its errors name the file. */
export async function loadScenario(path: string): Promise<Scenario> {
  const raw = readDocument(path, { what: 'scenario file', expected: 'a YAML or JSON scenario with sites and customers (docs/SIMULATOR.md)', code: 'E_VALIDATION' });
  try {
    return parseScenario(raw, dirname(resolve(path)));
  } catch (e) {
    if (isHostfleetError(e, 'E_VALIDATION') && e.fields) throw invalid(e.fields, `scenario ${path}`);
    throw e;
  }
}

/** ticksOf is the number of ticks a scenario runs. */
export function ticksOf(s: Scenario): number {
  return Math.round((s.days * 86_400) / s.tickSeconds);
}

/** warmupTicksOf is the number of history ticks before tick 0. */
export function warmupTicksOf(s: Scenario): number {
  return Math.round((s.warmupDays * 86_400) / s.tickSeconds);
}

/** Demand is every customer's rate (requests/s) per tick, including the warm-up history at the front. */
export interface Demand {
  /** rates[c][warmup + t] is customer c's rate at tick t (t may be negative down to −warmup). */
  readonly rates: readonly Float64Array[];
  readonly warmup: number;
  readonly ticks: number;
}

function resolveTracePath(s: Scenario, file: string): string {
  return isAbsolute(file) ? file : resolve(s.baseDir, file);
}

/** utcDay is new Date(ms).getUTCDay() without a Date per call (demand generation asks it for every customer and tick): 1970-01-01 was a Thursday. */
export function utcDay(ms: number): number {
  const d = Math.floor(Math.trunc(ms) / 86_400_000);
  return (((d + 4) % 7) + 7) % 7;
}

/** buildDemand loads every trace once and generates each customer's rate series. */
export async function buildDemand(s: Scenario): Promise<Demand> {
  const ticks = ticksOf(s);
  const warmup = warmupTicksOf(s);
  const n = warmup + ticks;
  const traces = new Map<string, Trace>();
  const siteOffset = new Map(s.sites.map((x) => [x.id, x.utcOffsetHours]));
  const rates: Float64Array[] = [];
  const tickMs = s.tickSeconds * 1000;
  for (const [ci, c] of s.customers.entries()) {
    const out = new Float64Array(n);
    const d = c.demand;
    const off = siteOffset.get(c.site) ?? 0;
    if (d.kind === 'trace') {
      const key = `${d.file}#${String(d.column ?? '')}`;
      let tr = traces.get(key);
      if (tr === undefined) {
        tr = await loadTrace(resolveTracePath(s, d.file), { purpose: `for customer ${c.id}`, ...(d.column === undefined ? {} : { column: d.column }) });
        traces.set(key, tr);
      }
      const shiftMs = (d.shiftHours - (d.local ? off : 0)) * 3_600_000;
      const from = parseTime(d.from);
      let max = 0;
      for (let i = 0; i < n; i++) {
        const v = valueAt(tr, from + (i - warmup) * tickMs - shiftMs);
        if (!Number.isFinite(v)) {
          throw invalid([{ field: `customer ${c.id}: trace ${d.file}`, problem: `has no data at ${new Date(from + (i - warmup) * tickMs - shiftMs).toISOString()}; choose 'from' so that ${s.warmupDays} warm-up and ${s.days} simulated days fit inside the trace` }]);
        }
        out[i] = v;
        if (i >= warmup && v > max) max = v;
      }
      const k = max > 0 ? d.peakRps / max : 0;
      for (let i = 0; i < n; i++) out[i] = Math.max(0, (out[i] as number) * k);
    } else {
      const rng = new Rng(seedOf(s.seed, `demand:${ci}:${c.id}`));
      let wobble = 0;
      const phi = Math.exp(-s.tickSeconds / 3600); // the wobble drifts over about an hour
      const spikeP = (d.spikesPerDay * s.tickSeconds) / 86_400;
      let spikeLeft = 0;
      for (let i = 0; i < n; i++) {
        const ms = s.start + (i - warmup) * tickMs;
        const localH = (((ms / 3_600_000 + off) % 24) + 24) % 24;
        const dow = utcDay(ms + off * 3_600_000);
        let shape: number;
        if (d.kind === 'flat') shape = 1;
        else {
          // a smooth day: cosine around the peak hour, flattened at night (trough 12 h away)
          const x = Math.cos(((localH - d.peakHour) / 24) * 2 * Math.PI);
          shape = ((1 + x) / 2) ** 1.5;
        }
        let v = d.baseRps + (d.peakRps - d.baseRps) * shape;
        if (dow === 0 || dow === 6) v *= d.weekendFactor;
        wobble = phi * wobble + Math.sqrt(1 - phi * phi) * rng.normal();
        v *= Math.max(0.05, 1 + d.noise * wobble);
        if (spikeLeft > 0) spikeLeft--;
        else if (spikeP > 0 && rng.next() < spikeP) spikeLeft = Math.max(1, Math.round((d.spikeMinutes * 60) / s.tickSeconds));
        if (spikeLeft > 0) v *= d.spikeMultiple;
        out[i] = v;
      }
    }
    rates.push(out);
  }
  return { rates, warmup, ticks };
}
