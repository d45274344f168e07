// A traffic series answer as the graphs and their tables read it: one row per key, with its values per
// bucket split into in (negative, drawn below the axis) and out (positive, above), its averages and its
// share of all traffic.

import { type Answer, type Cell, col, isOther, timeColumn } from './api';
import { keyLabel } from './format';

export interface KeyRow {
  /** Stable across answers with the same key: what URLs name unticked rows by. */
  id: string;
  values: Cell[];
  label: string;
  /** The row of every key beyond the top ones. */
  other: boolean;
  /** Per bucket, zero or negative; null when the answer has no direction. */
  in: number[] | null;
  /** Per bucket: traffic out, or all traffic when the answer has no direction. */
  out: number[];
  /** Averages over the buckets, as positive numbers. */
  avgIn: number;
  avgOut: number;
  avgTotal: number;
  /** The key's part of all traffic (in and out) over the range, 0 to 1. */
  share: number;
  color: string;
}

export interface TrafficModel {
  dims: string[];
  /** The measure column: `bps`, `pps`, `fps`, or a volume. */
  measure: string;
  /** Bucket starts, epoch milliseconds, ascending. */
  times: number[];
  step: number;
  directional: boolean;
  /** By average traffic, largest first; Other last. */
  keys: KeyRow[];
}

/** Series colours: distinct on a white page and in print, Other always grey. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#393b79',
  '#ad494a',
  '#637939',
  '#7b4173',
  '#3182bd',
  '#e6550d',
  '#31a354',
  '#756bb1',
  '#843c39',
  '#5254a3',
  '#8ca252',
];
export const OTHER_COLOR = '#9e9e9e';

/** A key's id: its values joined, `~` for null. */
export function keyId(values: Cell[]): string {
  return values.map((v) => (v === null ? '~' : Array.isArray(v) ? v.join(' ') : String(v))).join('|');
}

function num(v: Cell): number {
  return typeof v === 'number' ? v : v === null ? 0 : Number(v) || 0;
}

/** Reads a series answer split by `dims` into keys with their buckets. */
export function buildModel(a: Answer, dims: string[], measure: string): TrafficModel {
  const ti = timeColumn(a);
  const mi = col(a, measure);
  const di = col(a, 'direction');
  const ki = dims.map((d) => col(a, d));
  if (ti < 0) throw new Error('the series answer has no time column');
  if (mi < 0) throw new Error(`the series answer has no ${measure} column`);
  const missing = dims.filter((_, i) => ki[i] < 0);
  if (missing.length) throw new Error(`the series answer has no ${missing.join(', ')} column`);

  const timeSet = new Set<number>();
  for (const r of a.rows) timeSet.add(Date.parse(String(r[ti])));
  const times = [...timeSet].sort((x, y) => x - y);
  const slot = new Map(times.map((t, i) => [t, i]));
  const directional = di >= 0;

  const byId = new Map<string, KeyRow>();
  for (const r of a.rows) {
    const values = ki.map((i) => r[i]);
    const id = keyId(values);
    let k = byId.get(id);
    if (!k) {
      k = {
        id,
        values,
        label: keyLabel(dims, values),
        other: isOther(values),
        in: directional ? new Array(times.length).fill(0) : null,
        out: new Array(times.length).fill(0),
        avgIn: 0,
        avgOut: 0,
        avgTotal: 0,
        share: 0,
        color: OTHER_COLOR,
      };
      byId.set(id, k);
    }
    const s = slot.get(Date.parse(String(r[ti])))!;
    const v = num(r[mi]);
    if (directional && r[di] === 'in') k.in![s] += -Math.abs(v);
    else k.out[s] += directional ? Math.abs(v) : v;
  }

  const n = Math.max(1, times.length);
  const keys = [...byId.values()];
  let all = 0;
  for (const k of keys) {
    k.avgIn = k.in ? -k.in.reduce((x, y) => x + y, 0) / n : 0;
    k.avgOut = k.out.reduce((x, y) => x + y, 0) / n;
    k.avgTotal = k.avgIn + k.avgOut;
    all += k.avgTotal;
  }
  keys.sort((x, y) => Number(x.other) - Number(y.other) || y.avgTotal - x.avgTotal);
  let c = 0;
  for (const k of keys) {
    k.share = all > 0 ? k.avgTotal / all : 0;
    k.color = k.other ? OTHER_COLOR : PALETTE[c++ % PALETTE.length];
  }
  const step = a.step ?? (times.length > 1 ? (times[1] - times[0]) / 1000 : 60);
  return { dims, measure, times, step, directional, keys };
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `x`: where an axis should end. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 0;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/** The value axis's range for the keys left visible: stacked, the largest sums of in and out over the
 * buckets; as lines, the largest single values. Unticking a large key shrinks it, so the small ones
 * show. */
export function extent(m: TrafficModel, hidden: ReadonlySet<string>, stacked: boolean): [number, number] {
  let lo = 0;
  let hi = 0;
  const visible = m.keys.filter((k) => !hidden.has(k.id));
  for (let i = 0; i < m.times.length; i++) {
    let sumIn = 0;
    let sumOut = 0;
    for (const k of visible) {
      const vi = k.in ? k.in[i] : 0;
      const vo = k.out[i];
      if (stacked) {
        sumIn += vi;
        sumOut += vo;
      } else {
        sumIn = Math.min(sumIn, vi);
        sumOut = Math.max(sumOut, vo);
      }
    }
    lo = Math.min(lo, sumIn, sumOut);
    hi = Math.max(hi, sumOut, sumIn);
  }
  return [lo < 0 ? -niceCeil(-lo) : 0, hi > 0 ? niceCeil(hi) : lo < 0 ? 0 : 1];
}

/** The earlier period's traffic, all keys summed, moved forward by `seconds` onto the current one. */
export function compareTotals(
  a: Answer,
  dims: string[],
  measure: string,
  seconds: number,
): { times: number[]; in: number[] | null; out: number[] } {
  const m = buildModel(a, dims, measure);
  const out = m.times.map((_, i) => m.keys.reduce((s, k) => s + k.out[i], 0));
  const inn = m.directional ? m.times.map((_, i) => m.keys.reduce((s, k) => s + (k.in ? k.in[i] : 0), 0)) : null;
  return { times: m.times.map((t) => t + seconds * 1000), in: inn, out };
}

/** Series ids say which key and which half a click landed on. */
export function seriesId(key: string, half: 'in' | 'out'): string {
  return `${half}:${key}`;
}

export function parseSeriesId(id: string): { key: string; half: 'in' | 'out' } | null {
  const m = /^(in|out):(.*)$/s.exec(id);
  return m ? { key: m[2], half: m[1] as 'in' | 'out' } : null;
}

export interface LineSeries {
  id: string;
  name: string;
  type: 'line';
  stack?: string;
  data: [number, number][];
  color: string;
  areaStyle?: { opacity: number };
  lineStyle?: { width: number; type?: 'dashed' };
  showSymbol: false;
  symbol: 'none';
  emphasis: { focus: 'series' };
  z?: number;
}

/** The graph's series for the visible keys: each key's out half stacked above the axis and its in half
 * below, in the same colour. */
export function lineSeries(m: TrafficModel, hidden: ReadonlySet<string>, stacked: boolean): LineSeries[] {
  const out: LineSeries[] = [];
  const base = {
    type: 'line' as const,
    showSymbol: false as const,
    symbol: 'none' as const,
    emphasis: { focus: 'series' as const },
  };
  // Largest at the bottom of each stack, Other on top, as the table reads.
  for (const k of m.keys) {
    if (hidden.has(k.id)) continue;
    const style = stacked ? { areaStyle: { opacity: 0.75 }, lineStyle: { width: 0.5 } } : { lineStyle: { width: 1.25 } };
    out.push({
      ...base,
      ...style,
      id: seriesId(k.id, 'out'),
      name: k.label,
      stack: stacked ? 'out' : undefined,
      data: m.times.map((t, i) => [t, k.out[i]]),
      color: k.color,
    });
    if (k.in) {
      const inn = k.in;
      out.push({
        ...base,
        ...style,
        id: seriesId(k.id, 'in'),
        name: k.label,
        stack: stacked ? 'in' : undefined,
        data: m.times.map((t, i) => [t, inn[i]]),
        color: k.color,
      });
    }
  }
  return out;
}

/** Which key's band (stacked) or line is at time `t` (epoch ms) and value `v` on the graph: what a click
 * there picks. Null outside every band. */
export function hitTest(
  m: TrafficModel,
  hidden: ReadonlySet<string>,
  stacked: boolean,
  t: number,
  v: number,
): { key: string; half: 'in' | 'out' } | null {
  if (m.times.length === 0) return null;
  let i = 0;
  for (let j = 1; j < m.times.length; j++) {
    if (Math.abs(m.times[j] - t) < Math.abs(m.times[i] - t)) i = j;
  }
  const visible = m.keys.filter((k) => !hidden.has(k.id));
  const half: 'in' | 'out' = v < 0 && m.directional ? 'in' : 'out';
  if (stacked) {
    let sum = 0;
    for (const k of visible) {
      const x = half === 'in' ? k.in![i] : k.out[i];
      if (x === 0) continue;
      sum += x;
      if (half === 'in' ? v >= sum : v <= sum) return { key: k.id, half };
    }
    return null;
  }
  let best: { key: string; half: 'in' | 'out' } | null = null;
  let dist = Infinity;
  for (const k of visible) {
    for (const h of ['out', 'in'] as const) {
      const x = h === 'in' ? k.in?.[i] : k.out[i];
      if (x === undefined) continue;
      if (Math.abs(x - v) < dist) {
        dist = Math.abs(x - v);
        best = { key: k.id, half: h };
      }
    }
  }
  return best;
}
