/** Log in by pasting a token (`forge token create`); it is kept for this tab only. */
import { useState } from 'preact/hooks';
import { whoami } from '../api.js';
import { session } from '../session.js';

export function Login() {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const notice = session.notice();

  async function submit(e: Event) {
    e.preventDefault();
    const clean = session.clean(token);
    if (!clean) { setError('That is not a token: paste the whole token printed by "forge token create", without spaces.'); return; }
    setBusy(true);
    try {
      session.logIn(clean, await whoami(clean));
    } catch (err) {
      setError(`The server refused this token: ${(err as Error).message}`);
      setBusy(false);
    }
  }

  return (
    <main class="login" id="main">
      <h1>Forge</h1>
      <p>Releases, environments and approvals.</p>
      <form onSubmit={submit}>
        {notice && <p class="state error" role="alert">{notice}</p>}
        <label for="token">Access token</label>
        <textarea id="token" name="token" rows={4} required spellcheck={false} autoComplete="off" aria-describedby="token-help"
          value={token} onInput={(e) => { setToken((e.target as HTMLTextAreaElement).value); setError(''); }} />
        <p id="token-help" class="muted">
          Create one with <code>forge token create --subject you@example.com --role developer</code>.
          It stays in this browser tab only and is sent to this server alone.
        </p>
        {error && <p class="field-error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Log in'}</button>
      </form>
    </main>
  );
}
