// How values read: traffic with SI prefixes (1000-based, as interface speeds are), protocol and port
// names beside their numbers, times in UTC.

import { type Cell, isOther } from './api';

const PREFIXES: [number, string][] = [
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'K'],
];

/** `x` with an SI prefix and three significant digits: `999`, `1.25 K`, `12.5 M`, `-3.40 G`. The
 * prefix is glued to `unit`: `si(1.5e9, 'b/s')` is `1.50 Gb/s`. */
export function si(x: number, unit = ''): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  const [scale, prefix] = PREFIXES.find(([p]) => a >= p) ?? [1, ''];
  const v = x / scale;
  const av = Math.abs(v);
  let digits = av >= 100 ? 0 : av >= 10 ? 1 : 2;
  if (scale === 1 && Number.isInteger(v)) digits = 0;
  let text = v.toFixed(digits);
  // 999.6 rounds up to 1000: say 1.00 K instead.
  if (scale !== 1e15 && Math.abs(Number(text)) >= 1000) {
    const next = PREFIXES[PREFIXES.findIndex(([p]) => p === scale) - 1] ?? [1e3, 'K'];
    return si(Math.sign(x) * next[0], unit);
  }
  if (text === '-0' || /^-0\.0+$/.test(text)) text = text.slice(1);
  const sep = unit || prefix ? ' ' : '';
  return `${text}${sep}${prefix}${unit}`;
}

/** The unit a measure column is shown in. */
export function measureUnit(measure: string): string {
  switch (measure) {
    case 'bps':
      return 'b/s';
    case 'pps':
      return 'p/s';
    case 'fps':
      return 'flows/s';
    case 'bytes':
      return 'B';
    default:
      return '';
  }
}

/** A measure's value in its unit: `bps` 1.2e6 is `1.20 Mb/s`. */
export function measure(measure: string, x: number): string {
  return si(x, measureUnit(measure));
}

/** An exact count with thin separators: `1 234 567`. */
export function count(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const [int, frac] = String(Math.abs(x)).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  return `${x < 0 ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}

/** A share as a percentage: `12.3 %`, `0.04 %`, `< 0.01 %`. */
export function percent(f: number): string {
  if (!Number.isFinite(f)) return '–';
  const p = f * 100;
  if (p === 0) return '0 %';
  if (p < 0.01) return '< 0.01 %';
  return `${p >= 10 ? p.toFixed(1) : p.toFixed(2)} %`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** How times are shown and read: in UTC (the default, as routers, logs and other tools write them) or in
 * the browser's time zone. A preference of the browser (see `useZone`), not part of a view's URL, so that a
 * shared link shows each reader the times in the zone they chose. */
export type Zone = 'utc' | 'local';

let zone: Zone = 'utc';

/** Shows and reads times in `z` from now on. */
export function setZone(z: Zone): void {
  zone = z;
}

/** The zone times are shown in. */
export function currentZone(): Zone {
  return zone;
}

/** The zone's name, written beside times: `UTC`, or the browser's zone (`Europe/Paris`). */
export function zoneName(): string {
  return zone === 'utc' ? 'UTC' : Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}

/** `2026-12-07 10:03:00` in the chosen zone; milliseconds when there are some and `ms` asks for them. */
export function clock(t: number | string | Date, ms = false): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const [y, mo, day, h, mi, s, msec] =
    zone === 'utc'
      ? [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
      : [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  const base = `${y}-${pad(mo + 1)}-${pad(day)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
  return ms && msec ? `${base}.${pad(msec, 3)}` : base;
}

/** RFC 3339 in UTC, to the second: `2026-12-07T10:03:00Z`. */
export function rfc3339(t: number | Date): string {
  const d = t instanceof Date ? t : new Date(t);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Reads a time typed by a person: RFC 3339, or `YYYY-MM-DD[ HH:MM[:SS]]` in the chosen zone. Returns
 * epoch milliseconds, or null. */
export function parseTime(text: string): number | null {
  const s = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$/i.exec(
    s,
  );
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', se = '0', frac = '', offset] = m;
  const parts = [+y, +mo - 1, +d, +h, +mi, +se, Math.floor(Number(`0.${frac || '0'}`) * 1000)] as const;
  // Without an offset, a time is in the chosen zone.
  let t = !offset && zone === 'local' ? new Date(...parts).getTime() : Date.UTC(...parts);
  if (offset && !/^(z|utc)$/i.test(offset)) {
    const z = /([+-])(\d{2}):?(\d{2})/.exec(offset)!;
    const off = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    t -= z[1] === '+' ? off : -off;
  }
  const check = new Date(t);
  return Number.isNaN(check.getTime()) ? null : t;
}

/** Durations as `since` and presets write them: `15m`, `1h`, `7d`. Returns seconds, or null. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (!m) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

/** A length of time as people say it: `45s`, `8m 25s`, `2h 5m`, `3d 4h`. */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts: [number, string][] = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(' ');
}

/** Seconds as the shortest duration word: 3600 is `1h`, 5400 is `90m`. */
export function durationWord(seconds: number): string {
  for (const [u, n] of [
    ['w', 604800],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= n && seconds % n === 0) return `${seconds / n}${u}`;
  }
  return `${seconds}s`;
}

export const PROTOCOLS: Record<number, string> = {
  0: 'hopopt',
  1: 'icmp',
  2: 'igmp',
  4: 'ipip',
  6: 'tcp',
  8: 'egp',
  17: 'udp',
  41: 'ipv6',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  46: 'rsvp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  59: 'ipv6-nonxt',
  60: 'ipv6-opts',
  88: 'eigrp',
  89: 'ospf',
  94: 'ipip',
  103: 'pim',
  112: 'vrrp',
  115: 'l2tp',
  132: 'sctp',
  136: 'udplite',
  137: 'mpls-in-ip',
};

/** Well-known ports by the application people call them by. */
export const PORTS: Record<number, string> = {
  7: 'echo',
  20: 'ftp-data',
  21: 'ftp',
  22: 'ssh',
  23: 'telnet',
  25: 'smtp',
  43: 'whois',
  49: 'tacacs',
  53: 'dns',
  67: 'dhcp',
  68: 'dhcp',
  69: 'tftp',
  80: 'http',
  88: 'kerberos',
  110: 'pop3',
  111: 'sunrpc',
  119: 'nntp',
  123: 'ntp',
  135: 'msrpc',
  137: 'netbios-ns',
  138: 'netbios-dgm',
  139: 'netbios-ssn',
  143: 'imap',
  161: 'snmp',
  162: 'snmptrap',
  179: 'bgp',
  389: 'ldap',
  427: 'svrloc',
  443: 'https',
  445: 'smb',
  465: 'smtps',
  500: 'isakmp',
  514: 'syslog',
  515: 'printer',
  520: 'rip',
  546: 'dhcpv6',
  547: 'dhcpv6',
  554: 'rtsp',
  587: 'submission',
  631: 'ipp',
  636: 'ldaps',
  646: 'ldp',
  853: 'dns-tls',
  873: 'rsync',
  989: 'ftps-data',
  990: 'ftps',
  993: 'imaps',
  995: 'pop3s',
  1080: 'socks',
  1194: 'openvpn',
  1433: 'mssql',
  1521: 'oracle',
  1701: 'l2tp',
  1723: 'pptp',
  1812: 'radius',
  1813: 'radius-acct',
  1883: 'mqtt',
  1900: 'ssdp',
  2049: 'nfs',
  2055: 'netflow',
  2181: 'zookeeper',
  3128: 'squid',
  3306: 'mysql',
  3389: 'rdp',
  3478: 'stun',
  3784: 'bfd',
  4500: 'ipsec-nat-t',
  4739: 'ipfix',
  4789: 'vxlan',
  5060: 'sip',
  5061: 'sips',
  5222: 'xmpp',
  5353: 'mdns',
  5432: 'postgres',
  5900: 'vnc',
  6343: 'sflow',
  6379: 'redis',
  6443: 'kubernetes',
  6881: 'bittorrent',
  8080: 'http-alt',
  8443: 'https-alt',
  8883: 'mqtts',
  9092: 'kafka',
  9100: 'jetdirect',
  9200: 'elasticsearch',
  11211: 'memcached',
  27017: 'mongodb',
  51820: 'wireguard',
};

const ETYPES: Record<number, string> = {
  0x0800: 'IPv4',
  0x86dd: 'IPv6',
  0x0806: 'ARP',
  0x8847: 'MPLS',
  0x8848: 'MPLS multicast',
};

const FLOW_DIRECTIONS: Record<number, string> = { 0: 'unknown', 1: 'ingress', 2: 'egress' };
const BOUNDARIES: Record<number, string> = { 0: 'undefined', 1: 'external', 2: 'internal' };
const END_REASONS: Record<number, string> = {
  1: 'idle timeout',
  2: 'active timeout',
  3: 'end of flow',
  4: 'forced end',
  5: 'lack of resources',
};

export function protoName(n: number): string {
  return PROTOCOLS[n] ?? String(n);
}

/** TCP flags as nfdump prints them: `.AP.SF` style letters for the bits set, dots for the rest. */
export function tcpFlags(n: number): string {
  const letters = ['F', 'S', 'R', 'P', 'A', 'U', 'E', 'C'];
  let s = '';
  for (let i = 7; i >= 0; i--) s += n & (1 << i) ? letters[i] : '.';
  return s;
}

/** A MAC address from the 48-bit number the API may give: `00:1b:21:3a:4f:5c`. */
export function mac(v: number | string): string {
  if (typeof v === 'string') return v;
  return (v.toString(16).padStart(12, '0').match(/../g) ?? []).join(':');
}

const MACS = new Set(['src_mac', 'dst_mac']);

/** One key value as a label: `tcp (6)`, `https (443)`, `AS15169`, `IPv6 (0x86dd)`. */
export function valueLabel(dim: string, v: Cell): string {
  if (v === null) return 'Other';
  if (v === '') return '(none)';
  if (Array.isArray(v)) return v.join(' ');
  if (typeof v !== 'number') return String(v);
  if (MACS.has(dim)) return mac(v);
  switch (dim) {
    case 'proto':
      return PROTOCOLS[v] ? `${PROTOCOLS[v]} (${v})` : String(v);
    case 'src_port':
    case 'dst_port':
      return PORTS[v] ? `${PORTS[v]} (${v})` : String(v);
    case 'src_as':
    case 'dst_as':
      return `AS${v}`;
    case 'etype':
      return ETYPES[v] ? `${ETYPES[v]} (0x${v.toString(16).padStart(4, '0')})` : `0x${v.toString(16)}`;
    case 'flow_direction':
      return FLOW_DIRECTIONS[v] ?? String(v);
    case 'in_if_boundary':
    case 'out_if_boundary':
      return BOUNDARIES[v] ?? String(v);
    case 'flow_end_reason':
      return END_REASONS[v] ?? String(v);
    case 'tcp_flags':
      return tcpFlags(v);
    case 'in_if_speed':
    case 'out_if_speed':
      return si(v, 'b/s');
    case 'in_if':
    case 'out_if':
      return `if ${v}`;
    default:
      return String(v);
  }
}

/** Dimensions that name another: their value goes in parentheses after the one they name. */
const NAMES: Record<string, string> = {
  src_as_name: 'src_as',
  dst_as_name: 'dst_as',
  in_if_name: 'in_if',
  out_if_name: 'out_if',
  exporter_name: 'exporter_addr',
};

/** A key of several dimensions as one label: `192.0.2.1 · if 12 (xe-0/0/1)`, `AS15169 (GOOGLE)`. A
 * name column beside the column it names is folded into that one's label. */
export function keyLabel(dims: string[], values: Cell[]): string {
  if (isOther(values)) return 'Other';
  const parts: string[] = [];
  const at = new Map<string, number>();
  dims.forEach((dim, i) => {
    const named = NAMES[dim];
    const v = values[i];
    if (named && at.has(named)) {
      if (v !== null && v !== '') parts[at.get(named)!] += ` (${v})`;
      return;
    }
    at.set(dim, parts.length);
    parts.push(valueLabel(dim, v));
  });
  return parts.join(' · ');
}

/** The label of a schema field in headings: `dst_port` is `Dst port`. */
export function fieldTitle(name: string): string {
  const words: Record<string, string> = {
    addr: 'address',
    as: 'AS',
    if: 'interface',
    proto: 'protocol',
    src: 'source',
    dst: 'destination',
    etype: 'EtherType',
    tos: 'ToS',
    tcp: 'TCP',
    icmp: 'ICMP',
    vlan: 'VLAN',
    mac: 'MAC',
    bgp: 'BGP',
  };
  const s = name
    .split('_')
    .map((w) => words[w] ?? w)
    .join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
