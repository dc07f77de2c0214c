/**
 * Operator is the operator's console: the site's groups with their servers (state, role, health,
 * load), the pool warm and cold, failures, moves in flight with their steps and the history with
 * reasons, live charts, the decision surface per group, and — when the site works with others —
 * the sites. Tabs keep each view on one screen.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, tryGet } from '../api.js';
import type { GlobalAnswer, Group, Move, Server, Status } from '../api.js';
import type { Live } from '../live.js';
import { Badge, Card, MeterBar, MoveSteps, Notice, duration, since, useAction } from '../ui/bits.js';
import { GroupCharts } from './charts.js';
import { Decisions } from './decisions.js';
import { Sites } from './sites.js';

const TABS = [
  ['fleet', 'Fleet'],
  ['moves', 'Moves'],
  ['charts', 'Charts'],
  ['decisions', 'Decisions'],
  ['sites', 'Sites'],
] as const;
type Tab = (typeof TABS)[number][0];

function health(s: Server): string {
  if (s.place === 'failed') return 'failed';
  if (s.place === 'moving') return 'moving';
  if (s.state !== 'active') return s.state;
  return s.meter ? 'healthy' : 'no data';
}

function ServerRow(props: { s: Server; role: string }) {
  const s = props.s;
  const m = s.meter;
  return (
    <tr data-testid={`server-${s.id}`}>
      <td class="mono">{s.id}</td>
      <td>
        <Badge state={s.state} />
      </td>
      <td>{props.role}</td>
      <td>
        <Badge state={health(s)} />
      </td>
      <td class="num">{m ? m.rps.toFixed(1) : '–'}</td>
      <td class="num">{m?.p95Ms != null ? `${m.p95Ms.toFixed(0)} ms` : '–'}</td>
      <td class="meters-cell">
        <MeterBar label="busy" frac={m ? m.busy : null} />
      </td>
    </tr>
  );
}

function GroupCard(props: { g: Group; target: number | null }) {
  const g = props.g;
  const p95s = g.servers.flatMap((s) => (s.meter?.p95Ms != null ? [s.meter.p95Ms] : []));
  const p95 = p95s.length ? Math.max(...p95s) : null;
  const rps = g.servers.reduce((a, s) => a + (s.meter?.rps ?? 0), 0);
  return (
    <Card
      title={
        <>
          <span class="mono">{g.id}</span>{' '}
          <span class="muted">
            · {g.accountId} · {g.role}
          </span>
        </>
      }
      extra={
        <span class="head-stats">
          {g.service === 'disabled' ? <Badge state="disabled" /> : null} <b>{g.servers.length}</b>{' '}
          {g.servers.length === 1 ? 'server' : 'servers'} · {rps.toFixed(1)} req/s · p95{' '}
          {p95 === null ? '–' : `${p95.toFixed(0)} ms`}
          {props.target !== null ? ` / ${props.target} ms` : ''}
        </span>
      }
      testId={`group-${g.id}`}
    >
      <div class="domains">
        {g.domains.join(' · ')}{' '}
        <span class="muted">
          (size {g.minSize}–{g.maxSize})
        </span>
      </div>
      {g.servers.length === 0 ? (
        <p class="muted empty">No servers in this group.</p>
      ) : (
        <table class="tbl">
          <thead>
            <tr>
              <th>server</th>
              <th>state</th>
              <th>role</th>
              <th>health</th>
              <th class="num">req/s</th>
              <th class="num">p95</th>
              <th>load</th>
            </tr>
          </thead>
          <tbody>
            {g.servers.map((s) => (
              <ServerRow s={s} role={g.role} />
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function Kpis(props: { st: Status }) {
  const st = props.st;
  const inGroups = st.groups.reduce((a, g) => a + g.servers.length, 0);
  const warm = st.pool.filter((s) => s.state === 'pool-warm').length;
  const items = [
    ['Servers in groups', inGroups],
    ['Pool warm', warm],
    ['Pool cold', st.pool.length - warm],
    ['Moving', st.moving.length],
    ['Failed', st.failed.length],
    ['Moves in flight', st.running.length],
  ] as const;
  return (
    <div class="kpis">
      {items.map(([k, v]) => (
        <div class={`kpi ${k === 'Failed' && v > 0 ? 'bad' : ''}`}>
          <div class="kpi-v">{v}</div>
          <div class="kpi-k">{k}</div>
        </div>
      ))}
    </div>
  );
}

function MoveForm(props: { st: Status }) {
  const st = props.st;
  const servers = [...st.groups.flatMap((g) => g.servers), ...st.pool].filter((s) => s.moveId === null);
  const [server, setServer] = useState('');
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const a = useAction();
  // A server chosen a moment ago may be moving now (and so not offered): the choice is cleared.
  const chosen = servers.some((s) => s.id === server) ? server : '';
  return (
    <Card title="Move a server" testId="move-form">
      <form
        class="row-form"
        onSubmit={(e) => {
          e.preventDefault();
          void a.run(`move of ${chosen} to ${to} started`, () =>
            call('POST', '/v1/moves', {
              server: chosen,
              to,
              reason: reason || 'operator move from the console',
              force: true,
            }),
          );
        }}
      >
        <label>
          Server{' '}
          <select
            name="server"
            value={chosen}
            onChange={(e) => setServer((e.target as HTMLSelectElement).value)}
            required
          >
            <option value="">choose…</option>
            {servers.map((s) => (
              <option value={s.id}>
                {s.id} ({s.groupId ?? s.state})
              </option>
            ))}
          </select>
        </label>
        <label>
          To{' '}
          <select name="to" value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value)} required>
            <option value="">choose…</option>
            {st.groups.map((g) => (
              <option value={g.id}>{g.id}</option>
            ))}
            <option value="pool">the pool</option>
          </select>
        </label>
        <label class="grow">
          Reason{' '}
          <input
            name="reason"
            value={reason}
            placeholder="why (kept with the move)"
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
        </label>
        <button class="primary" disabled={a.busy || !chosen || !to}>
          Move
        </button>
      </form>
      <Notice error={a.error} ok={a.ok} />
    </Card>
  );
}

function PoolCard(props: { st: Status }) {
  const warm = props.st.pool.filter((s) => s.state === 'pool-warm');
  const cold = props.st.pool.filter((s) => s.state !== 'pool-warm');
  const chips = (xs: readonly Server[]) =>
    xs.length === 0 ? <span class="muted">none</span> : xs.map((s) => <span class={`chip s-${s.state}`}>{s.id}</span>);
  return (
    <Card title="Pool" testId="pool">
      <div class="pool-row">
        <span class="pool-k">warm</span>
        <div class="chips">{chips(warm)}</div>
      </div>
      <div class="pool-row">
        <span class="pool-k">cold</span>
        <div class="chips">{chips(cold)}</div>
      </div>
      <div class="pool-row">
        <span class="pool-k">moving</span>
        <div class="chips">{chips(props.st.moving)}</div>
      </div>
    </Card>
  );
}

function FailuresCard(props: { st: Status }) {
  const failedMoves = props.st.recent.filter((m) => m.status !== 'done');
  return (
    <Card title="Failures" testId="failures">
      {props.st.failed.length === 0 && failedMoves.length === 0 ? (
        <p class="muted empty">No failed servers or moves.</p>
      ) : null}
      {props.st.failed.map((s) => (
        <div class="fail-row">
          <Badge state="failed" /> <span class="mono">{s.id}</span>{' '}
          <span class="muted">server failed; the decision loop replaces it from the pool</span>
        </div>
      ))}
      {failedMoves.map((m) => (
        <div class="fail-row">
          <Badge state={m.status} /> <span class="mono">{m.serverId}</span> {m.fromGroup ?? 'pool'} →{' '}
          {m.toGroup ?? 'pool'} <span class="muted">{m.error?.message ?? ''}</span>
        </div>
      ))}
    </Card>
  );
}

/** MoveList shows moves in flight with their steps, or the history with reasons. */
export function MoveList(props: { moves: readonly Move[]; live?: boolean; testId: string }) {
  if (props.moves.length === 0)
    return (
      <p class="muted empty" data-testid={props.testId}>
        {props.live ? 'No move in flight.' : 'No moves yet.'}
      </p>
    );
  // The manager sends reasons and requesters to operators only; a customer's table leaves out
  // the columns it would only ever see empty (a failed move's error still shows as its reason).
  const why = props.moves.some((m) => m.reason !== undefined || m.error !== null);
  const who = props.moves.some((m) => m.requestedBy !== undefined);
  return (
    <table class="tbl moves" data-testid={props.testId}>
      <thead>
        <tr>
          <th>server</th>
          <th>from → to</th>
          <th>{props.live ? 'progress' : 'outcome'}</th>
          {why ? <th>reason</th> : null}
          {who ? <th>by</th> : null}
          <th>when</th>
          <th class="num">took</th>
        </tr>
      </thead>
      <tbody>
        {props.moves.map((m) => (
          <tr data-testid={`move-${m.serverId}`} class={`move-${m.status}`}>
            <td class="mono nowrap">{m.serverId}</td>
            <td class="nowrap">
              {m.fromGroup ?? <i>pool</i>} → {m.toGroup ?? <i>pool</i>}
            </td>
            <td>{props.live ? <MoveSteps move={m} /> : <Badge state={m.status} />}</td>
            {why ? (
              <td class="reason">
                {m.reason ?? ''}
                {m.error ? <div class="err">{m.error.message}</div> : null}
              </td>
            ) : null}
            {who ? <td class="muted">{m.requestedBy ?? ''}</td> : null}
            <td class="muted nowrap">{since(m.createdAt)}</td>
            <td class="num nowrap">{duration(m)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Operator is the operator's page. */
export function Operator(props: { live: Live; site: string }) {
  const st = props.live.status;
  const [tab, setTab] = useState<Tab>((location.hash.replace('#', '') as Tab) || 'fleet');
  const [targets, setTargets] = useState<Record<string, number>>({});
  // The Sites tab is there only when the site works with others (a `global` section).
  const [multiSite, setMultiSite] = useState(false);
  useEffect(() => {
    void tryGet<GlobalAnswer>('/v1/global')
      .then((g) => setMultiSite(g?.enabled === true))
      .catch(() => setMultiSite(false));
  }, []);
  useEffect(() => {
    const on = () => setTab((location.hash.replace('#', '') as Tab) || 'fleet');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const groupIds = st?.groups.map((g) => g.id).join(',') ?? '';
  useEffect(() => {
    if (!st) return;
    void Promise.all(
      st.groups.map((g) =>
        call<{ sla: { responseTargetMs: number } }>('GET', `/v1/groups/${g.id}/sla`).then(
          (r) => [g.id, r.sla.responseTargetMs] as const,
        ),
      ),
    ).then((xs) => setTargets(Object.fromEntries(xs)));
  }, [groupIds]);
  if (!st) return <p class="muted pad">Connecting to the manager…</p>;
  return (
    <div>
      <nav class="tabs">
        {TABS.filter(([k]) => k !== 'sites' || multiSite).map(([k, label]) => (
          <a href={`#${k}`} class={tab === k ? 'on' : ''} data-testid={`tab-${k}`}>
            {label}
            {k === 'moves' && st.running.length > 0 ? <span class="pill">{st.running.length}</span> : null}
          </a>
        ))}
      </nav>
      {tab === 'fleet' ? (
        <>
          <Kpis st={st} />
          <div class="grid-main">
            <div>
              {st.groups.map((g) => (
                <GroupCard g={g} target={targets[g.id] ?? null} />
              ))}
            </div>
            <div>
              <Card title="Moves in flight" testId="inflight-card">
                <MoveList moves={st.running} live testId="inflight" />
              </Card>
              <PoolCard st={st} />
              <FailuresCard st={st} />
            </div>
          </div>
        </>
      ) : null}
      {tab === 'moves' ? (
        <>
          <MoveForm st={st} />
          <Card title="Moves in flight">
            <MoveList moves={st.running} live testId="inflight" />
          </Card>
          <Card title="History">
            <MoveList moves={st.recent} testId="history" />
          </Card>
        </>
      ) : null}
      {tab === 'charts' ? (
        <Card title={`Live charts · ${props.site}`}>
          <GroupCharts samples={props.live.samples} groups={st.groups.map((g) => g.id)} />
        </Card>
      ) : null}
      {tab === 'decisions' ? <Decisions st={st} /> : null}
      {tab === 'sites' ? <Sites /> : null}
    </div>
  );
}
