// Filters that narrow a view to what was clicked: a key of a report, the Other row, one direction, a
// packet-size bucket. They are written in the filter language, so the flows view shows them and they can
// be edited further.

import { type Cell, isOther } from './api';
import { mac } from './format';

/** Columns whose values are written bare (addresses, MACs); other strings are quoted. */
const BARE = new Set([
  'exporter_addr',
  'src_addr',
  'dst_addr',
  'next_hop',
  'bgp_next_hop',
  'src_mac',
  'dst_mac',
]);

/** A value as the filter language reads it for `field`. */
export function literal(field: string, v: Cell): string {
  if ((field === 'src_mac' || field === 'dst_mac') && typeof v === 'number') return mac(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return String(v[0] ?? 0);
  const s = v ?? '';
  if (BARE.has(field) && /^[0-9a-fA-F.:]+$/.test(s) && s !== '') return s;
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The prefix lengths the server gives an address whose flow has no mask (0) or an impossible one. */
const DEFAULT_PREFIX = { v4: 24, v6: 48 };

/** The flows of one network key (`src_net`, `dst_net`: an address cut to its flow's mask, or to /24 or
 * /48 without one): in the network, with the mask that named it. */
function netFilter(dim: string, v: Cell): string {
  const side = dim === 'src_net' ? 'src' : 'dst';
  const net = String(v ?? '');
  const m = /^([0-9a-fA-F.:]+)\/(\d+)$/.exec(net);
  if (!m) return `${side} net ${net}`;
  const len = Number(m[2]);
  const v6 = m[1].includes(':');
  const fallback = v6 ? DEFAULT_PREFIX.v6 : DEFAULT_PREFIX.v4;
  const masks =
    len === fallback
      ? `(${side}_mask = ${len} or ${side}_mask = 0 or ${side}_mask > ${v6 ? 128 : 32})`
      : `${side}_mask = ${len}`;
  return `${side} net ${net} and ${masks}`;
}

const isNet = (dim: string) => dim === 'src_net' || dim === 'dst_net';

/** The flows of one key: `proto = 6 and dst_port = 443`. */
export function keyFilter(dims: string[], values: Cell[]): string {
  return dims.map((d, i) => (isNet(d) ? netFilter(d, values[i]) : `${d} = ${literal(d, values[i])}`)).join(' and ');
}

/** The flows of the Other row: none of the top keys. */
export function otherFilter(dims: string[], keys: Cell[][]): string {
  const named = keys.filter((k) => !isOther(k));
  if (named.length === 0) return '';
  if (dims.length === 1 && !isNet(dims[0])) {
    return `not ${dims[0]} in [${named.map((k) => literal(dims[0], k[0])).join(', ')}]`;
  }
  return `not (${named.map((k) => `(${keyFilter(dims, k)})`).join(' or ')})`;
}

/** The flows of one half of a directional graph, as the API splits them. */
export function directionFilter(direction: string, half: 'in' | 'out'): string {
  if (!direction) return '';
  if (direction === 'exporter') return `flow_direction = ${half === 'in' ? 1 : 2}`;
  const m = /^(\d+)(?:@(.+))?$/.exec(direction);
  if (!m) return '';
  const side = half === 'in' ? 'in_if' : 'out_if';
  return m[2] ? `${side} = ${m[1]} and exporter_addr = ${literal('exporter_addr', m[2])}` : `${side} = ${m[1]}`;
}

function needsParens(f: string): boolean {
  return /(^|[\s)])(or|\|\|)([\s(]|$)/i.test(f) || f.includes('#');
}

/** Every filter given, joined by `and`; parts with `or` are put in parentheses, and a part with a comment
 * ends its line, so that `and` still applies to it. */
export function and(...parts: string[]): string {
  const kept = parts.map((p) => p.trim()).filter(Boolean);
  if (kept.length <= 1) return kept[0] ?? '';
  return kept.map((p) => (needsParens(p) ? `(${p}${p.includes('#') ? '\n' : ''})` : p)).join(' and ');
}

/** The flows whose average packet size falls in the bucket ending at `max` (the buckets of `show ip
 * cache flow`: each holds sizes above the previous edge, up to and including its own; the last holds
 * every larger size too). Sizes are whole bytes: bytes / packets, truncated. */
export function sizeFilter(edges: number[], i: number): string {
  const lo = i === 0 ? 0 : edges[i - 1] + 1;
  const parts = [];
  if (lo > 0) parts.push(`bpp >= ${lo}`);
  if (i < edges.length - 1) parts.push(`bpp < ${edges[i] + 1}`);
  return parts.join(' and ') || 'any';
}

/** The flows a directional graph counts at all, in or out: those it leaves out have no direction. */
export function anyDirectionFilter(direction: string): string {
  if (!direction) return '';
  if (direction === 'exporter') return 'flow_direction in [1, 2]';
  const m = /^(\d+)(?:@(.+))?$/.exec(direction);
  if (!m) return '';
  const either = `(in_if = ${m[1]} or out_if = ${m[1]})`;
  return m[2] ? `${either} and exporter_addr = ${literal('exporter_addr', m[2])}` : either;
}
