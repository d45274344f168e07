// The typed client of Weir's JSON API (`/api/v1/`): every request and answer shape the UI relies on is
// written here and nowhere else.

/** One value of an answer: numbers, strings (addresses, names, RFC 3339 times), lists (AS paths), or
 * null (the key of the Other row, or of the total). */
export type Cell = number | string | boolean | null | Cell[];

/** The answer to every traffic question: a table of named columns. */
export interface Answer {
  columns: string[];
  rows: Cell[][];
  /** The table that answered (`flows`, `flows_1m`, `traffic_1h`, ...). */
  table: string;
  /** The range answered: the range asked, widened to whole buckets for bucketed answers. */
  range: { from: string; to: string };
  /** Bucket width in seconds, when the answer is in buckets. */
  step: number | null;
  warnings: string[];
  /** The same question over the earlier period, when `compare` asked for it. */
  compare: Answer | null;
}

/** The flows received in the last `since` (`15m`, `1h`, `7d`), or between two RFC 3339 times. */
export type Range = { since: string } | { from: string; to: string };

export type Metric = 'bytes' | 'packets' | 'flows';
export type Unit = 'total' | 'rate';
export type Agg = 'total' | 'avg' | 'max' | 'p95';

/** `exporter` (as the exporter reports each flow), or `IFINDEX` / `IFINDEX@EXPORTER` (through one
 * interface). Traffic in comes back negative. */
export type Direction = string;

export interface Traffic {
  range: Range;
  filter?: string;
}

export interface TopParams extends Traffic {
  dims: string[];
  by?: Metric;
  unit?: Unit;
  agg?: Agg;
  step?: number;
  limit?: number;
  other?: boolean;
  direction?: Direction;
  /** Seconds before: the same question over that earlier period, answered beside. */
  compare?: number;
}

export interface SeriesParams extends Traffic {
  split: string[];
  limit?: number;
  by?: Metric;
  unit?: Unit;
  step?: number;
  direction?: Direction;
  compare?: number;
}

export interface FlowsParams extends Traffic {
  /** `FIELD` or `FIELD:asc` / `FIELD:desc`. */
  order?: string;
  limit?: number;
  offset?: number;
}

/** One exporter's decoder counters, from `/api/v1/exporters`. */
export interface Exporter {
  exporter: string;
  dialect?: string;
  domain?: number;
  datagrams?: number;
  records?: number;
  errors?: number;
  /** The sampling rates the exporter's flows carried over the last hour (null without a store). */
  sampling_rates?: Array<{ rate: number; flows: number }> | null;
  [counter: string]: unknown;
}

/** One schema column, from `/api/v1/fields`. */
export interface Field {
  name: string;
  kind: string;
  dimension: boolean;
  /** Whether filters can test it: networks (`src_net`) only key and split. */
  filter?: boolean;
  doc: string;
}

export interface FilterError {
  message: string;
  line?: number;
  column?: number;
}

export type FilterCheck = { ok: true } | { ok: false; error: FilterError };

/** An answer of HTTP 4xx or 5xx: the server's message, and where in which parameter when it knows. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly param?: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The measure column of a traffic answer: volumes are named by the metric, rates by their unit. */
export function measureColumn(by: Metric, unit: Unit): string {
  if (unit === 'total') return by;
  return { bytes: 'bps', packets: 'pps', flows: 'fps' }[by];
}

type Params = Record<string, string | number | boolean | undefined>;

/** The query string of a request; parameters left undefined or empty are not sent. */
export function queryString(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function traffic(t: Traffic): Params {
  const r = 'since' in t.range ? { since: t.range.since } : { from: t.range.from, to: t.range.to };
  return { ...r, filter: t.filter?.trim() || undefined };
}

export class Api {
  /** `base` is where the API lives relative to the page, so the UI works under any prefix. */
  constructor(
    readonly base = 'api/',
    private readonly fetcher: typeof fetch = (...a) => fetch(...a),
  ) {}

  /** Requests in flight by URL: a view asking what another view already asked (the dashboard's totals and
   * its exporters panel both ask for the range's summary) shares that request instead of the server
   * answering it twice. The request is cancelled once every view that shares it has let go. */
  private readonly inflight = new Map<string, { answer: Promise<unknown>; users: number; ctl: AbortController }>();

  private get<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
    const url = `${this.base}${path}${queryString(params)}`;
    let shared = this.inflight.get(url);
    if (!shared) {
      const ctl = new AbortController();
      const answer = this.fetchJson<T>(path, url, ctl.signal);
      const entry = { answer, users: 0, ctl };
      const done = () => {
        if (this.inflight.get(url) === entry) this.inflight.delete(url);
      };
      answer.then(done, done);
      this.inflight.set(url, entry);
      shared = entry;
    }
    const s = shared;
    s.users += 1;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        s.users -= 1;
        if (s.users === 0) {
          s.ctl.abort();
          if (this.inflight.get(url) === s) this.inflight.delete(url);
        }
        reject(new DOMException('The request was cancelled', 'AbortError'));
      };
      if (signal?.aborted) {
        leave();
        return;
      }
      signal?.addEventListener('abort', leave, { once: true });
      s.answer.then(
        (v) => {
          signal?.removeEventListener('abort', leave);
          resolve(v as T);
        },
        (e: unknown) => {
          signal?.removeEventListener('abort', leave);
          reject(e);
        },
      );
    });
  }

  private async fetchJson<T>(path: string, url: string, signal: AbortSignal): Promise<T> {
    const res = await this.fetcher(url, {
      signal,
      headers: { accept: 'application/json' },
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const e = (body as { error?: { message?: string; param?: string; line?: number; column?: number } })
        ?.error;
      throw new ApiError(
        e?.message ?? (text.trim() || `${res.status} ${res.statusText}`),
        res.status,
        e?.param,
        e?.line,
        e?.column,
      );
    }
    if (body === undefined) throw new ApiError(`${path}: the answer is not JSON`, res.status);
    return body as T;
  }

  summary(t: Traffic, signal?: AbortSignal): Promise<Answer> {
    return this.get('v1/summary', traffic(t), signal);
  }

  top(p: TopParams, signal?: AbortSignal): Promise<Answer> {
    return this.get(
      'v1/top',
      {
        ...traffic(p),
        dims: p.dims.join(','),
        by: p.by,
        unit: p.unit,
        agg: p.agg,
        step: seconds(p.step),
        limit: p.limit,
        other: p.other,
        direction: p.direction,
        compare: seconds(p.compare),
      },
      signal,
    );
  }

  series(p: SeriesParams, signal?: AbortSignal): Promise<Answer> {
    return this.get(
      'v1/series',
      {
        ...traffic(p),
        split: p.split.join(','),
        limit: p.limit,
        by: p.by,
        unit: p.unit,
        step: seconds(p.step),
        direction: p.direction,
        compare: seconds(p.compare),
      },
      signal,
    );
  }

  flows(p: FlowsParams, signal?: AbortSignal): Promise<Answer> {
    return this.get(
      'v1/flows',
      { ...traffic(p), order: p.order, limit: p.limit, offset: p.offset },
      signal,
    );
  }

  sizes(t: Traffic, signal?: AbortSignal): Promise<Answer> {
    return this.get('v1/sizes', traffic(t), signal);
  }

  async exporters(signal?: AbortSignal): Promise<Exporter[]> {
    const r = await this.get<{ exporters: Exporter[] }>('v1/exporters', {}, signal);
    return r.exporters;
  }

  async fields(signal?: AbortSignal): Promise<Field[]> {
    const r = await this.get<{ fields: Field[] }>('v1/fields', {}, signal);
    return r.fields.map((f) => ({ ...f, doc: (f.doc ?? '').trim() }));
  }

  checkFilter(q: string, signal?: AbortSignal): Promise<FilterCheck> {
    return this.get('v1/filter', { q }, signal);
  }
}

/** Whether a key is the Other row (or series) of a top-N or a split series: the server leaves its key
 * columns null (a stored value never is, so an application or country called "Other" stays itself). */
export function isOther(values: Cell[]): boolean {
  return values.length > 0 && values.every((v) => v === null);
}

/** Seconds as the API's durations (`step`, `compare`) read them. */
export function seconds(n: number | undefined): string | undefined {
  return n === undefined ? undefined : `${Math.round(n)}s`;
}

/** The bucket column of a series answer: `time` (or `time_received`, as the command line names it). */
export function timeColumn(a: Answer): number {
  const i = a.columns.indexOf('time');
  return i >= 0 ? i : a.columns.indexOf('time_received');
}

/** The column index of `name` in `a`, or -1. */
export function col(a: Answer, name: string): number {
  return a.columns.indexOf(name);
}
