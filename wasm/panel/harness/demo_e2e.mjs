// e2e of `make demo` as a user meets it: the same two steps as the Makefile's demo target
// (isoscope demo --out-dir DIR, then tools/demo_serve.sh with DEMO_SERVE_SECONDS), on a free
// port, and while the daemon runs: /metrics has anomaly_score samples and passes promtool check
// metrics; the what-if page at / in headless Debian Chromium scores every shown point of the
// demo's seasonal model (the history endpoint sends the warm-up first), marks the incidents in
// the shown range, and its counts equal native `isoscope score` + `isoscope replay` on the same
// rows. A screenshot is kept in OUT_DIR/demo-page.png.
//   ISOSCOPE=... ROOT=... OUT_DIR=... node harness/demo_e2e.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checker, env, launchChromium, nativeShownReplay } from './common.mjs';

const isoscope = env('ISOSCOPE');
const root = env('ROOT');
const outDir = env('OUT_DIR');
mkdirSync(outDir, { recursive: true });
const SERVE_SECONDS = 120; // ends the daemon by itself, as DEMO_SERVE_SECONDS=N make demo does
const HOURS = 336; // the page's longest choice: 14 days, which hold several of the incidents

const { check, done } = checker();

const work = mkdtempSync(join(tmpdir(), 'isoscope-demo-e2e-'));
const demo = join(work, 'demo');
// Step 1 of make demo, as the Makefile runs it.
execFileSync(isoscope, ['demo', '--out-dir', demo], { stdio: 'ignore' });

// Step 2: the script itself, on a free port.
const serve = spawn(join(root, 'tools/demo_serve.sh'), [isoscope, demo], {
  env: { ...process.env, DEMO_SERVE_SECONDS: String(SERVE_SECONDS), DEMO_LISTEN: '127.0.0.1:0' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
serve.stdout.on('data', (d) => (out += d));
serve.stderr.on('data', (d) => (out += d));
const exited = new Promise((res) => serve.on('exit', (code) => res(code)));
const base = await new Promise((res, reject) => {
  const poll = setInterval(() => {
    const m = out.match(/(http:\/\/127\.0\.0\.1:\d+)\/metrics/);
    if (m) {
      clearInterval(poll);
      res(m[1]);
    }
  }, 100);
  exited.then((code) => reject(new Error(`demo_serve.sh exited ${code} before serving:\n${out}`)));
  setTimeout(() => reject(new Error(`demo_serve.sh did not print its URL in 60 s:\n${out}`)), 60_000);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function checkMetrics() {
  let text = '';
  for (let i = 0; i < 60 && !/^anomaly_score\{/m.test(text); i++) {
    text = await (await fetch(`${base}/metrics`)).text();
    if (!/^anomaly_score\{/m.test(text)) await sleep(500);
  }
  const samples = text.split('\n').filter((l) => l.startsWith('anomaly_score{'));
  check(samples.length > 0, '/metrics has anomaly_score samples', text.slice(0, 400));
  const file = join(work, 'metrics.txt');
  writeFileSync(file, text);
  let lint = '';
  let ok = true;
  try {
    lint = execFileSync('sh', ['-c', `promtool check metrics < "${file}"`], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    ok = false;
    lint = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  check(ok, 'promtool check metrics accepts /metrics', lint);
}

const chrome = await launchChromium({ width: 1400, height: 760 });
const browser = chrome.browser;
try {
  await checkMetrics();
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The history the page itself received (the daemon's clock moves between two requests).
  const historyResponse = page.waitForResponse((r) => r.url().includes('/history?'), { timeout: 180_000 });
  await page.goto(`${base}/?hours=${HOURS}`);
  const history = await (await historyResponse).json();
  await page.getByTestId('isoscope-whatif').waitFor({ timeout: 120_000 });
  check(history.warmup_ms > 0 && history.times[0] < history.shown_from,
    `the history starts with the model's warm-up (${history.warmup_ms} ms before the shown range)`);

  const native = nativeShownReplay(isoscope, join(demo, 'model.bundle'), history, work);
  const n = { ...native, r: native.replay };
  const statText = async (id) => (await page.getByTestId(`stat-${id}`).textContent()) ?? '';
  const strip = (await page.getByTestId('stats-strip').textContent()) ?? '';
  const scoredOnPage = Number((strip.match(/of (\d+) scored points/) ?? [])[1]);
  check(scoredOnPage > 0, `the page shows scored points (${scoredOnPage})`, strip);
  // Every shown row with all inputs present has a score: gaps (missing inputs) aside.
  const names = Object.keys(history.series);
  const first = history.times.findIndex((t) => t >= history.shown_from);
  let complete = 0;
  for (let i = first; i < history.times.length; i++) if (names.every((k) => history.series[k][i] !== null)) complete++;
  check(scoredOnPage === complete && n.scored === complete,
    `every shown point with its inputs is scored: page ${scoredOnPage}, native ${n.scored}, rows with inputs ${complete} of ${n.shown}`);
  check((await page.getByTestId('warmup-note').count()) === 0, 'no warm-up note: the page had the history it needs');

  const got = { flagged: Number(await statText('flagged')), warnings: Number(await statText('warnings')), pages: Number(await statText('pages')) };
  const want = { flagged: n.r.flagged_rows, warnings: n.r.warning.firing_count, pages: n.r.pages };
  check(JSON.stringify(got) === JSON.stringify(want), `page counts = isoscope score + replay ${JSON.stringify(want)}`, JSON.stringify(got));
  const pageMarkers = await page.locator('.page-marker').count();
  check(pageMarkers === n.r.critical.firing_count, `a page marker per critical firing (${pageMarkers})`);

  const t0 = history.shown_from;
  const t1 = history.times[history.times.length - 1];
  const inRange = history.incidents.filter((w) => w.end > t0 && w.start <= t1).map((w) => w.name).sort();
  const marked = (await page.locator('.incident-marker').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))).sort();
  check(inRange.length > 0 && JSON.stringify(marked) === JSON.stringify(inRange),
    `the incidents in the shown range are marked: ${inRange.join(', ')}`, `marked: ${marked.join(', ')}`);
  const lanes = await page.locator('.input-lane').count();
  check(lanes === names.length, `each input in its own lane (${lanes} of ${names.length})`);
  const header = (await page.getByTestId('header-model').textContent()) ?? '';
  const version = (await (await fetch(`${base}/api/v1/detectors`)).json())[0].model_version;
  check(Boolean(version) && header.includes(`model ${version}`), `the header names the model version: ${header}`);
  await page.screenshot({ path: join(outDir, 'demo-page.png') });
  check(errors.length === 0, 'no page errors', errors.join('\n'));
} catch (e) {
  check(false, 'demo e2e ran to the end', `${e?.stack ?? e}\n${out.slice(-1500)}`);
  const page = browser.pages()[0];
  if (page) await page.screenshot({ path: join(outDir, 'demo-page-failure.png') }).catch(() => {});
} finally {
  await chrome.close();
}

// The script stops the daemon by itself after DEMO_SERVE_SECONDS and exits 0.
const code = await exited;
check(code === 0, `tools/demo_serve.sh exits 0 after DEMO_SERVE_SECONDS (${code})`, out.slice(-2000));
check(/anomaly_score \d\.\d{4}/.test(out), 'demo_serve.sh printed the scores of the cycles', out.slice(-2000));
writeFileSync(join(outDir, 'demo-serve.log'), out);
rmSync(work, { recursive: true, force: true });
done();
