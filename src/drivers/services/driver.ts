/**
 * driver states the contract of a service driver: it holds the configuration of one service
 * (web, DNS, mail or FTP) on one service server and runs its daemon. apply is idempotent: it
 * renders the whole set of accounts it is given, checks the result with the real tool, and
 * only then makes it live and reloads; a set that fails its check leaves the live
 * configuration and the daemon exactly as they were (nothing half created).
 */
import type { FieldProblem } from '../../core/errors.js';
import type { ServiceKind, ServiceSpec } from '../../core/provisioning/index.js';

/** HeldEntry is one account's spec and its version (a DNS zone's serial). */
export interface HeldEntry {
  readonly spec: ServiceSpec;
  readonly version: number;
}

/** ApplyOutcome: applied and reloaded, or refused at a stage with the reasons. */
export type ApplyOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly stage: 'render' | 'check' | 'reload';
      readonly error: string;
      readonly problems?: readonly FieldProblem[] | undefined;
    };

/** ServiceDriver is one service's configuration and daemon on a service server. */
export interface ServiceDriver {
  readonly service: ServiceKind;
  /** start prepares the directories and starts the daemon (on the loopback ports configured). */
  start(): Promise<void>;
  /** apply makes the service hold exactly entries (account id → spec). */
  apply(entries: ReadonlyMap<string, HeldEntry>): Promise<ApplyOutcome>;
  /** close stops the daemon. */
  close(): Promise<void>;
}

/** specsOf picks the specs of one kind from entries (a spec of another kind is a refused input). */
export function specsOf<K extends ServiceSpec['kind']>(
  kind: K,
  entries: ReadonlyMap<string, HeldEntry>,
): { specs: Map<string, Extract<ServiceSpec, { kind: K }>>; problems: FieldProblem[] } {
  const specs = new Map<string, Extract<ServiceSpec, { kind: K }>>();
  const problems: FieldProblem[] = [];
  for (const [account, e] of entries) {
    if (e.spec.kind === kind) specs.set(account, e.spec as Extract<ServiceSpec, { kind: K }>);
    else problems.push({ field: `accounts.${account}`, problem: `holds a ${e.spec.kind} spec, not ${kind}` });
  }
  return { specs, problems };
}

/** refused builds the outcome of a render that found problems. */
export function refused(problems: readonly FieldProblem[]): ApplyOutcome {
  return { ok: false, stage: 'render', error: problems.map((p) => `${p.field}: ${p.problem}`).join('; '), problems };
}

/** hostPort splits a validated host:port. */
export function hostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i), port: Number(listen.slice(i + 1)) };
}
