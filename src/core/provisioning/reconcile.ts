/**
 * reconcile is 004's task program: it compares what a service server should hold (the desired
 * spec of every account service assigned to it, with its version) with what the server last
 * reported holding, and returns the tasks that close the gap. It is pure and idempotent: the
 * same inputs give the same tasks, a task for a version already held is never produced, and a
 * task that failed is simply produced again on the next fetch (that is the retry).
 */
import { SERVICE_KINDS } from './order.js';
import type { ServiceKind } from './order.js';
import type { ServiceSpec } from './specs.js';

/** DesiredService is one account service a server should hold. */
export interface DesiredService {
  readonly account: string;
  readonly service: ServiceKind;
  readonly version: number;
  readonly spec: ServiceSpec;
}

/** HeldService is one account service a server reported holding (at a version). */
export interface HeldService {
  readonly account: string;
  readonly service: ServiceKind;
  readonly version: number;
}

/** Task is one unit of work for a service server's agent. */
export type Task =
  | {
      readonly kind: 'put';
      readonly account: string;
      readonly service: ServiceKind;
      readonly version: number;
      readonly spec: ServiceSpec;
    }
  | { readonly kind: 'remove'; readonly account: string; readonly service: ServiceKind; readonly version: number };

const key = (account: string, service: string) => `${service}\u0000${account}`;
const rank = (s: ServiceKind) => SERVICE_KINDS.indexOf(s);

/**
 * reconcile returns the tasks that turn held into desired, ordered: by service (DNS first,
 * then web, mail, FTP, so names exist before what uses them), removals before puts within a
 * service (a domain moving between accounts is freed before it is claimed), then by account.
 * A held version above the desired one is stale data of a deleted-and-recreated service and
 * is replaced. accounts, when given, limits the tasks to those accounts (a nudge names one).
 */
export function reconcile(
  desired: readonly DesiredService[],
  held: readonly HeldService[],
  accounts?: ReadonlySet<string>,
): Task[] {
  const want = new Map(desired.map((d) => [key(d.account, d.service), d]));
  const have = new Map(held.map((h) => [key(h.account, h.service), h]));
  const tasks: Task[] = [];
  for (const h of have.values()) {
    if (accounts && !accounts.has(h.account)) continue;
    if (!want.has(key(h.account, h.service)))
      tasks.push({ kind: 'remove', account: h.account, service: h.service, version: h.version });
  }
  for (const d of want.values()) {
    if (accounts && !accounts.has(d.account)) continue;
    const h = have.get(key(d.account, d.service));
    if (!h || h.version !== d.version)
      tasks.push({ kind: 'put', account: d.account, service: d.service, version: d.version, spec: d.spec });
  }
  return tasks.sort(
    (a, b) =>
      rank(a.service) - rank(b.service) ||
      (a.kind === b.kind ? 0 : a.kind === 'remove' ? -1 : 1) ||
      (a.account < b.account ? -1 : a.account > b.account ? 1 : 0),
  );
}

/** TaskResult is what an agent reports for one task. */
export type TaskResult =
  | {
      readonly kind: 'done';
      readonly account: string;
      readonly service: ServiceKind;
      readonly action: 'put' | 'remove';
      readonly version: number;
    }
  | {
      readonly kind: 'failed';
      readonly account: string;
      readonly service: ServiceKind;
      readonly action: 'put' | 'remove';
      readonly version: number;
      readonly error: string;
    };

/** applyResults returns held after the reported results: a done put holds its version, a done remove holds nothing. */
export function applyResults(held: readonly HeldService[], results: readonly TaskResult[]): HeldService[] {
  const m = new Map(held.map((h) => [key(h.account, h.service), h]));
  for (const r of results) {
    if (r.kind !== 'done') continue;
    if (r.action === 'put')
      m.set(key(r.account, r.service), { account: r.account, service: r.service, version: r.version });
    else m.delete(key(r.account, r.service));
  }
  return [...m.values()];
}
