// Attribution and surprise in the panel, in headless Debian Chromium: generated data (three
// inputs at 60 s, a daily cycle and noise) with faults injected into one input at a time; a
// model trained on the days before the faults. Hovering a point inside each fault shows its
// contributions as a bar chart: the largest bar is the faulty input's, and every bar, the score
// and the surprise equal native `isoscope score --explain` on the same rows. The page list
// names each page's top input: the faulty input for the pages inside a fault, and for every
// page what the native contributions summed over the page's smoothing window give. Prints the
// browser's explain time per hovered point.
//   ISOSCOPE=... PANEL_DIST=... HARNESS_JS=... OUT_DIR=... node harness/explain_e2e.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { checker, env, launchChromium } from './common.mjs';
import { startServer } from './serve.mjs';

const isoscope = env('ISOSCOPE');
const dist = env('PANEL_DIST');
const harnessJs = env('HARNESS_JS');
const outDir = env('OUT_DIR');
mkdirSync(outDir, { recursive: true });
const { check, done } = checker();

// --- The data: deterministic (an LCG and Box-Muller), 5 days, faults on days 4 and 5.
const STEP = 60_000;
const T0 = Date.parse('2026-03-02T00:00:00Z');
const N = 5 * 1440;
const INPUTS = ['cpu_pct', 'memory_mb', 'latency_ms'];
const BASE = { cpu_pct: [40, 15, 2], memory_mb: [900, 60, 8], latency_ms: [120, 30, 5] }; // level, daily swing, noise
let seed = 20261202;
const uniform = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return (seed + 0.5) / 2147483648;
};
const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
// Spikes, a level shift and a slow drift, each in one input, in noise units of that input.
const FAULTS = [
  { input: 'memory_mb', kind: 'spike', start: T0 + (3 * 1440 + 200) * STEP, minutes: 15, size: 14 },
  { input: 'latency_ms', kind: 'shift', start: T0 + (3 * 1440 + 700) * STEP, minutes: 45, size: 10 },
  { input: 'cpu_pct', kind: 'spike', start: T0 + (4 * 1440 + 100) * STEP, minutes: 15, size: 14 },
  { input: 'memory_mb', kind: 'drift', start: T0 + (4 * 1440 + 600) * STEP, minutes: 90, size: 16 },
];
const inFault = (f, t) => t >= f.start && t < f.start + f.minutes * STEP;
const times = Array.from({ length: N }, (_, i) => T0 + i * STEP);
const series = Object.fromEntries(INPUTS.map((name) => {
  const [level, swing, noise] = BASE[name];
  return [name, times.map((t) => {
    let v = level + swing * Math.sin((2 * Math.PI * (t - T0)) / 86_400_000) + noise * gauss();
    for (const f of FAULTS) {
      if (f.input !== name || !inFault(f, t)) continue;
      const ramp = f.kind === 'drift' ? (t - f.start) / (f.minutes * STEP) : 1;
      v += f.size * noise * ramp;
    }
    return v;
  })];
}));
const csvText = (n) => [['timestamp', ...INPUTS].join(','),
  ...times.slice(0, n).map((t, i) => [new Date(t).toISOString(), ...INPUTS.map((k) => series[k][i])].join(','))].join('\n') + '\n';

const work = mkdtempSync(join(tmpdir(), 'isoscope-explain-e2e-'));
const csv = join(work, 'query.csv');
const train = join(work, 'train.csv');
const bundle = join(work, 'faults.bundle');
writeFileSync(csv, csvText(N));
writeFileSync(train, csvText(3 * 1440));
execFileSync(isoscope, ['train', '--csv', train, '--out', bundle, '--random-state', '7', '--quiet',
  '--contamination', '0.01', '--derived', 'delta(memory_mb,15m),zscore(latency_ms,1h),delta(cpu_pct,15m)'], { stdio: 'ignore' });

// --- Native reference: score --explain over the same rows.
const scoredCsv = execFileSync(isoscope, ['score', '--bundle', bundle, '--csv', csv, '--explain', '--quiet'],
  { encoding: 'utf8', maxBuffer: 1 << 28 }).trimEnd().split('\n');
// CSV cells, quotes honoured (derived feature names hold commas: "contribution:delta(x,15m)").
const cells = (line) => (line.match(/("([^"]|"")*"|[^,]*)(,|$)/g) ?? []).slice(0, -1)
  .map((c) => c.replace(/,$/, '').replace(/^"(.*)"$/, '$1').replace(/""/g, '"'));
const header = cells(scoredCsv[0]);
const col = (name) => header.indexOf(name);
const native = scoredCsv.slice(1).map(cells);
const features = header.filter((h) => h.startsWith('contribution:')).map((h) => h.slice('contribution:'.length));
// The input a feature is read from: its name, or the first argument of a derived feature.
const inputOf = (f) => (INPUTS.includes(f) ? f : (f.match(/^\w+\((\w+)/) ?? [])[1] ?? '');
const rowOf = (t) => Math.round((t - T0) / STEP);
function nativeTopOver(first, last) { // rows [first, last), TopInputOver's rule
  const sums = Object.fromEntries(INPUTS.map((k) => [k, 0]));
  let any = false;
  for (let r = first; r < last; r++) {
    if (native[r][col('anomaly_score')] === '') continue;
    any = true;
    for (const f of features) if (inputOf(f)) sums[inputOf(f)] += Number(native[r][col(`contribution:${f}`)]);
  }
  if (!any) return '';
  return INPUTS.reduce((best, k) => (sums[k] > sums[best] ? k : best), INPUTS[0]);
}

const { server, base } = await startServer({ dist, harnessJs, csv, bundles: { faults: bundle } });
const { browser, close } = await launchChromium({ width: 1140, height: 600 });
const page = browser.pages()[0] ?? (await browser.newPage());
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
const SMOOTH_MIN = 5;
const explainMs = [];
try {
  // Critical just below the weakest fault's highest smoothed score (native scores), so that
  // every fault can page; what pages outside the faults is checked against native only.
  const score = (r) => Number(native[r][col('anomaly_score')]);
  const peak = (f) => {
    let best = -Infinity;
    for (let r = rowOf(f.start); r < rowOf(f.start) + f.minutes + SMOOTH_MIN; r++) {
      let sum = 0;
      for (let k = r - SMOOTH_MIN + 1; k <= r; k++) sum += score(k);
      best = Math.max(best, sum / SMOOTH_MIN);
    }
    return best;
  };
  const critical = Math.round((Math.min(...FAULTS.map(peak)) - 0.01) * 1000) / 1000;
  const options = { detector: 'faults', daemonUrl: '', evalIntervalSeconds: 60, forMinutes: 2, smoothMinutes: SMOOTH_MIN,
    warning: critical - 0.02, critical };
  await page.goto(`${base}/?options=${encodeURIComponent(JSON.stringify(options))}`);
  await page.getByTestId('isoscope-whatif').waitFor({ timeout: 60_000 });

  // The latest point's surprise in the stats strip: native's last row.
  const lastNative = Number(native[N - 1][col('surprise')]);
  const latest = Number(await page.getByTestId('stat-latest-surprise').getAttribute('data-value'));
  check(Object.is(latest, lastNative), `the stats strip shows the latest surprise, native's (${lastNative})`, `${latest}`);

  // Hover inside each fault.
  const area = page.getByTestId('hover-area');
  const box = await area.boundingBox();
  const t0 = Number(await area.getAttribute('data-t0'));
  const t1 = Number(await area.getAttribute('data-t1'));
  for (const f of FAULTS) {
    const target = f.start + Math.floor(f.minutes * (f.kind === 'drift' ? 0.9 : 0.5)) * STEP;
    await page.mouse.move(box.x + ((target - t0) / (t1 - t0)) * box.width, box.y + box.height * 0.7);
    const card = page.getByTestId('hover-card');
    await card.waitFor({ timeout: 10_000 });
    const t = Number(await card.getAttribute('data-time'));
    const r = rowOf(t);
    const bars = await page.locator('.explain-bar').evaluateAll((els) => els.map((e) => ({
      feature: e.getAttribute('data-feature'), input: e.getAttribute('data-input'), value: Number(e.getAttribute('data-value')) })));
    explainMs.push(Number(await card.getAttribute('data-explain-ms')));
    const largest = bars.reduce((a, b) => (b.value > a.value ? b : a), bars[0]);
    const what = `${f.kind} in ${f.input} (hovered ${new Date(t).toISOString()})`;
    check(inFault(f, t), `${what}: the hovered row lies inside the fault`);
    check(bars.length === features.length && largest.input === f.input,
      `${what}: the bar chart's largest bar is ${f.input}'s (${largest.feature} ${largest.value.toFixed(3)})`, JSON.stringify(bars));
    const mismatch = bars.filter((b) => !Object.is(b.value, Number(native[r][col(`contribution:${b.feature}`)])));
    check(mismatch.length === 0, `${what}: every bar = native score --explain's contribution`, JSON.stringify(mismatch));
    check(Object.is(Number(await card.getAttribute('data-score')), Number(native[r][col('anomaly_score')])) &&
      Object.is(Number(await card.getAttribute('data-surprise')), Number(native[r][col('surprise')])),
    `${what}: score and surprise next to it = native's`);
    await page.screenshot({ path: join(outDir, `explain-${f.input}-${f.kind}.png`) });
  }
  await page.mouse.move(1, 1);

  // The page list.
  const items = await page.locator('.page-item').evaluateAll((els) => els.map((e) => ({
    time: Number(e.getAttribute('data-time')), top: e.getAttribute('data-top-input') })));
  const markers = await page.locator('.page-marker').count();
  check(items.length > 0 && items.length === Math.min(markers, 100), `the page list has a line per page (${items.length})`);
  const wrong = items.filter((p) => p.top !== nativeTopOver(rowOf(p.time - SMOOTH_MIN * 60_000) + 1, rowOf(p.time) + 1));
  check(wrong.length === 0, 'every page names the top input native contributions give over its smoothing window', JSON.stringify(wrong));
  let detected = 0;
  for (const f of FAULTS) {
    const during = items.filter((p) => p.time >= f.start && p.time < f.start + (f.minutes + SMOOTH_MIN) * STEP);
    if (during.length === 0) continue;
    detected++;
    check(during.every((p) => p.top === f.input), `the pages during the ${f.kind} in ${f.input} name ${f.input}`, JSON.stringify(during));
  }
  check(detected >= 3, `at least 3 of the ${FAULTS.length} faults page (${detected})`);
  const listMs = Number(await page.getByTestId('page-list').getAttribute('data-explain-ms'));
  console.log(`# explain per hovered point in Chromium: ${explainMs.map((m) => m.toFixed(2)).join(', ')} ms ` +
    `(slice rebuild + explain); page list: ${items.length} pages in ${listMs.toFixed(2)} ms`);
  check(explainMs.every((m) => m < 50), 'each hover explains its point in under 50 ms', explainMs.join(','));
  check(errors.length === 0, 'no page errors', errors.join('\n'));
} catch (e) {
  check(false, 'explain e2e ran to the end', String(e?.stack ?? e));
  await page.screenshot({ path: join(outDir, 'explain-failure.png') }).catch(() => {});
} finally {
  await close();
  server.close();
  rmSync(work, { recursive: true, force: true });
}
done();
