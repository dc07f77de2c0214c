/**
 * status-global prints the global coordinator's view (`hostfleet status --global`): every site
 * with its local time, whether it reports, its spare servers and the servers it lends and
 * borrows, each account's replication lag at its replica sites, the loans and takeovers in
 * force, and the coordinator's latest reasons.
 */
import type { GlobalStatus } from '../services/global/coordinator.js';
import { Client } from './client.js';
import { readGlobalState } from './up-sites.js';
import { newTable } from './style.js';

/** globalClient finds the coordinator's view: HOSTFLEET_GLOBAL_URL and _TOKEN, or the data directory of `up --sites`. */
export function globalClient(dataDir: string, env: NodeJS.ProcessEnv = process.env): Client {
  const st = readGlobalState(dataDir);
  const url = env.HOSTFLEET_GLOBAL_URL ?? (st ? `http://127.0.0.1:${st.ports.view}` : undefined);
  const token = env.HOSTFLEET_GLOBAL_TOKEN ?? st?.token;
  if (!url || !token)
    throw new Error(
      'no global coordinator to ask: start sites with `hostfleet up --sites 3` (or pass its --data-dir), or set HOSTFLEET_GLOBAL_URL and HOSTFLEET_GLOBAL_TOKEN',
    );
  return new Client(url.replace(/\/+$/, ''), token);
}

/** lag shows a replication lag in seconds, '—' before the first copy. */
const lag = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);

/** renderGlobal turns the coordinator's view into the tables the CLI prints. */
export function renderGlobal(g: GlobalStatus): string {
  const out: string[] = [];
  const sites = newTable({ head: ['site', 'local time', 'state', 'spare', 'lent out', 'borrowed', 'replicas (lag)'] });
  for (const s of g.sites)
    sites.push([
      s.site,
      `${s.localTime} (UTC${s.utcOffsetMinutes >= 0 ? '+' : '−'}${Math.abs(s.utcOffsetMinutes / 60)})`,
      s.lost ? 'LOST' : s.alive ? 'reporting' : `silent ${Math.round(s.lastReportAgeMs / 1000)} s`,
      String(s.spare),
      String(s.lentOut),
      String(s.borrowed),
      s.replicas.map((r) => `${r.account}@${r.site} ${lag(r.lagMs)}`).join('\n') || '—',
    ]);
  out.push(sites.toString());
  if (g.loans.length) {
    const loans = newTable({ head: ['loan', 'lender', 'to group', 'servers', 'since'] }, 'yellow');
    for (const l of g.loans)
      loans.push([l.id, l.lender, `${l.to.home}/${l.to.group}`, String(l.count), new Date(l.since).toISOString()]);
    out.push(loans.toString());
  } else out.push('loans: none');
  if (g.takeovers.length) {
    const t = newTable({ head: ['account', 'home (lost)', 'served at', 'data-loss window', 'since'] }, 'red');
    for (const x of g.takeovers)
      t.push([x.account, x.home, x.site, x.rpoMs === null ? 'unknown' : lag(x.rpoMs), new Date(x.since).toISOString()]);
    out.push(t.toString());
  }
  const recent = g.reasons.slice(-8);
  if (recent.length)
    out.push(
      'latest decisions:\n' +
        recent
          .map(
            (r) =>
              `  ${r.at}  ${r.code}  ${r.site}${r.group ? ` ${r.group.home}/${r.group.group}` : ''}${r.lender ? ` from ${r.lender}` : ''}${r.count !== undefined ? ` ×${r.count}` : ''}${r.detail ? ` (${r.detail})` : ''}`,
          )
          .join('\n'),
    );
  return out.join('\n');
}

/** statusGlobal fetches and prints the global view. */
export async function statusGlobal(client: Client, opts: { json?: boolean }): Promise<void> {
  const g = await client.call<GlobalStatus>('GET', '/v1/global');
  console.log(opts.json ? JSON.stringify(g, null, 2) : renderGlobal(g));
}
