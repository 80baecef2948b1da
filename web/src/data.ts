/** Loading state for a view: the last good data stays on screen while a reload runs. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

export function useData<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const reload = useCallback(() => {
    const g = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (g === generation.current) setState({ data, loading: false });
      },
      (error: Error) => {
        if (g === generation.current) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  }, deps);
  useEffect(() => {
    setState({ loading: true });
    reload();
  }, deps);
  return { ...state, reload };
}
