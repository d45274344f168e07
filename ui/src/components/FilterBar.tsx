import { useEffect, useRef, useState } from 'preact/hooks';
import type { FilterError } from '../api';
import { complete, completions, offsetOf } from '../complete';
import { useShared } from '../hooks';

interface Props {
  value: string;
  onApply: (text: string) => void;
}

/** The filter, in the filter language: field names complete as they are typed, and the server checks the
 * text as it changes, showing where it is wrong. Enter applies it. */
export function FilterBar({ value, onApply }: Props) {
  const { api, fields } = useShared();
  const [text, setText] = useState(value);
  const [check, setCheck] = useState<FilterError | null>(null);
  const [menu, setMenu] = useState<string[]>([]);
  const [sel, setSel] = useState(0);
  const input = useRef<HTMLTextAreaElement>(null);
  const names = fields.filter((f) => f.filter !== false).map((f) => f.name);

  useEffect(() => setText(value), [value]);

  useEffect(() => {
    if (!text.trim()) {
      setCheck(null);
      return;
    }
    const ctl = new AbortController();
    const t = setTimeout(() => {
      api.checkFilter(text, ctl.signal).then(
        (r) => setCheck(r.ok ? null : r.error),
        () => setCheck(null),
      );
    }, 200);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [text]);

  const shown = check;

  const suggest = (el: HTMLTextAreaElement) => {
    const c = completions(el.value, el.selectionStart ?? el.value.length, names);
    setMenu(c);
    setSel(0);
  };

  const choose = (choice: string) => {
    const el = input.current!;
    const r = complete(el.value, el.selectionStart ?? el.value.length, choice);
    setText(r.text);
    setMenu([]);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(r.pos, r.pos);
    });
  };

  const onKey = (e: KeyboardEvent) => {
    if (menu.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setSel((s) => (s + (e.key === 'ArrowDown' ? 1 : menu.length - 1)) % menu.length);
        return;
      }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.shiftKey && menu[sel])) {
        e.preventDefault();
        choose(menu[sel]);
        return;
      }
      if (e.key === 'Escape') {
        setMenu([]);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      setMenu([]);
      onApply(text.trim());
    }
  };

  const rows = Math.min(4, text.split('\n').length);
  const at = shown?.line !== undefined && shown.column !== undefined ? offsetOf(text, shown.line, shown.column) : -1;
  return (
    <div class={`filterbar ${shown ? 'invalid' : ''}`}>
      <div class="filterbox">
        <textarea
          ref={input}
          name="filter"
          rows={rows}
          spellcheck={false}
          autocomplete="off"
          placeholder="filter: proto tcp and dst port 443, dst_country = JP, src net 10.0.0.0/8 …"
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            suggest(e.currentTarget);
          }}
          onKeyDown={onKey}
          onBlur={() => setTimeout(() => setMenu([]), 150)}
        />
        {menu.length > 0 && (
          <ul class="complete" role="listbox">
            {menu.map((m, i) => (
              <li
                class={i === sel ? 'sel' : ''}
                role="option"
                onMouseDown={(e) => {
                  e.preventDefault();
                  choose(m);
                }}
              >
                {m}
                <small>{fields.find((f) => f.name === m)?.doc ?? ''}</small>
              </li>
            ))}
          </ul>
        )}
        <button type="button" class="apply" onClick={() => onApply(text.trim())} disabled={text.trim() === value}>
          Filter
        </button>
        {value && (
          <button type="button" onClick={() => onApply('')} title="Remove the filter">
            ×
          </button>
        )}
      </div>
      {shown && (
        <div class="filter-error" role="alert">
          {at >= 0 && (
            <code class="where">
              {text.slice(0, at)}
              <mark>{text.slice(at, at + 1) || ' '}</mark>
              {text.slice(at + 1)}
            </code>
          )}
          <span>
            {shown.line !== undefined ? `${shown.line}:${shown.column} ` : ''}
            {shown.message}
          </span>
        </div>
      )}
    </div>
  );
}
