import { useMemo } from 'preact/hooks';
import type { Answer, Exporter, Range } from '../api';
import { count, fieldTitle, si, clock, zoneName } from '../format';
import { useLoad, useShared } from '../hooks';

/** Counters shown as columns, in this order; the others the server reports are in the exporter's
 * tooltip. */
const COLUMNS = ['datagrams', 'records', 'errors', 'templates', 'pending_sets', 'sequence_gaps', 'lost_records', 'restarts'];
const NOT_COUNTERS = new Set(['exporter', 'dialect', 'domain']);

/** An IPv4 exporter as flows name it, whether or not it is written IPv4-mapped. */
const plain = (a: string) => a.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');

/** The exporters: what their decoders counted since the collector started, and what they sent in the
 * range, with how long ago they were last heard. */
export function ExportersPanel({ range, tick }: { range: Range; tick: number }) {
  const { api } = useShared();
  const ex = useLoad<Exporter[]>(`exporters:${tick}`, (s) => api.exporters(s));
  const sum = useLoad<Answer>(JSON.stringify([range, tick]), (s) => api.summary({ range }, s));

  const seen = useMemo(() => {
    const m = new Map<string, { flows: number; bytes: number; last: string | null; name: string }>();
    const a = sum.data;
    if (!a) return m;
    const c = (n: string) => a.columns.indexOf(n);
    const lastAt = c('last_seen') >= 0 ? c('last_seen') : c('last');
    const nameAt = c('exporter_name');
    for (const r of a.rows) {
      const e = r[c('exporter_addr')];
      if (e === null || e === undefined) continue;
      m.set(plain(String(e)), {
        flows: Number(r[c('flows')] ?? 0),
        bytes: Number(r[c('bytes')] ?? 0),
        last: (r[lastAt] as string | null) ?? null,
        name: nameAt >= 0 ? String(r[nameAt] ?? '') : '',
      });
    }
    return m;
  }, [sum.data]);

  const list = ex.data ?? [];
  const counters = useMemo(() => {
    const names = new Set<string>();
    for (const e of list) {
      for (const [k, v] of Object.entries(e)) if (typeof v === 'number' && !NOT_COUNTERS.has(k)) names.add(k);
    }
    return COLUMNS.filter((n) => names.has(n));
  }, [ex.data]);

  /** Every other counter, and errors by kind, as tooltip text. */
  const more = (e: Exporter | null) => {
    if (!e) return '';
    const lines: string[] = [];
    for (const [k, v] of Object.entries(e)) {
      if (typeof v === 'number' && !NOT_COUNTERS.has(k) && !counters.includes(k)) lines.push(`${fieldTitle(k)}: ${count(v)}`);
    }
    return lines.join('\n');
  };
  const errorKinds = (e: Exporter | null) => {
    const by = e?.errors_by_kind;
    if (!by || typeof by !== 'object') return '';
    return Object.entries(by as Record<string, number>)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k}: ${count(n)}`)
      .join('\n');
  };

  /** `1:1000`, `unsampled`, or several rates busiest first, as the exporter's flows carried them. */
  const sampling = (e: Exporter | null) =>
    (e?.sampling_rates ?? [])
      .slice()
      .sort((a, b) => b.flows - a.flows)
      .map((r) => (r.rate <= 1 ? 'unsampled' : `1:${r.rate}`))
      .join(', ');

  // Exporters that sent flows in the range but are not (or no longer) in the decoders' list.
  const known = new Set(list.map((e) => plain(e.exporter)));
  const extra = [...seen.keys()].filter((a) => !known.has(a));
  const now = Date.now();
  const health = (last: string | null | undefined) => {
    if (!last) return ['idle', 'nothing in the range'];
    const ago = (now - Date.parse(last)) / 1000;
    if (ago < 120) return ['ok', `last flow ${Math.round(ago)} s ago`];
    if (ago < 900) return ['late', `last flow ${Math.round(ago / 60)} min ago`];
    return ['idle', `last flow ${clock(last)} ${zoneName()}`];
  };

  return (
    <section class="report exporters" id="report-exporters">
      <h2>Exporters</h2>
      {ex.error && <div class="error">{ex.error.message}</div>}
      <div class="scroll">
        <table class="grid">
          <thead>
            <tr>
              <th></th>
              <th>Exporter</th>
              <th>Name</th>
              <th>Dialect</th>
              <th class="num">Domain</th>
              <th title="sampling rates of its flows over the last hour">Sampling</th>
              {counters.map((c) => (
                <th class="num">{fieldTitle(c)}</th>
              ))}
              <th class="num">Flows in range</th>
              <th class="num">Bytes in range</th>
              <th>Last flow ({zoneName()})</th>
            </tr>
          </thead>
          <tbody>
            {list.length === 0 && extra.length === 0 && !ex.loading && (
              <tr>
                <td colSpan={9 + counters.length} class="empty">
                  No exporter has sent anything yet.
                </td>
              </tr>
            )}
            {[...list.map((e) => ({ e, addr: plain(e.exporter) })), ...extra.map((addr) => ({ e: null, addr }))].map(
              ({ e, addr }) => {
                const s = seen.get(addr);
                const [state, why] = health(s?.last);
                return (
                  <tr data-exporter={addr}>
                    <td>
                      <i class={`health ${state}`} title={why} />
                    </td>
                    <td title={more(e)}>{addr}</td>
                    <td>{s?.name ?? ''}</td>
                    <td>{e?.dialect ?? ''}</td>
                    <td class="num">{e?.domain ?? ''}</td>
                    <td>{sampling(e)}</td>
                    {counters.map((c) => {
                      const v = e?.[c];
                      const bad = typeof v === 'number' && v > 0 && /error|gap|lost|drop|restart|late/.test(c);
                      return (
                        <td class={`num ${bad ? 'bad' : ''}`} title={c === 'errors' ? errorKinds(e) : undefined}>
                          {typeof v === 'number' ? count(v) : ''}
                        </td>
                      );
                    })}
                    <td class="num">{s ? count(s.flows) : ''}</td>
                    <td class="num">{s ? si(s.bytes, 'B') : ''}</td>
                    <td>{s?.last ? clock(s.last) : ''}</td>
                  </tr>
                );
              },
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
