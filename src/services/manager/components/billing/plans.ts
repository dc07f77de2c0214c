/**
 * plans reads the price plans billing charges by: SLA plans (committed, burst and extended
 * levels per role) and seed 003's allotment plans, stored as submitted and parsed on use.
 */
import { HostfleetError, isHostfleetError } from '../../../../core/errors.js';
import { parseAllotmentPlan, parseSlaPlan, type AllotmentPlan, type SlaPlan } from '../../../../core/billing/index.js';
import * as bdb from '../../../../drivers/store/billing.js';
import type { Sql } from '../../../../drivers/store/index.js';

/** Plan is a parsed price plan of either kind. */
export type Plan = SlaPlan | AllotmentPlan;

/** parsePlan validates a stored or submitted plan of either kind; field problems name body fields when `prefix` is given. */
export function parsePlan(kind: bdb.PlanKind, body: unknown, prefix = ''): Plan {
  try {
    return kind === 'sla' ? parseSlaPlan(body) : parseAllotmentPlan(body);
  } catch (e) {
    if (isHostfleetError(e) && e.code === 'E_VALIDATION' && e.fields !== undefined && prefix !== '') {
      const fields = e.fields.map((f) => ({ field: `${prefix}${f.field}`, problem: f.problem }));
      throw new HostfleetError(
        'E_VALIDATION',
        `invalid plan: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`,
        { fields },
      );
    }
    throw e;
  }
}

/** loadPlans reads and parses every stored plan. */
export async function loadPlans(sql: Sql): Promise<Map<string, Plan>> {
  const out = new Map<string, Plan>();
  for (const p of await bdb.listPlans(sql)) out.set(p.id, parsePlan(p.kind, p.body));
  return out;
}

/** catalogueOf lists the allotment plans (an upgrade at a cut-off picks the next larger). */
export function catalogueOf(plans: Map<string, Plan>): AllotmentPlan[] {
  return [...plans.values()].filter((p): p is AllotmentPlan => p.kind === 'allotment');
}

/** accountPlan returns an account's parsed plan, or throws E_NOT_FOUND saying how to assign one. */
export async function accountPlan(sql: Sql, account: string, plans: Map<string, Plan>): Promise<Plan> {
  const a = await bdb.getAccountPlan(sql, account);
  const plan = a === null ? undefined : plans.get(a.planId);
  if (plan === undefined)
    throw new HostfleetError(
      'E_NOT_FOUND',
      `account ${account} has no price plan; an operator assigns one with PUT /v1/accounts/${account}/plan {"planId": …}`,
      { details: { account } },
    );
  return plan;
}
