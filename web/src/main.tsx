/**
 * main starts the console: it asks the manager whether a session is open, shows the login page when
 * nobody is, and otherwise the operator's, reseller's or customer's view over one live stream.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call } from './api.js';
import type { User } from './api.js';
import { useLive } from './live.js';
import { Customer } from './views/customer.js';
import { Login } from './views/login.js';
import { Operator } from './views/operator.js';
import { Password } from './views/password.js';
import { Reseller } from './views/reseller.js';
import './styles.css';

function Shell(props: { user: User; onLogout: () => void }) {
  const live = useLive();
  const [site, setSite] = useState('');
  const [passwordOpen, setPasswordOpen] = useState(false);
  useEffect(() => {
    if (props.user.role === 'operator')
      void call<{ sites: { id: string; name: string }[] }>('GET', '/v1/sites').then((r) =>
        setSite(r.sites.map((s) => s.name).join(', ')),
      );
  }, []);
  return (
    <div class="shell">
      <header class="top">
        <div class="brand">
          <span class="logo">H</span> hostfleet
        </div>
        <span class="top-sub">
          {props.user.role === 'operator'
            ? `operator console${site ? ` · ${site}` : ''}`
            : props.user.role === 'reseller'
              ? 'reseller panel'
              : 'control panel'}
        </span>
        <span class="spacer" />
        <span class={`live ${live.connected ? 'on' : ''}`} data-testid="live">
          {live.connected ? 'live' : 'reconnecting…'}
        </span>
        <span class="who" data-testid="who">
          {props.user.name}{' '}
          <span class="muted">
            ({props.user.role}
            {props.user.accountId ? ` · ${props.user.accountId}` : ''})
          </span>
        </span>
        <button class="ghost" onClick={() => setPasswordOpen(true)}>
          Password
        </button>
        <button class="ghost" onClick={() => void call('DELETE', '/v1/session').finally(props.onLogout)}>
          Log out
        </button>
      </header>
      {passwordOpen ? <Password onClose={() => setPasswordOpen(false)} /> : null}
      <main class="main">
        {props.user.role === 'operator' ? (
          <Operator live={live} site={site} />
        ) : props.user.role === 'reseller' ? (
          <Reseller live={live} user={props.user} />
        ) : (
          <Customer live={live} user={props.user} />
        )}
      </main>
    </div>
  );
}

function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  useEffect(() => {
    // Not being logged in is an ordinary answer of /v1/session/state (200), so a fresh visit
    // logs no failed request; an unreachable manager also ends on the login page.
    call<{ authenticated: boolean; user: User | null }>('GET', '/v1/session/state')
      .then((r) => setUser(r.authenticated ? r.user : null))
      .catch(() => setUser(null));
  }, []);
  if (user === undefined) return null;
  if (user === null) return <Login onLogin={setUser} />;
  return <Shell user={user} onLogout={() => setUser(null)} />;
}

render(<App />, document.getElementById('app') as HTMLElement);
