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
  /** Whether the brush is armed since the option was last set. */
  const armed = useRef(false);
  /** Whether a brushed area is drawn. */
  const drawnArea = useRef(false);

  useEffect(() => {
    if (!charts) void loading.then(setCharts);
  }, []);

  useEffect(() => {
    if (!charts) return;
    const box = el.current!;
    const c = charts.echarts.init(box, undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('brushEnd', (e: unknown) => {
      const areas = (e as { areas?: { coordRange?: [number, number] }[] }).areas ?? [];
      const r = areas[0]?.coordRange;
      drawnArea.current ||= areas.length > 0;
      if (r && handlers.current.onBrush && r[1] > r[0]) handlers.current.onBrush(r[0], r[1]);
    });
    // The brush is armed when the pointer first moves over the graph, not at every drawing: arming it
    // lays the whole chart out again, which cost a dashboard a tenth of a second of its first drawing.
    const arm = () => {
      if (armed.current || !handlers.current.onBrush) return;
      armed.current = true;
      c.dispatchAction({
        type: 'takeGlobalCursor',
        key: 'brush',
        brushOption: { brushType: 'lineX', brushMode: 'single' },
      });
    };
    box.addEventListener('pointermove', arm);
    c.on('click', (e: unknown) => handlers.current.onClick?.(e as ClickEvent));
    c.getZr().on('click', (e: { offsetX: number; offsetY: number }) => {
      const at = [e.offsetX, e.offsetY];
      if (!handlers.current.onPoint || !c.containPixel('grid', at)) return;
      const [x, y] = c.convertFromPixel('grid', at) as number[];
      handlers.current.onPoint(x, y);
    });
    // A new observer calls back at once, with the size the chart was just drawn at: only a change of size
    // draws it again (a second drawing of every graph, a tenth of a second of a dashboard's first drawing).
    const ro = new ResizeObserver(() => {
      if (box.clientWidth !== c.getWidth() || box.clientHeight !== c.getHeight()) c.resize();
    });
    ro.observe(box);
    return () => {
      box.removeEventListener('pointermove', arm);
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [charts]);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.setOption(option, { notMerge: true, lazyUpdate: false });
    // A new option replaces the brush along with everything else.
    armed.current = false;
    drawnArea.current = false;
  }, [option, charts]);

  useEffect(() => {
    if (brushed || !drawnArea.current) return;
    chart.current?.dispatchAction({ type: 'brush', areas: [] });
    drawnArea.current = false;
  }, [brushed, charts]);

  return <div ref={el} class={`chart ${cls ?? ''}`} style={{ height: `${height}px` }} />;
}
