/**
 * billing holds `hostfleet invoice` and `hostfleet usage`: an account's invoice for a month
 * (a table, JSON, or the printable HTML page written to a file) and its metered usage.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { writeFile } from 'node:fs/promises';
import { request } from 'undici';
import { ApiError, type Client, defaultDataDir, readUpState } from './client.js';
import { newTable } from './style.js';

const PERIOD_RE = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

function period(v: string): string {
  if (!PERIOD_RE.test(v)) throw new InvalidArgumentError('--period must be a month written YYYY-MM, such as 2026-11');
  return v;
}

function instant(v: string): string {
  if (Number.isNaN(Date.parse(v)) || !/[zZ]|[+-]\d{2}:\d{2}$/.test(v))
    throw new InvalidArgumentError('--at must be an ISO 8601 instant with a zone, such as 2026-11-30T12:00:00Z');
  return new Date(Date.parse(v)).toISOString();
}

function query(o: { period?: string; at?: string }): string {
  const q = new URLSearchParams();
  if (o.period !== undefined) q.set('period', o.period);
  if (o.at !== undefined) q.set('at', o.at);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** InvoiceAnswer is the part of GET /v1/accounts/{id}/invoice the table shows. */
interface InvoiceAnswer {
  id: string;
  draft: boolean;
  asOf: string;
  plan: { kind: string; id: string; name: string };
  lines: {
    description: string;
    quantity: string;
    unit: string;
    rate: string;
    amount: { amount: string; currency: string };
  }[];
  total: { amount: string; currency: string };
  recommendations: { text: string }[];
  notes: string[];
}

/** bearerOf finds the API token the way Client.resolve does (flag, environment, embedded site). */
function bearerOf(program: Command): string | undefined {
  const o = program.opts<{ token?: string; dataDir?: string }>();
  return o.token ?? process.env.HOSTFLEET_TOKEN ?? readUpState(o.dataDir ?? defaultDataDir())?.operatorToken;
}

/** fetchHtml reads the printable invoice page (the JSON client cannot). */
async function fetchHtml(client: Client, path: string, token: string | undefined): Promise<string> {
  const r = await request(client.url + path, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    headersTimeout: 30_000,
  });
  const text = await r.body.text();
  if (r.statusCode >= 400) {
    const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(r.statusCode, err?.code ?? 'E_INTERNAL', err?.message ?? `HTTP ${r.statusCode}`, text);
  }
  return text;
}

/** printInvoice renders an invoice as a table for people. */
export function printInvoice(inv: InvoiceAnswer, out: (s: string) => void = console.log): void {
  out(
    `Invoice ${inv.id}${inv.draft ? ` (draft, usage up to ${inv.asOf})` : ''} — plan ${inv.plan.name} (${inv.plan.id})`,
  );
  const t = newTable({
    head: ['item', 'quantity', 'unit', 'rate', 'amount'],
    colAligns: ['left', 'right', 'left', 'right', 'right'],
  });
  for (const l of inv.lines)
    t.push([l.description, l.quantity, l.unit, l.rate, `${l.amount.currency} ${l.amount.amount}`]);
  t.push([{ colSpan: 4, content: 'total' }, `${inv.total.currency} ${inv.total.amount}`]);
  out(t.toString());
  for (const n of inv.notes) out(`note: ${n}`);
  for (const r of inv.recommendations) out(`recommendation: ${r.text}`);
}

/** UsageAnswer is the part of GET /v1/accounts/{id}/usage the table shows. */
interface UsageAnswer {
  account: string;
  period: string;
  asOf: string;
  draft: boolean;
  plan: { id: string } | null;
  roles: {
    role: string;
    serverMinutes: number;
    serverHours: string;
    ramGbHours: string;
    levels: { committed: number; burst: number; extended: number; peakServers: number } | null;
  }[];
  ramGbHours: string;
  metrics: { metric: string; kind: string; total: string; peak: number }[];
  restriction: { action: string; reason: string; day: string } | null;
}

/** printUsage renders usage as tables for people. */
export function printUsage(u: UsageAnswer, out: (s: string) => void = console.log): void {
  out(
    `Usage of ${u.account} in ${u.period}${u.draft ? ` up to ${u.asOf}` : ''}${u.plan ? ` — plan ${u.plan.id}` : ' — no plan'}`,
  );
  const t = newTable({
    head: ['role', 'server-hours', 'committed', 'burst', 'extended (server-min)', 'peak', 'RAM GB·h'],
  });
  for (const r of u.roles)
    t.push([
      r.role,
      r.serverHours,
      r.levels?.committed ?? '—',
      r.levels?.burst ?? '—',
      r.levels?.extended ?? '—',
      r.levels?.peakServers ?? '—',
      r.ramGbHours,
    ]);
  out(t.toString());
  if (u.metrics.length > 0) {
    const m = newTable({ head: ['metric', 'kind', 'total', 'peak'] });
    for (const x of u.metrics)
      m.push([x.metric, x.kind, x.kind === 'gauge' ? `${x.total} value-minutes` : x.total, x.peak]);
    out(m.toString());
  }
  if (u.restriction) out(`restricted: ${u.restriction.action} since ${u.restriction.day} (${u.restriction.reason})`);
}

/**
 * registerBillingCommands adds `invoice` and `usage` to the program. client builds the API
 * client from the global flags; token gives the bearer token for the HTML page.
 */
export function registerBillingCommands(program: Command, client: () => Client): void {
  program
    .command('invoice')
    .description("an account's invoice for a month (a draft while the month runs)")
    .argument('<account>', 'account id')
    .option('--period <YYYY-MM>', 'the month (default: the current month)', period)
    .option('--at <instant>', 'meter up to this instant (default: now)', instant)
    .option('--html <file>', 'write the printable invoice page to this file')
    .option('--json', 'print JSON')
    .action(async (account: string, o: { period?: string; at?: string; html?: string; json?: boolean }) => {
      const c = client();
      const path = `/v1/accounts/${encodeURIComponent(account)}/invoice`;
      if (o.html !== undefined) {
        await writeFile(o.html, await fetchHtml(c, `${path}.html${query(o)}`, bearerOf(program)), { mode: 0o644 });
        if (!o.json) console.log(`wrote ${o.html}`);
      }
      const inv = await c.call<InvoiceAnswer>('GET', `${path}${query(o)}`);
      if (o.json) console.log(JSON.stringify(inv, null, 2));
      else if (o.html === undefined) printInvoice(inv);
    });
  program
    .command('usage')
    .description("an account's metered usage: server-minutes per role and level, RAM-hours, hits, connections")
    .argument('<account>', 'account id')
    .option('--period <YYYY-MM>', 'the month (default: the current month)', period)
    .option('--at <instant>', 'meter up to this instant (default: now)', instant)
    .option('--json', 'print JSON')
    .action(async (account: string, o: { period?: string; at?: string; json?: boolean }) => {
      const u = await client().call<UsageAnswer>('GET', `/v1/accounts/${encodeURIComponent(account)}/usage${query(o)}`);
      if (o.json) console.log(JSON.stringify(u, null, 2));
      else printUsage(u);
    });
}
