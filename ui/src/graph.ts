// ECharts options for the graphs: traffic over time (in below the axis, out above), the sankey of
// several dimensions, and the packet-size bars.

import { type Answer, isOther } from './api';
import type { EChartsOption } from './charts';
import { keyLabel, measure as fmtMeasure, measureUnit, percent, si, clock, currentZone, zoneName } from './format';
import { esc } from './html';
import { type TrafficModel, extent, lineSeries, parseSeriesId } from './traffic';

const AXIS = { color: '#666', fontSize: 10 };
const SPLIT = { lineStyle: { color: '#eee' } };

export interface Overlay {
  times: number[];
  in: number[] | null;
  out: number[];
}

export interface TrafficGraphOptions {
  stacked: boolean;
  /** The range asked, epoch milliseconds: the time axis spans it even where there is no traffic. */
  range: [number, number];
  /** The earlier period's totals, drawn dashed. */
  compare?: Overlay;
  brush?: boolean;
}

export function trafficOption(m: TrafficModel, hidden: ReadonlySet<string>, o: TrafficGraphOptions): EChartsOption {
  const series: object[] = lineSeries(m, hidden, o.stacked);
  let [lo, hi] = extent(m, hidden, o.stacked);
  if (o.compare) {
    const dashed = { type: 'line', showSymbol: false, symbol: 'none', silent: true, z: 5, color: '#333' };
    series.push({
      ...dashed,
      id: 'compare:out',
      name: 'Earlier period',
      data: o.compare.times.map((t, i) => [t, o.compare!.out[i]]),
      lineStyle: { width: 1.25, type: 'dashed' },
    });
    hi = Math.max(hi, ...o.compare.out);
    if (o.compare.in) {
      const inn = o.compare.in;
      series.push({
        ...dashed,
        id: 'compare:in',
        name: 'Earlier period',
        data: o.compare.times.map((t, i) => [t, inn[i]]),
        lineStyle: { width: 1.25, type: 'dashed' },
      });
      lo = Math.min(lo, ...inn);
    }
    [lo, hi] = [lo < 0 ? lo : 0, hi];
  }
  const unit = measureUnit(m.measure);
  const labels = new Map(m.keys.map((k) => [k.id, k]));
  const option: EChartsOption = {
    animation: false,
    useUTC: currentZone() === 'utc',
    grid: { left: 64, right: 12, top: 10, bottom: 22 },
    xAxis: {
      type: 'time',
      min: o.range[0],
      max: o.range[1],
      axisLabel: { ...AXIS, hideOverlap: true },
      axisLine: { lineStyle: { color: '#999' } },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      min: o.compare ? undefined : lo,
      max: o.compare ? undefined : hi,
      axisLabel: { ...AXIS, formatter: (v: number) => si(v, unit) },
      splitLine: SPLIT,
    },
    tooltip: {
      trigger: 'axis',
      confine: true,
      axisPointer: { type: 'line', animation: false },
      formatter: (ps: unknown) => tooltip(ps as TipParam[], labels, m.measure, m.directional),
    },
    series,
  };
  if (o.brush) {
    Object.assign(option, {
      brush: {
        xAxisIndex: 0,
        brushType: 'lineX',
        brushMode: 'single',
        transformable: false,
        throttleType: 'debounce',
        brushStyle: { color: 'rgba(30, 100, 200, 0.15)', borderColor: 'rgba(30, 100, 200, 0.6)', borderWidth: 1 },
        outOfBrush: { colorAlpha: 1 },
      },
    });
  }
  return option;
}

interface TipParam {
  seriesId?: string;
  value: [number, number];
  color: string;
  axisValue: number;
}

function tooltip(
  ps: TipParam[],
  keys: Map<string, { label: string; color: string }>,
  measure: string,
  directional: boolean,
): string {
  if (!ps.length) return '';
  const rows = new Map<string, { label: string; color: string; in: number; out: number }>();
  let earlier: { in: number; out: number } | null = null;
  for (const p of ps) {
    const id = p.seriesId ?? '';
    if (id.startsWith('compare:')) {
      earlier ??= { in: 0, out: 0 };
      earlier[id === 'compare:in' ? 'in' : 'out'] = p.value[1];
      continue;
    }
    const s = parseSeriesId(id);
    if (!s) continue;
    const k = keys.get(s.key);
    const r = rows.get(s.key) ?? { label: k?.label ?? s.key, color: k?.color ?? p.color, in: 0, out: 0 };
    r[s.half] = p.value[1];
    rows.set(s.key, r);
  }
  const sorted = [...rows.values()].sort((a, b) => Math.abs(b.in) + b.out - (Math.abs(a.in) + a.out));
  const f = (x: number) => esc(fmtMeasure(measure, Math.abs(x)));
  const head = directional ? '<th></th><th>key</th><th>in</th><th>out</th>' : '<th></th><th>key</th><th></th>';
  const lines = sorted
    .slice(0, 15)
    .map(
      (r) =>
        `<tr><td><i class="dot" style="background:${r.color}"></i></td><td>${esc(r.label)}</td>` +
        (directional ? `<td>${f(r.in)}</td><td>${f(r.out)}</td>` : `<td>${f(r.out)}</td>`) +
        '</tr>',
    )
    .join('');
  const more = sorted.length > 15 ? `<tr><td></td><td colspan="3">${sorted.length - 15} more</td></tr>` : '';
  const prev = earlier
    ? `<tr class="earlier"><td>┄</td><td>earlier period</td>${directional ? `<td>${f(earlier.in)}</td>` : ''}<td>${f(earlier.out)}</td></tr>`
    : '';
  return `<div class="tip"><b>${esc(clock(ps[0].axisValue))} ${esc(zoneName())}</b><table><tr>${head}</tr>${lines}${more}${prev}</table></div>`;
}

/** Sankey of a top-N answer over several dimensions: a column of nodes per dimension, links between
 * neighbours weighed by the rows' traffic. */
export function sankeyOption(a: Answer, dims: string[], measure: string): EChartsOption {
  const mi = a.columns.indexOf(measure);
  const ki = dims.map((d) => a.columns.indexOf(d));
  const nodes = new Map<string, { name: string; depth: number; label: string }>();
  const links = new Map<string, { source: string; target: string; value: number }>();
  for (const r of a.rows) {
    const v = Math.abs(Number(r[mi]) || 0);
    if (!v) continue;
    const other = isOther(ki.map((i) => r[i]));
    const names = dims.map((d, j) => {
      const label = other ? 'Other' : keyLabel([d], [r[ki[j]]]);
      const name = `${j}\u0000${label}`;
      if (!nodes.has(name)) nodes.set(name, { name, depth: j, label });
      return name;
    });
    for (let j = 0; j + 1 < names.length; j++) {
      const id = `${names[j]}\u0001${names[j + 1]}`;
      const l = links.get(id) ?? { source: names[j], target: names[j + 1], value: 0 };
      l.value += v;
      links.set(id, l);
    }
  }
  const labels = new Map([...nodes.values()].map((n) => [n.name, n.label]));
  return {
    animation: false,
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (p: unknown) => {
        const q = p as { dataType: string; data: { source?: string; target?: string; name?: string }; value: number };
        const f = esc(fmtMeasure(measure, q.value));
        if (q.dataType === 'edge') return `${esc(labels.get(q.data.source!)!)} → ${esc(labels.get(q.data.target!)!)}<br>${f}`;
        return `${esc(labels.get(q.data.name!) ?? '')}<br>${f}`;
      },
    },
    series: [
      {
        type: 'sankey',
        left: 8,
        right: 120,
        top: 8,
        bottom: 8,
        nodeGap: 6,
        nodeWidth: 12,
        draggable: false,
        layoutIterations: 32,
        emphasis: { focus: 'adjacency' },
        lineStyle: { color: 'gradient', opacity: 0.35, curveness: 0.5 },
        label: { fontSize: 11, formatter: (p: { name: string }) => labels.get(p.name) ?? p.name },
        data: [...nodes.values()].map((n) => ({ name: n.name, depth: n.depth })),
        links: [...links.values()],
      },
    ],
  };
}

/** Packets by size bucket (`show ip cache flow`), as bars. */
export function sizesOption(a: Answer): EChartsOption {
  const ei = a.columns.indexOf('packet_size_max');
  const pi = a.columns.indexOf('packets');
  const fi = a.columns.indexOf('fraction');
  const edges = a.rows.map((r) => Number(r[ei]));
  const names = edges.map((e, i) => (i === 0 ? `≤${e}` : i === edges.length - 1 ? `>${edges[i - 1]}` : `${edges[i - 1] + 1}–${e}`));
  return {
    animation: false,
    grid: { left: 52, right: 12, top: 10, bottom: 40 },
    xAxis: {
      type: 'category',
      data: names,
      axisLabel: { ...AXIS, rotate: 45, interval: 0 },
      axisTick: { alignWithLabel: true },
    },
    yAxis: { type: 'value', axisLabel: { ...AXIS, formatter: (v: number) => si(v) }, splitLine: SPLIT },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (ps: unknown) => {
        const p = (ps as { dataIndex: number }[])[0];
        const r = a.rows[p.dataIndex];
        return `${esc(names[p.dataIndex])} bytes<br>${esc(si(Number(r[pi])))} packets, ${esc(percent(Number(r[fi])))}`;
      },
    },
    series: [{ type: 'bar', data: a.rows.map((r) => Number(r[pi])), color: '#3182bd', barCategoryGap: '15%' }],
  };
}
