/** Login asks for a name and password and starts a session (the manager sets the cookie). */
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import type { User } from '../api.js';
import { Notice, useAction } from '../ui/bits.js';

/** Login is the login page. */
export function Login(props: { onLogin: (u: User) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const a = useAction();
  return (
    <div class="login-wrap">
      <form
        class="login"
        data-testid="login"
        onSubmit={(e) => {
          e.preventDefault();
          void a.run('', async () =>
            props.onLogin((await call<{ user: User }>('POST', '/v1/session', { name, password })).user),
          );
        }}
      >
        <div class="brand big">
          <span class="logo">H</span> hostfleet
        </div>
        <p class="muted">Servers move to the customers that need them.</p>
        <label>
          Name{' '}
          <input
            name="name"
            autocomplete="username"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <label>
          Password{' '}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <button class="primary wide" disabled={a.busy}>
          Log in
        </button>
        <Notice error={a.error} ok={null} />
      </form>
    </div>
  );
}
