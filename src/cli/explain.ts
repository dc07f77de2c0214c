/**
 * explain is `hostfleet explain`: why the decision loop moved each server — the request it
 * served, the fairness tier, the source it took the server from and the donor's standing — and
 * what demand it left unmet, from the recorded plans (GET /v1/plans).
 */
import type { Command } from 'commander';
import { count } from '../core/count.js';
import type { Client } from './client.js';

interface Reason {
  kind: string;
  [k: string]: unknown;
}
interface PlanMove {
  serverId: string;
  fromGroup: string | null;
  toGroup: string | null;
  source: string;
  tier: string;
  reasons: Reason[];
}
interface TickRecord {
  plan: {
    tickId: string;
    moves: PlanMove[];
    unmet: { groupId: string; wanted: number; granted: number; code: string }[];
    skipped: Record<string, number>;
  };
  outcomes: { serverId: string; moveId: string | null; error: { code: string; message: string } | null }[];
  failures: { serverId: string; groupId: string; causes: string[]; action: string }[];
}
interface StoredPlan {
  id: string;
  at: string;
  plan: TickRecord;
}

/** renderReason turns one structured reason into a line. */
export function renderReason(r: Reason): string {
  switch (r.kind) {
    case 'request':
      return `request: ${String(r.source)} asked for ${String(r.wanted)} (urgency ${Number(r.urgency).toFixed(2)})`;
    case 'tier':
      return `tier: ${String(r.tier)} — the group held ${String(r.held)}; committed ${String(r.committed)}, burst ${String(r.burst)}, extended ${String(r.extended)}; priority ${String(r.priority)}`;
    case 'source':
      return `source: ${String(r.source)}${r.group ? ` (${String(r.group)})` : ''}`;
    case 'donor':
      return `donor: ${String(r.group)} held ${String(r.held)} above its committed ${String(r.committed)}, priority ${String(r.priority)}${r.offered ? ', and offered a release' : ''}`;
    default:
      return JSON.stringify(r);
  }
}

/** PlanFilter narrows explanations to one server or one group. */
export interface PlanFilter {
  readonly server?: string;
  readonly group?: string;
}

/** matchOf is the part of a plan a filter keeps: the moves, failures and unmet demand it names. */
function matchOf(p: StoredPlan, f: PlanFilter) {
  const touches = (m: { serverId: string; fromGroup: string | null; toGroup: string | null }) =>
    (f.server === undefined || m.serverId === f.server) &&
    (f.group === undefined || m.fromGroup === f.group || m.toGroup === f.group);
  return {
    moves: p.plan.plan.moves.filter(touches),
    failures: p.plan.failures.filter(
      (x) => (f.server === undefined || x.serverId === f.server) && (f.group === undefined || x.groupId === f.group),
    ),
    unmet: p.plan.plan.unmet.filter((u) => f.server === undefined && (f.group === undefined || u.groupId === f.group)),
  };
}

/** matchingPlans keeps the plans that hold something the filter names, in the order given. */
export function matchingPlans(plans: readonly StoredPlan[], f: PlanFilter): StoredPlan[] {
  return plans.filter((p) => {
    const m = matchOf(p, f);
    return m.moves.length + m.failures.length + m.unmet.length > 0;
  });
}

/** renderPlans prints plans (oldest first), filtered to a server or a group. */
export function renderPlans(plans: readonly StoredPlan[], f: PlanFilter): string {
  const out: string[] = [];
  for (const p of [...matchingPlans(plans, f)].reverse()) {
    const { moves, failures, unmet } = matchOf(p, f);
    out.push(`${p.at}  plan ${p.id}`);
    for (const x of failures) out.push(`  FAILED ${x.serverId} of ${x.groupId}: ${x.causes.join(', ')} → ${x.action}`);
    for (const m of moves) {
      const o = p.plan.outcomes.find((x) => x.serverId === m.serverId);
      const result = o?.moveId
        ? `move ${o.moveId.slice(0, 8)}`
        : o?.error
          ? `not started: ${o.error.code} ${o.error.message}`
          : 'not started';
      out.push(`  ${m.serverId}: ${m.fromGroup ?? 'pool'} → ${m.toGroup ?? 'pool'}   [${result}]`);
      for (const r of m.reasons) out.push(`      ${renderReason(r)}`);
    }
    for (const u of unmet) out.push(`  unmet: ${u.groupId} wanted ${u.wanted}, got ${u.granted} (${u.code})`);
  }
  return out.length ? out.join('\n') : 'no recorded decision matches';
}

/** registerExplainCommands adds `hostfleet explain`. */
export function registerExplainCommands(program: Command, client: () => Client): void {
  program
    .command('explain')
    .description('why the decision loop moved servers: requests, tiers, sources, donors, unmet demand')
    .option('--server <id>', 'only moves and failures of this server')
    .option('--group <id>', 'only moves to or from this group, and its unmet demand')
    .option('--plan <id>', 'one plan')
    .option('--limit <n>', 'how many recent plans to look at', (v) => Number(v), 50)
    .option('--all', 'also plans that moved nothing (unmet demand, failures)')
    .option('--json', 'print the plans as JSON')
    .action(
      async (o: { server?: string; group?: string; plan?: string; limit: number; all?: boolean; json?: boolean }) => {
        const c = client();
        // A server or group that does not exist is an error of its own, not an empty answer.
        if (o.server !== undefined) await c.call('GET', `/v1/servers/${encodeURIComponent(o.server)}`);
        if (o.group !== undefined) await c.call('GET', `/v1/groups/${encodeURIComponent(o.group)}`);
        const limit = Math.min(500, Math.max(1, Math.floor(o.limit) || 50));
        const plans = o.plan
          ? [await c.call<StoredPlan>('GET', `/v1/plans/${encodeURIComponent(o.plan)}`)]
          : (await c.call<{ plans: StoredPlan[] }>('GET', `/v1/plans?limit=${limit}${o.all ? '' : '&moves=true'}`))
              .plans;
        const f: PlanFilter = {
          ...(o.server !== undefined ? { server: o.server } : {}),
          ...(o.group !== undefined ? { group: o.group } : {}),
        };
        const matching = matchingPlans(plans, f);
        if (o.json) console.log(JSON.stringify(matching, null, 2));
        else if (matching.length > 0) console.log(renderPlans(matching, f));
        if (matching.length > 0) return;
        const named = [
          o.server !== undefined ? `server ${o.server}` : '',
          o.group !== undefined ? `group ${o.group}` : '',
        ]
          .filter(Boolean)
          .join(' and ');
        const where =
          o.plan !== undefined
            ? ` in plan ${o.plan}`
            : ` in the last ${count(limit, 'plan')}${o.all ? '' : ' that moved servers'}`;
        // Asking about a server or group and finding nothing fails, as grep does; an empty history does not.
        if (named !== '') {
          console.error(
            `no recorded decision names ${named}${where}${o.plan !== undefined ? '' : `; look further back with --limit 500${o.all ? '' : ', or add --all for plans that moved nothing'}`}`,
          );
          process.exitCode = 1;
        } else if (!o.json) {
          console.log(
            o.plan !== undefined
              ? `plan ${o.plan} moved no server, found no failure and left no demand unmet`
              : `no decision${o.all ? '' : ' that moved a server'} recorded yet${o.all ? '' : ' (--all shows the plans that moved nothing)'}`,
          );
        }
      },
    );
}
