import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from '../src/csv';

describe('CSV export', () => {
  it('writes a header and rows with CRLF', () => {
    const text = toCsv(
      ['time_received', 'src_addr', 'proto', 'bytes', 'dst_as_path', 'in_if_name'],
      [
        ['2026-12-07T10:00:00.5Z', '2001:db8::1', 6, 1500, [64500, 15169], 'xe-0/0/1, "uplink"'],
        ['2026-12-07T10:00:01Z', '192.0.2.1', 17, 76, [], null],
      ],
    );
    expect(text).toBe(
      'time_received,src_addr,proto,bytes,dst_as_path,in_if_name\r\n' +
        '2026-12-07T10:00:00.5Z,2001:db8::1,6,1500,64500 15169,"xe-0/0/1, ""uplink"""\r\n' +
        '2026-12-07T10:00:01Z,192.0.2.1,17,76,,\r\n',
    );
  });

  it('quotes line breaks', () => {
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField(null)).toBe('');
  });
});
