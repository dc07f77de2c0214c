/**
 * invoice assembles one invoice per account per period from rated lines, and renders it as
 * JSON (for the API and the store) and as a printable, self-contained HTML page (for the
 * console and e-mail). Both renderings are pure functions of the invoice; the HTML escapes
 * every text that came from input, so an account or plan name cannot inject markup.
 */
import { HostfleetError } from '../errors.js';
import type { AllotmentPlan } from './allotment-plan.js';
import { recommendAllotmentPlan } from './allotment-projection.js';
import {
  type AllotmentAction,
  type AllotmentPeriodRating,
  type PaymentOutcome,
  rateAllotmentPeriod,
} from './allotment.js';
import type { InvoiceLine } from './line.js';
import type { AllocationUsage } from './meter.js';
import type { MetricUsage } from './metric-meter.js';
import {
  type OffsiteMinutes,
  type OffsiteStretch,
  meterOffsite,
  offsiteMinutesByDay,
  totalOffsiteMinutes,
} from './offsite.js';
import { accountRamGbHoursByDay, gbHoursFromMbMinutes } from './ram-hours.js';
import { type Currency, type Money, type MoneyJSON, formatMoney, moneyToJSON, sumMoney } from './money.js';
import { type BillingPeriod, HOUR_MS, periodDays } from './period.js';
import type { SlaPlan } from './plan.js';
import { type SlaRating, BYTES_PER_GB, rateSla } from './rate.js';
import { type Ratio, add, ratio, toPlainDecimal } from './ratio.js';
import {
  type Recommendation,
  type RecommendationPolicy,
  DEFAULT_POLICY,
  describeRecommendation,
  recommendCommitted,
} from './recommend.js';

/** Invoice is one account's bill for one period. total is the sum of the lines' amounts. */
export interface Invoice {
  /** id is `${account}/${period}`: one invoice per account per period, so re-issuing replaces. */
  readonly id: string;
  readonly account: string;
  readonly period: BillingPeriod;
  readonly currency: Currency;
  readonly plan: { readonly kind: 'sla' | 'allotment'; readonly id: string; readonly name: string };
  readonly lines: readonly InvoiceLine[];
  readonly total: Money;
  readonly recommendations: readonly Recommendation[];
  /** notes are facts the customer should see next to the bill (cut-offs, SLA ceiling exceeded). */
  readonly notes: readonly string[];
  /** issuedAtMs is when the invoice was computed (passed in; core has no clock). */
  readonly issuedAtMs: number;
}

/** buildInvoice checks that every line is in the invoice's currency and sums the total. */
export function buildInvoice(input: Omit<Invoice, 'id' | 'total'>): Invoice {
  for (const l of input.lines) {
    if (l.amount.currency !== input.currency) {
      throw new HostfleetError(
        'E_CONFIG',
        `invoice ${input.account}/${input.period.label} is in ${input.currency} but a line is in ${l.amount.currency}; an account's plans must share one currency`,
      );
    }
  }
  return {
    ...input,
    id: `${input.account}/${input.period.label}`,
    total: sumMoney(
      input.currency,
      input.lines.map((l) => l.amount),
    ),
  };
}

/** SlaInvoiceOptions are the inputs of invoiceSla besides plan and usage. */
export interface SlaInvoiceOptions {
  readonly issuedAtMs: number;
  readonly policy?: RecommendationPolicy;
  /** offsite is the account's minutes of servers lent by other sites in the period (meterOffsite). */
  readonly offsite?: readonly OffsiteMinutes[];
}

/**
 * invoiceSla bills an account under an SLA plan for a period: rated level usage, off-site
 * (extended) minutes, one-time fees, and next-period recommendations. `usage` must be metered
 * over exactly `period`.
 */
export function invoiceSla(
  plan: SlaPlan,
  account: string,
  period: BillingPeriod,
  usage: AllocationUsage,
  metrics: readonly MetricUsage[],
  opts: SlaInvoiceOptions,
): { readonly invoice: Invoice; readonly rating: SlaRating } {
  const rating = rateSla(plan, account, period, usage, metrics, opts.offsite ?? []);
  const notes: string[] = [];
  if (rating.overCeilingServerMinutes > 0) {
    notes.push(
      `${rating.overCeilingServerMinutes} server-minutes were above the extended ceiling of the SLA; they are billed at the extended rate.`,
    );
  }
  const invoice = buildInvoice({
    account,
    period,
    currency: plan.currency,
    plan: { kind: 'sla', id: plan.id, name: plan.name },
    lines: rating.lines,
    recommendations: recommendCommitted(plan, rating, period, opts.policy ?? DEFAULT_POLICY),
    notes,
    issuedAtMs: opts.issuedAtMs,
  });
  return { invoice, rating };
}

/** AllotmentInvoiceOptions are the inputs of invoiceAllotment besides plan and usage. */
export interface AllotmentInvoiceOptions {
  readonly issuedAtMs: number;
  readonly catalogue: readonly AllotmentPlan[];
  /** payments is the outcome of each day's overage charge (date → outcome), when known. */
  readonly payments?: Readonly<Record<string, PaymentOutcome>>;
  /** offsite is the account's stretches of servers lent by other sites (their RAM counts like local servers'). */
  readonly offsite?: AllotmentOffsite;
}

/**
 * AllotmentOffsite is what an allotment plan needs of servers lent by other sites: their
 * stretches up to the instant metered (asOfMs), and the memory each gives the account — the
 * same billing.serverRamMb local stretches are recorded with.
 */
export interface AllotmentOffsite {
  readonly stretches: readonly OffsiteStretch[];
  readonly ramMb: number;
  readonly asOfMs: number;
}

/**
 * allotmentDaysFromUsage derives the daily usage of an allotment plan from metering: GB
 * RAM-hours from the allocation history's memory, plus the memory of servers lent by other
 * sites (an allotment has no levels: a lent server's RAM-hours are RAM-hours like any other,
 * under the same allotment and overage rate), GB transferred from 'transfer-bytes'.
 */
export function allotmentDaysFromUsage(
  account: string,
  period: BillingPeriod,
  usage: AllocationUsage,
  metrics: readonly MetricUsage[],
  offsite: AllotmentOffsite | null = null,
): { readonly date: string; readonly usage: { readonly 'ram-gb-hours': Ratio; readonly 'transfer-gb': Ratio } }[] {
  const days = periodDays(period);
  const ram = accountRamGbHoursByDay(usage, account, days);
  const lent =
    offsite === null
      ? days.map(() => 0)
      : offsiteMinutesByDay(
          offsite.stretches,
          account,
          days.map((d) => ({ ...d, endMs: Math.min(d.endMs, offsite.asOfMs) })),
        );
  const transfer = metrics.find((m) => m.account === account && m.metric === 'transfer-bytes');
  return days.map((d, i) => ({
    date: d.date,
    usage: {
      'ram-gb-hours': add(
        (ram[i] as { gbHours: Ratio }).gbHours,
        gbHoursFromMbMinutes(BigInt(offsite?.ramMb ?? 0) * BigInt(lent[i] ?? 0)),
      ),
      'transfer-gb': ratio(transfer?.byDay[i]?.total ?? 0n, BYTES_PER_GB),
    },
  }));
}

function describeAction(date: string, a: AllotmentAction): string {
  switch (a.kind) {
    case 'notify':
      return `${date}: ${a.resource} reached ${toPlainDecimal(a.used, 2)} of an allotment of ${toPlainDecimal(a.included, 2)}.`;
    case 'restrict':
      return `${date}: service restricted (${a.action}) — ${a.reason === 'payment-failures' ? 'overage charges failed on consecutive days' : a.reason === 'no-larger-plan' ? 'cut-off reached and no larger plan exists' : `${a.resource ?? 'usage'} reached the cut-off`}.`;
    case 'upgrade':
      return `${date}: cut-off on ${a.resource} reached; plan upgraded from ${a.from} to ${a.to}.`;
  }
}

/**
 * invoiceAllotment bills an account on a resource allotment plan (seed 003) for a period: the
 * plan price and each day's overage, with the cut-off and payment actions as notes, and a
 * plan recommendation when the period's usage exceeded the plan.
 */
export function invoiceAllotment(
  plan: AllotmentPlan,
  account: string,
  period: BillingPeriod,
  usage: AllocationUsage,
  metrics: readonly MetricUsage[],
  opts: AllotmentInvoiceOptions,
): { readonly invoice: Invoice; readonly rating: AllotmentPeriodRating } {
  const days = allotmentDaysFromUsage(account, period, usage, metrics, opts.offsite ?? null);
  const rating = rateAllotmentPeriod(plan, opts.catalogue, days, opts.payments ?? {});
  const rec = recommendAllotmentPlan(rating.plan, rating.state.used, opts.catalogue);
  const recommendations: Recommendation[] =
    rec.exceeds.length > 0
      ? [{ kind: 'change-plan', from: rating.plan.id, to: rec.recommended?.id ?? null, exceeds: rec.exceeds }]
      : [];
  const invoice = buildInvoice({
    account,
    period,
    currency: plan.currency,
    plan: { kind: 'allotment', id: rating.plan.id, name: rating.plan.name },
    lines: rating.lines,
    recommendations,
    notes: [
      ...offsiteAllotmentNote(account, period, opts.offsite),
      ...rating.actions.map((a) => describeAction(a.date, a.action)),
    ],
    issuedAtMs: opts.issuedAtMs,
  });
  return { invoice, rating };
}

/** offsiteAllotmentNote says how many lent servers' minutes an allotment invoice counts in its RAM-hours, and from whom. */
function offsiteAllotmentNote(account: string, period: BillingPeriod, o: AllotmentOffsite | undefined): string[] {
  if (o === undefined) return [];
  const ms = meterOffsite(o.stretches, account, { startMs: period.startMs, endMs: Math.min(period.endMs, o.asOfMs) });
  if (ms.length === 0) return [];
  const lenders = [...new Set(ms.map((m) => m.lender))].join(', ');
  return [
    `${totalOffsiteMinutes(ms)} server-minutes of servers lent by other sites (${lenders}) are counted in the RAM-hours, at ${o.ramMb} MB each.`,
  ];
}

/** InvoiceLineJSON is a line as JSON: exact decimals as strings, money as MoneyJSON. */
export interface InvoiceLineJSON {
  readonly kind: string;
  readonly description: string;
  readonly resource: string | null;
  readonly level: string | null;
  readonly date: string | null;
  readonly quantity: string;
  readonly unit: string;
  readonly rate: string;
  readonly amount: MoneyJSON;
}

/** InvoiceJSON is the API and store form of an invoice. */
export interface InvoiceJSON {
  readonly kind: 'hostfleet.invoice/v1';
  readonly id: string;
  readonly account: string;
  readonly period: { readonly label: string; readonly start: string; readonly end: string };
  readonly currency: Currency;
  readonly plan: Invoice['plan'];
  readonly lines: readonly InvoiceLineJSON[];
  readonly total: MoneyJSON;
  readonly recommendations: readonly { readonly kind: string; readonly text: string; readonly detail: unknown }[];
  readonly notes: readonly string[];
  readonly issuedAt: string;
}

/** QUANTITY_PLACES is how many decimals quantities and rates show (they are exact until then). */
export const QUANTITY_PLACES = 6;

function recommendationDetail(r: Recommendation): unknown {
  if (r.kind !== 'change-plan') return r;
  return {
    ...r,
    exceeds: r.exceeds.map((e) => ({
      resource: e.resource,
      projected: toPlainDecimal(e.projected, QUANTITY_PLACES),
      included: toPlainDecimal(e.included, QUANTITY_PLACES),
    })),
  };
}

/** invoiceToJSON converts an invoice for the API: decimals as strings, instants as ISO text. */
export function invoiceToJSON(inv: Invoice): InvoiceJSON {
  return {
    kind: 'hostfleet.invoice/v1',
    id: inv.id,
    account: inv.account,
    period: {
      label: inv.period.label,
      start: new Date(inv.period.startMs).toISOString(),
      end: new Date(inv.period.endMs).toISOString(),
    },
    currency: inv.currency,
    plan: inv.plan,
    lines: inv.lines.map((l) => ({
      kind: l.kind,
      description: l.description,
      resource: l.resource,
      level: l.level,
      date: l.date,
      quantity: toPlainDecimal(l.quantity, QUANTITY_PLACES),
      unit: l.unit,
      rate: toPlainDecimal(l.rate, QUANTITY_PLACES),
      amount: moneyToJSON(l.amount),
    })),
    total: moneyToJSON(inv.total),
    recommendations: inv.recommendations.map((r) => ({
      kind: r.kind,
      text: describeRecommendation(r),
      detail: recommendationDetail(r),
    })),
    notes: inv.notes,
    issuedAt: new Date(inv.issuedAtMs).toISOString(),
  };
}

/** escapeHtml escapes the five characters that matter in HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/**
 * renderInvoiceHtml renders a printable invoice page: one self-contained document with its
 * own print styles, no scripts and no external resources (it must print the same offline).
 */
export function renderInvoiceHtml(inv: Invoice, opts: { readonly provider?: string } = {}): string {
  const e = escapeHtml;
  const hours = Math.round((inv.period.endMs - inv.period.startMs) / HOUR_MS);
  const rows = inv.lines
    .map(
      (l) =>
        `<tr><td>${e(l.description)}</td><td class="num">${e(toPlainDecimal(l.quantity, 4))}</td><td>${e(l.unit)}</td><td class="num">${e(toPlainDecimal(l.rate, QUANTITY_PLACES))}</td><td class="num">${e(formatMoney(l.amount))}</td></tr>`,
    )
    .join('\n');
  const recs =
    inv.recommendations.length === 0
      ? ''
      : `<section><h2>Recommendations for the next period</h2><ul>${inv.recommendations.map((r) => `<li>${e(describeRecommendation(r))}</li>`).join('')}</ul></section>`;
  const notes =
    inv.notes.length === 0
      ? ''
      : `<section><h2>Notes</h2><ul>${inv.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul></section>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Invoice ${e(inv.id)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#111}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:bold;border-top:2px solid #111}
@media print{body{margin:0}section{break-inside:avoid}}
</style>
</head>
<body>
<header><h1>Invoice ${e(inv.id)}</h1>
<p>${e(opts.provider ?? 'hostfleet')}</p>
<dl><dt>Account</dt><dd>${e(inv.account)}</dd><dt>Period</dt><dd>${e(inv.period.label)} (${e(new Date(inv.period.startMs).toISOString())} – ${e(new Date(inv.period.endMs).toISOString())}, ${hours} hours)</dd><dt>Plan</dt><dd>${e(inv.plan.name)} (${e(inv.plan.id)})</dd><dt>Issued</dt><dd>${e(new Date(inv.issuedAtMs).toISOString())}</dd></dl>
</header>
<table>
<thead><tr><th>Item</th><th class="num">Quantity</th><th>Unit</th><th class="num">Rate (${e(inv.currency)})</th><th class="num">Amount</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><td colspan="4">Total</td><td class="num">${e(formatMoney(inv.total))}</td></tr></tfoot>
</table>
${recs}
${notes}
</body>
</html>
`;
}
