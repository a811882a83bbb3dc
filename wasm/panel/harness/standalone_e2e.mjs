// e2e of the standalone what-if page: `isoscope serve` (replaying isoscope demo's history,
// no Prometheus) serves the built page at / and the data at /api/v1/detectors/...; headless
// Debian Chromium opens it, and the counts must equal the native `isoscope replay --json` on
// the same rows (the history endpoint's answer written back as CSV), before and after the
// thresholds move.
//   ISOSCOPE=... PANEL_DIST=... OUT_DIR=... node harness/standalone_e2e.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checker, env, launchChromium, nativeShownReplay } from './common.mjs';

const isoscope = env('ISOSCOPE');
const dist = env('PANEL_DIST');
const outDir = env('OUT_DIR');
mkdirSync(outDir, { recursive: true });

const { check, done } = checker();

const work = mkdtempSync(join(tmpdir(), 'isoscope-standalone-e2e-'));
const demo = join(work, 'demo');
execFileSync(isoscope, ['demo', '--days', '21', '--out-dir', demo], { stdio: 'ignore' });
// The daemon's config as isoscope demo writes it: one query per input of the model.
const config = join(demo, 'isoscope.yml');
execFileSync(isoscope, ['install', '--config', config, '--detector', 'demo', '--bundle', join(demo, 'model.bundle')],
  { stdio: 'ignore' });

// The daemon on a free port; its log names the port.
const daemon = spawn(isoscope, ['serve', '--config', config, '--web.listen-address', '127.0.0.1:0',
  '--replay-csv', join(demo, 'history.csv'), '--start-time', '2026-08-23T23:00:00Z', '--web.ui-dir', dist],
  { stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
const base = await new Promise((resolvePort, reject) => {
  const onData = (d) => {
    log += d;
    const m = log.match(/listening on 127\.0\.0\.1:(\d+)/);
    if (m) resolvePort(`http://127.0.0.1:${m[1]}`);
  };
  daemon.stdout.on('data', onData);
  daemon.stderr.on('data', onData);
  daemon.on('exit', (code) => reject(new Error(`isoscope serve exited ${code}: ${log}`)));
  setTimeout(() => reject(new Error(`isoscope serve did not start: ${log}`)), 20_000);
});

const HOURS = 72;
function nativeReplay(history, s) {
  const args = ['--warning', String(s.warning), '--critical', String(s.critical), '--for', '3m', '--smooth', '5m'];
  return nativeShownReplay(isoscope, join(demo, 'model.bundle'), history, work, args).replay;
}

const chrome = await launchChromium({ width: 1200, height: 640 });
const browser = chrome.browser;
try {
  const history = await (await fetch(`${base}/api/v1/detectors/demo/history?hours=${HOURS}`)).json();
  const shownRows = history.times.filter((t) => t >= history.shown_from).length;
  check(shownRows === HOURS * 60 + 1 && history.times.length === shownRows + history.warmup_ms / 60_000,
    `history: ${HOURS} h at 60 s from the daemon after the model's warm-up (${shownRows} + ${history.warmup_ms / 60_000} rows)`);
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const wasmResponses = [];
  page.on('response', (r) => r.url().endsWith('.wasm') && wasmResponses.push(`${r.status()} ${r.headers()['content-type']}`));
  await page.goto(`${base}/?hours=${HOURS}`);
  await page.getByTestId('isoscope-whatif').waitFor({ timeout: 60_000 });
  check(wasmResponses.some((r) => r === '200 application/wasm'), 'the daemon serves the .wasm as application/wasm', wasmResponses.join());

  const compare = async (label, s) => {
    const n = nativeReplay(history, s);
    const num = async (id) => Number(await page.getByTestId(`stat-${id}`).textContent());
    const got = { flagged: await num('flagged'), warnings: await num('warnings'), pages: await num('pages') };
    const want = { flagged: n.flagged_rows, warnings: n.warning.firing_count, pages: n.pages };
    check(JSON.stringify(got) === JSON.stringify(want), `${label}: flagged, warnings, pages = native ${JSON.stringify(want)}`,
      JSON.stringify(got));
    return n;
  };
  // The defaults follow the model, as isoscope replay's.
  await compare('defaults (contamination, contamination/2)', { warning: 'contamination', critical: 'contamination/2' });
  await page.getByTestId('control-warning').fill('0.5');
  await page.getByTestId('control-critical').fill('0.52');
  await page.waitForFunction(() => document.querySelector('[data-testid="value-critical"]')?.textContent === '0.520');
  const moved = await compare('warning 0.5, critical 0.52', { warning: 0.5, critical: 0.52 });
  check(moved.pages > 0, 'the moved thresholds page at least once (a meaningful check)');
  await page.screenshot({ path: join(outDir, 'standalone.png') });
  check(errors.length === 0, 'no page errors', errors.join('\n'));
} catch (e) {
  check(false, 'standalone e2e ran to the end', String(e?.stack ?? e));
} finally {
  await chrome.close();
  daemon.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
done();
