// e2e in headless Debian Chromium (playwright-core, /usr/bin/chromium): the built
// dist/module.js loaded through the AMD harness with real data frames (isoscope demo's
// history), the overlay and counts checked, then the contamination, threshold, for: and
// smoothing controls moved; after every change the counts must equal what the native
// `isoscope replay ... --json` computes for the same parameters. Also: no bundle, a bad
// bundle, and WebAssembly blocked by CSP. Screenshots go to OUT_DIR.
//   ISOSCOPE=... PANEL_DIST=... HARNESS_JS=... OUT_DIR=... node harness/e2e.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

import { startServer } from './serve.mjs';

const env = (k) => {
  if (!process.env[k]) throw new Error(`set ${k}`);
  return resolve(process.env[k]);
};
const isoscope = env('ISOSCOPE');
const dist = env('PANEL_DIST');
const harnessJs = env('HARNESS_JS');
const outDir = env('OUT_DIR');
mkdirSync(outDir, { recursive: true });

let failures = 0;
let checks = 0;
function check(ok, what, detail = '') {
  checks++;
  if (ok) console.log(`ok ${checks} - ${what}`);
  else {
    failures++;
    console.log(`not ok ${checks} - ${what}${detail ? `\n  # ${detail}` : ''}`);
  }
}

// Real data: isoscope demo's 21-day, 60 s history (30,240 rows; hour_of_week and
// is_deploy_window are derived from the timestamps) and the model trained on it.
const work = mkdtempSync(join(tmpdir(), 'isoscope-panel-e2e-'));
const demo = join(work, 'demo');
execFileSync(isoscope, ['demo', '--days', '21', '--out-dir', demo], { stdio: 'ignore' });
const csv = join(demo, 'history.csv');
const bundle = join(demo, 'model.bundle');
const broken = join(work, 'broken.bundle');
writeFileSync(broken, readFileSync(bundle).subarray(0, 1000));
// A seasonal model (3 days of look-back): Grafana's query range holds no history before its
// first point, so the panel must say from when scores start and why.
const seasonal = join(work, 'seasonal.bundle');
execFileSync(isoscope, ['train', '--csv', csv, '--out', seasonal, '--random-state', '42', '--quiet',
  '--derived', 'raw=off,seasonal_median_diff(latency_p95,1d,3),seasonal_median_diff(error_rate,1d,3)'], { stdio: 'ignore' });
// The first row native `isoscope score` scores: where the panel's scores must start.
const firstScored = (() => {
  const lines = execFileSync(isoscope, ['score', '--bundle', seasonal, '--csv', csv], { maxBuffer: 1 << 28 }).toString().split('\n');
  const row = lines.slice(1).find((l) => l.split(',')[2] !== '');
  return Date.parse(row.split(',')[1]);
})();

function nativeReplay(s) {
  const args = ['replay', '--bundle', bundle, '--csv', csv, '--warning', String(s.warning),
    '--critical', String(s.critical), '--for', `${s.forMinutes}m`, '--smooth', `${s.smoothMinutes}m`,
    '--contamination', String(s.contamination), '--json'];
  return JSON.parse(execFileSync(isoscope, args).toString());
}

// Time in alert from the native intervals, counted minute by minute (the evaluation grid),
// independently of the panel's interval union.
function nativeTimeInAlertMs(r) {
  const minutes = new Set();
  for (const list of [r.warning.firing, r.critical.firing]) {
    for (const { start, end } of list) {
      for (let t = Date.parse(start); t < Date.parse(end); t += 60_000) minutes.add(t);
    }
  }
  return minutes.size * 60_000;
}

const { server, base } = await startServer({ dist, harnessJs, csv, bundles: { demo: bundle, broken, seasonal } });
const profile = mkdtempSync(join(tmpdir(), 'isoscope-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1140, height: 560 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
const page = browser.pages()[0] ?? (await browser.newPage());
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
const open = (path, options) => page.goto(`${base}${path}?options=${encodeURIComponent(JSON.stringify(options))}`);
const text = (id) => page.getByTestId(id).textContent();

try {
  // States.
  await open('/', {});
  await page.getByTestId('state-no-bundle').waitFor({ timeout: 20_000 });
  check(true, 'no bundle configured: the no-bundle state');
  // An uploaded bundle file instead of the daemon's.
  await page.getByTestId('bundle-file').setInputFiles(bundle);
  await page.getByTestId('isoscope-whatif').waitFor({ timeout: 60_000 });
  const uploadedPages = Number(await text('stat-pages'));
  // The defaults follow the model, as isoscope replay's: contamination and contamination/2.
  const defaults = nativeReplay({ contamination: 0.02, warning: 'contamination', critical: 'contamination/2', forMinutes: 3, smoothMinutes: 5 });
  check(uploadedPages === defaults.pages && Number(await text('stat-flagged')) === defaults.flagged_rows,
    `an uploaded bundle: the what-if with the default settings (${defaults.pages} pages, ${defaults.flagged_rows} flagged)`);

  await open('/', { detector: 'broken' });
  await page.getByTestId('state-bad-bundle').waitFor({ timeout: 20_000 });
  const bad = await text('state-bad-bundle');
  check(/truncated: bundle is truncated: 1000 bytes/.test(bad), 'a truncated bundle: the core error shown', bad);

  await open('/', { detector: 'nosuch' });
  await page.getByTestId('state-bad-bundle').waitFor({ timeout: 20_000 });
  check(/404: no detector 'nosuch'/.test(await text('state-bad-bundle')), 'an unknown detector: the daemon error shown');

  await open('/', { detector: 'seasonal' });
  await page.getByTestId('warmup-note').waitFor({ timeout: 60_000 });
  const note = page.getByTestId('warmup-note');
  const noteAt = Number(await note.getAttribute('data-first-scored'));
  check(noteAt === firstScored && /scores start at .* read 3\.0d of history/.test(await note.textContent()),
    `a seasonal model on a range without its history: the panel says scores start at ${new Date(firstScored).toISOString()} and why`,
    `${noteAt} ${await note.textContent()}`);

  await open('/csp/', { detector: 'demo' });
  await page.getByTestId('state-wasm-blocked').waitFor({ timeout: 20_000 });
  const csp = await text('state-wasm-blocked');
  check(csp.includes("'wasm-unsafe-eval'"), "CSP without 'wasm-unsafe-eval': the wasm-blocked state names it", csp);
  await page.screenshot({ path: join(outDir, 'panel-csp.png') });

  // The what-if on real data.
  let settings = { contamination: 0.02, warning: 0.56, critical: 0.58, forMinutes: 3, smoothMinutes: 5 };
  await open('/', { detector: 'demo', daemonUrl: '', evalIntervalSeconds: 60, ...settings });
  await page.getByTestId('isoscope-whatif').waitFor({ timeout: 60_000 });

  const compare = async (label) => {
    const n = nativeReplay(settings);
    const stat = async (id) => Number(await text(`stat-${id}`));
    const flagged = await stat('flagged');
    const warnings = await stat('warnings');
    const pages = await stat('pages');
    const perWeek = Number(await page.getByTestId('stat-pages-per-week').getAttribute('data-value'));
    const alertMs = Number(await page.getByTestId('stat-time-in-alert').getAttribute('data-value'));
    const markers = await page.locator('.page-marker').count();
    const critFiring = await page.locator('rect.critical-firing').count();
    const warnPending = await page.locator('rect.warning-pending').count();
    const warnLine = Number(await page.getByTestId('line-warning').getAttribute('data-value'));
    const detail = JSON.stringify({ settings, panel: { flagged, warnings, pages, perWeek, alertMs },
      native: { flagged: n.flagged_rows, warnings: n.warning.firing_count, pages: n.pages, perWeek: n.pages_per_week } });
    check(flagged === n.flagged_rows, `${label}: points flagged = native flagged_rows (${n.flagged_rows})`, detail);
    check(warnings === n.warning.firing_count, `${label}: warnings = native warning firings (${n.warning.firing_count})`, detail);
    check(pages === n.pages, `${label}: pages = native pages (${n.pages})`, detail);
    check(Math.abs(perWeek - n.pages_per_week) < 1e-9, `${label}: pages/week = native (${n.pages_per_week})`, detail);
    check(alertMs === nativeTimeInAlertMs(n), `${label}: time in alert = native firing minutes (${nativeTimeInAlertMs(n) / 60000}m)`, detail);
    check(markers === n.pages && critFiring === n.critical.firing_count && warnPending === n.warning.pending_count,
      `${label}: overlay has ${n.pages} page markers, ${n.critical.firing_count} critical firing bands, ` +
        `${n.warning.pending_count} warning pending bands`, JSON.stringify({ markers, critFiring, warnPending }));
    check(warnLine === settings.warning, `${label}: warning line at ${settings.warning}`);
    return n;
  };

  const before = await compare('initial');
  check(before.pages > 0 && before.flagged_rows > 0, 'the initial settings page at least once (a meaningful check)');
  await page.screenshot({ path: join(outDir, 'panel.png') });

  const move = async (control, value, key, expected) => {
    await page.getByTestId(`control-${control}`).fill(String(value));
    await page.waitForFunction(([k, v]) => window.__options[k] === v, [key, expected], { timeout: 10_000 });
  };

  await move('contamination', 0.05, 'contamination', 0.05);
  settings = { ...settings, contamination: 0.05 };
  const c = await compare('contamination 0.05');
  check(c.flagged_rows > before.flagged_rows, 'a larger contamination flags more points');

  await move('warning', 0.62, 'warning', 0.62);
  await move('critical', 0.645, 'critical', 0.645);
  settings = { ...settings, warning: 0.62, critical: 0.645 };
  const t = await compare('warning 0.62, critical 0.645');
  check(t.pages !== c.pages || t.warning.firing_count !== c.warning.firing_count, 'the thresholds change the counts');

  await move('for', 5, 'forMinutes', 5);
  await move('smooth', 10, 'smoothMinutes', 10);
  settings = { ...settings, forMinutes: 5, smoothMinutes: 10 };
  await compare('for 5m, smoothing 10m');
  await page.screenshot({ path: join(outDir, 'panel-after.png') });

  await page.getByTestId('copy-rules').click();
  await page.getByTestId('rules-yaml').waitFor();
  const yaml = await text('rules-yaml');
  check(yaml.includes('expr: avg_over_time(anomaly_score[10m])') && yaml.includes('> 0.645') && yaml.includes('for: 5m'),
    'copy as rules: the YAML carries the chosen values', yaml);
  // Fit to budget: the panel's search (the core's tuneAlerts in WASM, over the shown scores)
  // chooses what isoscope tune chooses on the same history, and the panel then shows what
  // native replay gives for that choice.
  const tuned = JSON.parse(execFileSync(isoscope, ['tune', '--bundle', bundle, '--csv', csv, '--budget', '2/week',
    '--json']).toString()).chosen;
  await page.getByTestId('control-budget').fill('2');
  await page.getByTestId('fit-budget').click();
  await page.getByTestId('fit-result').waitFor();
  const fitted = await page.waitForFunction((t) => {
    const o = window.__options;
    return o.critical === t.critical && o.warning === t.warning && o.forMinutes * 60 === t.for_seconds &&
      o.smoothMinutes * 60 === t.smooth_seconds ? o : null;
  }, tuned, { timeout: 10_000 }).then((h) => h.jsonValue()).catch(() => null);
  check(fitted !== null, `fit to budget (2/week): the panel chooses what isoscope tune chooses (critical ${tuned.critical}, ` +
    `for ${tuned.for_seconds / 60}m, smoothing ${tuned.smooth_seconds / 60}m)`,
  JSON.stringify({ tuned, panel: await page.evaluate(() => window.__options), note: await text('fit-result') }));
  settings = { ...settings, warning: tuned.warning, critical: tuned.critical, forMinutes: tuned.for_seconds / 60,
    smoothMinutes: tuned.smooth_seconds / 60 };
  await compare('fit to budget');
  // The dashboard `isoscope dashboard` writes, loaded into the panel: its isoscope panel's
  // queries are named after the bundle's inputs (the harness names the frames the same way),
  // and with its options as they are the panel fetches the bundle from the daemon URL and
  // shows the what-if with the config's alert settings: the counts native replay gives.
  const cfg = join(work, 'isoscope.yml');
  writeFileSync(cfg, ['prometheus:', '  url: http://127.0.0.1:9', `models_dir: ${join(work, 'models')}`, 'detectors:',
    '  - name: demo', '    queries:', '      latency_p95: latency_q', '      error_rate: errors_q', '      cpu_throttle: cpu_q', '      memory_mb: memory_q',
    '    model: {contamination: 0.02}',
    '    alerts: {warning: 0.6, critical: 0.62, for: 4m, smooth: 7m, eval_interval: 1m}', ''].join('\n'));
  const dash = JSON.parse(execFileSync(isoscope, ['dashboard', '--config', cfg, '--daemon-url', base]).toString());
  const panel = dash.panels.find((x) => x.type === 'isoscope-whatif-panel');
  const legends = panel.targets.map((x) => x.legendFormat);
  // The harness names each frame after its CSV column (the legend Grafana would show).
  const csvHeader = readFileSync(csv, 'utf8').split('\n')[0].trim().split(',').slice(1).sort();
  check(JSON.stringify([...legends].sort()) === JSON.stringify(csvHeader),
    `dashboard: the panel's queries are named ${legends}, the model's inputs`, JSON.stringify({ legends, csvHeader }));
  await open('/', panel.options);
  await page.getByTestId('isoscope-whatif').waitFor({ timeout: 60_000 });
  settings = { contamination: 0.02, warning: 0.6, critical: 0.62, forMinutes: 4, smoothMinutes: 7 };
  check((await text('value-for')) === '4m' && (await text('value-smooth')) === '7m' &&
    (await text('value-warning')) === '0.600' && (await text('value-critical')) === '0.620',
  "dashboard: the panel renders with the dashboard's options (for 4m, smoothing 7m, warning 0.6, critical 0.62)");
  await compare('dashboard options');
  await page.screenshot({ path: join(outDir, 'panel-dashboard.png') });
  check(consoleErrors.length === 0, 'no page errors', consoleErrors.join('\n'));
} catch (e) {
  check(false, 'e2e ran to the end', String(e?.stack ?? e));
  await page.screenshot({ path: join(outDir, 'panel-failure.png') }).catch(() => {});
} finally {
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
console.log(`# pass ${checks - failures}\n# fail ${failures}`);
console.log(`screenshots in ${outDir}`);
process.exit(failures === 0 && checks > 0 ? 0 : 1);
