/**
 * events are billing's inputs as the manager records them durably: the allocation history
 * (which server served which account in which role, when) and usage samples (connections,
 * hits, data transferred, transactions, storage). Both are append-only and keyed by id, so a
 * manager that fails over and re-delivers what it already wrote cannot bill anything twice.
 *
 * The manager should derive ids from what makes the fact unique — e.g.
 * `${moveId}:attached` and `${moveId}:detached` — so that a standby that resumes a move
 * writes the same id again rather than a second fact.
 */
import { type FieldProblem, invalid } from '../errors.js';
import { ROLES, type Role } from '../model/names.js';

/** LEVELS are the three SLA levels of Figure 12 (seed 001): committed 170, burst 172, extended 174. */
export const LEVELS = ['committed', 'burst', 'extended'] as const;
/** Level is one of LEVELS. */
export type Level = (typeof LEVELS)[number];

/** ALLOCATION_EVENT_KINDS are the two facts of the allocation history. */
export const ALLOCATION_EVENT_KINDS = ['allocated', 'released'] as const;
/** AllocationEventKind is one of ALLOCATION_EVENT_KINDS. */
export type AllocationEventKind = (typeof ALLOCATION_EVENT_KINDS)[number];

/**
 * AllocatedEvent records that from `at` on, `server` serves `account` in `role` with `ramMb`
 * of memory. A server is in one place at a time, so it ends whatever the server did before;
 * writing it again for the same account and role with another ramMb records a resize.
 * The SLA level is deliberately not recorded: the meter derives it minute by minute from the
 * account's server count (see meter.ts), so the bill never depends on which server arrived
 * first or in which order events were delivered.
 */
export interface AllocatedEvent {
  readonly kind: 'allocated';
  readonly id: string;
  /** at is epoch milliseconds (UTC). */
  readonly at: number;
  readonly server: string;
  readonly account: string;
  readonly role: Role;
  /** ramMb is the memory the server gives the account (1 GB = 1024 MB), for RAM-hours. */
  readonly ramMb: number;
  /** moveId links the fact to the move workflow that produced it, for audit. */
  readonly moveId?: string | null;
}

/**
 * ReleasedEvent records that from `at` on, `server` no longer serves `account` in `role`.
 * A release that does not match the server's current holder is stale (the server was already
 * given to someone else) and changes nothing.
 */
export interface ReleasedEvent {
  readonly kind: 'released';
  readonly id: string;
  readonly at: number;
  readonly server: string;
  readonly account: string;
  readonly role: Role;
  readonly moveId?: string | null;
}

/** AllocationEvent is one fact of the allocation history, tagged by kind. */
export type AllocationEvent = AllocatedEvent | ReleasedEvent;

/**
 * METRICS are the usage measurements of seed 001 ("simultaneous connections, hits, amount of
 * data transferred, number of transactions") plus storage. RAM-hours are not sampled: they
 * come from the allocation history's ramMb.
 */
export const METRICS = ['connections', 'hits', 'transfer-bytes', 'transactions', 'storage-mb'] as const;
/** Metric is one of METRICS. */
export type Metric = (typeof METRICS)[number];

/**
 * METRIC_KIND says how a metric's samples combine: a counter's value is what happened since
 * the previous sample (summed); a gauge's value holds from `at` until its next sample
 * (integrated over minutes and reported by peak and mean).
 */
export const METRIC_KIND: Readonly<Record<Metric, 'counter' | 'gauge'>> = {
  connections: 'gauge',
  hits: 'counter',
  'transfer-bytes': 'counter',
  transactions: 'counter',
  'storage-mb': 'gauge',
};

/** MetricSample is one usage measurement of an account, keyed by id like the allocation facts. */
export interface MetricSample {
  readonly id: string;
  readonly account: string;
  readonly metric: Metric;
  readonly at: number;
  /** value is a non-negative integer (bytes, hits, connections, MB). */
  readonly value: number;
}

/** ID_RE is the grammar of event, server and account ids: printable, no spaces, 1–200 long. */
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/;

/** MAX_INSTANT_MS bounds instants to years before 10000 so periods and days stay in range. */
const MAX_INSTANT_MS = 253_402_300_799_999;

function checkId(field: string, v: unknown, out: FieldProblem[]): void {
  if (typeof v !== 'string' || !ID_RE.test(v))
    out.push({
      field,
      problem: 'must be 1–200 characters: letters, digits and . _ : @ / -, starting with a letter or digit',
    });
}

/**
 * parseInstant reads an instant given as epoch milliseconds or as an ISO 8601 text with a
 * zone ("2024-06-01T00:00:00Z"), so the store may hand over either column type.
 */
export function parseInstant(field: string, v: unknown, out: FieldProblem[]): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_INSTANT_MS) return v;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms) && ms >= 0 && ms <= MAX_INSTANT_MS) return ms;
  }
  out.push({
    field,
    problem: 'must be epoch milliseconds or an ISO 8601 instant with a zone, e.g. 2024-06-01T00:00:00Z',
  });
  return 0;
}

/**
 * parseAllocationEvent validates one raw fact (as read from the store or the bus) and returns
 * it with `at` in epoch milliseconds, or throws E_VALIDATION naming every bad field.
 */
export function parseAllocationEvent(raw: unknown, field = 'event'): AllocationEvent {
  const out: FieldProblem[] = [];
  if (typeof raw !== 'object' || raw === null) throw invalid([{ field, problem: 'must be an object' }]);
  const r = raw as Record<string, unknown>;
  const kind = r['kind'];
  if (!ALLOCATION_EVENT_KINDS.includes(kind as AllocationEventKind))
    out.push({ field: `${field}.kind`, problem: `must be one of ${ALLOCATION_EVENT_KINDS.join(', ')}` });
  checkId(`${field}.id`, r['id'], out);
  checkId(`${field}.server`, r['server'], out);
  checkId(`${field}.account`, r['account'], out);
  if (!ROLES.includes(r['role'] as Role))
    out.push({ field: `${field}.role`, problem: `must be one of ${ROLES.join(', ')}` });
  const at = parseInstant(`${field}.at`, r['at'], out);
  const moveId = r['moveId'];
  if (moveId !== undefined && moveId !== null) checkId(`${field}.moveId`, moveId, out);
  let ramMb = 0;
  if (kind === 'allocated') {
    const v = r['ramMb'];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 1 << 30)
      out.push({ field: `${field}.ramMb`, problem: 'must be a whole number of megabytes from 0 to 1073741824' });
    else ramMb = v;
  }
  if (out.length > 0) throw invalid(out);
  const base = {
    id: r['id'] as string,
    at,
    server: r['server'] as string,
    account: r['account'] as string,
    role: r['role'] as Role,
    ...(typeof moveId === 'string' ? { moveId } : {}),
  };
  return kind === 'allocated' ? { kind: 'allocated', ...base, ramMb } : { kind: 'released', ...base };
}

/** parseMetricSample validates one raw usage sample, or throws E_VALIDATION naming every bad field. */
export function parseMetricSample(raw: unknown, field = 'sample'): MetricSample {
  const out: FieldProblem[] = [];
  if (typeof raw !== 'object' || raw === null) throw invalid([{ field, problem: 'must be an object' }]);
  const r = raw as Record<string, unknown>;
  checkId(`${field}.id`, r['id'], out);
  checkId(`${field}.account`, r['account'], out);
  if (!METRICS.includes(r['metric'] as Metric))
    out.push({ field: `${field}.metric`, problem: `must be one of ${METRICS.join(', ')}` });
  const at = parseInstant(`${field}.at`, r['at'], out);
  const v = r['value'];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    out.push({ field: `${field}.value`, problem: 'must be a non-negative whole number' });
  if (out.length > 0) throw invalid(out);
  return {
    id: r['id'] as string,
    account: r['account'] as string,
    metric: r['metric'] as Metric,
    at,
    value: v as number,
  };
}
