/** Small shared pieces: page heading, loading, error and empty states, times, digests, aliases. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { type Alias, ApiError, type Release } from './api.js';
import { hasNavigated } from './router.js';

/**
 * The page's heading. After a navigation within the page it takes focus, so keyboard and
 * screen-reader users land on the new view; on a fresh load focus stays at the top.
 */
export function Heading({ children, title }: { children: ComponentChildren; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Forge`;
    if (hasNavigated()) ref.current?.focus();
  }, [title]);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="state" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: Error; retry?: () => void }) {
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div class="state error" role="alert">
      <strong>{api?.status === 403 ? 'Not allowed' : api?.status === 404 ? 'Not found' : 'Something went wrong'}</strong>
      <p>{error.message}</p>
      {api && api.code !== 'network_error' && (
        <p class="muted">
          code: {api.code}
          {api.status ? ` (HTTP ${api.status})` : ''}
        </p>
      )}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="state empty">{children}</div>;
}

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

export function ago(iso: string, now = Date.now()): string {
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  for (const [unit, size] of units) if (Math.abs(s) >= size || unit === 'second') return rtf.format(Math.round(s / size), unit);
  return iso;
}

/** A relative time, with the exact UTC time on hover and for assistive technology. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const exact = new Date(at).toISOString().replace('.000Z', 'Z');
  return (
    <time dateTime={at} title={exact}>
      {ago(at)}
    </time>
  );
}

export function Digest({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">—</span>;
  const [algo, hex] = value.includes(':') ? value.split(':') : ['', value];
  return (
    <code class="digest" title={value}>
      {algo ? `${algo}:` : ''}
      {hex.slice(0, 12)}
    </code>
  );
}

export function AliasList({ aliases }: { aliases: Alias[] }) {
  const named = aliases.filter((a) => a.alias_type !== 'numeric');
  if (!named.length) return <span class="muted">none</span>;
  return (
    <span class="aliases">
      {named.map((a) => (
        <span class={`chip ${a.alias_type}`} title={`${a.alias_type} alias`}>
          {a.alias}
        </span>
      ))}
    </span>
  );
}

/** `#42 (v1.2.3)`: the number and the first tag alias, else the first branch alias. */
export function releaseLabel(r: Pick<Release, 'release_number' | 'aliases'>): string {
  const alias = r.aliases.find((a) => a.alias_type === 'tag') ?? r.aliases.find((a) => a.alias_type === 'branch');
  return `#${r.release_number}${alias ? ` (${alias.alias})` : ''}`;
}

export function triggerText(t: { type: string; branch: string | null; tag: string | null }): string {
  if (t.type === 'branch_push') return `push to ${t.branch}`;
  if (t.type === 'tag') return `tag ${t.tag}`;
  return t.type;
}
