// Every view's state lives in the URL's hash (`#/explorer?dims=proto,dst_port&since=6h`), so that a view
// can be shared, bookmarked and reloaded as it is. Parameters at their default are left out.

import type { Range } from './api';
import { parseDuration } from './format';

export const PRESETS = ['15m', '1h', '6h', '24h', '7d'] as const;
export const METRICS = ['bps', 'pps', 'fps'] as const;
export const GRAPHS = ['area', 'lines', 'sankey', 'table'] as const;

export type MetricName = (typeof METRICS)[number];
export type Graph = (typeof GRAPHS)[number];

interface Common {
  range: Range;
  filter: string;
  /** Seconds between automatic refreshes of a relative range; 0 is off. */
  refresh: number;
}

export interface DashboardState extends Common {
  view: 'dashboard';
  /** `exporter`, `IFINDEX[@EXPORTER]`, or empty for traffic without direction. */
  direction: string;
  /** Rows unticked, as `REPORT:KEY`. */
  hidden: string[];
}

export interface ExplorerState extends Common {
  view: 'explorer';
  dims: string[];
  metric: MetricName;
  graph: Graph;
  limit: number;
  other: boolean;
  direction: string;
  /** Empty: no overlay; `prev`: the period just before; a duration (`1d`, `7d`): that long before. */
  compare: string;
  hidden: string[];
}

export interface FlowsState extends Common {
  view: 'flows';
  /** `FIELD:asc|desc`; empty: newest first. */
  order: string;
  limit: number;
  offset: number;
  /** Every column instead of the usual ones. */
  all: boolean;
}

export type State = DashboardState | ExplorerState | FlowsState;
export type View = State['view'];

const common = (): Common => ({ range: { since: '1h' }, filter: '', refresh: 0 });

export function defaults(view: 'dashboard'): DashboardState;
export function defaults(view: 'explorer'): ExplorerState;
export function defaults(view: 'flows'): FlowsState;
export function defaults(view: View): State;
export function defaults(view: View): State {
  switch (view) {
    case 'explorer':
      return {
        ...common(),
        view,
        dims: ['proto'],
        metric: 'bps',
        graph: 'area',
        limit: 10,
        other: true,
        direction: '',
        compare: '',
        hidden: [],
      };
    case 'flows':
      return { ...common(), view, order: '', limit: 100, offset: 0, all: false };
    default:
      return { ...common(), view: 'dashboard', direction: 'exporter', hidden: [] };
  }
}

function int(v: string | null, fallback: number, min = 0, max = 1_000_000): number {
  if (v === null || !/^\d+$/.test(v)) return fallback;
  return Math.min(max, Math.max(min, Number(v)));
}

function oneOf<T extends string>(v: string | null, known: readonly T[], fallback: T): T {
  return v !== null && (known as readonly string[]).includes(v) ? (v as T) : fallback;
}

function list(v: string | null): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function readRange(q: URLSearchParams): Range {
  const from = q.get('from');
  const to = q.get('to');
  if (from && to) return { from, to };
  const since = q.get('since');
  if (since && parseDuration(since) !== null) return { since };
  return { since: '1h' };
}

/** Reads a location hash (`#/view?query`) into a view's state; anything unknown falls back to defaults. */
export function parse(hash: string): State {
  const h = hash.replace(/^#/, '');
  const qi = h.indexOf('?');
  const path = (qi < 0 ? h : h.slice(0, qi)).replace(/^\/+|\/+$/g, '');
  const q = new URLSearchParams(qi < 0 ? '' : h.slice(qi + 1));
  const view = oneOf(path, ['dashboard', 'explorer', 'flows'] as const, 'dashboard');
  const c: Common = {
    range: readRange(q),
    filter: q.get('filter') ?? '',
    refresh: int(q.get('refresh'), 0, 0, 86400),
  };
  switch (view) {
    case 'explorer': {
      const d = defaults('explorer');
      const dims = list(q.get('dims'));
      return {
        ...c,
        view,
        dims: q.has('dims') ? dims : d.dims,
        metric: oneOf(q.get('metric'), METRICS, d.metric),
        graph: oneOf(q.get('graph'), GRAPHS, d.graph),
        limit: int(q.get('limit'), d.limit, 1, 1000),
        other: q.get('other') !== 'false',
        direction: q.get('dir') ?? d.direction,
        compare: q.get('compare') ?? '',
        hidden: q.getAll('hide'),
      };
    }
    case 'flows': {
      const d = defaults('flows');
      return {
        ...c,
        view,
        order: q.get('order') ?? '',
        limit: int(q.get('limit'), d.limit, 1, 10000),
        offset: int(q.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER),
        all: q.get('cols') === 'all',
      };
    }
    default: {
      const dir = q.get('dir');
      return {
        ...c,
        view: 'dashboard',
        direction: dir === null ? 'exporter' : dir === 'none' ? '' : dir,
        hidden: q.getAll('hide'),
      };
    }
  }
}

/** Writes a view's state as a location hash; `parse(format(s))` gives `s` back. */
export function format(s: State): string {
  const q = new URLSearchParams();
  if ('since' in s.range) {
    if (s.range.since !== '1h') q.set('since', s.range.since);
  } else {
    q.set('from', s.range.from);
    q.set('to', s.range.to);
  }
  if (s.filter) q.set('filter', s.filter);
  if (s.refresh) q.set('refresh', String(s.refresh));
  switch (s.view) {
    case 'dashboard':
      if (s.direction !== 'exporter') q.set('dir', s.direction || 'none');
      for (const h of s.hidden) q.append('hide', h);
      break;
    case 'explorer': {
      const d = defaults('explorer');
      if (s.dims.join(',') !== d.dims.join(',')) q.set('dims', s.dims.join(','));
      if (s.metric !== d.metric) q.set('metric', s.metric);
      if (s.graph !== d.graph) q.set('graph', s.graph);
      if (s.limit !== d.limit) q.set('limit', String(s.limit));
      if (!s.other) q.set('other', 'false');
      if (s.direction) q.set('dir', s.direction);
      if (s.compare) q.set('compare', s.compare);
      for (const h of s.hidden) q.append('hide', h);
      break;
    }
    case 'flows':
      if (s.order) q.set('order', s.order);
      if (s.limit !== 100) q.set('limit', String(s.limit));
      if (s.offset) q.set('offset', String(s.offset));
      if (s.all) q.set('cols', 'all');
      break;
  }
  const qs = q.toString();
  return `#/${s.view}${qs ? `?${qs}` : ''}`;
}

/** The length of a range in seconds (a relative range's at this moment). */
export function rangeSeconds(r: Range): number {
  if ('since' in r) return parseDuration(r.since) ?? 3600;
  return Math.max(1, Math.round((Date.parse(r.to) - Date.parse(r.from)) / 1000));
}

/** The compare setting as the API's seconds: the period just before, or a duration before. */
export function compareSeconds(compare: string, r: Range): number | undefined {
  if (!compare) return undefined;
  if (compare === 'prev') return rangeSeconds(r);
  return parseDuration(compare) ?? undefined;
}

const STEPS = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

/** The bucket width for graphs of a range: at most 240 points, and from an hour up whole minutes or
 * hours, so that the 1-minute and 1-hour rollups can answer instead of every raw flow. */
export function autoStep(seconds: number): number {
  const floor = seconds >= 3600 ? 60 : 1;
  return STEPS.find((s) => s >= floor && seconds / s <= 240) ?? 86400;
}
