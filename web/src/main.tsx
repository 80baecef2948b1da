/** The dashboard shell: log-in gate, navigation, and the route table. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { useLiveMode } from './live.js';
import { CALLBACK_PATH } from './oidc.js';
import { match, navigate, onLinkClick, usePath } from './router.js';
import { session } from './session.js';
import { Empty, Heading } from './ui.js';
import { Approvals } from './views/approvals.js';
import { Audit } from './views/audit.js';
import { Dora } from './views/dora.js';
import { History } from './views/history.js';
import { Login, LoginCallback } from './views/login.js';
import { Matrix } from './views/matrix.js';
import { ProjectPage } from './views/project.js';
import { ReleasePage } from './views/release.js';
import { TrainPage, Trains } from './views/trains.js';

function useSession() {
  const [, bump] = useState(0);
  useEffect(() => session.subscribe(() => bump((n) => n + 1)), []);
  return session.identity();
}

function LiveBadge() {
  const mode = useLiveMode();
  const text = mode === 'live' ? 'Live' : mode === 'polling' ? 'Polling every 5 s' : 'Connecting…';
  return (
    <span
      class={`live ${mode}`}
      title={mode === 'live' ? 'Updates arrive as server-sent events' : 'The event stream is down; the page refreshes every 5 seconds'}
    >
      {text}
    </span>
  );
}

function Page({ path }: { path: string }) {
  let m: Record<string, string> | undefined;
  if (path === '/' || path === '/environments') return <Matrix />;
  if (path === CALLBACK_PATH) {
    navigate('/', true);
    return null;
  } // already logged in (a reload of the callback)
  if (path === '/approvals') return <Approvals />;
  if (path === '/audit') return <Audit />;
  if (path === '/metrics') return <Dora />;
  if (path === '/trains') return <Trains />;
  if ((m = match('/trains/:train', path))) return <TrainPage train={m.train} />;
  if ((m = match('/projects/:owner/:name/:project', path))) return <ProjectPage repository={`${m.owner}/${m.name}`} project={m.project} />;
  if ((m = match('/releases/:owner/:name/:project/:ref', path)))
    return <ReleasePage repository={`${m.owner}/${m.name}`} project={m.project} ref={m.ref} />;
  if ((m = match('/environments/:env/:owner/:name/:project', path)))
    return <History environment={m.env} repository={`${m.owner}/${m.name}`} project={m.project} />;
  return (
    <>
      <Heading title="Not found">Page not found</Heading>
      <Empty>
        Nothing lives at <code>{path}</code>. <a href="/">Go to the environments</a>.
      </Empty>
    </>
  );
}

const NAV = [
  {
    href: '/',
    label: 'Environments',
    active: (p: string) => p === '/' || p.startsWith('/environments') || p.startsWith('/projects') || p.startsWith('/releases'),
  },
  { href: '/approvals', label: 'Approvals', active: (p: string) => p === '/approvals' },
  { href: '/trains', label: 'Trains', active: (p: string) => p.startsWith('/trains') },
  { href: '/audit', label: 'Audit log', active: (p: string) => p === '/audit' },
  { href: '/metrics', label: 'DORA', active: (p: string) => p === '/metrics' },
];

function App() {
  const identity = useSession();
  const path = usePath();
  if (!identity) return path === CALLBACK_PATH ? <LoginCallback /> : <Login />;
  return (
    <div onClick={onLinkClick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Forge
        </a>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <a href={n.href} aria-current={n.active(path) ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <div class="who">
          <LiveBadge />
          <span class="subject" title={`${identity.subject}; roles: ${identity.roles.join(', ') || 'none'}`}>
            {identity.display ?? identity.subject}
          </span>
          <button type="button" class="link" onClick={() => session.logOut()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main">
        <Page path={path} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
