// make bench, panel part (headless Debian Chromium): on isoscope demo's 90-day history
// (129,600 rows at 60 s) and the model trained on it,
// - the what-if recompute in the built panel (replay in WASM + stats) over 20 control changes:
//   median of the panel's own measurement, and of the change-to-next-frame time in the page;
// - WASM scoring of the 129,600 rows (the page's scoreRows through the embind API: feature
//   rows, scores, surprise and z-score baseline) against the native `isoscope_bench
//   score-bundle` (the same C++ work) on the same files, in rounds taken in turn in this run;
// - the gzipped size of the .wasm and its JS glue (and of the plugin's module.js).
// Targets (reported, not enforced: a shared machine's noise should not fail a build):
// recompute < 30 ms, WASM scoring < 1.25x native (issue 18).
//   ISOSCOPE=... PANEL_DIST=... HARNESS_JS=... OUT_DIR=... BENCH_NATIVE=isoscope_bench \
//   ISOSCOPE_WASM_DIR=build/wasm node harness/bench.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

import { startServer, TYPES } from './serve.mjs';

const env = (k) => {
  if (!process.env[k]) throw new Error(`set ${k}`);
  return resolve(process.env[k]);
};
const isoscope = env('ISOSCOPE');
const dist = env('PANEL_DIST');
const harnessJs = env('HARNESS_JS');
const outDir = env('OUT_DIR');
const nativeBench = env('BENCH_NATIVE');
const wasmDir = env('ISOSCOPE_WASM_DIR');
mkdirSync(outDir, { recursive: true });
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const work = mkdtempSync(join(tmpdir(), 'isoscope-panel-bench-'));
const demo = join(work, 'demo');
execFileSync(isoscope, ['demo', '--days', '90', '--out-dir', demo], { stdio: 'ignore' });
const csv = join(demo, 'history.csv');
const bundle = join(demo, 'model.bundle');

// The page that times the embind API directly (no React): scoring and bare replays.
const benchPage = `<!doctype html><meta charset="utf-8"><title>wasm bench</title><body><script type="module">
import create from '/wasm/isoscope_core.mjs';
const m = await create({ locateFile: (p) => '/wasm/' + p });
const [text, bytes] = await Promise.all([fetch('/data/query.csv').then((r) => r.text()),
  fetch('/api/v1/detectors/demo/bundle').then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b))]);
const lines = text.trim().split('\\n');
const header = lines[0].split(',');
const n = lines.length - 1;
const times = new Float64Array(n);
const series = Object.fromEntries(header.slice(1).map((h) => [h, new Float64Array(n)]));
for (let i = 0; i < n; i++) {
  const c = lines[i + 1].split(',');
  times[i] = Date.parse(c[0]);
  for (let k = 1; k < header.length; k++) series[header[k]][i] = c[k] === '' ? NaN : Number(c[k]);
}
const info = m.loadBundle(bytes);
// One scoring of every row, timed; the harness calls it in turn with the native peer.
let r;
window.__scoreOnce = () => {
  const t0 = performance.now();
  r = m.scoreRows(bytes, times, series);
  return performance.now() - t0;
};
const first = window.__scoreOnce();  // the engine's first, unoptimised pass: reported apart
let checksum = 0, scored = 0;
for (const s of r.scores) if (s === s) { checksum += s; scored++; }
const replay = [];
for (let k = 0; k < 20; k++) {
  const t0 = performance.now();
  m.replay(times, r.scores, { warning: 0.6 + k * 0.002, critical: 0.63, forMs: 180000, smoothMs: 300000,
    evalIntervalMs: 60000 }, null);
  replay.push(performance.now() - t0);
}
window.__bench = { rows: n, scored, checksum, first, replay, modelVersion: info.modelVersion };
</script>`;

const { server, base } = await startServer({
  dist, harnessJs, csv, bundles: { demo: bundle },
  extra: (url, send) => {
    if (url.pathname === '/bench.html') return send(200, benchPage, TYPES['.html']), true;
    const m = url.pathname.match(/^\/wasm\/(isoscope_core\.(mjs|wasm))$/);
    if (m) return send(200, readFileSync(join(wasmDir, m[1])), m[2] === 'mjs' ? TYPES['.js'] : TYPES['.wasm']), true;
    return false;
  },
});
const profile = mkdtempSync(join(tmpdir(), 'isoscope-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1140, height: 560 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
let result;
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (e) => console.error(`page error: ${e}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`console: ${m.text()}`));
  // 1. The embind API alone.
  await page.goto(`${base}/bench.html`);
  await page.waitForFunction(() => window.__bench, null, { timeout: 120_000 });
  const api = await page.evaluate(() => window.__bench);

  // 2. WASM and its native peer on the same files, in turns: a shared machine's speed drifts
  // over seconds, and rounds taken in turn see the same drift on both sides. Each round's
  // ratio is of times measured back to back; the median of 15 rounds is reported (9 left the
  // same build between 1.21 and 1.27 from run to run on a noisy VM).
  const rounds = [];
  for (let k = 0; k < 15; k++) {
    const wasm = await page.evaluate(() => window.__scoreOnce());
    const native = JSON.parse(execFileSync(nativeBench, ['score-bundle', '--bundle', bundle, '--csv', csv,
      '--repeat', '1']).toString());
    rounds.push({ wasm, native });
  }
  const native = rounds[0].native;

  // 3. The built panel: 20 changes of the warning control over the 129,600 points.
  const options = { detector: 'demo', warning: 0.6, critical: 0.63, forMinutes: 3, smoothMinutes: 5, contamination: 0.02 };
  await page.goto(`${base}/?options=${encodeURIComponent(JSON.stringify(options))}`);
  await page.getByTestId('isoscope-whatif').waitFor({ timeout: 120_000 }).catch(async (e) => {
    await page.screenshot({ path: join(outDir, 'panel-failure.png') });
    console.error(await page.evaluate(() => document.body.innerText.slice(0, 2000)));
    throw e;
  });
  const recompute = [];
  const toFrame = [];
  const commitMs = [];
  for (let k = 0; k < 20; k++) {
    const value = (0.605 + (k % 10) * 0.005).toFixed(3);
    const ms = await page.evaluate(async (v) => {
      const input = document.querySelector('[data-testid="control-warning"]');
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      const t0 = performance.now();
      setter.call(input, v);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      // React commits synchronously for a discrete input event; then wait for the next frame.
      const commit = performance.now() - t0;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return [commit, performance.now() - t0];
    }, value);
    await page.waitForFunction((v) => window.__options.warning === Number(v), value);
    commitMs.push(ms[0]);
    toFrame.push(ms[1]);
    recompute.push(Number(await page.getByTestId('isoscope-whatif').getAttribute('data-recompute-ms')));
  }
  await page.screenshot({ path: join(outDir, 'panel-129600.png') });

  const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
  const distWasm = readdirSync(dist).find((f) => f.endsWith('.wasm'));
  result = {
    rows: api.rows,
    scored: api.scored,
    checksum_equal: Math.abs(api.checksum - native.checksum / native.repeat) < 1e-6,
    rounds: rounds.length,
    wasm_score_ms_rounds: rounds.map((x) => x.wasm),
    native_portable_score_ms_rounds: rounds.map((x) => x.native.portable_score_s * 1000),
    whatif_recompute_ms_median: median(recompute),
    whatif_change_to_frame_ms_median: median(toFrame),
    whatif_change_to_commit_ms_median: median(commitMs),
    wasm_replay_ms_median: median(api.replay),
    wasm_first_score_ms: api.first,
    wasm_score_ms_median: median(rounds.map((x) => x.wasm)),
    native_score_ms_median: median(rounds.map((x) => x.native.score_s * 1000)),
    native_portable_score_ms_median: median(rounds.map((x) => x.native.portable_score_s * 1000)),
    // The target is against the same C++ walk compiled natively (the portable one); the
    // AVX-512 and AVX2 walks native x86 picks at run time have no WebAssembly counterpart (no gathers).
    wasm_over_native: median(rounds.map((x) => x.wasm / (x.native.portable_score_s * 1000))),
    wasm_over_native_fastest: median(rounds.map((x) => x.wasm / (x.native.score_s * 1000))),
    // Best against best: a shared machine's noise only ever adds time, and the browser's own
    // threads (compositor, background compiles, GC) share the two cores with the page.
    wasm_score_ms_min: Math.min(...rounds.map((x) => x.wasm)),
    native_portable_score_ms_min: Math.min(...rounds.map((x) => x.native.portable_score_s * 1000)),
    wasm_bytes: readFileSync(join(wasmDir, 'isoscope_core.wasm')).length,
    wasm_gzip_bytes: gz(join(wasmDir, 'isoscope_core.wasm')),
    glue_bytes: readFileSync(join(wasmDir, 'isoscope_core.mjs')).length,
    glue_gzip_bytes: gz(join(wasmDir, 'isoscope_core.mjs')),
    plugin_module_js_gzip_bytes: gz(join(dist, 'module.js')),
    plugin_wasm_gzip_bytes: gz(join(dist, distWasm)),
  };
} finally {
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}

writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify(result, null, 1)}\n`);
const f = (x) => x.toFixed(1);
const verdict = (ok) => (ok ? 'meets target' : 'MISSES target');
console.log(`panel benchmark (headless Chromium, ${result.rows} rows, ${result.scored} scored):`);
console.log(`  what-if recompute (replay in WASM + stats), median of 20 changes: ${f(result.whatif_recompute_ms_median)} ms` +
  ` (target < 30 ms: ${verdict(result.whatif_recompute_ms_median < 30)}); change to React commit ${f(result.whatif_change_to_commit_ms_median)} ms,` +
  ` to the second frame after it ${f(result.whatif_change_to_frame_ms_median)} ms;` +
  ` bare replay ${f(result.wasm_replay_ms_median)} ms`);
console.log(`  scoring ${result.rows} rows, ${result.rounds} rounds of WASM then native: WASM ${f(result.wasm_score_ms_median)} ms` +
  ` (the first, unoptimised call ${f(result.wasm_first_score_ms)} ms), native portable walk ${f(result.native_portable_score_ms_median)} ms,` +
  ` median round's ratio ${result.wasm_over_native.toFixed(2)}x (target < 1.25x: ${verdict(result.wasm_over_native < 1.25)}); native with the fastest walk this CPU has (AVX-512 batches where it has them)` +
  ` ${f(result.native_score_ms_median)} ms, ${result.wasm_over_native_fastest.toFixed(2)}x; best of each: WASM ${f(result.wasm_score_ms_min)} ms,` +
  ` native portable ${f(result.native_portable_score_ms_min)} ms, ${(result.wasm_score_ms_min / result.native_portable_score_ms_min).toFixed(2)}x;` +
  ` same scores: ${result.checksum_equal}`);
console.log(`  size: isoscope_core.wasm ${result.wasm_bytes} B (gzip -9 ${result.wasm_gzip_bytes} B) + glue ${result.glue_bytes} B` +
  ` (gzip ${result.glue_gzip_bytes} B) = ${result.wasm_gzip_bytes + result.glue_gzip_bytes} B gzipped; plugin module.js gzip ${result.plugin_module_js_gzip_bytes} B`);
console.log(`  written ${join(outDir, 'bench.json')}`);
process.exit(result.checksum_equal ? 0 : 1);
