import { describe, expect, it, vi } from 'vitest';
import { count, durationWord, keyLabel, measure, parseDuration, parseTime, percent, rfc3339, si, tcpFlags, clock, setZone, valueLabel, zoneName } from '../src/format';

describe('units', () => {
  it('writes bits per second with SI prefixes', () => {
    expect(measure('bps', 0)).toBe('0 b/s');
    expect(measure('bps', 999)).toBe('999 b/s');
    expect(measure('bps', 1000)).toBe('1.00 Kb/s');
    expect(measure('bps', 1_250_000)).toBe('1.25 Mb/s');
    expect(measure('bps', 12_500_000)).toBe('12.5 Mb/s');
    expect(measure('bps', 125_000_000)).toBe('125 Mb/s');
    expect(measure('bps', 9.87e9)).toBe('9.87 Gb/s');
    expect(measure('bps', 4e12)).toBe('4.00 Tb/s');
    expect(measure('bps', -3.4e9)).toBe('-3.40 Gb/s');
    expect(measure('pps', 1500)).toBe('1.50 Kp/s');
    expect(measure('fps', 2.5)).toBe('2.50 flows/s');
  });

  it('rounds up to the next prefix instead of writing 1000', () => {
    expect(si(999_999, 'b/s')).toBe('1.00 Mb/s');
    expect(si(999.7, 'b/s')).toBe('1.00 Kb/s');
  });

  it('writes counts, shares and times', () => {
    expect(count(1234567)).toBe('1\u202f234\u202f567');
    expect(count(-1000)).toBe('-1\u202f000');
    expect(percent(0.1234)).toBe('12.3 %');
    expect(percent(0.01234)).toBe('1.23 %');
    expect(percent(0.00001)).toBe('< 0.01 %');
    expect(clock('2026-12-07T10:03:00Z')).toBe('2026-12-07 10:03:00');
    expect(rfc3339(Date.UTC(2026, 11, 7, 10, 3, 0, 500))).toBe('2026-12-07T10:03:00Z');
  });

  it("shows and reads times in the browser's zone when chosen", () => {
    vi.stubEnv('TZ', 'Asia/Tokyo');
    try {
      setZone('local');
      expect(zoneName()).toBe('Asia/Tokyo');
      expect(clock('2026-12-07T10:03:00Z')).toBe('2026-12-07 19:03:00');
      expect(parseTime('2026-12-07 19:03')).toBe(Date.UTC(2026, 11, 7, 10, 3));
      // An offset typed wins over the zone chosen.
      expect(parseTime('2026-12-07T10:03:00Z')).toBe(Date.UTC(2026, 11, 7, 10, 3));
    } finally {
      setZone('utc');
      vi.unstubAllEnvs();
    }
    expect(zoneName()).toBe('UTC');
    expect(clock('2026-12-07T10:03:00Z')).toBe('2026-12-07 10:03:00');
  });

  it('reads times and durations people type', () => {
    expect(parseTime('2026-12-07T10:00:00Z')).toBe(Date.UTC(2026, 11, 7, 10));
    expect(parseTime('2026-12-07 10:00')).toBe(Date.UTC(2026, 11, 7, 10));
    expect(parseTime('2026-12-07')).toBe(Date.UTC(2026, 11, 7));
    expect(parseTime('2026-12-07T12:00:00+02:00')).toBe(Date.UTC(2026, 11, 7, 10));
    expect(parseTime('yesterday')).toBeNull();
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('7d')).toBe(604800);
    expect(parseDuration('1x')).toBeNull();
    expect(durationWord(3600)).toBe('1h');
    expect(durationWord(5400)).toBe('90m');
    expect(durationWord(86400 * 7)).toBe('1w');
  });
});

describe('labels', () => {
  it('names protocols and ports beside their numbers', () => {
    expect(valueLabel('proto', 6)).toBe('tcp (6)');
    expect(valueLabel('proto', 17)).toBe('udp (17)');
    expect(valueLabel('proto', 253)).toBe('253');
    expect(valueLabel('dst_port', 443)).toBe('https (443)');
    expect(valueLabel('dst_port', 40000)).toBe('40000');
    expect(valueLabel('etype', 0x86dd)).toBe('IPv6 (0x86dd)');
    expect(valueLabel('dst_country', '')).toBe('(none)');
    expect(tcpFlags(0x12)).toBe('...A..S.');
  });

  it('folds a name column into the column it names', () => {
    expect(keyLabel(['src_as', 'src_as_name'], [15169, 'GOOGLE'])).toBe('AS15169 (GOOGLE)');
    expect(keyLabel(['exporter_addr', 'in_if', 'in_if_name'], ['192.0.2.1', 12, 'xe-0/0/1'])).toBe('192.0.2.1 · if 12 (xe-0/0/1)');
    expect(keyLabel(['src_as', 'src_as_name'], [64500, ''])).toBe('AS64500');
    expect(keyLabel(['proto', 'dst_port'], [null, null])).toBe('Other');
  });
});

describe('spans', () => {
  it('say the two largest units', async () => {
    const { span } = await import('../src/format');
    expect(span(505)).toBe('8m 25s');
    expect(span(45)).toBe('45s');
    expect(span(7200)).toBe('2h');
    expect(span(7500)).toBe('2h 5m');
    expect(span(3 * 86400 + 4 * 3600 + 59)).toBe('3d 4h');
  });
});
