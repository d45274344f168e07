import { describe, expect, it } from 'vitest';
import { compareSeconds, defaults, format, parse, rangeSeconds, type State } from '../src/state';

describe('URL state', () => {
  const cases: State[] = [
    defaults('dashboard'),
    { ...defaults('dashboard'), range: { since: '7d' }, filter: 'proto tcp and dst port 443', refresh: 60, direction: '', hidden: ['proto:6', 'dst_port:443'] },
    { ...defaults('dashboard'), direction: '7@192.0.2.1' },
    defaults('explorer'),
    {
      ...defaults('explorer'),
      range: { from: '2026-12-07T10:00:00Z', to: '2026-12-07T11:00:00Z' },
      filter: 'dst_country = "JP" # a comment\nor src_as in [15169, 13335]',
      dims: ['src_as', 'dst_as', 'dst_port'],
      metric: 'pps',
      graph: 'sankey',
      limit: 25,
      other: false,
      direction: 'exporter',
      compare: '1d',
      hidden: ['6|443', '~|~'],
    },
    { ...defaults('explorer'), dims: [] },
    defaults('flows'),
    { ...defaults('flows'), order: 'bytes:desc', limit: 500, offset: 1500, all: true, filter: 'proto = 6 and dst_port = 443' },
  ];

  for (const s of cases) {
    it(`round-trips ${format(s)}`, () => {
      expect(parse(format(s))).toEqual(s);
    });
  }

  it('leaves defaults out of the URL', () => {
    expect(format(defaults('dashboard'))).toBe('#/dashboard');
    expect(format(defaults('explorer'))).toBe('#/explorer');
    expect(format({ ...defaults('explorer'), range: { since: '6h' } })).toBe('#/explorer?since=6h');
  });

  it('falls back to defaults for unknown or bad values', () => {
    expect(parse('')).toEqual(defaults('dashboard'));
    expect(parse('#/nowhere?since=bogus')).toEqual(defaults('dashboard'));
    const e = parse('#/explorer?metric=xyz&graph=pie&limit=-3');
    expect(e).toEqual(defaults('explorer'));
  });

  it('keeps a from without a to as the default range', () => {
    expect(parse('#/flows?from=2026-12-07T10:00:00Z').range).toEqual({ since: '1h' });
  });

  it('measures ranges and compare offsets', () => {
    expect(rangeSeconds({ since: '6h' })).toBe(21600);
    expect(rangeSeconds({ from: '2026-12-07T10:00:00Z', to: '2026-12-07T10:15:00Z' })).toBe(900);
    expect(compareSeconds('', { since: '1h' })).toBeUndefined();
    expect(compareSeconds('prev', { since: '24h' })).toBe(86400);
    expect(compareSeconds('7d', { since: '1h' })).toBe(604800);
  });
});

describe('graph buckets', () => {
  it('give at most 240 points, in whole minutes from an hour up', async () => {
    const { autoStep } = await import('../src/state');
    expect(autoStep(900)).toBe(10);
    expect(autoStep(3600)).toBe(60);
    expect(autoStep(7200)).toBe(60);
    expect(autoStep(6 * 3600)).toBe(120);
    expect(autoStep(24 * 3600)).toBe(600);
    expect(autoStep(7 * 86400)).toBe(3600);
    expect(autoStep(400 * 86400)).toBe(86400);
  });
});
