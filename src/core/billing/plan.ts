/**
 * plan holds the SLA price plans of seed 001 (Figure 12 and claim 10): a committed level
 * billed at an established rate, a guaranteed burst level billed at a multiple of it, an
 * extended level billed at a larger multiple, one-time fees for entering burst or extended
 * within a period, and commitments per resource type — servers per role (front-end,
 * back-end, …), network (data transferred) and storage. Plans arrive as untrusted input
 * (console, API, config file) and are validated once, with field-named errors.
 */
import { type FieldProblem, invalid } from '../errors.js';
import { ROLES, type Role } from '../model/names.js';
import type { LevelCeilings } from './levels.js';
import { type Currency, type Money, checkCurrency, moneyFromMajor } from './money.js';
import { type Ratio, ceilRatio, cmp, isRatio, mul, parseDecimal, ratio, ZERO } from './ratio.js';

/**
 * COMMITTED_BILLING says how the committed level is charged. 'reserved': the committed
 * capacity is charged for every minute of the period, used or not — Figure 12's "charged the
 * established rate for that level of committed capacity". 'used': only minutes actually held.
 */
export const COMMITTED_BILLING = ['reserved', 'used'] as const;
/** CommittedBilling is one of COMMITTED_BILLING. */
export type CommittedBilling = (typeof COMMITTED_BILLING)[number];

/** RESOURCE_TYPES are the resource types an SLA commits per (seed 001: "front-end servers, back-end servers, network connections or disk storage units"); servers commit per role. */
export const RESOURCE_TYPES = ['servers', 'network', 'storage'] as const;
/** ResourceType is one of RESOURCE_TYPES. */
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** ServerCommitment is the SLA of one role: levels in servers and the committed rate per server-hour. */
export interface ServerCommitment extends LevelCeilings {
  /** rate is the committed rate, in major currency units per server-hour. */
  readonly rate: Ratio;
}

/**
 * QuantityCommitment is the SLA of a measured resource: levels in GB and the committed rate.
 * For network the quantity is GB transferred in the period (rate per GB); for storage it is
 * GB held, minute by minute (rate per GB-hour).
 */
export interface QuantityCommitment {
  readonly committed: Ratio;
  readonly burst: Ratio;
  readonly extended: Ratio;
  readonly rate: Ratio;
}

/** SlaPlan is a validated SLA price plan. Rates are exact; fees are money. */
export interface SlaPlan {
  readonly kind: 'sla';
  readonly id: string;
  readonly name: string;
  readonly currency: Currency;
  /** burstMultiple × rate is the burst rate (> 1: claim 10's "higher rate"). */
  readonly burstMultiple: Ratio;
  /** extendedMultiple × rate is the extended rate (> burstMultiple: "an even larger multiple"). */
  readonly extendedMultiple: Ratio;
  readonly burstEntryFee: Money;
  readonly extendedEntryFee: Money;
  readonly committedBilling: CommittedBilling;
  readonly servers: Readonly<Partial<Record<Role, ServerCommitment>>>;
  readonly network: QuantityCommitment | null;
  readonly storage: QuantityCommitment | null;
}

/** DecimalInput is how decimals arrive: a string such as "99.99" or a JSON number. */
export type DecimalInput = string | number;

/** ServerCommitmentInput is the raw form of ServerCommitment. */
export interface ServerCommitmentInput {
  readonly committed: number;
  readonly burst: number;
  readonly extended: number;
  readonly rate: DecimalInput;
}

/** QuantityCommitmentInput is the raw form of QuantityCommitment. */
export interface QuantityCommitmentInput {
  readonly committed: DecimalInput;
  readonly burst: DecimalInput;
  readonly extended: DecimalInput;
  readonly rate: DecimalInput;
}

/** SlaPlanInput is the raw form of SlaPlan as the API, console and config files send it. */
export interface SlaPlanInput {
  readonly id: string;
  readonly name?: string;
  readonly currency: string;
  readonly burstMultiple: DecimalInput;
  readonly extendedMultiple: DecimalInput;
  readonly burstEntryFee?: DecimalInput;
  readonly extendedEntryFee?: DecimalInput;
  readonly committedBilling?: string;
  readonly servers?: Readonly<Record<string, ServerCommitmentInput>>;
  readonly network?: QuantityCommitmentInput | null;
  readonly storage?: QuantityCommitmentInput | null;
}

/** PLAN_ID_RE is the grammar of plan ids. */
export const PLAN_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * planHeader reads what every plan starts with — id, name, currency — into out's problems,
 * and returns the raw object with the values (a bad currency reads as USD so the rest of the
 * plan can still be checked and every problem reported at once).
 */
export function planHeader(
  raw: unknown,
  out: FieldProblem[],
): { p: Record<string, unknown>; id: unknown; name: unknown; currency: Currency } {
  if (typeof raw !== 'object' || raw === null) throw invalid([{ field: 'plan', problem: 'must be an object' }]);
  const p = raw as Record<string, unknown>;
  const id = p['id'];
  if (typeof id !== 'string' || !PLAN_ID_RE.test(id))
    out.push({
      field: 'id',
      problem: 'must be 1–64 characters: lower-case letters, digits, . _ -, starting with a letter or digit',
    });
  const name = p['name'] ?? id;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200)
    out.push({ field: 'name', problem: 'must be text of 1–200 characters' });
  const curProblem = checkCurrency('currency', p['currency']);
  if (curProblem !== null) out.push(curProblem);
  const currency = (curProblem === null ? p['currency'] : 'USD') as Currency;
  return { p, id, name, currency };
}

const ONE = ratio(1);

/** decimalField parses a decimal field into out-problems; returns ZERO when invalid (the caller throws). */
export function decimalField(
  out: FieldProblem[],
  field: string,
  v: unknown,
  opts: { min?: Ratio; minExclusive?: boolean } = {},
): Ratio {
  const r = parseDecimal(field, v, opts);
  if (isRatio(r)) return r;
  out.push(r);
  return ZERO;
}

function wholeField(out: FieldProblem[], field: string, v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 1_000_000) return v;
  out.push({ field, problem: 'must be a whole number of servers from 0 to 1000000' });
  return 0;
}

function checkLevelsOrder(out: FieldProblem[], field: string, c: Ratio, b: Ratio, e: Ratio): void {
  if (cmp(b, c) < 0)
    out.push({ field: `${field}.burst`, problem: 'the burst ceiling must be at least the committed level' });
  if (cmp(e, b) < 0)
    out.push({ field: `${field}.extended`, problem: 'the extended ceiling must be at least the burst ceiling' });
}

function quantityField(out: FieldProblem[], field: string, v: unknown): QuantityCommitment | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') {
    out.push({ field, problem: 'must be an object { committed, burst, extended, rate } or null' });
    return null;
  }
  const q = v as Record<string, unknown>;
  const committed = decimalField(out, `${field}.committed`, q['committed'], { min: ZERO });
  const burst = decimalField(out, `${field}.burst`, q['burst'], { min: ZERO });
  const extended = decimalField(out, `${field}.extended`, q['extended'], { min: ZERO });
  const rate = decimalField(out, `${field}.rate`, q['rate'], { min: ZERO });
  checkLevelsOrder(out, field, committed, burst, extended);
  return { committed, burst, extended, rate };
}

/**
 * parseSlaPlan validates a raw SLA plan and returns it with exact rates, or throws
 * E_VALIDATION listing every bad field (e.g. `servers.front-end.burst: the burst ceiling must
 * be at least the committed level`).
 */
export function parseSlaPlan(raw: unknown): SlaPlan {
  const out: FieldProblem[] = [];
  const { p, id, name, currency } = planHeader(raw, out);
  const burstMultiple = decimalField(out, 'burstMultiple', p['burstMultiple'], { min: ONE, minExclusive: true });
  const extendedMultiple = decimalField(out, 'extendedMultiple', p['extendedMultiple'], {
    min: ONE,
    minExclusive: true,
  });
  if (
    out.every((f) => f.field !== 'burstMultiple' && f.field !== 'extendedMultiple') &&
    cmp(extendedMultiple, burstMultiple) <= 0
  ) {
    out.push({
      field: 'extendedMultiple',
      problem: 'must be larger than burstMultiple (the extended rate is an even larger multiple of the committed rate)',
    });
  }
  const burstEntryFee = decimalField(out, 'burstEntryFee', p['burstEntryFee'] ?? 0, { min: ZERO });
  const extendedEntryFee = decimalField(out, 'extendedEntryFee', p['extendedEntryFee'] ?? 0, { min: ZERO });
  const committedBilling = (p['committedBilling'] ?? 'reserved') as CommittedBilling;
  if (!COMMITTED_BILLING.includes(committedBilling))
    out.push({ field: 'committedBilling', problem: `must be one of ${COMMITTED_BILLING.join(', ')}` });
  const servers: Partial<Record<Role, ServerCommitment>> = {};
  const rawServers = p['servers'] ?? {};
  if (typeof rawServers !== 'object' || rawServers === null)
    out.push({ field: 'servers', problem: 'must be an object keyed by role' });
  else {
    for (const [role, v] of Object.entries(rawServers as Record<string, unknown>)) {
      const f = `servers.${role}`;
      if (!ROLES.includes(role as Role)) {
        out.push({ field: f, problem: `is not a role; roles are ${ROLES.join(', ')}` });
        continue;
      }
      if (typeof v !== 'object' || v === null) {
        out.push({ field: f, problem: 'must be an object { committed, burst, extended, rate }' });
        continue;
      }
      const s = v as Record<string, unknown>;
      const committed = wholeField(out, `${f}.committed`, s['committed']);
      const burst = wholeField(out, `${f}.burst`, s['burst']);
      const extended = wholeField(out, `${f}.extended`, s['extended']);
      const rate = decimalField(out, `${f}.rate`, s['rate'], { min: ZERO });
      checkLevelsOrder(out, f, ratio(committed), ratio(burst), ratio(extended));
      servers[role as Role] = { committed, burst, extended, rate };
    }
  }
  const network = quantityField(out, 'network', p['network']);
  const storage = quantityField(out, 'storage', p['storage']);
  if (out.length > 0) throw invalid(out);
  return {
    kind: 'sla',
    id: id as string,
    name: name as string,
    currency,
    burstMultiple,
    extendedMultiple,
    burstEntryFee: moneyFromMajor(burstEntryFee, currency),
    extendedEntryFee: moneyFromMajor(extendedEntryFee, currency),
    committedBilling,
    servers,
    network,
    storage,
  };
}

/** levelRate returns the rate of a level: committed rate × 1, × burstMultiple or × extendedMultiple. */
export function levelRate(
  plan: Pick<SlaPlan, 'burstMultiple' | 'extendedMultiple'>,
  committedRate: Ratio,
  level: 'committed' | 'burst' | 'extended',
): Ratio {
  return level === 'committed'
    ? committedRate
    : mul(committedRate, level === 'burst' ? plan.burstMultiple : plan.extendedMultiple);
}

/** MeasureLevels is an SLA stated in a performance measure (Figure 12 uses simultaneous connections). */
export interface MeasureLevels {
  readonly committed: number;
  readonly burstMultiple: DecimalInput;
  readonly extendedMultiple: DecimalInput;
  /** perServer is how much of the measure one server carries (e.g. 40,000 connections). */
  readonly perServer: number;
}

/**
 * serverLevelsFromMeasure turns an SLA stated in a measure into server levels: each level is
 * the measure's level divided by one server's capacity, rounded up (a fraction of a server
 * cannot be allocated, and rounding down would break the guarantee).
 * Figure 12: 640,000 connections at 40,000 per server, burst ×2, extended ×4 → 16 / 32 / 64.
 */
export function serverLevelsFromMeasure(m: MeasureLevels): LevelCeilings {
  const out: FieldProblem[] = [];
  if (!Number.isSafeInteger(m.committed) || m.committed < 0)
    out.push({ field: 'committed', problem: 'must be a non-negative whole number' });
  if (!Number.isSafeInteger(m.perServer) || m.perServer <= 0)
    out.push({ field: 'perServer', problem: 'must be a positive whole number' });
  const bm = decimalField(out, 'burstMultiple', m.burstMultiple, { min: ONE });
  const em = decimalField(out, 'extendedMultiple', m.extendedMultiple, { min: ONE });
  if (out.length === 0 && cmp(em, bm) < 0)
    out.push({ field: 'extendedMultiple', problem: 'must be at least burstMultiple' });
  if (out.length > 0) throw invalid(out);
  const per = ratio(m.perServer);
  const servers = (level: Ratio): number => Number(ceilRatio(mul(level, ratio(1n, per.n))));
  const c = ratio(m.committed);
  return { committed: servers(c), burst: servers(mul(c, bm)), extended: servers(mul(c, em)) };
}
