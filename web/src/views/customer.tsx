/**
 * Customer is a customer's control panel (seed 003): their configuration by tiers with a meter
 * pair per server (top: worker slots busy, standing in for CPU; bottom: request queue, standing
 * in for memory pressure — above 50% yellow, above 75% red), their live charts, the usage panel
 * and plan from billing when the manager has it, and start, stop and restart of each service.
 */
import { call } from '../api.js';
import type { Group, Status, User } from '../api.js';
import type { Live } from '../live.js';
import { Badge, Card, MeterBar, Notice, useAction } from '../ui/bits.js';
import { GroupCharts } from './charts.js';
import { MoveList } from './operator.js';
import { Usage } from './usage.js';

const TIER_ORDER = ['front-end', 'web', 'app', 'back-end', 'db'];

function Tier(props: { groups: readonly Group[]; role: string }) {
  return (
    <div class="tier" data-testid={`tier-${props.role}`}>
      <div class="tier-name">{props.role}</div>
      {props.groups.map((g) => (
        <div class="tier-servers">
          {g.servers.length === 0 ? (
            <div class="server-box empty">no servers running</div>
          ) : (
            g.servers.map((s) => (
              <div class="server-box" data-testid={`meter-${s.id}`}>
                <div class="server-name">
                  <span class="mono">{s.id}</span> <Badge state={s.state} />
                </div>
                <MeterBar label="CPU" frac={s.meter ? s.meter.busy : null} title="worker slots busy" />
                <MeterBar label="Mem" frac={s.meter ? s.meter.queue : null} title="request queue in use" />
                <div class="server-foot">
                  {s.meter
                    ? `${s.meter.rps.toFixed(1)} req/s · p95 ${s.meter.p95Ms?.toFixed(0) ?? '–'} ms`
                    : 'waiting for data'}
                </div>
              </div>
            ))
          )}
        </div>
      ))}
    </div>
  );
}

function ServiceControls(props: { g: Group }) {
  const a = useAction();
  const g = props.g;
  const act = (action: 'start' | 'stop' | 'restart') =>
    a.run(`${action} of ${g.id} requested`, () => call('POST', `/v1/groups/${g.id}/actions`, { action }));
  return (
    <div class="service" data-testid={`service-${g.id}`}>
      <div class="service-head">
        <span class="mono">{g.id}</span> <Badge state={g.service} /> <span class="muted">{g.domains.join(' · ')}</span>
        <span class="spacer" />
        <button disabled={a.busy || g.service === 'disabled'} onClick={() => void act('start')}>
          Start
        </button>
        <button disabled={a.busy || g.servers.length === 0} onClick={() => void act('restart')}>
          Restart
        </button>
        <button class="danger" disabled={a.busy || g.servers.length === 0} onClick={() => void act('stop')}>
          Stop
        </button>
      </div>
      <Notice error={a.error} ok={a.ok} />
    </div>
  );
}

/** Customer is the customer's page. */
export function Customer(props: { live: Live; user: User }) {
  const st: Status | null = props.live.status;
  if (!st) return <p class="muted pad">Connecting to the manager…</p>;
  const roles = [...new Set(st.groups.map((g) => g.role))].sort(
    (a, b) => TIER_ORDER.indexOf(a) - TIER_ORDER.indexOf(b),
  );
  const account = st.accounts.find((a) => a.id === props.user.accountId);
  return (
    <div>
      <h1 class="page-title">
        {account?.displayName ?? props.user.accountId} <span class="muted">· your hosting</span>
      </h1>
      <div class="grid-main">
        <div>
          <Card title="Your configuration" testId="config">
            <div class="tiers">
              {roles.map((r) => (
                <Tier role={r} groups={st.groups.filter((g) => g.role === r)} />
              ))}
            </div>
            <div class="legend">
              <span class="sw ok" /> up to 50% <span class="sw warn" /> above 50% <span class="sw high" /> above 75%
            </div>
          </Card>
          <Card title="Services" testId="services">
            {st.groups.map((g) => (
              <ServiceControls g={g} />
            ))}
          </Card>
          <Card title="Live">
            <GroupCharts samples={props.live.samples} groups={st.groups.map((g) => g.id)} compact />
          </Card>
        </div>
        <div>
          {props.user.accountId ? <Usage accountId={props.user.accountId} roles={roles} /> : null}
          <Card title="Changes to your servers">
            {st.running.length > 0 ? <MoveList moves={st.running} live testId="inflight" /> : null}
            <MoveList moves={st.recent} testId="history" />
          </Card>
        </div>
      </div>
    </div>
  );
}
