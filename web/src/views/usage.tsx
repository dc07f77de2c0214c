/**
 * Usage is the customer's "Usage and plan" panel, from the manager's billing routes
 * (docs/BILLING.md §8): this period's metered usage with its units, the draft invoice with its
 * money, the price plan the account is on, and any restriction or recommendation.
 */
import { call } from '../api.js';
import type { AccountPlan, Invoice, PricePlan, Usage as UsageAnswer } from '../api.js';
import { Card } from '../ui/bits.js';
import { formatMoney, formatQuantity, formatRate, withUnit } from '../ui/format.js';
import { usePoll } from '../ui/poll.js';

/** REFRESH_MS is how often the panel re-reads usage: the meter counts whole minutes. */
const REFRESH_MS = 30_000;

/** METRIC_ROWS say how each metered measurement reads (docs/BILLING.md §2, Usage metrics). */
const METRIC_ROWS: Readonly<Record<string, { label: string; unit: string; peak?: boolean; scale?: number }>> = {
  hits: { label: 'Requests served', unit: 'requests' },
  transactions: { label: 'Transactions', unit: 'transactions' },
  'transfer-bytes': { label: 'Data transferred', unit: 'GB', scale: 1 / 2 ** 30 },
  connections: { label: 'Connections at the peak', unit: 'connections', peak: true },
  'storage-mb': { label: 'Storage at the peak', unit: 'MB', peak: true },
};

interface Loaded {
  readonly usage: UsageAnswer;
  readonly plan: AccountPlan;
  readonly invoice: Invoice | null;
}

async function load(account: string): Promise<Loaded> {
  const id = encodeURIComponent(account);
  const [usage, plan] = await Promise.all([
    call<UsageAnswer>('GET', `/v1/accounts/${id}/usage`),
    call<AccountPlan>('GET', `/v1/accounts/${id}/plan`),
  ]);
  // An account on no price plan has no invoice to compute (the route answers 404): not asked.
  const invoice =
    plan.assignment === null || plan.plan === null ? null : await call<Invoice>('GET', `/v1/accounts/${id}/invoice`);
  return { usage, plan, invoice };
}

/** UsageRow is one line of the usage table; sub lines break down the line above them. */
interface UsageRow {
  readonly label: string;
  readonly value: string;
  readonly sub?: boolean;
}

function UsageTable(props: { usage: UsageAnswer; roles: readonly string[] }) {
  const u = props.usage;
  const rows: UsageRow[] = [];
  // Every tier of the account has its line, at zero until its first whole minute is metered.
  const metered = new Map(u.roles.map((r) => [r.role, r]));
  const roles = [...new Set([...props.roles, ...metered.keys()])];
  for (const role of roles) {
    const r = metered.get(role) ?? { serverHours: '0', levels: null };
    rows.push({ label: `${role} servers`, value: withUnit(r.serverHours, 'server-hour') });
    // Time above committed is billed at the higher rates: show how much of it there was.
    if (r.levels !== null && r.levels.burst > 0)
      rows.push({ label: 'of which burst', value: withUnit(r.levels.burst / 60, 'server-hour'), sub: true });
    if (r.levels !== null && r.levels.extended > 0)
      rows.push({ label: 'of which extended', value: withUnit(r.levels.extended / 60, 'server-hour'), sub: true });
  }
  if (roles.length > 0) rows.push({ label: 'Memory', value: withUnit(u.ramGbHours, 'GB-hour') });
  for (const m of u.metrics) {
    const d = METRIC_ROWS[m.metric];
    if (d === undefined) continue;
    const q = d.peak ? m.peak : Number(m.total) * (d.scale ?? 1);
    rows.push({ label: d.label, value: `${formatQuantity(q, d.scale === undefined ? 0 : 2)} ${d.unit}` });
  }
  if (rows.length === 0)
    return <p class="muted empty">Nothing metered yet this period: servers count by the whole minute.</p>;
  return (
    <table class="tbl" data-testid="usage-table">
      <thead>
        <tr>
          <th>resource</th>
          <th class="num">this period</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr class={r.sub ? 'sub-row' : ''}>
            <td>{r.label}</td>
            <td class="num nowrap">{r.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function InvoiceTable(props: { invoice: Invoice }) {
  const inv = props.invoice;
  return (
    <table class="tbl" data-testid="invoice-table">
      <thead>
        <tr>
          <th>line</th>
          <th class="num">quantity</th>
          <th class="num">rate</th>
          <th class="num">amount</th>
        </tr>
      </thead>
      <tbody>
        {inv.lines.length === 0 ? (
          <tr>
            <td colSpan={4} class="muted">
              No charges yet.
            </td>
          </tr>
        ) : (
          inv.lines.map((l) => (
            <tr>
              <td>
                {l.description}
                {l.date ? <span class="muted"> · {l.date}</span> : null}
              </td>
              <td class="num nowrap">{withUnit(l.quantity, l.unit)}</td>
              <td class="num nowrap">{formatRate(l.rate, inv.currency)}</td>
              <td class="num nowrap">{formatMoney(l.amount)}</td>
            </tr>
          ))
        )}
        <tr class="total">
          <td colSpan={3}>Total{inv.draft ? ' so far' : ''}</td>
          <td class="num nowrap" data-testid="invoice-total">
            {formatMoney(inv.total)}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

function PlanTable(props: { plan: PricePlan }) {
  const p = props.plan;
  const c = p.currency;
  if (p.kind === 'allotment') {
    return (
      <>
        <p class="plan-line">
          <b>{p.name ?? p.id}</b>{' '}
          <span class="muted">
            · {p.price !== undefined ? `${formatRate(p.price, c)} per month` : ''}
            {p.cutOffAction ? ` · at the cut-off: ${p.cutOffAction}` : ''}
          </span>
        </p>
        <table class="tbl" data-testid="plan-table">
          <thead>
            <tr>
              <th>resource</th>
              <th class="num">included</th>
              <th class="num">overage</th>
              <th class="num">cut-off at</th>
            </tr>
          </thead>
          <tbody>
            {(p.allotments ?? []).map((a) => {
              const unit = a.resource === 'ram-gb-hours' ? 'GB-hour' : 'GB';
              return (
                <tr>
                  <td>
                    {a.resource === 'ram-gb-hours'
                      ? 'Memory'
                      : a.resource === 'transfer-gb'
                        ? 'Data transfer'
                        : a.resource}
                  </td>
                  <td class="num nowrap">{withUnit(a.included, unit)}</td>
                  <td class="num nowrap">
                    {formatRate(a.overageRate, c)} per {unit}
                  </td>
                  <td class="num nowrap">
                    {a.cutOffAt === undefined || a.cutOffAt === null ? '–' : withUnit(a.cutOffAt, unit)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </>
    );
  }
  const fees = [
    p.burstMultiple !== undefined ? `burst at ${formatQuantity(p.burstMultiple)}× the rate` : null,
    p.extendedMultiple !== undefined ? `extended at ${formatQuantity(p.extendedMultiple)}×` : null,
    p.burstEntryFee !== undefined && Number(p.burstEntryFee) > 0
      ? `${formatRate(p.burstEntryFee, c)} once on entering burst`
      : null,
    p.extendedEntryFee !== undefined && Number(p.extendedEntryFee) > 0
      ? `${formatRate(p.extendedEntryFee, c)} on entering extended`
      : null,
  ].filter((x): x is string => x !== null);
  return (
    <>
      <p class="plan-line">
        <b>{p.name ?? p.id}</b> <span class="muted">· SLA plan in {c}</span>
      </p>
      <table class="tbl" data-testid="plan-table">
        <thead>
          <tr>
            <th>servers</th>
            <th class="num">committed</th>
            <th class="num">burst</th>
            <th class="num">extended</th>
            <th class="num">rate</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(p.servers ?? {}).map(([role, s]) => (
            <tr>
              <td>{role}</td>
              <td class="num">{s.committed}</td>
              <td class="num">{s.burst}</td>
              <td class="num">{s.extended}</td>
              <td class="num nowrap">{formatRate(s.rate, c)} per server-hour</td>
            </tr>
          ))}
        </tbody>
      </table>
      {fees.length > 0 ? <p class="muted note">{fees.join(' · ')}</p> : null}
    </>
  );
}

/** Usage is the customer's usage and plan panel; roles are the tiers of the account's services. */
export function Usage(props: { accountId: string; roles: readonly string[] }) {
  const d = usePoll(() => load(props.accountId), REFRESH_MS, [props.accountId]);
  if (d === undefined)
    return (
      <Card title="Usage and plan" testId="usage">
        <p class="muted">loading…</p>
      </Card>
    );
  if (d === null)
    return (
      <Card title="Usage and plan" testId="usage">
        <p class="muted empty">Usage could not be read from billing just now; it is tried again in a moment.</p>
      </Card>
    );
  const restriction = d.usage.restriction ?? d.plan.restriction;
  // A recommendation that would change nothing (from equals to) is not worth a customer's attention.
  const recs = (d.invoice?.recommendations ?? []).filter(
    (r) => JSON.stringify(r.detail.from) !== JSON.stringify(r.detail.to),
  );
  return (
    <Card
      title="Usage and plan"
      extra={
        <span class="head-stats">
          {d.usage.period}
          {d.usage.draft ? ` · so far, as of ${d.usage.asOf.slice(11, 16)} UTC` : ''}
        </span>
      }
      testId="usage"
    >
      {restriction ? (
        <div class="notice bad" role="alert">
          Restricted ({restriction.action}) since {restriction.day}: {restriction.reason}
        </div>
      ) : null}
      <h3 class="sub">Usage</h3>
      <UsageTable usage={d.usage} roles={props.roles} />
      <h3 class="sub">Invoice{d.invoice?.draft ? ' (draft)' : ''}</h3>
      {d.invoice ? (
        <InvoiceTable invoice={d.invoice} />
      ) : (
        <p class="muted empty">No invoice yet: this account is on no price plan. Your provider puts it on one.</p>
      )}
      {d.invoice ? (
        <p class="note">
          <a href={`/v1/accounts/${encodeURIComponent(props.accountId)}/invoice.html`} target="_blank" rel="noopener">
            Printable invoice
          </a>
        </p>
      ) : null}
      <h3 class="sub">Plan</h3>
      {d.plan.plan ? <PlanTable plan={d.plan.plan} /> : <p class="muted empty">No price plan assigned yet.</p>}
      {recs.map((r) => (
        <div class="notice good">Recommended for the next period: {r.text}</div>
      ))}
    </Card>
  );
}
