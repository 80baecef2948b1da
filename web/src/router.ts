/** A tiny history-API router: paths are the page's addresses; the server answers index.html for each. */
import { useEffect, useState } from 'preact/hooks';

type Listener = () => void;
const listeners = new Set<Listener>();
let navigations = 0;

/** Whether the user has moved within the page since it loaded (then headings take focus). */
export const hasNavigated = () => navigations > 0;

export function navigate(to: string, replace = false) {
  if (to === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  navigations++;
  for (const l of listeners) l();
}

addEventListener('popstate', () => {
  navigations++;
  for (const l of listeners) l();
});

/** The current path, re-rendering on navigation. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const l = () => setPath(location.pathname);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return path;
}

/** Matches `/releases/:owner/:name/:project/:ref` against a path; segments are decoded. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const ps = pattern.split('/').filter(Boolean);
  const xs = path.split('/').filter(Boolean);
  if (ps.length !== xs.length) return undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) out[ps[i].slice(1)] = decodeURIComponent(xs[i]);
    else if (ps[i] !== xs[i]) return undefined;
  }
  return out;
}

/** Client-side navigation for same-origin links, leaving modified clicks (new tab…) to the browser. */
export function onLinkClick(e: MouseEvent) {
  const a = (e.target as Element).closest?.('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target || a.origin !== location.origin || a.hasAttribute('download')) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
