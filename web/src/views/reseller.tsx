/**
 * Reseller is the reseller's panel (seed 004): their customers and each customer's services,
 * which the reseller activates or disables. Deleting a service belongs to provisioning (orders);
 * until that lands on the manager the button says so instead of pretending.
 */
import { call } from '../api.js';
import type { Group, Status, User } from '../api.js';
import type { Live } from '../live.js';
import { Badge, Card, Notice, useAction } from '../ui/bits.js';

function ServiceRow(props: { g: Group }) {
  const a = useAction();
  const g = props.g;
  const act = (action: 'activate' | 'disable') =>
    a.run(`${g.id} ${action === 'activate' ? 'activated' : 'disabled'}`, () =>
      call('POST', `/v1/groups/${g.id}/actions`, { action }),
    );
  return (
    <tr data-testid={`service-${g.id}`}>
      <td class="mono">{g.id}</td>
      <td>{g.role}</td>
      <td>{g.domains.join(', ')}</td>
      <td class="num">{g.servers.length}</td>
      <td>
        <Badge state={g.service} />
      </td>
      <td class="actions">
        {g.service === 'disabled' ? (
          <button class="primary" disabled={a.busy} onClick={() => void act('activate')}>
            Activate
          </button>
        ) : (
          <button class="danger" disabled={a.busy} onClick={() => void act('disable')}>
            Disable
          </button>
        )}
        <button disabled title="Deleting a service comes with provisioning (orders)">
          Delete
        </button>
        <Notice error={a.error} ok={a.ok} />
      </td>
    </tr>
  );
}

/** Reseller is the reseller's page. */
export function Reseller(props: { live: Live; user: User }) {
  const st: Status | null = props.live.status;
  if (!st) return <p class="muted pad">Connecting to the manager…</p>;
  const customers = st.accounts.filter((a) => a.id !== props.user.accountId);
  const own = st.accounts.find((a) => a.id === props.user.accountId);
  return (
    <div>
      <h1 class="page-title">
        {own?.displayName ?? props.user.accountId} <span class="muted">· your customers</span>
      </h1>
      <div class="kpis">
        <div class="kpi">
          <div class="kpi-v">{customers.length}</div>
          <div class="kpi-k">Customers</div>
        </div>
        <div class="kpi">
          <div class="kpi-v">{st.groups.filter((g) => g.accountId !== props.user.accountId).length}</div>
          <div class="kpi-k">Services</div>
        </div>
        <div class="kpi">
          <div class="kpi-v">{st.groups.filter((g) => g.service === 'disabled').length}</div>
          <div class="kpi-k">Disabled</div>
        </div>
        <div class="kpi">
          <div class="kpi-v">
            {st.groups.filter((g) => g.accountId !== props.user.accountId).reduce((n, g) => n + g.servers.length, 0)}
          </div>
          <div class="kpi-k">Servers serving them</div>
        </div>
      </div>
      {customers.length === 0 ? (
        <Card title="Customers">
          <p class="muted empty">No customers yet.</p>
        </Card>
      ) : (
        customers.map((c) => (
          <Card
            title={
              <>
                {c.displayName} <span class="muted mono">{c.id}</span>
              </>
            }
            testId={`customer-${c.id}`}
          >
            <table class="tbl">
              <thead>
                <tr>
                  <th>service</th>
                  <th>role</th>
                  <th>domains</th>
                  <th class="num">servers</th>
                  <th>state</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {st.groups
                  .filter((g) => g.accountId === c.id)
                  .map((g) => (
                    <ServiceRow g={g} />
                  ))}
              </tbody>
            </table>
          </Card>
        ))
      )}
    </div>
  );
}
