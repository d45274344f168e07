import { describe, expect, it } from 'vitest';
import { and, directionFilter, keyFilter, literal, otherFilter, sizeFilter } from '../src/drill';
import { complete, completions, offsetOf, wordAt } from '../src/complete';

describe('drill-down filters', () => {
  it('writes a key as comparisons', () => {
    expect(keyFilter(['proto', 'dst_port'], [6, 443])).toBe('proto = 6 and dst_port = 443');
    expect(keyFilter(['src_addr'], ['2001:db8::1'])).toBe('src_addr = 2001:db8::1');
    expect(keyFilter(['dst_country'], ['JP'])).toBe('dst_country = "JP"');
    expect(literal('in_if_name', 'a "b"\\')).toBe('"a \\"b\\"\\\\"');
  });

  it('writes a network key as the network and the mask that named it', () => {
    expect(keyFilter(['src_net', 'dst_net'], ['10.0.0.0/16', '198.51.100.0/24'])).toBe(
      'src net 10.0.0.0/16 and src_mask = 16 and dst net 198.51.100.0/24 and (dst_mask = 24 or dst_mask = 0 or dst_mask > 32)',
    );
    expect(keyFilter(['dst_net'], ['2001:db8::/48'])).toBe(
      'dst net 2001:db8::/48 and (dst_mask = 48 or dst_mask = 0 or dst_mask > 128)',
    );
    expect(otherFilter(['src_net'], [['10.0.0.0/16'], [null]])).toBe('not ((src net 10.0.0.0/16 and src_mask = 16))');
  });

  it('writes Other as none of the top keys', () => {
    expect(otherFilter(['proto'], [[6], [17], [null]])).toBe('not proto in [6, 17]');
    expect(otherFilter(['proto', 'dst_port'], [[6, 443], [17, 53]])).toBe(
      'not ((proto = 6 and dst_port = 443) or (proto = 17 and dst_port = 53))',
    );
  });

  it('narrows a filter without changing what it meant', () => {
    expect(and('', 'proto = 6')).toBe('proto = 6');
    expect(and('proto tcp', 'dst_port = 443')).toBe('proto tcp and dst_port = 443');
    expect(and('port 53 or port 853', 'proto = 17')).toBe('(port 53 or port 853) and proto = 17');
    expect(and('proto tcp # web', 'dst_port = 443')).toBe('(proto tcp # web\n) and dst_port = 443');
  });

  it('selects one direction', () => {
    expect(directionFilter('exporter', 'in')).toBe('flow_direction = 1');
    expect(directionFilter('exporter', 'out')).toBe('flow_direction = 2');
    expect(directionFilter('7@192.0.2.1', 'in')).toBe('in_if = 7 and exporter_addr = 192.0.2.1');
    expect(directionFilter('7', 'out')).toBe('out_if = 7');
    expect(directionFilter('', 'out')).toBe('');
  });

  it('selects a packet-size bucket', () => {
    const edges = [32, 64, 96, 4608];
    expect(sizeFilter(edges, 0)).toBe('bpp < 33');
    expect(sizeFilter(edges, 1)).toBe('bpp >= 33 and bpp < 65');
    expect(sizeFilter(edges, 3)).toBe('bpp >= 97');
  });
});

describe('filter completion', () => {
  const fields = ['dst_addr', 'dst_as', 'dst_country', 'dst_port', 'src_port', 'proto'];

  it('completes the word under the cursor', () => {
    expect(completions('dst_c', 5, fields)).toEqual(['dst_country']);
    expect(completions('proto tcp and dst_', 18, fields).slice(0, 4)).toEqual(['dst_addr', 'dst_as', 'dst_country', 'dst_port']);
    expect(completions('port', 4, fields)).toEqual(['dst_port', 'src_port']);
    expect(completions('dst_country = "dst_', 19, fields)).toEqual([]);
    expect(completions('10.0', 4, fields)).toEqual([]);
  });

  it('replaces the word and moves the cursor past it', () => {
    expect(complete('proto tcp and dst_c', 19, 'dst_country')).toEqual({ text: 'proto tcp and dst_country ', pos: 26 });
    expect(complete('dst_c = JP', 5, 'dst_country')).toEqual({ text: 'dst_country = JP', pos: 12 });
    expect(wordAt('a # dst_c', 9)).toBeNull();
  });

  it('finds the offset of a line and column', () => {
    expect(offsetOf('proto tcp\nand dst_contry = JP', 2, 5)).toBe(14);
    expect(offsetOf('é x', 1, 3)).toBe(2);
    expect(offsetOf('abc', 5, 9)).toBe(3);
  });
});

describe('flows counted by a directional graph', () => {
  it('are those with a direction', async () => {
    const { anyDirectionFilter } = await import('../src/drill');
    expect(anyDirectionFilter('exporter')).toBe('flow_direction in [1, 2]');
    expect(anyDirectionFilter('3@2001:db8::1')).toBe('(in_if = 3 or out_if = 3) and exporter_addr = 2001:db8::1');
    expect(anyDirectionFilter('')).toBe('');
  });
});

describe('MAC addresses', () => {
  it('are written as colon-separated bytes whether they come as numbers or text', async () => {
    const { mac, valueLabel } = await import('../src/format');
    expect(mac(0x001b213a4f5c)).toBe('00:1b:21:3a:4f:5c');
    expect(mac(0)).toBe('00:00:00:00:00:00');
    expect(valueLabel('src_mac', 0x001b213a4f5c)).toBe('00:1b:21:3a:4f:5c');
    expect(keyFilter(['dst_mac'], [0x001b213a4f5c])).toBe('dst_mac = 00:1b:21:3a:4f:5c');
    expect(keyFilter(['dst_mac'], ['00:1b:21:3a:4f:5c'])).toBe('dst_mac = 00:1b:21:3a:4f:5c');
  });
});
