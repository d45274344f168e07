import { useEffect, useRef, useState } from 'preact/hooks';
import type { ECharts, EChartsOption } from '../charts';

type Charts = typeof import('../charts');

/** ECharts, loaded apart from the app: most of the script the UI ships, which the browser would otherwise
 * parse before the app could ask the server anything. Asked for when this module loads, so it arrives
 * while the views' first requests are answered. */
let loaded: Charts | null = null;
const loading: Promise<Charts> = import('../charts').then((m) => (loaded = m));

export interface ClickEvent {
  seriesId?: string;
  seriesName?: string;
  dataIndex: number;
  name?: string;
  value?: unknown;
  dataType?: string;
  data?: unknown;
}

interface Props {
  option: EChartsOption;
  height: number;
  /** Dragging across the graph selects a time range (epoch milliseconds). */
  onBrush?: (from: number, to: number) => void;
  onClick?: (e: ClickEvent) => void;
  /** A click in the plot area, in data coordinates (the time axis's epoch milliseconds, the value). The
   * brush takes the mouse over line graphs, so their series get no click of their own. */
  onPoint?: (x: number, y: number) => void;
  /** Whether a brushed range is shown; when this turns false the brush is cleared. */
  brushed?: boolean;
  class?: string;
}

/** One ECharts instance in a box that follows its size. */
export function Chart({ option, height, onBrush, onClick, onPoint, brushed, class: cls }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const handlers = useRef({ onBrush, onClick, onPoint });
  handlers.current = { onBrush, onClick, onPoint };
  const [charts, setCharts] = useState(loaded);

  useEffect(() => {
    if (!charts) void loading.then(setCharts);
  }, []);

  useEffect(() => {
    if (!charts) return;
    const c = charts.echarts.init(el.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('brushEnd', (e: unknown) => {
      const areas = (e as { areas?: { coordRange?: [number, number] }[] }).areas ?? [];
      const r = areas[0]?.coordRange;
      if (r && handlers.current.onBrush && r[1] > r[0]) handlers.current.onBrush(r[0], r[1]);
    });
    c.on('click', (e: unknown) => handlers.current.onClick?.(e as ClickEvent));
    c.getZr().on('click', (e: { offsetX: number; offsetY: number }) => {
      const at = [e.offsetX, e.offsetY];
      if (!handlers.current.onPoint || !c.containPixel('grid', at)) return;
      const [x, y] = c.convertFromPixel('grid', at) as number[];
      handlers.current.onPoint(x, y);
    });
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current!);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [charts]);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.setOption(option, { notMerge: true, lazyUpdate: false });
    if (onBrush) {
      c.dispatchAction({
        type: 'takeGlobalCursor',
        key: 'brush',
        brushOption: { brushType: 'lineX', brushMode: 'single' },
      });
    }
  }, [option, charts]);

  useEffect(() => {
    if (!brushed) chart.current?.dispatchAction({ type: 'brush', areas: [] });
  }, [brushed, charts]);

  return <div ref={el} class={`chart ${cls ?? ''}`} style={{ height: `${height}px` }} />;
}
