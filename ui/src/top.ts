// A top-N answer as a table: one row per key, its traffic in and out when the answer has a direction,
// and the earlier period's beside it when compared.

import { type Answer, type Cell, col, isOther } from './api';
import { keyLabel } from './format';
import { keyId } from './traffic';

export interface TopRow {
  id: string;
  values: Cell[];
  label: string;
  other: boolean;
  in: number;
  out: number;
  total: number;
  share: number;
  /** The same key's total in the earlier period, when compared and the key was among the earlier
   * period's top ones (its own top-N ranks its own keys). */
  earlier?: number;
}

export function topRows(a: Answer, dims: string[], measure: string): TopRow[] {
  const mi = col(a, measure);
  const di = col(a, 'direction');
  const ki = dims.map((d) => col(a, d));
  if (mi < 0) throw new Error(`the top-N answer has no ${measure} column`);
  const byId = new Map<string, TopRow>();
  for (const r of a.rows) {
    const values = ki.map((i) => (i < 0 ? null : r[i]));
    const id = keyId(values);
    const row =
      byId.get(id) ??
      ({
        id,
        values,
        label: keyLabel(dims, values),
        other: isOther(values),
        in: 0,
        out: 0,
        total: 0,
        share: 0,
      } as TopRow);
    const v = Number(r[mi] ?? 0);
    if (di >= 0 && r[di] === 'in') row.in += Math.abs(v);
    else row.out += di >= 0 ? Math.abs(v) : v;
    byId.set(id, row);
  }
  const rows = [...byId.values()];
  let all = 0;
  for (const r of rows) {
    r.total = r.in + r.out;
    all += r.total;
  }
  for (const r of rows) r.share = all > 0 ? r.total / all : 0;
  if (a.compare) {
    const earlier = new Map(topRows({ ...a.compare, compare: null }, dims, measure).map((r) => [r.id, r.total]));
    for (const r of rows) r.earlier = earlier.get(r.id);
  }
  rows.sort((x, y) => Number(x.other) - Number(y.other) || y.total - x.total);
  return rows;
}
