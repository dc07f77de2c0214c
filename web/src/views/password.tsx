/** Password lets the logged-in person change their own password (their other sessions end). */
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { Notice, useAction } from '../ui/bits.js';

/** Password is the change-password dialog over the page. */
export function Password(props: { onClose: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const a = useAction();
  const mismatch = again !== '' && again !== next;
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-label="Change password">
      <form
        class="login"
        data-testid="password"
        onSubmit={(e) => {
          e.preventDefault();
          if (mismatch) return;
          void a.run('Password changed; your other sessions have ended.', async () => {
            await call('POST', '/v1/session/password', { current, password: next });
            setCurrent('');
            setNext('');
            setAgain('');
          });
        }}
      >
        <h2>Change password</h2>
        <label>
          Current password{' '}
          <input
            name="current"
            type="password"
            autocomplete="current-password"
            value={current}
            onInput={(e) => setCurrent((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <label>
          New password (at least 12 characters){' '}
          <input
            name="new"
            type="password"
            autocomplete="new-password"
            minLength={12}
            value={next}
            onInput={(e) => setNext((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <label>
          New password again{' '}
          <input
            name="again"
            type="password"
            autocomplete="new-password"
            value={again}
            onInput={(e) => setAgain((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        {mismatch ? (
          <div class="notice bad" role="alert">
            The two new passwords differ.
          </div>
        ) : null}
        <button class="primary wide" disabled={a.busy || mismatch}>
          Change password
        </button>
        <button type="button" class="wide" onClick={props.onClose}>
          Close
        </button>
        <Notice error={a.error} ok={a.ok} />
      </form>
    </div>
  );
}
