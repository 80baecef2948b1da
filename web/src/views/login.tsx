/**
 * Log in: through the company's OIDC issuer when the server offers it, or by pasting a token
 * (`forge token create`). Either way the token is kept for this tab only.
 */
import { useEffect, useState } from 'preact/hooks';
import { whoami } from '../api.js';
import { useData } from '../data.js';
import { finishLogin, loadConfig, type OidcConfig, startLogin } from '../oidc.js';
import { navigate } from '../router.js';
import { session } from '../session.js';

function SingleSignOn({ cfg }: { cfg: OidcConfig }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const go = async () => {
    setBusy(true);
    try {
      await startLogin(cfg, location.pathname === '/' ? '/' : location.pathname + location.search);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <div class="sso">
      <button type="button" onClick={go} disabled={busy}>
        {busy ? 'Redirecting…' : 'Log in with single sign-on'}
      </button>
      <p class="muted">Through {new URL(cfg.issuer).host}.</p>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function Login() {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const config = useData(loadConfig, []);
  const notice = session.notice();

  async function submit(e: Event) {
    e.preventDefault();
    const clean = session.clean(token);
    if (!clean) {
      setError('That is not a token: paste the whole token printed by "forge token create", without spaces.');
      return;
    }
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
      {notice && (
        <p class="state error" role="alert">
          {notice}
        </p>
      )}
      {config.data && <SingleSignOn cfg={config.data} />}
      <form onSubmit={submit}>
        <label for="token">{config.data ? 'Or paste an access token' : 'Access token'}</label>
        <textarea
          id="token"
          name="token"
          rows={4}
          required
          spellcheck={false}
          autoComplete="off"
          aria-describedby="token-help"
          value={token}
          onInput={(e) => {
            setToken((e.target as HTMLTextAreaElement).value);
            setError('');
          }}
        />
        <p id="token-help" class="muted">
          Create one with <code>forge token create --subject you@example.com --role developer</code>. It stays in this browser tab only and
          is sent to this server alone.
        </p>
        {error && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class={config.data ? 'secondary' : undefined} disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}

/** Where the issuer sends the browser back: trade the code for a token, then go where the user was going. */
export function LoginCallback() {
  const [error, setError] = useState('');
  useEffect(() => {
    (async () => {
      const cfg = await loadConfig();
      if (!cfg) throw new Error('this server offers no OIDC log-in');
      const { token, returnTo } = await finishLogin(cfg);
      const identity = await whoami(token);
      navigate(returnTo, true);
      session.logIn(token, identity);
    })().catch((err: Error) => setError(err.message));
  }, []);
  return (
    <main class="login" id="main">
      <h1>Forge</h1>
      {error ? (
        <div class="state error" role="alert">
          <strong>Log-in failed</strong>
          <p>{error}</p>
          <p>
            <a href="/">Back to log-in</a>
          </p>
        </div>
      ) : (
        <p class="state" role="status">
          Logging in…
        </p>
      )}
    </main>
  );
}
