/**
 * Live updates: one server-sent event stream per page (GET /api/v1/events). EventSource cannot
 * send headers, so the token goes in `?access_token=`, which the server accepts on that route
 * only. While the stream is down the page polls every 5 seconds instead.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { API, type AuditEntry, type EventKind } from './api.js';
import { session } from './session.js';

export type LiveMode = 'connecting' | 'live' | 'polling';
export const POLL_MS = 5000;
const KINDS = ['release', 'deployment', 'approval', 'pin'] as const satisfies readonly EventKind[];

/** What changed: the audit entry an event carried, or undefined when anything may have (a reconnect, a poll). */
type Notice = AuditEntry | undefined;

const subscribers = new Set<(change: Notice) => void>();
const modeListeners = new Set<(m: LiveMode) => void>();
let source: EventSource | null = null;
let mode: LiveMode = 'connecting';
let timer: ReturnType<typeof setInterval> | undefined;

function setMode(m: LiveMode) {
  if (m === mode) return;
  mode = m;
  for (const l of modeListeners) l(m);
}

function notify(change?: Notice) {
  for (const s of subscribers) s(change);
}

function fromEvent(e: Event): Notice {
  try {
    return JSON.parse((e as MessageEvent).data) as AuditEntry;
  } catch {
    return undefined;
  }
}

function open() {
  const token = session.token();
  if (!token) return;
  source = new EventSource(`${API}/events?access_token=${encodeURIComponent(token)}`);
  source.onopen = () => {
    setMode('live');
    notify();
  }; // catch up on what happened while down
  source.onerror = () => {
    if (mode === 'connecting') notify(); // the first attempt failed: views waiting for the stream load now
    setMode('polling');
  };
  for (const kind of KINDS) source.addEventListener(kind, (e) => notify(fromEvent(e)));
}

function start() {
  if (timer) return;
  open();
  timer = setInterval(() => {
    if (mode === 'live' && source?.readyState === EventSource.OPEN) return;
    notify();
    if (!source || source.readyState === EventSource.CLOSED) {
      source?.close();
      open();
    }
  }, POLL_MS);
}

function stop() {
  clearInterval(timer);
  timer = undefined;
  source?.close();
  source = null;
  setMode('connecting');
}

/** Calls `reload` (debounced) whenever a release, deployment, approval or pin changes. */
export function useLive(reload: () => void) {
  useLiveChanges(() => reload());
}

/**
 * Calls `onChanges` (debounced, 150 ms) with the audit entries of the releases, deployments,
 * approvals and pins that changed meanwhile, or with 'all' when anything may have changed (the
 * stream (re)connected, or the page polls because it is down): a view patches what the entries
 * name and reloads only on 'all'.
 *
 * `initial`: the view loads from here too, once, at once: with 'all' as soon as the stream is
 * open (or has failed, or after `INITIAL_WAIT_MS` at the latest), so that nothing happens between
 * its load and the stream that it would miss, and its first load is not followed by a second.
 */
export function useLiveChanges(onChanges: (changes: AuditEntry[] | 'all') => void, opts: { initial?: boolean } = {}) {
  const ref = useRef(onChanges);
  ref.current = onChanges;
  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    let changes: AuditEntry[] | 'all' = [];
    let waiting = !!opts.initial;
    const first = () => {
      clearTimeout(fallback);
      waiting = false;
      ref.current('all');
    };
    const fallback = opts.initial ? setTimeout(first, INITIAL_WAIT_MS) : undefined;
    const s = (change: Notice) => {
      if (waiting) return first();
      if (change === undefined) changes = 'all';
      else if (changes !== 'all') changes.push(change);
      clearTimeout(pending);
      pending = setTimeout(() => {
        const batch = changes;
        changes = [];
        ref.current(batch);
      }, 150);
    };
    subscribers.add(s);
    start();
    if (waiting && mode === 'live' && source?.readyState === EventSource.OPEN) first(); // already streaming: no gap
    return () => {
      clearTimeout(pending);
      clearTimeout(fallback);
      subscribers.delete(s);
      if (!subscribers.size) stop();
    };
  }, []);
}

/** How long a view waits for the stream before its first load regardless, ms. */
export const INITIAL_WAIT_MS = 1000;

export function useLiveMode(): LiveMode {
  const [m, setM] = useState(mode);
  useEffect(() => {
    modeListeners.add(setM);
    return () => {
      modeListeners.delete(setM);
    };
  }, []);
  return m;
}
