// Completion in the filter bar: the word under the cursor against the schema's field names and the
// filter language's keywords.

/** Words of the filter language beside the schema's column names (nfdump's primitives). */
export const KEYWORDS = [
  'and',
  'or',
  'not',
  'in',
  'any',
  'ipv4',
  'ipv6',
  'src',
  'dst',
  'host',
  'ip',
  'net',
  'port',
  'as',
  'if',
  'mask',
  'vlan',
  'mac',
  'flags',
  'tos',
  'router',
  'next',
  'duration',
  'bps',
  'pps',
  'bpp',
  'icmp-type',
  'icmp-code',
  'tcp',
  'udp',
  'icmp',
];

export interface Word {
  start: number;
  end: number;
  word: string;
}

/** The word the cursor at `pos` is in or just after; null inside a quoted string or a comment. */
export function wordAt(text: string, pos: number): Word | null {
  let quote: string | null = null;
  for (let i = 0; i < pos; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl < 0 || nl >= pos) return null;
      i = nl;
    }
  }
  if (quote) return null;
  const isWord = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_-]/.test(c);
  let start = pos;
  while (start > 0 && isWord(text[start - 1])) start--;
  let end = pos;
  while (isWord(text[end])) end++;
  const word = text.slice(start, pos);
  if (!/^[A-Za-z_]/.test(word)) return null;
  return { start, end, word };
}

/** What the word at `pos` could become: names that start with it first, then names that contain it. */
export function completions(text: string, pos: number, fields: string[], max = 12): string[] {
  const w = wordAt(text, pos);
  if (!w) return [];
  const q = w.word.toLowerCase();
  const names = [...new Set([...fields, ...KEYWORDS])];
  const prefix = names.filter((n) => n.toLowerCase().startsWith(q) && n.toLowerCase() !== q).sort();
  const inner = names.filter((n) => !n.toLowerCase().startsWith(q) && n.toLowerCase().includes(q)).sort();
  return [...prefix, ...inner].slice(0, max);
}

/** The text with the word at `pos` replaced by `choice` and a space, and where the cursor goes. */
export function complete(text: string, pos: number, choice: string): { text: string; pos: number } {
  const w = wordAt(text, pos);
  if (!w) return { text, pos };
  const after = text.slice(w.end);
  const sep = after.startsWith(' ') ? '' : ' ';
  return { text: text.slice(0, w.start) + choice + sep + after, pos: w.start + choice.length + 1 };
}

/** The offset of a 1-based line and column (in characters) in `text`, clamped to its length. */
export function offsetOf(text: string, line: number, column: number): number {
  const chars = [...text];
  let l = 1;
  let i = 0;
  while (l < line && i < chars.length) {
    if (chars[i] === '\n') l++;
    i++;
  }
  // Columns count characters, not UTF-16 units.
  const target = Math.min(chars.length, i + Math.max(0, column - 1));
  return chars.slice(0, target).join('').length;
}
