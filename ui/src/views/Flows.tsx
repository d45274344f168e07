import { useState } from 'preact/hooks';
import type { Answer, Cell } from '../api';
import { FilterBar } from '../components/FilterBar';
import { RangeBar } from '../components/RangeBar';
import { download, toCsv } from '../csv';
import { count, mac, protoName, tcpFlags, clock, zoneName } from '../format';
import { navigate, useLoad, useShared, useTick } from '../hooks';
import type { FlowsState } from '../state';

/** The columns shown unless every one is asked for. */
export const USUAL = [
  'time_received',
  'exporter_addr',
  'in_if',
  'out_if',
  'flow_direction',
  'proto',
  'src_addr',
  'src_port',
  'dst_addr',
  'dst_port',
  'tcp_flags',
  'src_as',
  'dst_as',
  'src_country',
  'dst_country',
  'sampling_rate',
  'packets',
  'bytes',
];

const TIMES = new Set(['time_received', 'flow_start', 'flow_end']);
const COUNTS = new Set(['bytes', 'packets', 'flows', 'sampling_rate', 'in_if_speed', 'out_if_speed']);
const PAGE_SIZES = [50, 100, 500, 1000];
/** A CSV of every page stops here, so one click cannot ask the store for millions of rows. */
export const CSV_MAX = 100_000;

function cell(name: string, v: Cell): string {
  if (v === null || v === undefined) return '';
  if (TIMES.has(name) && typeof v === 'string') return clock(v, true);
  if (typeof v === 'number') {
    if (name === 'proto') return protoName(v);
    if (name === 'src_mac' || name === 'dst_mac') return mac(v);
    if (name === 'tcp_flags') return tcpFlags(v);
    if (name === 'flow_direction') return ['', 'in', 'out'][v] ?? String(v);
    if (COUNTS.has(name)) return count(v);
  }
  if (Array.isArray(v)) return v.join(' ');
  return String(v);
}

export function Flows({ state }: { state: FlowsState }) {
  const { api } = useShared();
  const tick = useTick(state.refresh, 'since' in state.range);
  const set = (patch: Partial<FlowsState>, replace = false) => navigate({ ...state, ...patch }, replace);
  const params = {
    range: state.range,
    filter: state.filter,
    order: state.order || undefined,
    limit: state.limit,
    offset: state.offset,
  };
  const res = useLoad<Answer>(JSON.stringify([params, tick]), (s) => api.flows(params, s));
  const [exporting, setExporting] = useState('');

  const a = res.data;
  const shown = a ? (state.all ? a.columns : USUAL.filter((c) => a.columns.includes(c))) : [];
  const idx = a ? shown.map((c) => a.columns.indexOf(c)) : [];
  const [orderField, orderDir] = (state.order || 'time_received:desc').split(':');

  const sortBy = (c: string) => {
    const dir = orderField === c && (orderDir ?? 'desc') === 'desc' ? 'asc' : 'desc';
    set({ order: `${c}:${dir}`, offset: 0 });
  };

  const exportAll = async () => {
    setExporting('0');
    try {
      const rows: Cell[][] = [];
      let columns: string[] = [];
      const page = 10_000;
      for (let offset = 0; offset < CSV_MAX; offset += page) {
        const r = await api.flows({ ...params, limit: Math.min(page, CSV_MAX - offset), offset });
        columns = r.columns;
        rows.push(...r.rows);
        setExporting(String(rows.length));
        if (r.rows.length < page) break;
      }
      download(`weir-flows-${stamp()}.csv`, toCsv(columns, rows));
    } catch (e) {
      alert((e as Error).message);
    } finally {
      setExporting('');
    }
  };

  const stamp = () => ('from' in state.range ? `${state.range.from}_${state.range.to}` : state.range.since).replace(/:/g, '');
  const first = state.offset + 1;
  const last = state.offset + (a?.rows.length ?? 0);

  return (
    <div class="view flows">
      <div class="toolbar">
        <RangeBar
          range={state.range}
          refresh={state.refresh}
          onRange={(range) => set({ range, offset: 0 })}
          onRefresh={(refresh) => set({ refresh }, true)}
          loading={res.loading}
        />
        <FilterBar value={state.filter} onApply={(filter) => set({ filter, offset: 0 })} />
      </div>
      <div class="controls">
        <span class="pager">
          <button type="button" name="prev" disabled={state.offset === 0} onClick={() => set({ offset: Math.max(0, state.offset - state.limit) })}>
            ‹ Previous
          </button>
          <span class="pos" data-first={first} data-last={last}>
            {a ? (a.rows.length ? `flows ${count(first)}–${count(last)}` : state.offset ? 'no more flows' : 'no flows') : '…'}
          </span>
          <button
            type="button"
            name="next"
            disabled={!a || a.rows.length < state.limit}
            onClick={() => set({ offset: state.offset + state.limit })}
          >
            Next ›
          </button>
        </span>
        <label>
          per page{' '}
          <select name="limit" value={String(state.limit)} onChange={(e) => set({ limit: Number(e.currentTarget.value), offset: 0 })}>
            {[...new Set([...PAGE_SIZES, state.limit])].sort((x, y) => x - y).map((n) => (
              <option value={String(n)}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" name="all-columns" checked={state.all} onChange={(e) => set({ all: e.currentTarget.checked }, true)} /> every
          column
        </label>
        <button type="button" name="csv-page" disabled={!a?.rows.length} onClick={() => a && download(`weir-flows-${stamp()}-${first}.csv`, toCsv(a.columns, a.rows))}>
          CSV (this page)
        </button>
        <button type="button" name="csv-all" disabled={!a?.rows.length || exporting !== ''} onClick={exportAll}>
          {exporting ? `CSV… ${count(Number(exporting))}` : `CSV (every page, up to ${count(CSV_MAX)})`}
        </button>
        {a && <span class="meta">{a.table} · {clock(a.range.from)} – {clock(a.range.to)} {zoneName()}</span>}
      </div>
      {res.error && <div class="error" role="alert">{res.error.message}</div>}
      {a && a.warnings.length > 0 && <div class="warning">{a.warnings.join(' · ')}</div>}
      <div class="scroll">
        <table class="grid flowtable">
          <thead>
            <tr>
              {shown.map((c) => (
                <th class={`${COUNTS.has(c) ? 'num' : ''} sortable`} data-col={c} onClick={() => sortBy(c)}>
                  {c}
                  {orderField === c ? (orderDir === 'asc' ? ' ▲' : ' ▼') : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {a?.rows.map((r) => (
              <tr>
                {idx.map((i, j) => (
                  <td
                    class={COUNTS.has(shown[j]) ? 'num' : ''}
                    title={TIMES.has(shown[j]) && r[i] !== null ? String(r[i]) : undefined}
                  >
                    {cell(shown[j], r[i])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
