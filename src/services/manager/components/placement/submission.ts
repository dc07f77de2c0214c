/**
 * submission reads what a customer submits to be placed: a multi-tier configuration (the
 * scheduler's format, docs/SCHEDULER.md) with an optional `edge` block saying how its
 * load-balancer tier is programmed on the edge, and names the edge pool that stands for it.
 */
import { invalid } from '../../../../core/errors.js';
import type { FieldProblem } from '../../../../core/errors.js';
import { settleProblems, unknownKeys } from '../../../../core/keys.js';
import { componentsOf, parseConfiguration, type Configuration } from '../../../../core/scheduler/index.js';
import { BALANCE_POLICIES, type BalancePolicy } from '../../../../drivers/edge/index.js';

/** POOL_PREFIX starts the edge pool of every configuration, so pools of groups and of configurations never collide. */
export const POOL_PREFIX = 'cfg-';
/** MAX_CONFIG_ID is the longest configuration id (its pool id must stay a 40-character slug). */
export const MAX_CONFIG_ID = 36;

/** EdgeSettings are how a configuration's load-balancer tier is programmed on the edge. */
export interface EdgeSettings {
  readonly domains: readonly string[];
  readonly balance: BalancePolicy;
  readonly sticky: boolean;
}

/** poolIdOf is a configuration's edge pool id. */
export function poolIdOf(configId: string): string {
  return `${POOL_PREFIX}${configId}`;
}

/**
 * parseSubmission splits a submitted document into the configuration (parseConfiguration) and
 * its `edge` settings: domains routed to the load-balancer tier, balance (least-connections or
 * round-robin) and sticky. It throws E_VALIDATION naming every bad field.
 */
export function parseSubmission(body: unknown): { config: Configuration; edge: EdgeSettings } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid([{ field: 'body', problem: 'must be a configuration object with id, account, tiers' }]);
  const { edge: e, ...rest } = body as Record<string, unknown>;
  const config = parseConfiguration(rest, ['edge']);
  if (config.id.length > MAX_CONFIG_ID)
    throw invalid([
      { field: 'id', problem: `must be at most ${MAX_CONFIG_ID} characters (its edge pool is ${POOL_PREFIX}<id>)` },
    ]);
  return { config, edge: parseEdgeSettings(e, config) };
}

/** EDGE_KEYS are the keys of a submission's edge block. */
const EDGE_KEYS = ['domains', 'balance', 'sticky'] as const;

function parseEdgeSettings(e: unknown, config: Configuration): EdgeSettings {
  const problems: FieldProblem[] = [...unknownKeys(e, EDGE_KEYS, 'edge')];
  const o = (e ?? {}) as Record<string, unknown>;
  if (e !== undefined && (typeof e !== 'object' || e === null || Array.isArray(e)))
    problems.push({ field: 'edge', problem: `must be { ${EDGE_KEYS.join(', ')} }` });
  const domains = o.domains ?? [];
  if (
    !Array.isArray(domains) ||
    !domains.every(
      (d) =>
        typeof d === 'string' &&
        /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(d),
    )
  )
    problems.push({
      field: 'edge.domains',
      problem: 'must be a list of lower-case DNS names such as shop.example.com',
    });
  const balance = o.balance ?? 'least-connections';
  if (!(BALANCE_POLICIES as readonly unknown[]).includes(balance))
    problems.push({ field: 'edge.balance', problem: `must be one of ${BALANCE_POLICIES.join(', ')}` });
  const sticky = o.sticky ?? false;
  if (typeof sticky !== 'boolean') problems.push({ field: 'edge.sticky', problem: 'must be true or false' });
  if (Array.isArray(domains) && domains.length > 0 && !config.tiers.some((t) => t.role === 'load-balancer'))
    problems.push({
      field: 'edge.domains',
      problem: 'need a tier with role load-balancer, which the edge pool stands for',
    });
  if (problems.length > 0) throw invalid(settleProblems(problems));
  return { domains: domains as string[], balance: balance as BalancePolicy, sticky: sticky as boolean };
}

/**
 * backendsOf lists the components the configuration's load balancer sends traffic to: those
 * its load-balancer components connect to, or every web component when no connection says.
 */
export function backendsOf(config: Configuration): string[] {
  const all = componentsOf(config);
  const lb = new Set(all.filter((x) => x.tier.role === 'load-balancer').map((x) => x.component.id));
  if (lb.size === 0) return [];
  const linked = config.connections.filter((c) => lb.has(c.from) && !lb.has(c.to)).map((c) => c.to);
  if (linked.length > 0) return [...new Set(linked)].sort();
  return all.filter((x) => x.tier.role === 'web').map((x) => x.component.id);
}
