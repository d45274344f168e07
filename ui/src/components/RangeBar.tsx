import { useEffect, useState } from 'preact/hooks';
import type { Range } from '../api';
import { useZone } from '../hooks';
import { clock, parseTime, rfc3339, zoneName, type Zone } from '../format';
import { PRESETS } from '../state';

interface Props {
  range: Range;
  refresh: number;
  onRange: (r: Range) => void;
  onRefresh: (seconds: number) => void;
  /** When the current answer was made, for "updated" text. */
  loading?: boolean;
}

const REFRESH = [
  [0, 'off'],
  [30, '30 s'],
  [60, '1 min'],
  [300, '5 min'],
] as const;

/** Time range: presets, free from/to in the chosen time zone (UTC or the browser's), and automatic refresh
 * of relative ranges. */
export function RangeBar({ range, refresh, onRange, onRefresh, loading }: Props) {
  const [zone, setZone] = useZone();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [bad, setBad] = useState('');
  useEffect(() => {
    if ('from' in range) {
      setFrom(clock(range.from));
      setTo(clock(range.to));
    } else {
      setFrom('');
      setTo('');
    }
    setBad('');
  }, ['from' in range ? `${range.from}/${range.to}` : range.since, zone]);

  const apply = (e: Event) => {
    e.preventDefault();
    const f = parseTime(from);
    const t = to.trim() === '' || to.trim() === 'now' ? Date.now() : parseTime(to);
    if (f === null) return setBad('from');
    if (t === null) return setBad('to');
    if (t <= f) return setBad('to');
    setBad('');
    onRange({ from: rfc3339(f), to: rfc3339(t) });
  };

  const since = 'since' in range ? range.since : '';
  return (
    <form class="rangebar" onSubmit={apply}>
      <span class="presets" role="group" aria-label="Last">
        {PRESETS.map((p) => (
          <button
            type="button"
            class={since === p ? 'on' : ''}
            data-preset={p}
            onClick={() => onRange({ since: p })}
          >
            {p}
          </button>
        ))}
      </span>
      <label>
        from{' '}
        <input
          name="from"
          class={bad === 'from' ? 'bad' : ''}
          value={from}
          placeholder={since ? `now − ${since}` : 'YYYY-MM-DD HH:MM'}
          onInput={(e) => setFrom(e.currentTarget.value)}
          size={19}
        />
      </label>
      <label>
        to{' '}
        <input
          name="to"
          class={bad === 'to' ? 'bad' : ''}
          value={to}
          placeholder="now"
          onInput={(e) => setTo(e.currentTarget.value)}
          size={19}
        />
      </label>
      <select
        name="zone"
        class="zone"
        title="Time zone of the times shown and typed"
        value={zone}
        onChange={(e) => setZone(e.currentTarget.value as Zone)}
      >
        <option value="utc">UTC</option>
        <option value="local">{zone === 'local' ? zoneName() : 'local time'}</option>
      </select>
      <button type="submit">Apply</button>
      <label class="refresh" title={'since' in range ? '' : 'Only a range relative to now refreshes'}>
        refresh{' '}
        <select
          name="refresh"
          value={String(refresh)}
          onChange={(e) => onRefresh(Number(e.currentTarget.value))}
        >
          {REFRESH.map(([s, label]) => (
            <option value={String(s)}>{label}</option>
          ))}
        </select>
      </label>
      <span class={`spinner ${loading ? 'on' : ''}`} aria-hidden="true" />
    </form>
  );
}
