/**
 * scenario-parse validates a scenario's raw data once, naming every bad field and every unknown
 * key (with the known key it most likely meant), and expands each customer entry's `count`,
 * drawing ranges from a generator seeded by the scenario's seed.
 */
import { DEFAULT_COST } from '../core/decision/cost.js';
import { invalid } from '../core/errors.js';
import type { FieldProblem } from '../core/errors.js';
import { settleProblems, unknownKeys } from '../core/keys.js';
import type { KeyProblem } from '../core/keys.js';
import { Rng, seedOf } from './rng.js';
import {
  POLICIES,
  SYNTHETIC_KINDS,
  parseTime,
  type BillingSettings,
  type CustomerSpec,
  type DemandSource,
  type HostfleetSettings,
  type HpaSettings,
  type PolicyName,
  type ReplicationSettings,
  type Scenario,
  type ServerModel,
  type SiteSpec,
  type SlaSpec,
  type SyntheticKind,
} from './scenario-spec.js';

const DEFAULT_SERVER: ServerModel = {
  serviceMs: 50,
  workers: 8,
  coldBootS: 120,
  warmBootS: 15,
  resetS: 20,
  drainS: 10,
  powerOffS: 5,
  mtbfHours: 2000,
  mttrHours: 4,
};
const DEFAULT_HPA: HpaSettings = { targetUtilisation: 0.6, tolerance: 0.1, stabilisationS: 300 };
const DEFAULT_HOSTFLEET: HostfleetSettings = {
  confirm: 2,
  cooldown: 3,
  responseWindow: 2,
  predictorStepS: 300,
  maxMovesPerTick: 64,
  violationCost: DEFAULT_COST.violationCost,
  lending: true,
};
// A replica one minute behind: a sync started every minute, as a site's replicator runs for web
// content; a fifth of the global routine's maxLagMs (5 min), so the copies serve unless syncs stall.
const DEFAULT_REPLICATION: ReplicationSettings = { lagS: 60 };
const DEFAULT_BILLING: BillingSettings = { currency: 'EUR', burstMultiple: 1.5, extendedMultiple: 2 };

// The keys each level of a scenario file may hold; the blocks with defaults (server, hpa,
// hostfleet, billing) take theirs from the defaults, so a new setting cannot be forgotten here.
const SCENARIO_KEYS = [
  'name',
  'description',
  'start',
  'days',
  'tickSeconds',
  'seed',
  'warmupDays',
  'percentile',
  'replication',
  'server',
  'sites',
  'policies',
  'hpa',
  'hostfleet',
  'billing',
  'customers',
  'chartCustomers',
] as const;
const SITE_KEYS = ['id', 'utcOffsetHours', 'servers'] as const;
const CUSTOMER_KEYS = ['id', 'count', 'site', 'replicas', 'sla', 'trace', 'synthetic'] as const;
const SLA_KEYS = ['committed', 'burst', 'extended', 'priority', 'targetMs', 'rate'] as const;
const TRACE_KEYS = ['file', 'column', 'from', 'shiftHours', 'local', 'peakRps'] as const;
const SYNTHETIC_KEYS = [
  'kind',
  'baseRps',
  'peakRps',
  'peakHour',
  'noise',
  'weekendFactor',
  'spikesPerDay',
  'spikeMultiple',
  'spikeMinutes',
] as const;

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
      this.problems.push({
        field: `${field}.${k}`,
        problem: `must be a number from ${min} to ${max}${def === undefined ? ' (required)' : ''}; got ${JSON.stringify(v)}`,
      });
      return def ?? min;
    }
    return v;
  }
  /** numOrRange reads a number or [lo, hi] (drawn per expanded customer). */
  numOrRange(o: Raw, k: string, field: string, def: number | undefined, rng: Rng, min = 0): number {
    const v = o[k];
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'number' &&
      typeof v[1] === 'number' &&
      v[0] <= v[1] &&
      v[0] >= min
    )
      return rng.between(v[0], v[1]);
    return this.num(o, k, field, def, min);
  }
  bool(o: Raw, k: string, field: string, def: boolean): boolean {
    const v = o[k] ?? def;
    if (typeof v !== 'boolean') {
      this.problems.push({ field: `${field}.${k}`, problem: `must be true or false; got ${JSON.stringify(v)}` });
      return def;
    }
    return v;
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

/** parseScenario validates raw scenario data (parsed YAML or JSON); baseDir resolves trace paths. */
export function parseScenario(raw: unknown, baseDir: string): Scenario {
  const r = new Reader();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw invalid([{ field: 'scenario', problem: 'must be a mapping' }]);
  const o = raw as Raw;
  r.keys(o, SCENARIO_KEYS, 'scenario');
  const seed = r.num(o, 'seed', 'scenario', 1, 0, 2 ** 32 - 1);
  const startStr = r.str(o, 'start', 'scenario', '2015-03-02T00:00:00Z');
  const start = parseTime(startStr);
  if (Number.isNaN(start))
    r.problems.push({
      field: 'scenario.start',
      problem: `must be an ISO time such as 2015-03-02T00:00:00Z; got ${startStr}`,
    });
  const so = r.obj(o, 'server', 'scenario', Object.keys(DEFAULT_SERVER));
  const server: ServerModel = Object.fromEntries(
    Object.entries(DEFAULT_SERVER).map(([k, d]) => [
      k,
      r.num(so, k, 'server', d, k === 'serviceMs' || k === 'workers' ? 1e-6 : 0),
    ]),
  ) as unknown as ServerModel;
  if (!Number.isInteger(server.workers))
    r.problems.push({ field: 'server.workers', problem: 'must be a whole number' });
  const sitesRaw = Array.isArray(o['sites']) ? (o['sites'] as unknown[]) : [];
  if (sitesRaw.length === 0) r.problems.push({ field: 'scenario.sites', problem: 'needs at least one site' });
  const sites: SiteSpec[] = sitesRaw.map((s, i) => {
    const so2 = (s ?? {}) as Raw;
    const f = `sites[${i}]`;
    r.keys(so2, SITE_KEYS, f);
    return {
      id: r.str(so2, 'id', f),
      utcOffsetHours: r.num(so2, 'utcOffsetHours', f, 0, -12, 14),
      servers: Math.round(r.num(so2, 'servers', f, undefined, 0, 1e6)),
    };
  });
  const siteIds = new Set(sites.map((s) => s.id));
  if (siteIds.size !== sites.length) r.problems.push({ field: 'scenario.sites', problem: 'site ids must be unique' });
  const policiesRaw = (o['policies'] ?? POLICIES) as unknown;
  const policies: PolicyName[] = [];
  if (!Array.isArray(policiesRaw))
    r.problems.push({ field: 'scenario.policies', problem: `must be a list of ${POLICIES.join(', ')}` });
  else
    for (const p of policiesRaw) {
      if ((POLICIES as readonly unknown[]).includes(p)) policies.push(p as PolicyName);
      else
        r.problems.push({
          field: 'scenario.policies',
          problem: `unknown policy ${JSON.stringify(p)}; allowed: ${POLICIES.join(', ')}`,
        });
    }
  const ho = r.obj(o, 'hpa', 'scenario', Object.keys(DEFAULT_HPA));
  const hpa: HpaSettings = {
    targetUtilisation: r.num(ho, 'targetUtilisation', 'hpa', DEFAULT_HPA.targetUtilisation, 0.01, 1),
    tolerance: r.num(ho, 'tolerance', 'hpa', DEFAULT_HPA.tolerance, 0, 1),
    stabilisationS: r.num(ho, 'stabilisationS', 'hpa', DEFAULT_HPA.stabilisationS, 0),
  };
  const hfo = r.obj(o, 'hostfleet', 'scenario', Object.keys(DEFAULT_HOSTFLEET));
  const hostfleet = Object.fromEntries(
    Object.entries(DEFAULT_HOSTFLEET).map(([k, d]) => [
      k,
      typeof d === 'boolean'
        ? r.bool(hfo, k, 'hostfleet', d)
        : r.num(
            hfo,
            k,
            'hostfleet',
            d,
            k === 'confirm' || k === 'responseWindow' || k === 'maxMovesPerTick' || k === 'predictorStepS'
              ? 1
              : k === 'violationCost'
                ? 1e-6
                : 0,
          ),
    ]),
  ) as unknown as HostfleetSettings;
  const ro = r.obj(o, 'replication', 'scenario', Object.keys(DEFAULT_REPLICATION));
  const replication: ReplicationSettings = { lagS: r.num(ro, 'lagS', 'replication', DEFAULT_REPLICATION.lagS, 0) };
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
    for (const s of siteList)
      if (!siteIds.has(s))
        r.problems.push({ field: `${f}.site`, problem: `no site '${s}'; sites: ${[...siteIds].join(', ')}` });
    const replicaList = replicasOf(r, co, f, siteList, [...siteIds]);
    const sla = r.obj(co, 'sla', f, SLA_KEYS);
    // Read once per customer, not once per expanded copy: each problem is told once.
    const to = co['trace'] === undefined ? undefined : r.obj(co, 'trace', f, TRACE_KEYS);
    const sy =
      to !== undefined || co['synthetic'] === undefined ? undefined : r.obj(co, 'synthetic', f, SYNTHETIC_KEYS);
    if (to !== undefined && co['synthetic'] !== undefined)
      r.problems.push({ field: f, problem: 'has both a trace and a synthetic demand; keep one' });
    for (let k = 0; k < count; k++) {
      const site = siteList[k % siteList.length] as string;
      const committed = Math.round(r.numOrRange(sla, 'committed', `${f}.sla`, 1, rng));
      const burst = Math.max(committed, Math.round(r.numOrRange(sla, 'burst', `${f}.sla`, committed * 4, rng)));
      const extended = Math.max(burst, Math.round(r.numOrRange(sla, 'extended', `${f}.sla`, burst * 2, rng)));
      const slaSpec: SlaSpec = {
        committed,
        burst,
        extended,
        priority: r.numOrRange(sla, 'priority', `${f}.sla`, 0.5, rng),
        targetMs: r.num(sla, 'targetMs', `${f}.sla`, 200, 1),
        rate: r.num(sla, 'rate', `${f}.sla`, 0.1, 0),
      };
      let demand: DemandSource;
      if (to !== undefined) {
        demand = {
          kind: 'trace',
          file: r.str(to, 'file', `${f}.trace`),
          column: to['column'] as string | number | undefined,
          from: r.str(to, 'from', `${f}.trace`),
          shiftHours: r.numOrRange(to, 'shiftHours', `${f}.trace`, 0, rng, -1e4),
          local: to['local'] !== false,
          peakRps: r.numOrRange(to, 'peakRps', `${f}.trace`, undefined, rng, 1e-9),
        };
        if (Number.isNaN(parseTime((to['from'] as string) ?? '')))
          r.problems.push({ field: `${f}.trace.from`, problem: 'must be an ISO time within the trace' });
      } else if (sy !== undefined) {
        const kind = (sy['kind'] ?? 'diurnal') as SyntheticKind;
        if (!(SYNTHETIC_KINDS as readonly string[]).includes(kind))
          r.problems.push({ field: `${f}.synthetic.kind`, problem: `must be one of ${SYNTHETIC_KINDS.join(', ')}` });
        const peakRps = r.numOrRange(sy, 'peakRps', `${f}.synthetic`, undefined, rng, 1e-9);
        demand = {
          kind,
          peakRps,
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
      const replicas = (replicaList ?? [...siteIds]).filter((x) => x !== site);
      customers.push({ id: count === 1 ? id : `${id}-${k + 1}`, site, replicas, sla: slaSpec, demand });
    }
  });
  const ids = new Set(customers.map((c) => c.id));
  if (ids.size !== customers.length)
    r.problems.push({ field: 'scenario.customers', problem: 'customer ids must be unique after expanding count' });
  const chart = Array.isArray(o['chartCustomers']) ? (o['chartCustomers'] as string[]) : [];
  for (const c of chart)
    if (!ids.has(c)) r.problems.push({ field: 'scenario.chartCustomers', problem: `no customer '${c}'` });
  const sc: Scenario = {
    name: r.str(o, 'name', 'scenario', 'scenario'),
    description: typeof o['description'] === 'string' ? o['description'] : '',
    start,
    seed,
    days: r.num(o, 'days', 'scenario', 7, 1 / 24, 366),
    tickSeconds: r.num(o, 'tickSeconds', 'scenario', 60, 1, 3600),
    warmupDays: r.num(o, 'warmupDays', 'scenario', 1, 0, 30),
    percentile: r.num(o, 'percentile', 'scenario', 0.95, 0.5, 0.9999),
    replication,
    server,
    sites,
    customers,
    policies,
    hpa,
    hostfleet,
    billing,
    chartCustomers: chart,
    baseDir,
  };
  const problems = settleProblems(r.problems);
  if (problems.length > 0) throw invalid(problems);
  return sc;
}

/**
 * replicasOf reads a customer's `replicas`, the sites holding a copy of its data; undefined when
 * absent (every other site then holds one). A customer expanded round a list of sites leaves its
 * own site out of the list; a customer of one site may not name it (its working data is there).
 */
function replicasOf(
  r: Reader,
  co: Raw,
  f: string,
  homes: readonly string[],
  sites: readonly string[],
): string[] | undefined {
  const v = co['replicas'];
  if (v === undefined) return undefined;
  const field = `${f}.replicas`;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    r.problems.push({ field, problem: `must be a list of site ids (sites: ${sites.join(', ')})` });
    return [];
  }
  const list = v as string[];
  for (const s of list)
    if (!sites.includes(s)) r.problems.push({ field, problem: `no site '${s}'; sites: ${sites.join(', ')}` });
    else if (homes.length === 1 && homes[0] === s)
      r.problems.push({
        field,
        problem: `'${s}' is the customer's own site, which holds its working data; list the other sites that hold a copy`,
      });
  if (new Set(list).size !== list.length) r.problems.push({ field, problem: 'names a site twice' });
  return list;
}
