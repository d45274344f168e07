import { useMemo } from 'preact/hooks';
import type { Answer, Range } from '../api';
import { Chart } from '../components/Chart';
import { DirectionPicker } from '../components/DirectionPicker';
import { ExportersPanel } from '../components/ExportersPanel';
import { FilterBar } from '../components/FilterBar';
import { RangeBar } from '../components/RangeBar';
import { TrafficPanel } from '../components/TrafficPanel';
import { and, sizeFilter } from '../drill';
import { count, measure, si } from '../format';
import { sizesOption } from '../graph';
import { navigate, useLoad, useShared, useTick } from '../hooks';
import { type DashboardState, defaults, rangeSeconds } from '../state';

/** The dashboard's reports: each splits traffic by these dimensions (a name column beside the column it
 * names only labels it). */
export const REPORTS = [
  { id: 'proto', title: 'Protocols', dims: ['proto'] },
  { id: 'app', title: 'Applications', dims: ['app'] },
  { id: 'dst_port', title: 'Destination ports', dims: ['dst_port'] },
  { id: 'src_addr', title: 'Top sources', dims: ['src_addr'] },
  { id: 'dst_addr', title: 'Top destinations', dims: ['dst_addr'] },
  { id: 'nets', title: 'Subnet pairs', dims: ['src_net', 'dst_net'] },
  { id: 'src_as', title: 'Source AS', dims: ['src_as', 'src_as_name'] },
  { id: 'dst_as', title: 'Destination AS', dims: ['dst_as', 'dst_as_name'] },
  { id: 'in_if', title: 'Input interfaces', dims: ['exporter_addr', 'in_if', 'in_if_name'] },
  { id: 'out_if', title: 'Output interfaces', dims: ['exporter_addr', 'out_if', 'out_if_name'] },
  { id: 'src_country', title: 'Source countries', dims: ['src_country'] },
  { id: 'dst_country', title: 'Destination countries', dims: ['dst_country'] },
] as const;

export function Dashboard({ state }: { state: DashboardState }) {
  const relative = 'since' in state.range;
  const tick = useTick(state.refresh, relative);
  const set = (patch: Partial<DashboardState>, replace = false) => navigate({ ...state, ...patch }, replace);
  const toFlows = (range: Range, filter: string) => navigate({ ...defaults('flows'), range, filter });
  const zoom = (range: Range) => set({ range, refresh: 0 });

  const report = (r: (typeof REPORTS)[number]) => {
    const prefix = `${r.id}:`;
    const hidden = new Set(state.hidden.filter((h) => h.startsWith(prefix)).map((h) => h.slice(prefix.length)));
    return (
      <section key={r.id} class="report" id={`report-${r.id}`} data-report={r.id}>
        <h2>
          {r.title}
          <a
            class="open"
            title="Open in the explorer"
            href={`#/explorer?${new URLSearchParams({
              dims: r.dims.join(','),
              ...('since' in state.range ? { since: state.range.since } : state.range),
              ...(state.filter ? { filter: state.filter } : {}),
              ...(state.direction ? { dir: state.direction } : {}),
            })}`}
          >
            ↗
          </a>
        </h2>
        <TrafficPanel
          q={{
            dims: [...r.dims],
            limit: 10,
            by: 'bytes',
            direction: state.direction,
            range: state.range,
            filter: state.filter,
            tick,
          }}
          stacked
          height={180}
          hidden={hidden}
          onToggle={(ids, hide) => {
            const mine = new Set(ids.map((id) => prefix + id));
            const rest = state.hidden.filter((h) => !mine.has(h));
            set({ hidden: hide ? [...rest, ...mine] : rest }, true);
          }}
          onFlows={toFlows}
          onZoom={zoom}
        />
      </section>
    );
  };

  return (
    <div class="view dashboard">
      <div class="toolbar">
        <RangeBar
          range={state.range}
          refresh={state.refresh}
          onRange={(range) => set({ range })}
          onRefresh={(refresh) => set({ refresh }, true)}
        />
        <DirectionPicker value={state.direction} onChange={(direction) => set({ direction })} />
        <FilterBar value={state.filter} onApply={(filter) => set({ filter })} />
      </div>
      <Summary state={state} tick={tick} />
      <div class="reports">
        {REPORTS.slice(0, 3).map(report)}
        <SizesReport state={state} tick={tick} onFlows={toFlows} />
        {REPORTS.slice(3).map(report)}
      </div>
      <ExportersPanel range={state.range} tick={tick} />
    </div>
  );
}

/** Totals of the range: flows, bytes, packets, and the average rate. */
function Summary({ state, tick }: { state: DashboardState; tick: number }) {
  const { api } = useShared();
  const res = useLoad<Answer>(JSON.stringify([state.range, state.filter, tick]), (s) =>
    api.summary({ range: state.range, filter: state.filter }, s),
  );
  const total = useMemo(() => {
    const a = res.data;
    if (!a) return null;
    const ei = a.columns.indexOf('exporter_addr');
    const row = a.rows.find((r) => ei < 0 || r[ei] === null) ?? a.rows[0];
    if (!row) return null;
    const get = (c: string) => Number(row[a.columns.indexOf(c)] ?? 0);
    return { flows: get('flows'), bytes: get('bytes'), packets: get('packets') };
  }, [res.data]);
  const secs = res.data ? (Date.parse(res.data.range.to) - Date.parse(res.data.range.from)) / 1000 : rangeSeconds(state.range);
  return (
    <div class="summary">
      {res.error && <span class="error">{res.error.message}</span>}
      {total && (
        <>
          <span>
            <b data-total="flows">{count(total.flows)}</b> flows
          </span>
          <span>
            <b data-total="bytes">{si(total.bytes, 'B')}</b>
          </span>
          <span>
            <b data-total="packets">{si(total.packets)}</b> packets
          </span>
          <span>
            <b data-total="bps">{measure('bps', (total.bytes * 8) / Math.max(1, secs))}</b> average
          </span>
        </>
      )}
    </div>
  );
}

function SizesReport({
  state,
  tick,
  onFlows,
}: {
  state: DashboardState;
  tick: number;
  onFlows: (r: Range, f: string) => void;
}) {
  const { api } = useShared();
  const res = useLoad<Answer>(JSON.stringify([state.range, state.filter, tick]), (s) =>
    api.sizes({ range: state.range, filter: state.filter }, s),
  );
  const option = useMemo(() => (res.data ? sizesOption(res.data) : null), [res.data]);
  return (
    <section class="report" id="report-sizes" data-report="sizes">
      <h2>Packet sizes</h2>
      {res.error && <div class="error">{res.error.message}</div>}
      {option ? (
        <Chart
          option={option}
          height={220}
          onClick={(e) => {
            const a = res.data!;
            const ei = a.columns.indexOf('packet_size_max');
            const edges = a.rows.map((r) => Number(r[ei]));
            if (e.dataIndex < 0 || e.dataIndex >= edges.length) return;
            onFlows({ from: a.range.from, to: a.range.to }, and(state.filter, sizeFilter(edges, e.dataIndex)));
          }}
        />
      ) : (
        <div class="chart placeholder" style={{ height: '220px' }}>
          {res.loading ? 'Loading…' : ''}
        </div>
      )}
      <div class="meta">packets by average size (bytes per packet of each flow); click a bar for its flows</div>
    </section>
  );
}
