import { useMemo } from 'preact/hooks';
import { type Answer, type Metric, type Range, measureColumn } from '../api';
import { Chart } from '../components/Chart';
import { DirectionPicker } from '../components/DirectionPicker';
import { FilterBar } from '../components/FilterBar';
import { RangeBar } from '../components/RangeBar';
import { TrafficPanel } from '../components/TrafficPanel';
import { and, anyDirectionFilter, keyFilter, otherFilter } from '../drill';
import { fieldTitle, measure as fmt, percent } from '../format';
import { sankeyOption } from '../graph';
import { navigate, useLoad, useShared, useTick } from '../hooks';
import { type ExplorerState, GRAPHS, type Graph, METRICS, type MetricName, compareSeconds, defaults } from '../state';
import { type TopRow, topRows } from '../top';

/** Dimensions offered before `/api/v1/fields` answers (or if it cannot). */
const FALLBACK_DIMS = [
  'exporter_addr',
  'in_if',
  'out_if',
  'proto',
  'src_addr',
  'dst_addr',
  'src_port',
  'dst_port',
  'src_as',
  'dst_as',
  'src_country',
  'dst_country',
  'etype',
  'tos',
  'app',
];

const BY: Record<MetricName, Metric> = { bps: 'bytes', pps: 'packets', fps: 'flows' };
const METRIC_TITLE: Record<MetricName, string> = { bps: 'bits/s', pps: 'packets/s', fps: 'flows/s' };
const GRAPH_TITLE: Record<Graph, string> = { area: 'Stacked area', lines: 'Lines', sankey: 'Sankey', table: 'Table' };
const COMPARE: [string, string][] = [
  ['', 'no comparison'],
  ['prev', 'previous period'],
  ['1d', 'a day before'],
  ['7d', 'a week before'],
];

export function Explorer({ state }: { state: ExplorerState }) {
  const { fields } = useShared();
  const relative = 'since' in state.range;
  const tick = useTick(state.refresh, relative);
  const set = (patch: Partial<ExplorerState>, replace = false) => navigate({ ...state, ...patch }, replace);
  const toFlows = (range: Range, filter: string) => navigate({ ...defaults('flows'), range, filter });
  const dimensions = fields.length ? fields.filter((f) => f.dimension).map((f) => f.name) : FALLBACK_DIMS;
  const docs = new Map(fields.map((f) => [f.name, f.doc]));
  const by = BY[state.metric];
  const compare = compareSeconds(state.compare, state.range);
  const hidden = useMemo(() => new Set(state.hidden), [state.hidden.join('\n')]);

  return (
    <div class="view explorer">
      <div class="toolbar">
        <RangeBar
          range={state.range}
          refresh={state.refresh}
          onRange={(range) => set({ range })}
          onRefresh={(refresh) => set({ refresh }, true)}
        />
        <FilterBar value={state.filter} onApply={(filter) => set({ filter })} />
      </div>
      <div class="controls">
        <span class="dims">
          <span class="label">dimensions</span>
          {state.dims.map((d, i) => (
            <span class="chip" title={docs.get(d) ?? ''} data-dim={d}>
              {d}
              {i > 0 && (
                <button
                  type="button"
                  title="Move left"
                  onClick={() => {
                    const dims = [...state.dims];
                    [dims[i - 1], dims[i]] = [dims[i], dims[i - 1]];
                    set({ dims, hidden: [] });
                  }}
                >
                  ‹
                </button>
              )}
              <button type="button" title="Remove" onClick={() => set({ dims: state.dims.filter((x) => x !== d), hidden: [] })}>
                ×
              </button>
            </span>
          ))}
          <select
            name="add-dim"
            value=""
            onChange={(e) => {
              const d = e.currentTarget.value;
              if (d && !state.dims.includes(d)) set({ dims: [...state.dims, d], hidden: [] });
            }}
          >
            <option value="">+ add…</option>
            {dimensions
              .filter((d) => !state.dims.includes(d))
              .map((d) => (
                <option value={d} title={docs.get(d) ?? ''}>
                  {d}
                </option>
              ))}
          </select>
        </span>
        <label>
          metric{' '}
          <select name="metric" value={state.metric} onChange={(e) => set({ metric: e.currentTarget.value as MetricName })}>
            {METRICS.map((m) => (
              <option value={m}>{METRIC_TITLE[m]}</option>
            ))}
          </select>
        </label>
        <span class="segmented" role="group" aria-label="graph">
          {GRAPHS.map((g) => (
            <button type="button" class={state.graph === g ? 'on' : ''} data-graph={g} onClick={() => set({ graph: g })}>
              {GRAPH_TITLE[g]}
            </button>
          ))}
        </span>
        <label>
          top{' '}
          <input
            name="limit"
            type="number"
            min={1}
            max={100}
            value={state.limit}
            style={{ width: '4em' }}
            onChange={(e) => {
              const n = Number(e.currentTarget.value);
              if (Number.isInteger(n) && n >= 1 && n <= 1000) set({ limit: n, hidden: [] });
            }}
          />
        </label>
        <label>
          <input type="checkbox" name="other" checked={state.other} onChange={(e) => set({ other: e.currentTarget.checked })} />{' '}
          Other
        </label>
        <DirectionPicker value={state.direction} onChange={(direction) => set({ direction, hidden: [] })} />
        <label>
          compare{' '}
          <select name="compare" value={state.compare} onChange={(e) => set({ compare: e.currentTarget.value })}>
            {COMPARE.map(([v, t]) => (
              <option value={v}>{t}</option>
            ))}
          </select>
        </label>
      </div>
      <section class="report wide">
        <h2>
          {METRIC_TITLE[state.metric]} by {state.dims.length ? state.dims.map(fieldTitle).join(', ') : 'nothing (all traffic)'}
        </h2>
        {(state.graph === 'area' || state.graph === 'lines') && (
          <TrafficPanel
            q={{
              dims: state.dims,
              limit: state.limit,
              by,
              direction: state.direction,
              compare,
              range: state.range,
              filter: state.filter,
              tick,
            }}
            stacked={state.graph === 'area'}
            height={360}
            hidden={hidden}
            onToggle={(ids, hide) => {
              const rest = state.hidden.filter((h) => !ids.includes(h));
              set({ hidden: hide ? [...rest, ...ids] : rest }, true);
            }}
            onFlows={toFlows}
            onZoom={(range) => set({ range, refresh: 0 })}
          />
        )}
        {state.graph === 'sankey' && <Sankey state={state} tick={tick} />}
        {state.graph === 'table' && <TopTable state={state} tick={tick} compare={compare} onFlows={toFlows} />}
      </section>
    </div>
  );
}

function Sankey({ state, tick }: { state: ExplorerState; tick: number }) {
  const { api } = useShared();
  const measure = measureColumn(BY[state.metric], 'rate');
  const enough = state.dims.length >= 2;
  const res = useLoad<Answer | null>(JSON.stringify([state.dims, state.metric, state.limit, state.other, state.range, state.filter, tick]), (s) =>
    enough
      ? api.top(
          {
            range: state.range,
            filter: state.filter,
            dims: state.dims,
            by: BY[state.metric],
            unit: 'rate',
            limit: state.limit,
            other: state.other,
          },
          s,
        )
      : Promise.resolve(null),
  );
  const option = useMemo(() => (res.data ? sankeyOption(res.data, state.dims, measure) : null), [res.data]);
  if (!enough) return <div class="hint">A sankey needs two dimensions or more: add one above.</div>;
  return (
    <>
      {res.error && <div class="error">{res.error.message}</div>}
      {option ? (
        <Chart option={option} height={Math.max(360, state.limit * 28)} />
      ) : (
        <div class="chart placeholder" style={{ height: '360px' }}>
          {res.loading ? 'Loading…' : ''}
        </div>
      )}
      {res.data && <div class="meta">{res.data.table} · average over the range · in and out together</div>}
    </>
  );
}

function TopTable({
  state,
  tick,
  compare,
  onFlows,
}: {
  state: ExplorerState;
  tick: number;
  compare?: number;
  onFlows: (r: Range, f: string) => void;
}) {
  const { api } = useShared();
  const by = BY[state.metric];
  const measure = measureColumn(by, 'rate');
  const res = useLoad<Answer>(
    JSON.stringify([state.dims, state.metric, state.limit, state.other, state.direction, compare, state.range, state.filter, tick]),
    (s) =>
      api.top(
        {
          range: state.range,
          filter: state.filter,
          dims: state.dims,
          by,
          unit: 'rate',
          limit: state.limit,
          other: state.other,
          direction: state.direction || undefined,
          compare,
        },
        s,
      ),
  );
  const rows = useMemo<TopRow[] | Error | null>(() => {
    if (!res.data) return null;
    try {
      return topRows(res.data, state.dims, measure);
    } catch (e) {
      return e as Error;
    }
  }, [res.data]);
  const directional = !!state.direction;
  const pick = (r: TopRow, all: TopRow[]) => {
    const a = res.data!;
    const key = r.other ? otherFilter(state.dims, all.map((x) => x.values)) : keyFilter(state.dims, r.values);
    onFlows({ from: a.range.from, to: a.range.to }, and(state.filter, key, anyDirectionFilter(state.direction)));
  };
  const err = res.error ?? (rows instanceof Error ? rows : undefined);
  return (
    <>
      {err && <div class="error">{err.message}</div>}
      {Array.isArray(rows) && (
        <table class="keys">
          <thead>
            <tr>
              <th class="key">Key</th>
              {directional && <th class="num">Average (In)</th>}
              {directional && <th class="num">Average (Out)</th>}
              <th class="num">{directional ? 'Average (In + Out)' : 'Average'}</th>
              <th class="num">% Total</th>
              {compare !== undefined && <th class="num">Earlier</th>}
              {compare !== undefined && <th class="num">Change</th>}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={7} class="empty">
                  No traffic in this range.
                </td>
              </tr>
            )}
            {rows.map((r) => {
              const change = r.earlier ? (r.total - r.earlier) / r.earlier : null;
              const known = r.earlier !== undefined;
              return (
                <tr data-key={r.id}>
                  <td class="key">
                    <a
                      href="#"
                      onClick={(e) => {
                        e.preventDefault();
                        pick(r, rows);
                      }}
                    >
                      {r.label}
                    </a>
                  </td>
                  {directional && <td class="num">{fmt(measure, r.in)}</td>}
                  {directional && <td class="num">{fmt(measure, r.out)}</td>}
                  <td class="num">{fmt(measure, r.total)}</td>
                  <td class="num">{percent(r.share)}</td>
                  {compare !== undefined && (
                    <td class="num" title={known ? '' : 'Not among the earlier period’s top keys'}>
                      {known ? fmt(measure, r.earlier!) : '–'}
                    </td>
                  )}
                  {compare !== undefined && (
                    <td class="num">
                      {change === null ? (known ? 'new' : '–') : `${change > 0 ? '+' : ''}${(change * 100).toFixed(1)} %`}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {res.data && <div class="meta">{res.data.table} · average over the range</div>}
    </>
  );
}
