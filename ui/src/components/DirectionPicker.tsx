import { useEffect, useState } from 'preact/hooks';

interface Props {
  value: string;
  onChange: (direction: string) => void;
}

/** Whether traffic is split into in (drawn below the axis) and out (above): as the exporters report it,
 * through one interface, or not at all. */
export function DirectionPicker({ value, onChange }: Props) {
  const mode = value === '' ? 'none' : value === 'exporter' ? 'exporter' : 'interface';
  const [iface, setIface] = useState(mode === 'interface' ? value : '');
  useEffect(() => {
    if (mode === 'interface') setIface(value);
  }, [value]);
  const valid = /^\d+(@\S+)?$/.test(iface.trim());
  return (
    <span class="direction">
      <label>
        direction{' '}
        <select
          name="direction"
          value={mode}
          onChange={(e) => {
            const m = e.currentTarget.value;
            if (m === 'none') onChange('');
            else if (m === 'exporter') onChange('exporter');
            else if (valid) onChange(iface.trim());
            else setIface(' ');
          }}
        >
          <option value="exporter">in / out (exporter)</option>
          <option value="interface">in / out of an interface</option>
          <option value="none">total</option>
        </select>
      </label>
      {(mode === 'interface' || iface !== '') && (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (valid) onChange(iface.trim());
          }}
        >
          <input
            name="interface"
            class={iface.trim() && !valid ? 'bad' : ''}
            placeholder="IFINDEX@EXPORTER"
            title="Interface index, and the exporter it belongs to: 7@192.0.2.1"
            value={iface.trim()}
            size={18}
            onInput={(e) => setIface(e.currentTarget.value)}
          />
        </form>
      )}
    </span>
  );
}
