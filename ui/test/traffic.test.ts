import { describe, expect, it } from 'vitest';
import type { Answer } from '../src/api';
import { buildModel, compareTotals, extent, keyId, lineSeries, niceCeil, parseSeriesId } from '../src/traffic';

const T0 = '2026-12-07T10:00:00Z';
const T1 = '2026-12-07T10:01:00Z';

function answer(columns: string[], rows: Answer['rows'], compare: Answer | null = null): Answer {
  return { columns, rows, table: 'traffic_1m', range: { from: T0, to: '2026-12-07T10:02:00Z' }, step: 60, warnings: [], compare };
}

// tcp: 8 Mb/s in and 2 Mb/s out on average; udp 1 in and 0.5 out; Other 0.1 and 0.1.
const directional = answer(
  ['time', 'proto', 'direction', 'bps'],
  [
    [T0, 6, 'in', -6e6],
    [T0, 6, 'out', 2e6],
    [T1, 6, 'in', -10e6],
    [T1, 6, 'out', 2e6],
    [T0, 17, 'in', -1e6],
    [T0, 17, 'out', 0.5e6],
    [T1, 17, 'in', -1e6],
    [T1, 17, 'out', 0.5e6],
    [T0, null, 'in', -0.1e6],
    [T0, null, 'out', 0.1e6],
    [T1, null, 'in', -0.1e6],
    [T1, null, 'out', 0.1e6],
  ],
);

describe('series answer to graph', () => {
  it('splits keys into in (negative) and out (positive) with averages and shares', () => {
    const m = buildModel(directional, ['proto'], 'bps');
    expect(m.times).toEqual([Date.parse(T0), Date.parse(T1)]);
    expect(m.directional).toBe(true);
    expect(m.keys.map((k) => k.label)).toEqual(['tcp (6)', 'udp (17)', 'Other']);
    const [tcp, udp, other] = m.keys;
    expect(tcp.in).toEqual([-6e6, -10e6]);
    expect(tcp.out).toEqual([2e6, 2e6]);
    expect(tcp.avgIn).toBe(8e6);
    expect(tcp.avgOut).toBe(2e6);
    expect(tcp.avgTotal).toBe(10e6);
    expect(udp.avgTotal).toBe(1.5e6);
    expect(other.other).toBe(true);
    expect(other.color).toBe('#9e9e9e');
    expect(tcp.share + udp.share + other.share).toBeCloseTo(1);
    expect(tcp.share).toBeCloseTo(10 / 11.7);
  });

  it('draws in below the axis and out above it, stacked per half', () => {
    const m = buildModel(directional, ['proto'], 'bps');
    const s = lineSeries(m, new Set(), true);
    expect(s).toHaveLength(6);
    const tcpIn = s.find((x) => x.id === 'in:6')!;
    const tcpOut = s.find((x) => x.id === 'out:6')!;
    expect(tcpIn.stack).toBe('in');
    expect(tcpOut.stack).toBe('out');
    expect(tcpIn.data.every(([, v]) => v <= 0)).toBe(true);
    expect(tcpOut.data.every(([, v]) => v >= 0)).toBe(true);
    expect(tcpIn.color).toBe(tcpOut.color);
    expect(parseSeriesId(tcpIn.id)).toEqual({ key: '6', half: 'in' });
  });

  it('rescales the axis when a row is unticked', () => {
    const m = buildModel(directional, ['proto'], 'bps');
    expect(extent(m, new Set(), true)).toEqual([-20e6, 5e6]);
    const withoutTcp = new Set([keyId([6])]);
    expect(lineSeries(m, withoutTcp, true).map((x) => x.id)).toEqual(['out:17', 'in:17', 'out:~', 'in:~']);
    // udp + Other: at most 1.1 Mb/s in and 0.6 Mb/s out.
    expect(extent(m, withoutTcp, true)).toEqual([-2e6, 1e6]);
    // As lines, the largest single value counts, not the stack.
    expect(extent(m, withoutTcp, false)).toEqual([-1e6, 5e5]);
  });

  it('reads traffic without direction as positive', () => {
    const a = answer(['time', 'dst_port', 'bps'], [
      [T0, 443, 3e9],
      [T1, 443, 1e9],
      [T0, 53, 1e6],
      [T1, 53, 1e6],
    ]);
    const m = buildModel(a, ['dst_port'], 'bps');
    expect(m.directional).toBe(false);
    expect(m.keys[0].label).toBe('https (443)');
    expect(m.keys[0].in).toBeNull();
    expect(m.keys[0].avgTotal).toBe(2e9);
    expect(lineSeries(m, new Set(), true)).toHaveLength(2);
    expect(extent(m, new Set(), true)).toEqual([0, 5e9]);
  });

  it('sums the earlier period and moves it onto the current one', () => {
    const c = compareTotals(directional, ['proto'], 'bps', 86400);
    expect(c.times[0]).toBe(Date.parse(T0) + 86400e3);
    expect(c.out[0]).toBeCloseTo(2.6e6);
    expect(c.in![1]).toBeCloseTo(-11.1e6);
  });

  it('names a missing column', () => {
    expect(() => buildModel(directional, ['dst_port'], 'bps')).toThrow(/dst_port/);
    expect(() => buildModel(directional, ['proto'], 'pps')).toThrow(/pps/);
  });

  it('ends axes on round numbers', () => {
    expect(niceCeil(7.3e6)).toBe(1e7);
    expect(niceCeil(1.1e6)).toBe(2e6);
    expect(niceCeil(2.2e3)).toBe(2.5e3);
    expect(niceCeil(1e9)).toBe(1e9);
    expect(niceCeil(0)).toBe(0);
  });
});

describe('the Other row', () => {
  it('is the row whose keys are all null; a value named Other is a value', async () => {
    const { isOther } = await import('../src/api');
    expect(isOther([null])).toBe(true);
    expect(isOther([null, null])).toBe(true);
    expect(isOther(['Other', null])).toBe(false);
    expect(isOther([6])).toBe(false);
    expect(isOther(['Other', 'x'])).toBe(false);
    const a = answer(['time', 'proto', 'bps'], [
      [T0, null, 5],
      [T0, 6, 10],
    ]);
    const m = buildModel(a, ['proto'], 'bps');
    expect(m.keys.map((k) => [k.label, k.other])).toEqual([
      ['tcp (6)', false],
      ['Other', true],
    ]);
  });
});

describe('clicking on the graph', async () => {
  const { hitTest } = await import('../src/traffic');
  const m = buildModel(directional, ['proto'], 'bps');
  const t = Date.parse(T1);

  it('picks the stacked band under the pointer', () => {
    // At T1, in: tcp 0..-10M, udp -10M..-11M, Other -11M..-11.1M; out: tcp 0..2M, udp ..2.5M, Other ..2.6M.
    expect(hitTest(m, new Set(), true, t, -5e6)).toEqual({ key: '6', half: 'in' });
    expect(hitTest(m, new Set(), true, t, -10.5e6)).toEqual({ key: '17', half: 'in' });
    expect(hitTest(m, new Set(), true, t, -11.05e6)).toEqual({ key: '~', half: 'in' });
    expect(hitTest(m, new Set(), true, t, -12e6)).toBeNull();
    expect(hitTest(m, new Set(), true, t, 2.2e6)).toEqual({ key: '17', half: 'out' });
    expect(hitTest(m, new Set(), true, t + 20_000, 1e6)).toEqual({ key: '6', half: 'out' });
  });

  it('skips unticked rows, whose bands are not drawn', () => {
    expect(hitTest(m, new Set(['6']), true, t, -0.5e6)).toEqual({ key: '17', half: 'in' });
  });

  it('picks the nearest line when not stacked', () => {
    expect(hitTest(m, new Set(), false, t, -1.2e6)).toEqual({ key: '17', half: 'in' });
    expect(hitTest(m, new Set(), false, t, 1.9e6)).toEqual({ key: '6', half: 'out' });
  });
});
