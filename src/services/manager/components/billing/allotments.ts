/**
 * allotments run seed 003's daily process for accounts on allotment plans — overage charges,
 * notifications, the cut-off action (a restriction, or an upgrade to the next larger plan) —
 * and count the outcomes of the days' overage payments.
 */
import { HostfleetError } from '../../../../core/errors.js';
import {
  DAY_MS,
  allotmentDaysFromUsage,
  initialAllotmentState,
  monthOf,
  monthPeriod,
  periodDays,
  recordPayment,
  runAllotmentDay,
  type PaymentOutcome,
} from '../../../../core/billing/index.js';
import * as bdb from '../../../../drivers/store/billing.js';
import type { Store } from '../../../../drivers/store/index.js';
import type { ManagerContext } from '../../context.js';
import { catalogueOf, loadPlans } from './plans.js';
import { allotmentOffsite, meterAccount } from './usage.js';

/**
 * runDailyAllotments runs seed 003's daily process for every account on an allotment plan and
 * every whole day (this month's and the last month's) not yet processed. Each day is one
 * transaction guarded by the stored state, so two managers, or one repeating itself after a
 * crash, process each day once: its overage charged once, its cut-off acted on once.
 */
export async function runDailyAllotments(
  ctx: Pick<ManagerContext, 'store' | 'cfg' | 'log'>,
  nowMs: number,
): Promise<number> {
  const plans = await loadPlans(ctx.store);
  const catalogue = catalogueOf(plans);
  let processed = 0;
  const periods = [...new Set([monthOf(nowMs - DAY_MS), monthOf(nowMs)])].map((l) => monthPeriod(l));
  for (const a of await bdb.listAccountPlans(ctx.store, 'allotment')) {
    for (const period of periods) {
      const done = periodDays(period).filter((d) => d.endMs <= nowMs);
      if (done.length === 0) continue;
      const stored = await bdb.getAllotmentState(ctx.store, a.accountId, period.label);
      const lastDone = (done[done.length - 1] as { date: string }).date;
      if (stored?.state.lastDay != null && stored.state.lastDay >= lastDone) continue;
      const m = await meterAccount(ctx, a.accountId, period, nowMs);
      const days = allotmentDaysFromUsage(a.accountId, period, m.usage, m.metrics, allotmentOffsite(ctx, m)).filter(
        (d) => d.date <= lastDone,
      );
      for (const day of days) {
        const did = await ctx.store.transaction(async (tx) => {
          const cur = await bdb.getAllotmentState(tx, a.accountId, period.label, true);
          if (cur?.state.lastDay != null && day.date <= cur.state.lastDay) return false;
          const plan = plans.get(cur?.state.planId ?? a.planId);
          if (plan === undefined || plan.kind !== 'allotment') return false;
          const state = cur?.state ?? initialAllotmentState(plan);
          const r = runAllotmentDay(plan, catalogue, state, day);
          if (
            !(await bdb.insertAllotmentDay(tx, {
              accountId: a.accountId,
              day: day.date,
              period: period.label,
              planId: plan.id,
              charges: r.charges,
              actions: r.actions,
            }))
          )
            return false;
          if (
            !(await bdb.saveAllotmentState(tx, {
              accountId: a.accountId,
              period: period.label,
              state: r.state,
              existed: cur !== null,
              expectedLastDay: state.lastDay,
              expectedFailures: state.consecutivePaymentFailures,
            }))
          ) {
            throw new HostfleetError(
              'E_CONFLICT',
              `allotment state of ${a.accountId} ${period.label} changed while processing ${day.date}; retrying next pass`,
            );
          }
          for (const act of r.actions) {
            if (act.kind === 'restrict')
              await bdb.setRestriction(tx, {
                accountId: a.accountId,
                action: act.action,
                reason: act.reason,
                resource: act.resource,
                day: day.date,
              });
            if (act.kind === 'upgrade')
              await bdb.assignPlan(tx, {
                accountId: a.accountId,
                planId: act.to,
                by: `billing: cut-off on ${act.resource} ${day.date}`,
              });
          }
          return true;
        });
        if (did) processed++;
      }
    }
  }
  return processed;
}

/**
 * recordPaymentOutcome records the outcome of a day's overage charge once per day and counts
 * it in the period's daily state (seed 003's failed-payment handling): a success resets the
 * count, and the plan's limit of consecutive failures (three by default) records a suspension.
 * Only a day that was charged overage can fail; other outcomes are recorded but not counted.
 */
export async function recordPaymentOutcome(
  store: Store,
  account: string,
  day: string,
  outcome: PaymentOutcome,
): Promise<{
  readonly recorded: boolean;
  readonly counted: boolean;
  readonly consecutivePaymentFailures: number;
  readonly restriction: bdb.Restriction | null;
}> {
  const plans = await loadPlans(store);
  const period = day.slice(0, 7);
  return store.transaction(async (tx) => {
    const recorded = await bdb.insertPayment(tx, { accountId: account, day, outcome });
    const st = await bdb.getAllotmentState(tx, account, period, true);
    const charged = (await bdb.listAllotmentDays(tx, account, period)).some(
      (d) => d.day === day && d.charges.length > 0,
    );
    const plan = st === null ? undefined : plans.get(st.state.planId);
    let counted = false;
    if (recorded && charged && st !== null && plan?.kind === 'allotment') {
      const r = recordPayment(plan, st.state, outcome);
      await bdb.saveAllotmentState(tx, {
        accountId: account,
        period,
        state: r.state,
        existed: true,
        expectedLastDay: st.state.lastDay,
        expectedFailures: st.state.consecutivePaymentFailures,
      });
      for (const act of r.actions)
        if (act.kind === 'restrict')
          await bdb.setRestriction(tx, {
            accountId: account,
            action: act.action,
            reason: act.reason,
            resource: act.resource,
            day,
          });
      counted = true;
    }
    const now = await bdb.getAllotmentState(tx, account, period);
    return {
      recorded,
      counted,
      consecutivePaymentFailures: now?.state.consecutivePaymentFailures ?? 0,
      restriction: await bdb.getRestriction(tx, account),
    };
  });
}
