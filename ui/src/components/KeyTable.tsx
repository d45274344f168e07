import { measure as fmt, percent } from '../format';
import type { KeyRow, TrafficModel } from '../traffic';

interface Props {
  model: TrafficModel;
  hidden: ReadonlySet<string>;
  /** Tick or untick rows: the graph leaves unticked ones out and rescales. */
  onToggle: (ids: string[], hide: boolean) => void;
  /** The key was clicked: list its flows. */
  onPick: (k: KeyRow) => void;
  /** Said when there is no traffic. */
  empty?: string;
}

/** The legend of a traffic graph, as a table of averages over the range. */
export function KeyTable({ model, hidden, onToggle, onPick, empty }: Props) {
  const m = model;
  const all = m.keys.map((k) => k.id);
  const anyShown = m.keys.some((k) => !hidden.has(k.id));
  return (
    <table class="keys">
      <thead>
        <tr>
          <th class="tick">
            <input
              type="checkbox"
              checked={anyShown}
              title={anyShown ? 'Untick every row' : 'Tick every row'}
              onChange={() => onToggle(all, anyShown)}
            />
          </th>
          <th class="key">Key</th>
          {m.directional ? (
            <>
              <th class="num">Average (In)</th>
              <th class="num">Average (Out)</th>
              <th class="num">Average (In + Out)</th>
            </>
          ) : (
            <th class="num">Average</th>
          )}
          <th class="num">% Total</th>
        </tr>
      </thead>
      <tbody>
        {m.keys.every((k) => k.avgTotal === 0) && (
          <tr>
            <td colSpan={6} class="empty">
              {empty ?? 'No traffic in this range.'}
            </td>
          </tr>
        )}
        {m.keys.map((k) => {
          const off = hidden.has(k.id);
          return (
            <tr
              key={k.id}
              class={off ? 'off' : ''}
              data-key={k.id}
              data-in={k.avgIn}
              data-out={k.avgOut}
              data-total={k.avgTotal}
            >
              <td class="tick">
                <label class="swatch" style={{ '--c': k.color }}>
                  <input type="checkbox" checked={!off} onChange={() => onToggle([k.id], !off)} />
                  <i />
                </label>
              </td>
              <td class="key">
                <a
                  href="#"
                  title="List the flows"
                  onClick={(e) => {
                    e.preventDefault();
                    onPick(k);
                  }}
                >
                  {k.label}
                </a>
              </td>
              {m.directional && <td class="num">{fmt(m.measure, k.avgIn)}</td>}
              {m.directional && <td class="num">{fmt(m.measure, k.avgOut)}</td>}
              <td class="num">{fmt(m.measure, k.avgTotal)}</td>
              <td class="num">{percent(k.share)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
