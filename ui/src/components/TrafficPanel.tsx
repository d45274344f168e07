import { useMemo, useState } from 'preact/hooks';
import { type Answer, ApiError, type Metric, type Range, measureColumn } from '../api';
import { and, anyDirectionFilter, directionFilter, keyFilter, otherFilter } from '../drill';
import { durationWord, rfc3339, span, clock, zoneName } from '../format';
import { type Overlay, trafficOption } from '../graph';
import { useLoad, useShared } from '../hooks';
import { autoStep, rangeSeconds } from '../state';
import { type KeyRow, buildModel, compareTotals, extent, hitTest } from '../traffic';
import { Chart } from './Chart';
import { KeyTable } from './KeyTable';

export interface TrafficQuery {
  dims: string[];
  limit: number;
  by: Metric;
  direction: string;
  /** Seconds before, for the earlier period's overlay. */
  compare?: number;
  range: Range;
  filter: string;
  /** Changes to ask again (auto-refresh). */
  tick: number;
}

interface Props {
  q: TrafficQuery;
  stacked: boolean;
  height: number;
  hidden: ReadonlySet<string>;
  onToggle: (ids: string[], hide: boolean) => void;
  /** List the flows of a range and filter. */
  onFlows: (range: Range, filter: string) => void;
  /** Show a narrower range. */
  onZoom: (range: Range) => void;
}

/** A graph of traffic over time split by key, with its table; brushing a range or clicking a key lists
 * the flows behind it. */
export function TrafficPanel({ q, stacked, height, hidden, onToggle, onFlows, onZoom }: Props) {
  const { api } = useShared();
  const measure = measureColumn(q.by, 'rate');
  const key = JSON.stringify(q);
  const res = useLoad<Answer>(key, (signal) =>
    api.series(
      {
        range: q.range,
        filter: q.filter,
        split: q.dims,
        limit: q.limit,
        by: q.by,
        unit: 'rate',
        step: autoStep(rangeSeconds(q.range)),
        direction: q.direction || undefined,
        compare: q.compare,
      },
      signal,
    ),
  );
  const [sel, setSel] = useState<[number, number] | null>(null);

  const model = useMemo(() => {
    if (!res.data) return null;
    try {
      return buildModel(res.data, q.dims, measure);
    } catch (e) {
      return e as Error;
    }
  }, [res.data]);

  const overlay = useMemo<Overlay | undefined>(() => {
    if (!res.data?.compare || !q.compare) return undefined;
    try {
      return compareTotals(res.data.compare, q.dims, measure, q.compare);
    } catch {
      return undefined;
    }
  }, [res.data]);

  const answered: [number, number] | null = res.data
    ? [Date.parse(res.data.range.from), Date.parse(res.data.range.to)]
    : null;

  const hiddenKey = [...hidden].sort().join('\n');
  const yRange = useMemo(
    () => (model && !(model instanceof Error) ? extent(model, hidden, stacked).join(',') : ''),
    [model, hiddenKey, stacked],
  );
  const option = useMemo(() => {
    if (!model || model instanceof Error || !answered) return null;
    return trafficOption(model, hidden, { stacked, range: answered, compare: overlay, brush: true });
  }, [model, hiddenKey, stacked, overlay]);

  const answerRange = (): Range =>
    res.data ? { from: res.data.range.from, to: res.data.range.to } : q.range;

  const pick = (k: KeyRow, half?: 'in' | 'out') => {
    if (!model || model instanceof Error) return;
    const keyPart = k.other ? otherFilter(q.dims, model.keys.map((x) => x.values)) : keyFilter(q.dims, k.values);
    const dir = half ? directionFilter(q.direction, half) : anyDirectionFilter(q.direction);
    onFlows(answerRange(), and(q.filter, keyPart, dir));
  };

  const brushed = sel ? { from: rfc3339(Math.floor(sel[0] / 1000) * 1000), to: rfc3339(Math.ceil(sel[1] / 1000) * 1000) } : null;

  const err = res.error ?? (model instanceof Error ? model : undefined);
  return (
    <div class="traffic">
      {err && (
        <div class="error" role="alert">
          {err instanceof ApiError && err.param ? `${err.param}: ` : ''}
          {err.message}
        </div>
      )}
      {res.data && res.data.warnings.length > 0 && (
        <div class="warning">{res.data.warnings.join(' · ')}</div>
      )}
      <div class="graph" data-extent={yRange}>
        {option ? (
          <Chart
            option={option}
            height={height}
            brushed={sel !== null}
            onBrush={(f, t) => setSel([f, t])}
            onPoint={(t, v) => {
              if (!model || model instanceof Error) return;
              const hit = hitTest(model, hidden, stacked, t, v);
              const k = hit && model.keys.find((x) => x.id === hit.key);
              if (k) pick(k, model.directional ? hit!.half : undefined);
            }}
          />
        ) : (
          <div class="chart placeholder" style={{ height: `${height}px` }}>
            {res.loading ? 'Loading…' : ''}
          </div>
        )}
      </div>
      {brushed && (
        <div class="brushed" role="dialog">
          <span>
            {clock(brushed.from)} – {clock(brushed.to)} {zoneName()} (
            {span(Math.round((Date.parse(brushed.to) - Date.parse(brushed.from)) / 1000))})
          </span>
          <button type="button" class="primary" onClick={() => onFlows(brushed, and(q.filter, anyDirectionFilter(q.direction)))}>
            List flows
          </button>
          <button type="button" onClick={() => onZoom(brushed)}>
            Zoom in
          </button>
          <button type="button" title="Clear" onClick={() => setSel(null)}>
            ×
          </button>
        </div>
      )}
      {model && !(model instanceof Error) && (
        <KeyTable
          model={model}
          hidden={hidden}
          onToggle={onToggle}
          onPick={(k) => pick(k)}
          empty={
            q.direction
              ? 'No traffic with a direction in this range. Exporters that do not report one count only with direction “total”.'
              : undefined
          }
        />
      )}
      {res.data && (
        <div class="meta">
          {res.data.table} · step {durationWord(res.data.step ?? 60)}
          {res.loading ? ' · refreshing' : ''}
        </div>
      )}
    </div>
  );
}
