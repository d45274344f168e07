// How fast the web UI and the API answer over a large store: top-N questions and the dashboard's own
// requests timed one after the other, then the dashboard and the explorer loaded in headless Chromium and
// timed from navigation start until every panel is drawn. See README.md beside this file.
//
//   node benches/ui/ui_bench.mjs [--weir PATH] [--flows N] [--data DIR] [--config FILE] [--runs R] [--start TIME]
//                                [--timeout S]

import { execFile, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const WORK = path.join(here, 'work');
// playwright-core is the UI's (ui/node_modules), as for its browser tests (ui/e2e/run.mjs).
const { chromium } = createRequire(path.join(repo, 'ui/package.json'))('playwright-core');

const { values: opt } = parseArgs({
  options: {
    weir: { type: 'string', default: path.join(repo, 'target/release/weir') },
    flows: { type: 'string', default: '50000000' },
    data: { type: 'string' },
    config: { type: 'string' },
    runs: { type: 'string', default: '20' },
    start: { type: 'string' },
    timeout: { type: 'string', default: '120' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
const WEIR = path.resolve(opt.weir);
const FLOWS = Number(opt.flows);
const RUNS = Number(opt.runs);
const TIMEOUT = Number(opt.timeout) * 1000;
// A `weir serve` settings file whose `[[store.rollups]]` the store is written with and queried through.
const CONFIG = opt.config && path.resolve(opt.config);
const withConfig = CONFIG ? ['--config', CONFIG] : [];
const DATA = path.resolve(
  opt.data ?? path.join(WORK, `data-${FLOWS}${CONFIG ? `-${path.basename(CONFIG, '.toml')}` : ''}`),
);
const META = `${DATA}.json`;
if (!fs.existsSync(WEIR)) throw new Error(`no weir binary at ${WEIR} (cargo build --release -p weir, or --weir)`);
fs.mkdirSync(WORK, { recursive: true });

// --- small helpers -----------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const minute = 60_000;
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

/** min, median, p95 (nearest rank) and max of a list of milliseconds. */
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const r = (x) => Math.round(x * 10) / 10;
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, min: r(s[0]), median: r(median), p95: r(rank(0.95)), max: r(s[s.length - 1]) };
}

function table(header, rows) {
  const w = header.map((_, i) => Math.max(...[header, ...rows].map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(header), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

function freePort(kind) {
  return new Promise((resolve, reject) => {
    const s = kind === 'udp' ? dgram.createSocket('udp4') : net.createServer();
    s.on('error', reject);
    const done = () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    };
    kind === 'udp' ? s.bind(0, '127.0.0.1', done) : s.listen(0, '127.0.0.1', done);
  });
}

/** Milliseconds in a clock tick of `/proc/<pid>/stat`. */
const TICK_MS = 1000 / (Number(sh('getconf', ['CLK_TCK'])) || 100);

/** CPU time (user and system) `weir serve` has used, in milliseconds (to a clock tick). */
function serverCpuMs() {
  const f = fs.readFileSync(`/proc/${serve.pid}/stat`, 'utf8').split(')')[1].trim().split(/\s+/);
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** What else the machine is doing: compilers running, load, and CPU time stolen by the host since `from`. */
function cpuTimes() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + f[4], steal: f[7] ?? 0 };
}
function machineNow(from) {
  const now = cpuTimes();
  const d = from && now.total - from.total;
  return {
    at: new Date().toISOString(),
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    rustc_running: sh('pgrep', ['-f', 'rustc']).split('\n').filter(Boolean).length,
    ...(d ? { busy_pct: Math.round((100 * (d - (now.idle - from.idle))) / d), steal_pct: Math.round((100 * (now.steal - from.steal)) / d) } : {}),
  };
}

// --- the store ---------------------------------------------------------------------------------------

const commands = [];
async function writeStore() {
  const start = opt.start ?? rfc3339(Math.floor((Date.now() - 24 * 3600_000) / minute) * minute);
  const partial = `${DATA}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  const args = ['bench', 'data', '--flows', String(FLOWS), '--hours', '24', '--start', start, '--out', partial, ...withConfig];
  const command = `${WEIR} ${args.join(' ').replace(partial, DATA)}`;
  console.log(`writing ${FLOWS} flows from ${start} into ${DATA}`);
  const t0 = Date.now();
  const child = spawn(WEIR, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const tick = setInterval(() => {
    const size = sh('du', ['-sh', partial]).split(/\s/)[0] || '0';
    console.log(`  ... ${Math.round((Date.now() - t0) / 1000)} s, ${size} written`);
  }, 30_000);
  const code = await new Promise((r) => child.on('exit', r));
  clearInterval(tick);
  if (code !== 0) throw new Error(`weir bench data exited ${code}`);
  fs.renameSync(partial, DATA);
  const meta = { command, flows: FLOWS, hours: 24, start, written_at: new Date(t0).toISOString(), write_seconds: (Date.now() - t0) / 1000 };
  fs.writeFileSync(META, JSON.stringify(meta, null, 2));
  return meta;
}

// --- main --------------------------------------------------------------------------------------------

const before = cpuTimes();
const results = { machine: { nproc: os.cpus().length, cpu: os.cpus()[0]?.model, mem_gib: Math.round(os.totalmem() / 2 ** 30), free_g: sh('free', ['-g']) } };
results.machine.at_start = machineNow();

const data = fs.existsSync(DATA) ? (fs.existsSync(META) ? JSON.parse(fs.readFileSync(META, 'utf8')) : { start: null }) : await writeStore();
data.dir = DATA;
if (data.command) commands.push(data.command);
data.bytes = Number(sh('du', ['-sb', DATA]).split(/\s/)[0]);
if (data.start) {
  data.end = rfc3339(Date.parse(data.start) + 24 * 3600_000);
  const late = (Date.now() - Date.parse(data.end)) / minute;
  data.last_hour_minutes_with_flows = Math.round(Math.max(0, Math.min(60, 60 - late)));
  if (late > 10) console.log(`warning: the flows end ${Math.round(late)} min ago; remove ${DATA} to write a day ending now`);
}
results.data = data;

const udp = await freePort('udp');
const http = await freePort('tcp');
const base = `http://127.0.0.1:${http}/`;
const serveArgs = [
  'serve', ...withConfig, '--data', DATA, '--listen', `127.0.0.1:${udp}`, '--no-tcp', '--http', `127.0.0.1:${http}`,
];
commands.push(`${WEIR} ${serveArgs.join(' ')}`);
const serveLog = path.join(WORK, 'serve.log');
const serve = spawn(WEIR, serveArgs, { stdio: ['ignore', fs.openSync(serveLog, 'w'), fs.openSync(serveLog, 'a')] });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-ui-bench-'));
let context;
const stop = async () => {
  await context?.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
  if (serve.exitCode === null) {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
  }
};
process.on('SIGINT', async () => {
  await stop();
  process.exit(130);
});

async function get(pathAndQuery) {
  const t = performance.now();
  const res = await fetch(base + pathAndQuery);
  const text = await res.text();
  const ms = performance.now() - t;
  return { ms, status: res.status, body: JSON.parse(text) };
}

try {
  for (let i = 0; ; i++) {
    if (serve.exitCode !== null) throw new Error(`weir serve exited ${serve.exitCode}; see ${serveLog}`);
    const ok = await fetch(`${base}healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 600) throw new Error('weir serve did not answer');
    await sleep(100);
  }

  // Every page runs this: each animation frame it checks whether the view is drawn, and records when.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: opt.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 1000 },
  });
  await context.addInitScript(() => {
    // Drawn: the view has answered everywhere: no placeholder ("Loading…") or spinner left; every traffic
    // panel has its chart, table rows and the line naming the table that answered (without "refreshing");
    // every report has a chart; the dashboard's totals and exporters are filled in. Errors shown elsewhere
    // (a panel's request refused) do not hold it back; they are recorded.
    const drawn = () => {
      const view = document.querySelector('main > .view');
      if (!view || view.querySelector('.chart.placeholder, .spinner.on')) return false;
      const panels = [...view.querySelectorAll('.traffic')];
      if (!panels.length) return false;
      for (const p of panels) {
        const meta = p.querySelector(':scope > .meta')?.textContent ?? '';
        if (!p.querySelector('.graph canvas') || !p.querySelector('table.keys tbody tr[data-key]') || !meta || meta.includes('refreshing')) return false;
      }
      if (![...view.querySelectorAll('section.report[data-report]')].every((s) => s.querySelector('canvas'))) return false;
      if (view.classList.contains('dashboard')) {
        return !!view.querySelector('[data-total=flows]') && !!view.querySelector('#report-exporters tr[data-exporter]');
      }
      return true;
    };
    // Taken one frame after the check holds, once the charts' canvases have been painted.
    const loop = () => requestAnimationFrame(() => (drawn() ? requestAnimationFrame(() => (window.__drawnAt = performance.now())) : loop()));
    loop();
  });

  /** Loads `hash` in a fresh page: ms until drawn, and the API requests it made. */
  async function load(hash, screenshot) {
    const page = await context.newPage();
    // Where the machine's time goes: the server's CPU, and the page's main thread (its tasks, of which
    // scripts), which share the two cores.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const serverBefore = serverCpuMs();
    try {
      await page.goto(base + hash, { waitUntil: 'commit' });
      try {
        // A traffic panel with an error is never drawn: give up at once.
        await page.waitForFunction(() => window.__drawnAt !== undefined || document.querySelector('.traffic .error'), null, { timeout: TIMEOUT, polling: 50 });
        if (await page.evaluate(() => window.__drawnAt === undefined)) throw new Error('an error instead of a graph');
      } catch {
        const shot = path.join(WORK, `timeout-${hash.replace(/\W+/g, '_')}.png`);
        await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
        const errors = await page.$$eval('.error', (es) => es.map((x) => x.textContent)).catch(() => []);
        throw new Error(`${hash} not drawn within ${TIMEOUT / 1000} s (${errors.join(' | ') || 'no error shown'}); see ${shot}`);
      }
      const server_cpu_ms = serverCpuMs() - serverBefore;
      const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
      if (screenshot) await page.screenshot({ path: path.join(WORK, screenshot), fullPage: true });
      const cpu = { server_cpu_ms, main_thread_ms: metrics.TaskDuration * 1000, script_ms: metrics.ScriptDuration * 1000 };
      return { ...cpu, ...(await page.evaluate(() => ({
        ms: window.__drawnAt,
        errors: [...document.querySelectorAll('.error')].map((e) => e.textContent),
        requests: performance
          .getEntriesByType('resource')
          .filter((e) => e.name.includes('/api/'))
          .map((e) => ({
            url: e.name.slice(e.name.indexOf('/api/') + 1),
            start: e.startTime,
            queued: e.requestStart - e.startTime,
            server: e.responseEnd - e.requestStart,
            total: e.duration,
          })),
      }))) };
    } finally {
      await page.close();
    }
  }

  // A first load of each view warms the server and the browser's cache, and says what the views ask.
  const views = { dashboard: '#/dashboard', explorer: '#/explorer' };
  const asked = {};
  for (const [name, hash] of Object.entries(views)) asked[name] = (await load(hash, `${name}.png`)).requests.map((r) => r.url);
  console.log(`the dashboard asks ${asked.dashboard.length} API requests, the explorer ${asked.explorer.length}`);

  // Whether a compiler runs while measuring, sampled every 5 s (without blocking the timings).
  const others = { samples: 0, with_rustc: 0 };
  const sampler = setInterval(() => {
    execFile('pgrep', ['-f', 'rustc'], (err) => {
      others.samples++;
      if (!err) others.with_rustc++;
    });
  }, 5000);
  results.machine.rustc_while_measuring = others;

  // --- the API -------------------------------------------------------------------------------------
  // Top-N over the last hour in two forms: `since=1h` (ends now, so not on minute edges) and the last hour
  // of whole minutes, which is what lets a rollup answer an aggregate without buckets.
  const to = Math.floor(Date.now() / minute) * minute;
  const aligned = `from=${rfc3339(to - 60 * minute)}&to=${rfc3339(to)}`;
  const TOP = ['dims=proto', 'dims=app', 'dims=exporter_addr', 'dims=proto&direction=exporter', 'dims=in_if,exporter_addr', 'dims=src_as', 'dims=dst_country', 'dims=dst_addr'];
  const questions = [];
  for (const q of TOP) {
    questions.push({ group: 'top', url: `api/v1/top?${q}&${aligned}&unit=rate` });
    questions.push({ group: 'top', url: `api/v1/top?${q}&since=1h&unit=rate` });
  }
  for (const [name, urls] of Object.entries(asked)) {
    for (const url of new Set(urls)) if (!questions.some((q) => q.url === url)) questions.push({ group: name, url });
  }
  results.machine.before_api = machineNow();
  const sinceApi = cpuTimes();
  results.api = [];
  for (const q of questions) {
    const first = await get(q.url); // not counted: the first of each, after the warm-up loads
    const times = [];
    let body = first.body;
    for (let i = 0; i < RUNS; i++) {
      const r = await get(q.url);
      times.push(r.ms);
      body = r.body;
    }
    const table = body.table ?? '';
    const row = { ...q, status: first.status, error: body.error?.message, table, rollup: !!table && table !== 'flows', rows: body.rows?.length ?? null, first_ms: Math.round(first.ms * 10) / 10, ...stats(times) };
    results.api.push(row);
    console.log(`  ${row.p95.toFixed(1).padStart(8)} ms p95  ${(table || '-').padEnd(11)} ${q.url}`);
  }
  results.machine.after_api = machineNow(sinceApi);
  const lastHour = await get(`api/v1/summary?${aligned}`);
  results.data.last_hour_flows = lastHour.body.rows[0]?.[lastHour.body.columns.indexOf('flows')] ?? null;
  results.data.last_hour_table = lastHour.body.table;

  // --- the pages -----------------------------------------------------------------------------------
  results.pages = {};
  for (const [name, hash] of Object.entries(views)) {
    const since = cpuTimes();
    const loads = [];
    for (let i = 0; i < RUNS; i++) loads.push(await load(hash));
    const byUrl = new Map();
    for (const l of loads) for (const r of l.requests) byUrl.set(r.url, [...(byUrl.get(r.url) ?? []), r]);
    const requests = [...byUrl]
      .map(([url, rs]) => ({
        url,
        table: results.api.find((a) => a.url === url)?.table ?? '',
        total: stats(rs.map((r) => r.total)),
        server: stats(rs.map((r) => r.server)),
        queued: stats(rs.map((r) => r.queued)),
      }))
      .sort((a, b) => b.total.median - a.total.median);
    const slowest = loads.map((l) => l.requests.reduce((a, b) => (b.total > a.total ? b : a), { total: 0 }));
    results.pages[name] = {
      url: base + hash,
      drawn: stats(loads.map((l) => l.ms)),
      // Where a load's time goes: until the app sends its first API request, until the last answer is in.
      first_api_request: stats(loads.map((l) => Math.min(...l.requests.map((r) => r.start)))),
      last_api_answer: stats(loads.map((l) => Math.max(...l.requests.map((r) => r.start + r.total)))),
      runs_ms: loads.map((l) => Math.round(l.ms)),
      server_cpu_ms: stats(loads.map((l) => l.server_cpu_ms)),
      main_thread_ms: stats(loads.map((l) => l.main_thread_ms)),
      script_ms: stats(loads.map((l) => l.script_ms)),
      api_requests: stats(loads.map((l) => l.requests.length)),
      errors_shown: [...new Set(loads.flatMap((l) => l.errors))],
      slowest_request: requests[0],
      slowest_per_run: slowest.map((s) => ({ url: s.url, ms: Math.round(s.total) })),
      requests,
      machine: machineNow(since),
    };
  }
  clearInterval(sampler);
  results.machine.at_end = machineNow(before);
  results.commands = [...commands, `node benches/ui/ui_bench.mjs ${process.argv.slice(2).join(' ')}`.trim()];

  // --- report --------------------------------------------------------------------------------------
  const ms = (s) => [s.min, s.median, s.p95, s.max].map((x) => x.toFixed(1));
  const short = (u) =>
    decodeURIComponent(u)
      .replace(/^api\/v1\//, '')
      .replace(/from=[^&]+&to=[^&]+/, 'from..to')
      .replace('&limit=10&by=bytes&unit=rate&step=60s', '…');
  console.log(`\n${FLOWS} flows in ${DATA} (${(data.bytes / 1e9).toFixed(2)} GB); last hour: ${results.data.last_hour_flows} flows; ${RUNS} runs each, ms\n`);
  console.log('from..to: the last hour of whole minutes; …: &limit=10&by=bytes&unit=rate&step=60s\n');
  console.log(table(['request', 'asked by', 'table', 'first', 'min', 'median', 'p95', 'max'], results.api.map((a) => [short(a.url), a.group, a.status === 200 ? a.table || '-' : `HTTP ${a.status}`, a.first_ms.toFixed(1), ...ms(a)])));
  for (const a of results.api) if (a.status !== 200) console.log(`${short(a.url)}: HTTP ${a.status}: ${a.error}`);
  const rollup = results.api.filter((a) => a.group === 'top' && a.rollup);
  if (rollup.length) console.log(`\ntop-N answered by a rollup: worst p95 ${Math.max(...rollup.map((a) => a.p95))} ms (goal < 300 ms)`);
  console.log(`\n${table(['page', 'min', 'median', 'p95', 'max', 'first request', 'last answer', 'API requests', 'slowest request: median ms (queued in the browser + server), table'], Object.entries(results.pages).map(([n, p]) => { const s = p.slowest_request; return [n, ...ms(p.drawn), p.first_api_request.median, p.last_api_answer.median, p.api_requests.max, `${short(s.url)}: ${s.total.median} (${s.queued.median} + ${s.server.median}), ${s.table || '-'}`]; }))}`);
  for (const [n, p] of Object.entries(results.pages)) for (const e of p.errors_shown) console.log(`\nerror shown on the ${n}: ${e}`);
  for (const [n, p] of Object.entries(results.pages)) {
    console.log(`${n}: per load, server CPU ${p.server_cpu_ms.median} ms, browser main thread ${p.main_thread_ms.median} ms (scripts ${p.script_ms.median} ms) (medians)`);
  }
  console.log(`\nthe dashboard drawn: median ${results.pages.dashboard.drawn.median} ms, p95 ${results.pages.dashboard.drawn.p95} ms (goal < 1000 ms)`);
  console.log(`machine: ${JSON.stringify(results.machine.at_end)}; rustc running in ${others.with_rustc} of ${others.samples} samples while measuring`);
  fs.writeFileSync(path.join(WORK, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results in ${path.join(WORK, 'results.json')}`);
} finally {
  await stop();
}
