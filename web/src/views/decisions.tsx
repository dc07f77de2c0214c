/**
 * Decisions is the operator's view of the decision loop: the agents' decision surface of a group
 * at its SLA priority, the loop's state, and its recent plans as tables — the moves it planned
 * and what became of them, the reasons behind each (request, tier, source, donor, unmet demand,
 * failures) and the requests it weighed — each figure with its unit.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, tryGet } from '../api.js';
import type { DecisionRequest, LoopState, Status, StoredPlan } from '../api.js';
import { Badge, Card, since } from '../ui/bits.js';
import { usePoll } from '../ui/poll.js';
import { ASKER_TEXT, SKIP_TEXT, SOURCE_TEXT, reasonRow, requestText, unmetRow } from '../ui/reasons.js';
import type { ReasonRow } from '../ui/reasons.js';

/** REFRESH_MS is how often the view reads the loop's plans (the loop ticks about every second). */
const REFRESH_MS = 3000;
/** ROWS caps each table, newest first, so the view stays on one screen. */
const ROWS = 8;

interface Loaded {
  readonly state: LoopState | null;
  readonly plans: readonly StoredPlan[];
}

/** loadPlans reads the plans that moved servers and the latest ones of every kind, newest first. */
async function loadPlans(): Promise<Loaded> {
  // Idle plans are kept one minute and plans that moved servers longer: asking for both keeps
  // a burst of idle ticks from hiding the last moves.
  const [state, moved, latest] = await Promise.all([
    tryGet<LoopState>('/v1/decision'),
    tryGet<{ plans: StoredPlan[] }>('/v1/plans?limit=20&moves=true'),
    tryGet<{ plans: StoredPlan[] }>('/v1/plans?limit=30'),
  ]);
  const byId = new Map<string, StoredPlan>();
  for (const p of [...(moved?.plans ?? []), ...(latest?.plans ?? [])]) byId.set(p.id, p);
  return { state, plans: [...byId.values()].sort((a, b) => b.at.localeCompare(a.at)) };
}

function LoopTable(props: { state: LoopState }) {
  const s = props.state;
  const rows: [string, string][] = [
    [
      'state',
      !s.enabled
        ? 'disabled in the configuration'
        : s.active
          ? 'active: this manager decides for the site'
          : 'standby: another manager decides',
    ],
    ['agents heard', `${s.agentsHeard} ${s.agentsHeard === 1 ? 'agent' : 'agents'}`],
    ['requests waiting', `${s.pendingRequests} ${s.pendingRequests === 1 ? 'request' : 'requests'}`],
    [
      'last tick',
      s.lastTick === null
        ? 'none yet'
        : `${since(new Date(s.lastTick.at).toISOString())}, ${s.lastTick.moves} ${s.lastTick.moves === 1 ? 'move' : 'moves'}`,
    ],
  ];
  return (
    <table class="tbl kv-tbl" data-testid="loop-state">
      <tbody>
        {rows.map(([k, v]) => (
          <tr>
            <th scope="row">{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MovesTable(props: { plans: readonly StoredPlan[] }) {
  const rows = props.plans
    .flatMap((p) => p.plan.plan.moves.map((m) => ({ p, m, o: p.plan.outcomes.find((x) => x.serverId === m.serverId) })))
    .slice(0, ROWS);
  if (rows.length === 0) return <p class="muted empty">No moves planned recently.</p>;
  return (
    <table class="tbl" data-testid="plan-moves">
      <thead>
        <tr>
          <th>when</th>
          <th>server</th>
          <th>from → to</th>
          <th>tier</th>
          <th>server from</th>
          <th>result</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ p, m, o }) => (
          <tr>
            <td class="nowrap muted">{since(p.at)}</td>
            <td class="mono nowrap">{m.serverId}</td>
            <td class="nowrap">
              {m.fromGroup ?? <i>pool</i>} → {m.toGroup ?? <i>pool</i>}
            </td>
            <td>{m.tier}</td>
            <td>{SOURCE_TEXT[m.source] ?? m.source}</td>
            <td>
              {o?.moveId ? (
                <Badge state="done">started</Badge>
              ) : o?.error ? (
                <span class="err" title={o.error.message}>
                  {o.error.code}
                </span>
              ) : (
                <span class="muted">not started</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** reasonRows lists the reasons of the latest plans: each planned move's trace, unmet demand and failures. */
function reasonRows(plans: readonly StoredPlan[]): { at: string; subject: string; row: ReasonRow }[] {
  const out: { at: string; subject: string; row: ReasonRow }[] = [];
  const seenUnmet = new Set<string>();
  for (const p of plans) {
    for (const m of p.plan.plan.moves)
      for (const r of m.reasons) out.push({ at: p.at, subject: m.serverId, row: reasonRow(r) });
    for (const f of p.plan.failures)
      out.push({
        at: p.at,
        subject: f.serverId,
        row: { reason: `failed: ${f.causes.join(', ')}`, detail: `${f.groupId ?? 'pool'}; ${f.action}` },
      });
    // Unmet demand repeats tick after tick while it lasts: the newest of each kind is enough.
    for (const u of p.plan.plan.unmet) {
      const key = `${u.groupId}\u0000${u.code}`;
      if (seenUnmet.has(key)) continue;
      seenUnmet.add(key);
      out.push({ at: p.at, subject: u.groupId, row: unmetRow(u) });
    }
  }
  return out.slice(0, ROWS + 4);
}

function ReasonsTable(props: { plans: readonly StoredPlan[] }) {
  const rows = reasonRows(props.plans);
  if (rows.length === 0) return <p class="muted empty">No reasons recorded recently.</p>;
  return (
    <table class="tbl" data-testid="plan-reasons">
      <thead>
        <tr>
          <th>when</th>
          <th class="nowrap">server or group</th>
          <th>reason</th>
          <th>figures</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            <td class="nowrap muted">{since(r.at)}</td>
            <td class="mono nowrap">{r.subject}</td>
            <td>{r.row.reason}</td>
            <td class="muted">{r.row.detail}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RequestsTable(props: { plans: readonly StoredPlan[] }) {
  // A request stays in the balance for several ticks; each is listed once, at its newest plan.
  const seen = new Set<string>();
  const rows: { at: string; r: DecisionRequest }[] = [];
  for (const p of props.plans) {
    for (const r of p.plan.requests ?? []) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      rows.push({ at: p.at, r });
    }
  }
  if (rows.length === 0) return <p class="muted empty">No requests recently.</p>;
  return (
    <table class="tbl" data-testid="plan-requests">
      <thead>
        <tr>
          <th>when</th>
          <th>group</th>
          <th>asks to</th>
          <th class="num">urgency (0–1)</th>
          <th>asked by</th>
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, ROWS).map(({ at, r }) => (
          <tr>
            <td class="nowrap muted">{since(at)}</td>
            <td class="mono nowrap">{r.groupId}</td>
            <td class="nowrap">{requestText(r)}</td>
            <td class="num">{r.urgency.toFixed(2)}</td>
            <td>
              {ASKER_TEXT[r.source] ?? r.source}
              {r.serverId ? <span class="muted"> ({r.serverId})</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SkippedTable(props: { plan: StoredPlan | undefined }) {
  const entries = Object.entries(props.plan?.plan.plan.skipped ?? {}).filter(([, n]) => n > 0);
  if (entries.length === 0) return null;
  return (
    <>
      <h3 class="sub">Candidates passed over in the latest recorded tick</h3>
      <table class="tbl" data-testid="plan-skipped">
        <thead>
          <tr>
            <th>rule</th>
            <th class="num">candidates</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([code, n]) => (
            <tr>
              <td>
                {SKIP_TEXT[code] ?? code} <span class="muted mono">({code})</span>
              </td>
              <td class="num">{n}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Decisions is the operator's Decisions tab. */
export function Decisions(props: { st: Status }) {
  const groups = props.st.groups;
  const [gid, setGid] = useState(groups[0]?.id ?? '');
  const [svg, setSvg] = useState<{ svg: string; priority: number; responseTargetMs: number } | null>(null);
  useEffect(() => {
    if (!gid) return;
    void call<{ svg: string; priority: number; responseTargetMs: number }>('GET', `/v1/groups/${gid}/surface`).then(
      setSvg,
    );
  }, [gid]);
  const loaded = usePoll(loadPlans, REFRESH_MS);
  const plans = loaded?.plans ?? [];
  return (
    <div class="grid2">
      <Card
        title="Decision surface"
        extra={
          <select
            value={gid}
            onChange={(e) => setGid((e.target as HTMLSelectElement).value)}
            data-testid="surface-group"
          >
            {groups.map((g) => (
              <option value={g.id}>{g.id}</option>
            ))}
          </select>
        }
        testId="surface"
      >
        <p class="muted">
          The agents' fuzzy decision for this group at its SLA priority
          {svg ? ` (${svg.priority}, target ${svg.responseTargetMs} ms)` : ''}: red asks for a server, blue gives one
          back.
        </p>
        {/* The SVG is rendered by the manager from numbers only (src/core/agent/surface.ts escapes every label). */}
        {svg ? <div class="surface" dangerouslySetInnerHTML={{ __html: svg.svg }} /> : <p class="muted">loading…</p>}
      </Card>
      <Card title="Decision loop" testId="plans">
        {loaded === undefined ? (
          <p class="muted">loading…</p>
        ) : loaded === null ? (
          <p class="muted empty">
            The decision loop could not be read; moves it makes appear under Moves with their reasons.
          </p>
        ) : (
          <>
            {loaded.state ? <LoopTable state={loaded.state} /> : null}
            <h3 class="sub">Planned moves</h3>
            <MovesTable plans={plans} />
            <h3 class="sub">Reasons</h3>
            <ReasonsTable plans={plans} />
            <h3 class="sub">Requests</h3>
            <RequestsTable plans={plans} />
            <SkippedTable plan={plans[0]} />
            <p class="muted note">
              A tick is recorded when it plans moves or when its unmet demand changes; recorded ticks that moved nothing
              are kept for one minute, and every move stays in the Moves tab's history.
            </p>
          </>
        )}
      </Card>
    </div>
  );
}
