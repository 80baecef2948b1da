/**
 * Live updates: one server-sent event stream per page (GET /api/v1/events). EventSource cannot
 * send headers, so the token goes in `?access_token=`, which the server accepts on that route
 * only. While the stream is down the page polls every 5 seconds instead.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { API, type EventKind } from './api.js';
import { session } from './session.js';

export type LiveMode = 'connecting' | 'live' | 'polling';
export const POLL_MS = 5000;
const KINDS = ['release', 'deployment', 'approval', 'pin'] as const satisfies readonly EventKind[];

const subscribers = new Set<() => void>();
const modeListeners = new Set<(m: LiveMode) => void>();
let source: EventSource | null = null;
let mode: LiveMode = 'connecting';
let timer: ReturnType<typeof setInterval> | undefined;

function setMode(m: LiveMode) {
  if (m === mode) return;
  mode = m;
  for (const l of modeListeners) l(m);
}

function notify() {
  for (const s of subscribers) s();
}

function open() {
  const token = session.token();
  if (!token) return;
  source = new EventSource(`${API}/events?access_token=${encodeURIComponent(token)}`);
  source.onopen = () => {
    setMode('live');
    notify();
  }; // catch up on what happened while down
  source.onerror = () => setMode('polling');
  for (const kind of KINDS) source.addEventListener(kind, notify);
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
  const ref = useRef(reload);
  ref.current = reload;
  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    const s = () => {
      clearTimeout(pending);
      pending = setTimeout(() => ref.current(), 150);
    };
    subscribers.add(s);
    start();
    return () => {
      clearTimeout(pending);
      subscribers.delete(s);
      if (!subscribers.size) stop();
    };
  }, []);
}

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
