// End-to-end tests of the web UI in a real browser against a real `weir serve`.
//
// A store is written by `weir bench data` (two hours of flows ending an hour ago), `weir serve` runs over
// it on free local ports, and a capture is replayed into it so that an exporter is live. Chromium,
// headless, then drives the UI, and what the pages show is compared with what `weir query` answers on the
// same store.
//
// Environment: WEIR_BIN (default ../target/debug/weir), CHROMIUM (default /usr/bin/chromium),
// E2E_FLOWS (flows in the store, default 20000), E2E_KEEP=1 to keep the temporary directory.

import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const ui = path.resolve(here, '..');
const repo = path.resolve(ui, '..');
const WEIR = path.resolve(ui, process.env.WEIR_BIN ?? '../target/debug/weir');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLOWS = Number(process.env.E2E_FLOWS ?? 20000);
const ARTIFACTS = path.join(here, 'artifacts');
const CAPTURE = path.join(repo, 'fixtures/captures/netgauze/101-NFv9-CISCO_traffic-00.pcap');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-ui-e2e-'));
const DATA = path.join(tmp, 'data');
fs.mkdirSync(ARTIFACTS, { recursive: true });

// --- processes -------------------------------------------------------------------------------------

function weir(args, { allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    execFile(WEIR, args, { maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      if (err && !allowFail) reject(new Error(`weir ${args.join(' ')}: ${stderr || err.message}`));
      else resolve({ stdout, stderr, code: err ? err.code : 0 });
    });
  });
}

/** `weir query` on the store, as objects (its NDJSON output). */
async function query(args) {
  const { stdout } = await weir(['query', '--data', DATA, ...args, '--format', 'json']);
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

function freePort(kind) {
  return new Promise((resolve, reject) => {
    if (kind === 'udp') {
      const s = dgram.createSocket('udp4');
      s.on('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    } else {
      const s = net.createServer();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    }
  });
}

async function waitFor(what, fn, ms = 60000) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

// --- checks ----------------------------------------------------------------------------------------

const results = [];
async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false, error: e });
    console.log(`FAIL ${name}\n     ${String(e.stack ?? e).split('\n').join('\n     ')}`);
    await page?.screenshot({ path: path.join(ARTIFACTS, `failed-${results.length}.png`), fullPage: true }).catch(() => {});
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function close(a, b, what) {
  const tol = Math.max(1e-6, Math.abs(b) * 1e-9);
  assert(Math.abs(a - b) <= tol, `${what}: the page says ${a}, weir query ${b}`);
}

/** `12.5 Mb/s` back to 12.5e6. */
function unSI(text) {
  const m = /^(-?[\d.]+)\s*([KMGTP]?)/.exec(text.trim());
  assert(m, `not a number with a unit: ${JSON.stringify(text)}`);
  return Number(m[1]) * { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 }[m[2]];
}

const PROTOCOLS = { 1: 'icmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 58: 'ipv6-icmp', 132: 'sctp' };
const isOther = (v) => v === null || v === 'Other';

/** `weir query --top DIM --rate --direction exporter` as rows the dashboard's tables should show, in
 * their order (largest first, Other last). */
async function expectedTop(dim, filter = '') {
  const dims = dim.split(',');
  const rows = await query([
    ...(filter ? [filter] : []),
    '--from',
    FROM,
    '--to',
    TO,
    '--top',
    dim,
    '--rate',
    '--direction',
    'exporter',
  ]);
  const byKey = new Map();
  for (const r of rows) {
    const key = isOther(r[dims[0]]) ? 'Other' : dims.map((d) => String(r[d])).join('|');
    const e = byKey.get(key) ?? { key, in: 0, out: 0 };
    if (r.direction === 'in') e.in += Math.abs(r.bps);
    else e.out += Math.abs(r.bps);
    byKey.set(key, e);
  }
  const list = [...byKey.values()].map((e) => ({ ...e, total: e.in + e.out }));
  // The page leaves out keys without traffic, as the series has no buckets for them.
  return list
    .filter((e) => e.total > 0 || e.key !== 'Other')
    .sort((a, b) => Number(a.key === 'Other') - Number(b.key === 'Other') || b.total - a.total);
}

/** The rows of a report's table on the page. */
async function reportRows(report) {
  const sel = `#report-${report} table.keys tbody tr[data-key]`;
  await page.waitForSelector(sel, { timeout: 60000 });
  return page.$$eval(sel, (trs) =>
    trs.map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent.trim());
      return {
        key: tr.dataset.key,
        in: Number(tr.dataset.in),
        out: Number(tr.dataset.out),
        total: Number(tr.dataset.total),
        off: tr.classList.contains('off'),
        label: cells[1],
        cells,
      };
    }),
  );
}

function compareReport(dim, shown, expected) {
  const norm = (k) => (k.split('|').every((p) => p === '~') || k === 'Other' || k.startsWith('Other|') ? 'Other' : k);
  const keys = shown.map((r) => norm(r.key));
  assert(
    JSON.stringify(keys) === JSON.stringify(expected.map((e) => e.key)),
    `${dim}: the page lists ${keys.join(', ')}; weir query ${expected.map((e) => e.key).join(', ')}`,
  );
  for (const [i, e] of expected.entries()) {
    const r = shown[i];
    close(r.in, e.in, `${dim} ${e.key} average in`);
    close(r.out, e.out, `${dim} ${e.key} average out`);
    close(r.total, e.total, `${dim} ${e.key} average in + out`);
    // What is written agrees with the exact value to the three digits shown.
    const written = unSI(r.cells[4]);
    assert(Math.abs(written - e.total) <= Math.max(0.006 * e.total, 0.01), `${dim} ${e.key}: ${r.cells[4]} written for ${e.total}`);
    assert(/b\/s$/.test(r.cells[4]), `${dim} ${e.key}: ${r.cells[4]} has no unit`);
    if (dim === 'proto' && e.key !== 'Other') {
      const name = PROTOCOLS[e.key];
      assert(r.label === (name ? `${name} (${e.key})` : e.key), `proto ${e.key} is labelled ${r.label}`);
    }
    if (dim === 'dst_port' && e.key !== 'Other') {
      assert(r.label === e.key || r.label.endsWith(`(${e.key})`), `port ${e.key} is labelled ${r.label}`);
    }
  }
  const share = shown.reduce((s, r) => s + Number(r.cells[5].replace(/[<\s%]/g, '')), 0);
  assert(Math.abs(share - 100) < 0.5 || shown.length === 0, `${dim}: shares add up to ${share} %`);
}

/** Waits until the page's hash holds `param` (=`value` when given) and the view has answered. */
async function settle() {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForFunction(() => !document.querySelector('.chart.placeholder, .spinner.on'), null, { timeout: 60000 }).catch(() => {});
}

function hashParams() {
  const h = new URL(page.url()).hash;
  return new URLSearchParams(h.slice(h.indexOf('?') + 1));
}

async function shot(name, p = page) {
  await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Every flow the flows view lists, page after page, as the identifying columns. */
async function listedFlows() {
  const rows = [];
  for (;;) {
    await page.waitForTimeout(100);
    await settle();
    await page.waitForFunction(() => document.querySelector('.pager .pos')?.textContent !== '…');
    const page_ = await page.$$eval('table.flowtable', (tables) => {
      const t = tables[0];
      const head = [...t.querySelectorAll('thead th')].map((th) => th.dataset.col);
      return [...t.querySelectorAll('tbody tr')].map((tr) => {
        const tds = [...tr.querySelectorAll('td')];
        const o = {};
        head.forEach((c, i) => {
          o[c] = c === 'time_received' ? tds[i].title : tds[i].textContent.replace(/\u202f/g, '');
        });
        return o;
      });
    });
    rows.push(...page_);
    const next = page.locator('button[name=next]');
    if (await next.isDisabled()) break;
    const before = hashParams().get('offset') ?? '0';
    await next.click();
    await page.waitForFunction((b) => (new URLSearchParams(location.hash.split('?')[1]).get('offset') ?? '0') !== b, before);
  }
  return rows;
}

const flowKey = (f) => [f.time_received, f.src_addr, f.src_port, f.dst_addr, f.dst_port, f.bytes].join(' ');

// --- setup -----------------------------------------------------------------------------------------

const hour = 3600_000;
const startMs = Math.floor(Date.now() / hour) * hour - 3 * hour;
const FROM = new Date(startMs).toISOString().replace('.000Z', 'Z');
const TO = new Date(startMs + 2 * hour).toISOString().replace('.000Z', 'Z');

assert(fs.existsSync(WEIR), `no weir binary at ${WEIR} (build it with cargo build -p weir, or set WEIR_BIN)`);
assert(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);

console.log(`store: ${FLOWS} flows from ${FROM} to ${TO} in ${DATA}`);
await weir(['bench', 'data', '--flows', String(FLOWS), '--hours', '2', '--start', FROM, '--seed', '7', '--out', DATA]);

const udp = await freePort('udp');
const httpPort = await freePort('tcp');
const base = `http://127.0.0.1:${httpPort}/`;
const serveLog = fs.openSync(path.join(tmp, 'serve.log'), 'w');
const serve = spawn(
  WEIR,
  ['serve', '--data', DATA, '--listen', `127.0.0.1:${udp}`, '--no-tcp', '--http', `127.0.0.1:${httpPort}`, '--readers', '1', '--shards', '1'],
  { stdio: ['ignore', serveLog, serveLog] },
);
let page;
let browser;
const stop = async () => {
  await browser?.close().catch(() => {});
  if (serve.exitCode === null) {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
  }
  if (!process.env.E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  else console.log(`kept ${tmp}`);
};
process.on('SIGINT', async () => {
  await stop();
  process.exit(130);
});

try {
  await waitFor('weir serve to answer', async () => (await fetch(`${base}api/v1/fields`)).ok);
  const replay = await weir(['replay', CAPTURE, '--to', `127.0.0.1:${udp}`, '--top-speed']);
  const sent = Number(/Sent (\d+) datagrams?/.exec(replay.stdout + replay.stderr)?.[1] ?? NaN);
  console.log(`replayed ${CAPTURE}: ${sent} datagrams`);

  const profile = path.join(tmp, 'chromium');
  const launch = (more = {}) =>
    chromium.launchPersistentContext(fs.mkdtempSync(`${profile}-`), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1440, height: 1000 },
      acceptDownloads: true,
      ...more,
    });
  browser = await launch();
  page = browser.pages()[0] ?? (await browser.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  const dashboard = `${base}#/dashboard?from=${FROM}&to=${TO}`;

  await check('the dashboard shows the top protocols and ports with the rates weir query gives', async () => {
    await page.goto(dashboard);
    const proto = await reportRows('proto');
    compareReport('proto', proto, await expectedTop('proto'));
    const ports = await reportRows('dst_port');
    compareReport('dst_port', ports, await expectedTop('dst_port'));
    await settle();
    const summary = await query(['--from', FROM, '--to', TO, '--summary']);
    const total = summary.find((r) => r.exporter_addr === null || r.exporter_addr === undefined) ?? summary[0];
    const flows = Number((await page.textContent('[data-total=flows]')).replace(/\D/g, ''));
    assert(flows === total.flows, `the summary says ${flows} flows; weir query ${total.flows}`);
    await shot('dashboard');
  });

  await check('every report of the dashboard has an answer, without errors', async () => {
    await page.goto(dashboard);
    for (const r of ['proto', 'app', 'dst_port', 'src_addr', 'dst_addr', 'nets', 'src_as', 'dst_as', 'in_if', 'out_if', 'src_country', 'dst_country']) {
      await page.waitForSelector(`#report-${r} table.keys tbody tr`, { timeout: 60000 });
    }
    await page.waitForSelector('#report-sizes canvas');
    await settle();
    compareReport('nets', await reportRows('nets'), await expectedTop('src_net,dst_net'));
    const errors = await page.$$eval('.report .error', (es) => es.map((e) => e.textContent));
    assert(errors.length === 0, `errors on the dashboard: ${errors.join(' | ')}`);
  });

  await check('a filter narrows the reports', async () => {
    await page.goto(dashboard);
    await reportRows('proto');
    await page.fill('textarea[name=filter]', 'proto udp');
    await page.press('textarea[name=filter]', 'Enter');
    await page.waitForFunction(() => location.hash.includes('filter=proto+udp'));
    await page.waitForFunction(() => {
      const keys = [...document.querySelectorAll('#report-proto table.keys tbody tr[data-key]')].map((tr) => tr.dataset.key);
      return keys.length > 0 && keys.every((k) => k === '17');
    }, null, { timeout: 60000 });
    compareReport('proto', await reportRows('proto'), await expectedTop('proto', 'proto udp'));
    await page.waitForFunction(() => !document.querySelector('#report-dst_port .meta')?.textContent.includes('refreshing'));
    await settle();
    compareReport('dst_port', await reportRows('dst_port'), await expectedTop('dst_port', 'proto udp'));
    await shot('dashboard-filtered');
  });

  await check('a wrong filter is shown where it is wrong', async () => {
    await page.goto(dashboard);
    const text = 'proto udp and dst_contry = JP';
    await page.fill('textarea[name=filter]', text);
    await page.waitForSelector('.filter-error', { timeout: 10000 });
    const message = await page.textContent('.filter-error span');
    assert(/dst_country/.test(message), `the error says ${message}`);
    const before = await page.$eval('.filter-error .where', (c) => c.firstChild?.textContent ?? '');
    assert(before === 'proto udp and ', `the error is marked after ${JSON.stringify(before)}`);
    await shot('filter-error');
  });

  await check('unticking a row hides its series and rescales the graph, and the URL keeps it', async () => {
    await page.goto(dashboard);
    const rows = await reportRows('proto');
    const top = rows[0];
    const extent = () => page.$eval('#report-proto .graph', (g) => g.dataset.extent.split(',').map(Number));
    const [lo0, hi0] = await extent();
    await page.click(`#report-proto tr[data-key="${top.key}"] .swatch`);
    await page.waitForFunction((k) => location.hash.includes(`hide=proto%3A${k}`), top.key);
    const [lo1, hi1] = await extent();
    assert(Math.abs(lo1) + hi1 < Math.abs(lo0) + hi0, `the axis went from ${lo0}..${hi0} to ${lo1}..${hi1}`);
    await shot('dashboard-unticked');
    await page.reload();
    const again = await reportRows('proto');
    assert(again.find((r) => r.key === top.key)?.off, 'the row is ticked again after a reload');
    const [lo2, hi2] = await extent();
    assert(lo2 === lo1 && hi2 === hi1, 'the axis is not the same after a reload');
  });

  await check('a brushed range lists exactly the flows in it, and exports them as CSV', async () => {
    await page.goto(dashboard);
    await reportRows('proto');
    await settle();
    const box = await page.locator('#report-proto .chart').boundingBox();
    // The graph's plot area starts 64 px in and ends 12 px before the right edge.
    const x = (f) => box.x + 64 + (box.width - 76) * f;
    const y = box.y + box.height / 2;
    await page.mouse.move(x(0.4), y);
    await page.mouse.down();
    await page.mouse.move(x(0.47), y, { steps: 8 });
    await page.mouse.up();
    await page.waitForSelector('#report-proto .brushed');
    await shot('dashboard-brushed');
    await page.click('#report-proto .brushed button.primary');
    await page.waitForFunction(() => location.hash.startsWith('#/flows'));
    const q = hashParams();
    const from = q.get('from');
    const to = q.get('to');
    const filter = q.get('filter') ?? '';
    const [f, t] = [Date.parse(from), Date.parse(to)];
    assert(f >= startMs && t <= startMs + 2 * hour && t > f, `brushed ${from}..${to} is not inside ${FROM}..${TO}`);
    const minutes = (t - f) / 60000;
    assert(minutes > 5 && minutes < 12, `brushed ${minutes} minutes for 7 % of two hours`);
    await page.selectOption('select[name=limit]', '1000');
    const listed = await listedFlows();
    await shot('flows-brushed');
    const expected = await query([...(filter ? [filter] : []), '--from', from, '--to', to, '--flows', '--limit', '100000']);
    assert(listed.length === expected.length, `the page lists ${listed.length} flows; weir query ${expected.length}`);
    assert(listed.length > 0, 'no flows in the brushed range');
    const want = expected.map((r) => flowKey({ ...r, src_port: String(r.src_port), dst_port: String(r.dst_port), bytes: String(r.bytes) })).sort();
    const got = listed.map(flowKey).sort();
    const diff = got.filter((k, i) => k !== want[i]);
    assert(diff.length === 0, `${diff.length} flows differ, e.g. ${diff[0]}`);
    for (const r of listed) {
      const tr = Date.parse(r.time_received);
      assert(tr >= f && tr < t + 1, `a flow at ${r.time_received} is outside ${from}..${to}`);
    }

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[name=csv-all]')]);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    const lines = csv.split('\r\n').filter(Boolean);
    const { stdout } = await weir(['query', '--data', DATA, ...(filter ? [filter] : []), '--from', from, '--to', to, '--flows', '--limit', '100000', '--format', 'csv']);
    const cli = stdout.split('\n').filter(Boolean);
    assert(lines[0] === cli[0], `CSV header ${lines[0].slice(0, 80)}… is not weir query's ${cli[0].slice(0, 80)}…`);
    assert(lines.length === cli.length, `the CSV has ${lines.length - 1} flows; weir query ${cli.length - 1}`);
    const a = lines.slice(1).sort();
    const b = cli.slice(1).sort();
    const d = a.findIndex((l, i) => l !== b[i]);
    assert(d < 0, `CSV line differs from weir query's:\n${a[d]}\n${b[d]}`);
  });

  await check('clicking a key lists the flows of that key', async () => {
    await page.goto(dashboard);
    const rows = await reportRows('proto');
    const udpRow = rows.find((r) => r.key === '17');
    assert(udpRow, 'no udp row');
    await page.click(`#report-proto tr[data-key="17"] td.key a`);
    await page.waitForFunction(() => location.hash.startsWith('#/flows'));
    const filter = hashParams().get('filter');
    assert(/proto = 17/.test(filter), `the flows' filter is ${filter}`);
    await page.waitForSelector('table.flowtable tbody tr');
    const protos = await page.$$eval('table.flowtable tbody tr', (trs) => {
      const head = [...document.querySelectorAll('table.flowtable thead th')].map((th) => th.dataset.col);
      const i = head.indexOf('proto');
      return [...new Set(trs.map((tr) => tr.children[i].textContent))];
    });
    assert(protos.length === 1 && protos[0] === 'udp', `listed protocols: ${protos.join(', ')}`);
    const expected = await query([filter, '--from', FROM, '--to', TO, '--flows', '--limit', '100']);
    const n = await page.$$eval('table.flowtable tbody tr', (trs) => trs.length);
    assert(n === expected.length, `the page lists ${n} flows; weir query ${expected.length}`);
    await shot('flows-key');
  });

  await check('a shared URL reproduces the explorer view', async () => {
    await page.goto(`${base}#/explorer?from=${FROM}&to=${TO}`);
    await page.selectOption('select[name=add-dim]', 'dst_port');
    await page.click('button[data-graph=table]');
    await page.fill('input[name=limit]', '5');
    await page.press('input[name=limit]', 'Tab');
    await page.fill('textarea[name=filter]', 'proto tcp or proto udp');
    await page.press('textarea[name=filter]', 'Enter');
    await page.waitForFunction(() => location.hash.includes('limit=5') && location.hash.includes('filter='));
    await page.waitForSelector('.explorer table.keys tbody tr[data-key]');
    await settle();
    const read = (p) =>
      p.$$eval('.explorer table.keys tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
    const mine = await read(page);
    const url = page.url();
    await shot('explorer-table');

    const expected = await query(['proto tcp or proto udp', '--from', FROM, '--to', TO, '--top', 'proto,dst_port', '--limit', '5', '--rate']);
    assert(mine.length === expected.length, `the table has ${mine.length} rows; weir query ${expected.length}`);
    for (const [i, e] of expected.entries()) {
      if (isOther(e.proto)) {
        assert(mine[i][0] === 'Other', `row ${i} is ${mine[i][0]}, not Other`);
        continue;
      }
      assert(mine[i][0].startsWith(`${PROTOCOLS[e.proto]} (${e.proto}) · `) && mine[i][0].includes(String(e.dst_port)), `row ${i}: ${mine[i][0]} for ${e.proto}/${e.dst_port}`);
      assert(Math.abs(unSI(mine[i][1]) - e.bps) <= 0.006 * e.bps, `row ${i}: ${mine[i][1]} for ${e.bps}`);
    }

    const other = await launch();
    try {
      const p2 = other.pages()[0] ?? (await other.newPage());
      await p2.goto(url);
      await p2.waitForSelector('.explorer table.keys tbody tr[data-key]');
      await p2.waitForLoadState('networkidle');
      const theirs = await read(p2);
      assert(JSON.stringify(theirs) === JSON.stringify(mine), 'the shared URL shows another table');
      const chips = await p2.$$eval('.chip', (cs) => cs.map((c) => c.dataset.dim));
      assert(chips.join(',') === 'proto,dst_port', `the shared view's dimensions are ${chips}`);
      assert(await p2.$eval('button[data-graph=table]', (b) => b.classList.contains('on')), 'the shared view is not a table');
      assert((await p2.inputValue('textarea[name=filter]')) === 'proto tcp or proto udp', 'the shared view lost its filter');
    } finally {
      await other.close();
    }
  });

  await check("times are shown and typed in the browser's zone once chosen, and the choice is kept", async () => {
    const tokyo = await launch({ timezoneId: 'Asia/Tokyo' });
    try {
      const p = tokyo.pages()[0] ?? (await tokyo.newPage());
      const shown = (t) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
      await p.goto(`${base}#/flows?from=${FROM}&to=${TO}`);
      await p.waitForSelector('.flowtable tbody tr');
      assert((await p.inputValue('input[name=from]')) === shown(FROM), 'times are in UTC at first');
      await p.selectOption('select[name=zone]', 'local');
      const nine = 9 * 3600_000;
      await p.waitForFunction((v) => document.querySelector('input[name=from]')?.value === v, shown(Date.parse(FROM) + nine));
      await p.waitForFunction(() => document.body.textContent.includes('Asia/Tokyo'));
      // A time typed without an offset is in Tokyo too: nine hours earlier in UTC.
      await p.fill('input[name=to]', shown(Date.parse(TO) + nine - 3600_000));
      await p.click('button[type=submit]');
      const to = new Date(Date.parse(TO) - 3600_000).toISOString().replace('.000Z', 'Z');
      await p.waitForFunction((v) => decodeURIComponent(location.hash).includes(`to=${v}`), to);
      await p.reload();
      await p.waitForSelector('select[name=zone]');
      assert((await p.inputValue('select[name=zone]')) === 'local', 'the choice is kept after a reload');
      await p.waitForSelector('.flowtable tbody tr');
      await shot('flows-local-time', p);
    } finally {
      await tokyo.close();
    }
  });

  await check('the explorer draws stacked areas with the earlier period, lines and a sankey', async () => {
    for (const [name, hash] of [
      ['explorer-area', `dims=src_as&dir=exporter&compare=prev`],
      ['explorer-lines', `dims=dst_country&graph=lines&metric=pps`],
      ['explorer-sankey', `dims=src_country,proto,dst_port&graph=sankey`],
    ]) {
      await page.goto(`${base}#/explorer?from=${FROM}&to=${TO}&${hash}`);
      await page.waitForSelector('.explorer canvas');
      await settle();
      const errors = await page.$$eval('.error', (es) => es.map((e) => e.textContent));
      assert(errors.length === 0, `${name}: ${errors.join(' | ')}`);
      await shot(name);
    }
  });

  await check('the exporters panel shows the exporter that sent the capture', async () => {
    await page.goto(`${base}#/dashboard?since=15m`);
    const row = page.locator('#report-exporters tr[data-exporter="127.0.0.1"]');
    await row.waitFor({ timeout: 30000 });
    // The row shows as soon as the range's summary names the exporter; its counters come with /exporters.
    await page.locator('#report-exporters thead th', { hasText: 'Datagrams' }).waitFor({ timeout: 30000 });
    const cells = await row.locator('td').allTextContents();
    const head = await page.locator('#report-exporters thead th').allTextContents();
    const datagrams = Number(cells[head.indexOf('Datagrams')].replace(/\D/g, ''));
    if (Number.isFinite(sent)) assert(datagrams === sent, `the panel counts ${datagrams} datagrams; weir replay sent ${sent}`);
    assert(datagrams > 0, 'no datagrams counted');
    const sampling = cells[head.indexOf('Sampling')];
    assert(sampling === 'unsampled', `the capture's flows are unsampled; the panel says ${sampling}`);
    const live = await query(['--since', '15m', '--flows', '--limit', '100000']);
    await page.goto(`${base}#/flows?since=15m&limit=1000`);
    const listed = await listedFlows();
    assert(listed.length === live.length, `the flows view lists ${listed.length} recent flows; weir query ${live.length}`);
    await page.goto(`${base}#/dashboard?since=15m`);
    await row.waitFor();
    await settle();
    await shot('dashboard-live');
  });

  await check('no script errors on any page', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
} catch (e) {
  results.push({ name: 'setup', ok: false, error: e });
  console.log(`FAIL setup: ${e.stack ?? e}`);
} finally {
  await stop();
}

const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${ARTIFACTS}`);
process.exit(failed.length ? 1 : 0);
