// Flows as CSV, the way `weir query --format csv` writes them: a header of schema names, exact numbers,
// addresses and times as text, lists space-separated, empty for null.

import type { Cell } from './api';

export function csvField(v: Cell): string {
  const s = v === null ? '' : Array.isArray(v) ? v.map((x) => (x === null ? '' : String(x))).join(' ') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or a line break. */
export function toCsv(columns: string[], rows: Cell[][]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(r.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Offers `text` to the user as a file. */
export function download(name: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
