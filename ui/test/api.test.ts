import { describe, expect, it } from 'vitest';
import { Api } from '../src/api';

/** A fetch that answers each URL after `release()`, counting the requests it was sent. */
function fakeFetch() {
  const calls: string[] = [];
  const waiting: Array<() => void> = [];
  const fetcher = ((url: string, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      calls.push(url);
      init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      waiting.push(() => resolve(new Response(JSON.stringify({ fields: [] }), { status: 200 })));
    })) as typeof fetch;
  return { fetcher, calls, release: () => waiting.splice(0).forEach((f) => f()) };
}

describe('requests in flight', () => {
  it('are shared by views asking the same thing, and each view gets the answer', async () => {
    const f = fakeFetch();
    const api = new Api('api/', f.fetcher);
    const a = api.fields();
    const b = api.fields();
    expect(f.calls).toEqual(['api/v1/fields']);
    f.release();
    expect(await a).toEqual([]);
    expect(await b).toEqual([]);
    void api.fields();
    expect(f.calls.length, 'an answered request is not kept').toBe(2);
  });

  it('go on while one view still waits, and stop once every view has let go', async () => {
    const f = fakeFetch();
    const api = new Api('api/', f.fetcher);
    const one = new AbortController();
    const two = new AbortController();
    const a = api.fields(one.signal);
    const b = api.fields(two.signal);
    one.abort();
    await expect(a).rejects.toThrow('cancelled');
    f.release();
    await expect(b).resolves.toEqual([]);

    const c = new AbortController();
    const d = api.fields(c.signal);
    c.abort();
    await expect(d).rejects.toThrow('cancelled');
    const e = api.fields();
    expect(f.calls.length).toBe(3);
    f.release();
    await expect(e).resolves.toEqual([]);
  });
});
