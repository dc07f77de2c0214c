/**
 * status prints the site as tables: groups with their servers and each server's latest load and
 * need as its agent reported them, the pool, failed servers and moves in flight (`--json`
 * prints the API's answer as it is).
 */
import type { Client } from './client.js';
import { newTable } from './style.js';

/** AgentOut is a server's latest agent figures, as the manager adds them to /v1/status. */
interface AgentOut {
  rps: number;
  p95Ms: number | null;
  need: number | null;
  decider: boolean;
  stale: boolean;
  healthy: boolean;
}
interface ServerOut {
  id: string;
  state: string;
  place: string;
  groupId: string | null;
  moveId: string | null;
  address: string;
  agent?: AgentOut | null;
}
interface GroupOut {
  id: string;
  accountId: string;
  role: string;
  minSize: number;
  maxSize: number;
  domains: string[];
  servers: ServerOut[];
}
interface MoveOut {
  id: string;
  serverId: string;
  fromGroup: string | null;
  toGroup: string | null;
  step: string;
  createdAt: string;
}
/** StatusOut is the answer of GET /v1/status. */
export interface StatusOut {
  site: string;
  groups: GroupOut[];
  pool: ServerOut[];
  failed: ServerOut[];
  moves: MoveOut[];
}

/** loadOf is a server's request rate as the status table shows it: '—' without a report, '?' when the report is stale. */
export function loadOf(a: AgentOut | null | undefined): string {
  if (!a) return '—';
  return `${a.rps.toFixed(a.rps < 10 ? 1 : 0)}${a.stale ? ' ?' : ''}${a.healthy ? '' : ' !'}`;
}

/** needOf shows the group decider's need (−1 release … +1 add) with a sign; other servers show '·'. */
export function needOf(a: AgentOut | null | undefined): string {
  if (!a) return '—';
  if (!a.decider || a.need === null) return '·';
  return `${a.need >= 0 ? '+' : ''}${a.need.toFixed(2)}`;
}

/** renderStatus turns the status answer into the tables the CLI prints. */
export function renderStatus(s: StatusOut): string {
  const out: string[] = [];
  const groups = newTable({
    head: ['group', 'account', 'role', 'size (min–max)', 'servers', 'req/s', 'p95', 'need', 'domains'],
  });
  for (const g of s.groups) {
    const col = (f: (a: AgentOut | null | undefined) => string) => g.servers.map((x) => f(x.agent)).join('\n') || '—';
    groups.push([
      g.id,
      g.accountId,
      g.role,
      `${g.servers.length} (${g.minSize}–${g.maxSize})`,
      g.servers.map((x) => `${x.id} ${x.state}`).join('\n') || '—',
      col(loadOf),
      col((a) => (a && a.p95Ms !== null ? `${Math.round(a.p95Ms)} ms` : '—')),
      col(needOf),
      g.domains.join('\n') || '—',
    ]);
  }
  out.push(`site ${s.site}`, groups.toString());
  const pool = newTable({ head: ['pool', 'state', 'address'] });
  for (const x of s.pool) pool.push([x.id, x.state, x.address]);
  out.push(s.pool.length ? pool.toString() : 'pool: empty');
  if (s.failed.length) {
    const failed = newTable({ head: ['failed', 'state', 'address'] }, 'red');
    for (const x of s.failed) failed.push([x.id, x.state, x.address]);
    out.push(failed.toString());
  }
  if (s.moves.length) {
    const moves = newTable({ head: ['move', 'server', 'from', 'to', 'step'] }, 'yellow');
    for (const m of s.moves)
      moves.push([m.id.slice(0, 8), m.serverId, m.fromGroup ?? 'pool', m.toGroup ?? 'pool', m.step]);
    out.push(moves.toString());
  } else out.push('moves in flight: none');
  return out.join('\n');
}

/** status fetches and prints the site's status. */
export async function status(client: Client, opts: { json?: boolean }): Promise<void> {
  const s = await client.call<StatusOut>('GET', '/v1/status');
  console.log(opts.json ? JSON.stringify(s, null, 2) : renderStatus(s));
}
