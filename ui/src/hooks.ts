// Preact hooks shared by the views: the URL's state, the time zone times are shown in, answers fetched
// with cancellation, and the auto-refresh clock.

import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { Api, type Field } from './api';
import { type Zone, currentZone, setZone } from './format';
import { format, parse, type State } from './state';

export interface Shared {
  api: Api;
  /** The schema's columns, once `/api/v1/fields` has answered. */
  fields: Field[];
}

export const SharedContext = createContext<Shared>({ api: new Api(), fields: [] });

export function useShared(): Shared {
  return useContext(SharedContext);
}

const ZONE_KEY = 'weir.zone';
const zoneListeners = new Set<(z: Zone) => void>();

/** Reads the zone this browser chose last time (UTC unless it chose local time). */
export function loadZone(): void {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(ZONE_KEY);
  } catch {
    // Storage may be off (private windows, policies): times stay in UTC.
  }
  setZone(stored === 'local' ? 'local' : 'utc');
}

/** The zone times are shown in, and a setter that keeps the choice in this browser and redraws every
 * component that uses it. */
export function useZone(): [Zone, (z: Zone) => void] {
  const [z, setZ] = useState(currentZone);
  useEffect(() => {
    zoneListeners.add(setZ);
    return () => {
      zoneListeners.delete(setZ);
    };
  }, []);
  const choose = (next: Zone) => {
    setZone(next);
    try {
      localStorage.setItem(ZONE_KEY, next);
    } catch {
      // Not kept: the choice lasts until the page is reloaded.
    }
    for (const l of zoneListeners) l(next);
  };
  return [z, choose];
}

/** The state in the location's hash, kept current as it changes (links, back and forward). */
export function useHashState(): State {
  const [state, setState] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setState(parse(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return state;
}

/** Shows `s`: a new history entry, or, with `replace`, in place of the current one (small changes such
 * as a row unticked). */
export function navigate(s: State, replace = false): void {
  const hash = format(s);
  if (hash === location.hash) return;
  if (replace) {
    history.replaceState(null, '', hash);
    dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
}

/** Runs `load` whenever `key` changes, cancelling the request before; keeps the last answer on screen
 * while the next one loads, so graphs do not flicker on refresh. */
export function useLoad<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [s, set] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    const ctl = new AbortController();
    set((p) => ({ ...p, loading: true }));
    load(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) set({ data, error: undefined, loading: false });
      },
      (error: Error) => {
        if (!ctl.signal.aborted) set({ data: undefined, error, loading: false });
      },
    );
    return () => ctl.abort();
  }, [key]);
  return s;
}

/** A number that goes up every `seconds` while `on`: add it to `useLoad` keys to refresh them. */
export function useTick(seconds: number, on: boolean): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!on || seconds <= 0) return;
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') setN((x) => x + 1);
    }, seconds * 1000);
    return () => clearInterval(t);
  }, [seconds, on]);
  return n;
}
