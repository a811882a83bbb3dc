// "Fit to budget" parity: the WebAssembly tuneAlerts (what the panel runs) and the native
// `isoscope tune --json` choose the same settings and report the same frontier on the same
// scores. The scores are the demo's (isoscope demo writes scores.csv, printed so that they read
// back exactly), taken as given by both sides, so any difference is the search's own.
//   ISOSCOPE=build/native/isoscope WASM_DIR=build/wasm node --test tests/wasm/tune_parity.test.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const isoscope = resolve(process.env.ISOSCOPE ?? join(root, 'build/native/isoscope'));
const wasmDir = resolve(process.env.WASM_DIR ?? join(root, 'build/wasm'));

let wasm;
let work;
let times;
let scores;
let incidents;

// The leading cells of score's output: row, timestamp, anomaly_score (later cells may be
// quoted and hold commas; these never do).
function readScores(path) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  assert.deepEqual(lines[0].split(',').slice(0, 3), ['row', 'timestamp', 'anomaly_score']);
  const t = new Float64Array(lines.length - 1);
  const s = new Float64Array(lines.length - 1);
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',');
    t[i] = Date.parse(cells[1]);
    s[i] = cells[2] === '' ? NaN : Number(cells[2]);
  });
  return { t, s };
}

function readIncidents(path) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  return lines.slice(1).map((line) => {
    const [name, start, end] = line.split(',');
    return { name, startMs: Date.parse(start), endMs: Date.parse(end) };
  });
}

before(async () => {
  const { default: create } = await import(join(wasmDir, 'isoscope_core.mjs'));
  wasm = await create({ wasmBinary: readFileSync(join(wasmDir, 'isoscope_core.wasm')) });
  work = mkdtempSync(join(tmpdir(), 'isoscope-tune-parity-'));
  execFileSync(isoscope, ['demo', '--out-dir', work], { stdio: 'ignore' });
  ({ t: times, s: scores } = readScores(join(work, 'scores.csv')));
  incidents = readIncidents(join(work, 'incidents.csv'));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function nativeTune(args) {
  const out = execFileSync(isoscope, ['tune', '--csv', join(work, 'scores.csv'), '--json', ...args]);
  return JSON.parse(out.toString());
}

// Native JSON (seconds, snake_case) against the wasm object (ms, camelCase), field by field.
function assertSame(native, w, what) {
  assert.equal(w.critical, native.critical, `${what}: critical`);
  assert.equal(w.warning, native.warning, `${what}: warning`);
  assert.equal(w.forMs, native.for_seconds * 1000, `${what}: for`);
  assert.equal(w.smoothMs, native.smooth_seconds * 1000, `${what}: smooth`);
  assert.equal(w.pages, native.pages, `${what}: pages`);
  assert.equal(w.warnings, native.warnings, `${what}: warnings`);
  assert.equal(w.caught, native.caught, `${what}: caught`);
  assert.equal(w.totalDelayMs, native.total_delay_seconds * 1000, `${what}: delay`);
  assert.equal(w.falsePages, native.false_pages, `${what}: false pages`);
}

function compare(args, settings, withIncidents) {
  const native = nativeTune(args);
  const w = wasm.tuneAlerts(times, scores, settings, withIncidents ? incidents : null);
  assert.equal(w.ok, true, `tuneAlerts: ${w.message}`);
  assert.equal(w.evaluated, native.evaluated);
  assertSame(native.chosen, w.chosen, 'chosen');
  assert.equal(w.frontier.length, native.frontier.length, 'frontier length');
  native.frontier.forEach((n, i) => assertSame(n, w.frontier[i], `frontier[${i}]`));
  return w;
}

test('one page a week with incidents and a 15m limit: the same choice', () => {
  const w = compare(
    ['--budget', '1/week', '--incidents', join(work, 'incidents.csv'), '--max-delay', '15m'],
    { budgetPerWeek: 1, maxDelayMs: 15 * 60000 },
    true
  );
  assert.ok(w.chosen.pagesPerWeek <= 1);
  assert.ok(w.chosen.caught >= 1, 'the demo has incidents to catch within budget');
});

test('three pages a week without incidents, other grids: the same choice', () => {
  compare(
    ['--budget', '3/week', '--for', '3m,4m,6m', '--smooth', '5m,20m', '--warning-budget', '8/week'],
    { budgetPerWeek: 3, forMs: [180000, 240000, 360000], smoothMs: [300000, 1200000], warningBudgetPerWeek: 8 },
    false
  );
});

test('bad settings are an error object, not an abort', () => {
  const w = wasm.tuneAlerts(times, scores, { budgetPerWeek: 0 }, null);
  assert.equal(w.code, 'invalid_argument');
  const v = wasm.tuneAlerts(times, scores, { budgetPerWeek: 1, forMs: [-1] }, null);
  assert.equal(v.code, 'invalid_argument');
});
