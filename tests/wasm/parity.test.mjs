// WASM/native parity on every golden case: the same bundle file scored by the WebAssembly core
// (in Node) and by the native `isoscope score`, and both against scikit-learn's own
// score_samples/predict from tests/golden/sklearn/<case>/expected.csv (independent reference).
// Bad bundles give {code, message} and never abort the module.
//   ISOSCOPE=build/native/isoscope WASM_DIR=build/wasm node --test tests/wasm/parity.test.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { numbers, readCsv } from './csv.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const golden = join(root, 'tests/golden');
const isoscope = resolve(process.env.ISOSCOPE ?? join(root, 'build/native/isoscope'));
const wasmDir = resolve(process.env.WASM_DIR ?? join(root, 'build/wasm'));
const python = process.env.PYTHON3 ?? '/usr/bin/python3';
const TOLERANCE = 1e-15;

let wasm;
let work;
const maxDiff = { native: 0, sklearn: 0, rows: 0, ties: 0, explain: 0, surpriseRows: 0 };

before(async () => {
  const { default: create } = await import(join(wasmDir, 'isoscope_core.mjs'));
  wasm = await create({ wasmBinary: readFileSync(join(wasmDir, 'isoscope_core.wasm')) });
  work = mkdtempSync(join(tmpdir(), 'isoscope-wasm-parity-'));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  // Printed for the record (the closing note quotes it).
  console.log(
    `# parity: ${maxDiff.rows} rows; max |wasm - native| = ${maxDiff.native}, ` +
      `max |wasm - sklearn| = ${maxDiff.sklearn}; ` +
      `max |wasm - native| of contributions = ${maxDiff.explain}; ` +
      `surprise bit-identical to native on ${maxDiff.surpriseRows} rows; ` +
      `${maxDiff.ties} rows at the threshold not compared with sklearn's predict`
  );
});

// CRC-32 (IEEE, as zlib.crc32), for hand-made bundle framing.
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function nativeScores(bundle, csv) {
  const out = join(work, 'native-scores.csv');
  execFileSync(isoscope, ['score', '--quiet', '--bundle', bundle, '--csv', csv, '--out', out]);
  const c = readCsv(out).columns;
  return { scores: numbers(c.anomaly_score), isAnomaly: c.is_anomaly.map(Number), reason: c.reason,
    surprise: c.surprise };
}

function checkCase(name, bundlePath) {
  const caseDir = join(golden, 'sklearn', name);
  const bytes = readFileSync(bundlePath);
  const info = wasm.loadBundle(bytes);
  assert.equal(info.ok, true, `${name}: loadBundle: ${info.message}`);
  const input = readCsv(join(caseDir, 'score.csv'));
  assert.deepEqual(info.inputs, input.header, `${name}: the bundle's inputs are the CSV columns`);
  const series = Object.fromEntries(input.header.map((h) => [h, numbers(input.columns[h])]));
  const times = new Float64Array(input.rows).fill(NaN);
  const w = wasm.scoreRows(bytes, times, series);
  assert.equal(w.ok, true, `${name}: scoreRows: ${w.message}`);
  assert.equal(w.scores.length, input.rows);

  const n = nativeScores(bundlePath, join(caseDir, 'score.csv'));
  const expected = readCsv(join(caseDir, 'expected.csv')).columns;
  const skScores = numbers(expected.score_samples).map((s) => -s);
  const skDecision = numbers(expected.decision_function);
  const skAnomaly = expected.predict.map((p) => (p === '-1' ? 1 : 0));
  assert.equal(n.scores.length, input.rows);
  assert.equal(skScores.length, input.rows);

  for (let i = 0; i < input.rows; i++) {
    const dn = Math.abs(w.scores[i] - n.scores[i]);
    const ds = Math.abs(w.scores[i] - skScores[i]);
    maxDiff.native = Math.max(maxDiff.native, dn);
    maxDiff.sklearn = Math.max(maxDiff.sklearn, ds);
    if (!(dn <= TOLERANCE)) assert.fail(`${name} row ${i}: wasm ${w.scores[i]} native ${n.scores[i]}`);
    if (!(ds <= TOLERANCE)) assert.fail(`${name} row ${i}: wasm ${w.scores[i]} sklearn ${skScores[i]}`);
    if (w.isAnomaly[i] !== n.isAnomaly[i]) {
      assert.fail(`${name} row ${i}: is_anomaly wasm ${w.isAnomaly[i]} native ${n.isAnomaly[i]}`);
    }
    // A score exactly at the threshold (sklearn decision_function 0) is a tie that sklearn
    // resolves with its own offset_ arithmetic; tests/core skips these rows the same way.
    if (Math.abs(skDecision[i]) < 1e-12) {
      maxDiff.ties++;
    } else if (w.isAnomaly[i] !== skAnomaly[i]) {
      assert.fail(`${name} row ${i}: is_anomaly wasm ${w.isAnomaly[i]} sklearn ${skAnomaly[i]}`);
    }
    assert.equal(w.issues[i], 0, `${name} row ${i} has a score`);
  }
  maxDiff.rows += input.rows;
  checkSurprise(name, w.surprise, n.surprise);
  checkExplain(name, bytes, bundlePath, join(caseDir, 'score.csv'), times, series, w.scores);
}

// The calibrated surprise: the same bits as score's column (its shortest round-trip text), or
// null where the bundle has no calibration and score leaves the column empty.
function checkSurprise(name, wasmSurprise, nativeText) {
  if (wasmSurprise === null) {
    assert.ok(nativeText.every((t) => t === ''), `${name}: wasm has no surprise, native has`);
    return;
  }
  assert.equal(wasmSurprise.length, nativeText.length);
  for (let i = 0; i < nativeText.length; i++) {
    const native = nativeText[i] === '' ? NaN : Number(nativeText[i]);
    if (!Object.is(wasmSurprise[i], native)) {
      assert.fail(`${name} row ${i}: surprise wasm ${wasmSurprise[i]} native ${nativeText[i]}`);
    }
  }
  maxDiff.surpriseRows += nativeText.length;
}

// Attribution: the WebAssembly explainRows against the native score --explain on the same
// rows, and s0 * prod 2^contribution against the score (local accuracy).
function checkExplain(name, bytes, bundlePath, csv, times, series, scores) {
  const e = wasm.explainRows(bytes, times, series, null);
  assert.equal(e.ok, true, `${name}: explainRows: ${e.message}`);
  const out = join(work, 'native-explain.csv');
  execFileSync(isoscope, ['score', '--quiet', '--explain', '--bundle', bundlePath, '--csv', csv,
    '--out', out]);
  const c = readCsv(out).columns;
  assert.deepEqual(e.features.length, e.width);
  for (let j = 0; j < e.width; j++) {
    const native = numbers(c[`contribution:${e.features[j]}`]);
    for (let i = 0; i < scores.length; i++) {
      const d = Math.abs(e.contributions[i * e.width + j] - native[i]);
      maxDiff.explain = Math.max(maxDiff.explain, d);
      if (!(d <= TOLERANCE)) {
        assert.fail(`${name} row ${i} ${e.features[j]}: wasm ${e.contributions[i * e.width + j]} native ${native[i]}`);
      }
    }
  }
  for (let i = 0; i < scores.length; i++) {
    let product = e.baselineScore;
    for (let j = 0; j < e.width; j++) product *= 2 ** e.contributions[i * e.width + j];
    assert.ok(Math.abs(product - scores[i]) <= 1e-12, `${name} row ${i}: s0 * prod ${product} vs ${scores[i]}`);
    const top = e.topInput[i] >= 0 ? e.inputs[e.topInput[i]] : '';
    assert.equal(top, c.top_input[i], `${name} row ${i}: top input`);
  }
}

describe('golden bundles of format v1 (tests/golden/v1)', () => {
  const bundles = readdirSync(join(golden, 'v1')).filter((f) => f.endsWith('.bundle'));
  test('there are golden v1 bundles', () => assert.ok(bundles.length >= 2));
  for (const file of bundles) {
    test(file, () => checkCase(file.replace(/\.bundle$/, ''), join(golden, 'v1', file)));
  }
});

describe('every scikit-learn golden case, imported by the native CLI', () => {
  const cases = readdirSync(join(golden, 'sklearn'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  test('all 17 cases are present', () => assert.equal(cases.length, 17));
  for (const name of cases) {
    test(name, () => {
      const caseDir = join(golden, 'sklearn', name);
      const bundle = join(work, `${name}.bundle`);
      execFileSync(isoscope, ['import-sklearn', '--model', join(caseDir, 'model.json'),
        '--training-csv', join(caseDir, 'train.csv'), '--out', bundle], { stdio: 'ignore' });
      checkCase(name, bundle);
    });
  }
  test('the surprise was compared on calibrated bundles', () => assert.ok(maxDiff.surpriseRows > 0));
});

describe('bad bundles give {code, message}, never an abort', () => {
  const good = () => readFileSync(join(golden, 'v1', 'basic_gauss.bundle'));

  test('truncated at every length class', () => {
    const bytes = good();
    for (const len of [0, 1, 10, 26, 27, 100, bytes.length >> 1, bytes.length - 1]) {
      const r = wasm.loadBundle(bytes.subarray(0, len));
      assert.equal(r.ok, undefined, `length ${len} loads`);
      assert.equal(r.code, 'truncated', `length ${len}: ${r.code} ${r.message}`);
      assert.match(r.message, len === 0 ? /empty/ : /truncated/);
    }
  });

  test('a flipped byte in the body is corrupt (checksum)', () => {
    const bytes = Uint8Array.from(good());
    bytes[bytes.length - 40] ^= 0x55;
    const r = wasm.loadBundle(bytes);
    assert.equal(r.code, 'corrupt', r.message);
  });

  test('a valid checksum over a malformed body: the msgpack exception is caught inside the module', () => {
    // Header of a real bundle, then a body that msgpack cannot parse (an array of 65535
    // elements that ends at once) with its correct CRC-32 and length: the decoder's catch
    // must run in WebAssembly too (it does only when the build has exception handling).
    const head = good().subarray(0, 16);
    const body = Uint8Array.from([0x82, 0xa3, 0x61, 0x62, 0x63, 0xdc, 0xff, 0xff]);
    const crc = crc32(body);
    const framing = Uint8Array.from([0xce, crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255,
      0xc6, 0, 0, 0, body.length]);
    const r = wasm.loadBundle(Buffer.concat([head, framing, body]));
    assert.equal(r.code, 'corrupt', r.message);
    assert.match(r.message, /cannot be parsed/);
  });

  test('a foreign file is foreign', () => {
    const r = wasm.loadBundle(new TextEncoder().encode('{"not": "a bundle"}'));
    assert.equal(r.code, 'foreign');
    assert.match(r.message, /not an isoscope bundle/);
  });

  test('a well-formed bundle whose canary changed fails the canary check', () => {
    const tampered = join(work, 'tampered.bundle');
    const label = execFileSync(python, [join(here, 'tamper_canary.py'),
      join(golden, 'v1', 'basic_gauss.bundle'), tampered]).toString().trim();
    const r = wasm.loadBundle(readFileSync(tampered));
    assert.equal(r.code, 'canary_mismatch', r.message);
    assert.ok(r.message.includes(label), `message names canary ${label}: ${r.message}`);
  });

  test('the module still scores after the errors', () => {
    const bytes = good();
    const info = wasm.loadBundle(bytes);
    assert.equal(info.ok, true);
    const r = wasm.scoreRows(bytes, [NaN], Object.fromEntries(info.inputs.map((k) => [k, [0]])));
    assert.equal(r.ok, true);
    assert.ok(r.scores[0] > 0 && r.scores[0] <= 1);
  });

  test('missing input series are named', () => {
    const bytes = good();
    const r = wasm.scoreRows(bytes, [0], { x0: [1] });
    assert.equal(r.code, 'bad_input');
    assert.match(r.message, /x1, x2, x3, x4/);
  });

  test('a series of the wrong length is refused', () => {
    const bytes = good();
    const series = { x0: [1, 2], x1: [1], x2: [1], x3: [1], x4: [1] };
    const r = wasm.scoreRows(bytes, [0], series);
    assert.equal(r.code, 'invalid_argument');
    assert.match(r.message, /'x0' has 2 values but there are 1 timestamps/);
  });
});
