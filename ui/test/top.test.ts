import { describe, expect, it } from 'vitest';
import type { Answer } from '../src/api';
import { topRows } from '../src/top';

function answer(rows: Answer['rows'], compare: Answer | null = null): Answer {
  return {
    columns: ['proto', 'dst_port', 'direction', 'bps'],
    rows,
    table: 'flows',
    range: { from: '2026-12-07T10:00:00Z', to: '2026-12-07T11:00:00Z' },
    step: null,
    warnings: [],
    compare,
  };
}

describe('top-N table', () => {
  const earlier = answer([
    [6, 443, 'in', -4e6],
    [6, 443, 'out', 1e6],
    [null, null, 'in', -1e6],
    [null, null, 'out', 0],
  ]);
  const rows = topRows(
    answer(
      [
        [6, 443, 'in', -8e6],
        [6, 443, 'out', 2e6],
        [17, 53, 'in', -1e6],
        [17, 53, 'out', 1e6],
        [null, null, 'in', -0.5e6],
        [null, null, 'out', 0.5e6],
      ],
      earlier,
    ),
    ['proto', 'dst_port'],
    'bps',
  );

  it('folds in and out into one row per key, Other last', () => {
    expect(rows.map((r) => [r.label, r.in, r.out, r.total])).toEqual([
      ['tcp (6) · https (443)', 8e6, 2e6, 10e6],
      ['udp (17) · dns (53)', 1e6, 1e6, 2e6],
      ['Other', 0.5e6, 0.5e6, 1e6],
    ]);
    expect(rows[0].share).toBeCloseTo(10 / 13);
  });

  it('gives the earlier period only for keys it ranked', () => {
    expect(rows[0].earlier).toBe(5e6);
    expect(rows[1].earlier).toBeUndefined();
    expect(rows[2].earlier).toBe(1e6);
  });
});
