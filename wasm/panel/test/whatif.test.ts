import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  computeStats,
  countFlagged,
  downsample,
  firstAtOrAfter,
  firstScoredTime,
  fitToBudget,
  formatDuration,
  medianStep,
  tuneGrids,
  replaySettings,
  resolveThresholds,
  shownRows,
  unionLength,
  DEFAULT_SETTINGS,
} from '../src/whatif';
import { replayScores } from '../src/model';
import { testWasm } from './wasm';

const M = 60_000;

test('union of firing intervals counts overlaps once', () => {
  const a = { start: [0, 10 * M], end: [5 * M, 12 * M] };
  const b = { start: [3 * M, 20 * M], end: [6 * M, 21 * M] };
  assert.equal(unionLength([a, b]), 6 * M + 2 * M + 1 * M);
  assert.equal(unionLength([{ start: [], end: [] }]), 0);
});

test('flagged counts scores strictly above the threshold, NaN is unscored', () => {
  const r = countFlagged(Float64Array.from([0.5, 0.6, NaN, 0.61, 0.7]), 0.6);
  assert.deepEqual(r, { scored: 4, flagged: 2 });
});

test('flagged against a threshold per point (the models of a backtest)', () => {
  // 0.6 > 0.55 yes; 0.6 > 0.65 no; NaN unscored; 0.7 > 0.7 no (strict); 0.8 > NaN no.
  const scores = Float64Array.from([0.6, 0.6, NaN, 0.7, 0.8]);
  const r = countFlagged(scores, Float64Array.from([0.55, 0.65, 0.5, 0.7, NaN]));
  assert.deepEqual(r, { scored: 4, flagged: 1 });
});

test('downsampling keeps each column min and max (spikes survive) and breaks at NaN', () => {
  const n = 10_000;
  const times = Float64Array.from({ length: n }, (_, i) => i);
  const values = Float64Array.from({ length: n }, (_, i) => (i === 4321 ? 9 : i === 7000 ? NaN : 1));
  const segs = downsample(times, values, 0, n - 1, 100);
  assert.equal(segs.length, 2);
  const points = segs.flat();
  assert.ok(points.length <= 2 * 101);
  assert.ok(points.some(([t, v]) => t === 4321 && v === 9));
});

// Left to the model (null, the default), warning and critical are isoscope's `contamination` and
// `contamination/2`: the model's thresholds at its share and at half of it; a score stays as set.
test('thresholds left to the model resolve as contamination and contamination/2', () => {
  const model = { share: 0.02, thresholdFor: (c: number) => 0.6 - c };  // a stand-in quantile table
  const r = resolveThresholds(DEFAULT_SETTINGS, model);
  assert.equal(r.warning, 0.6 - 0.02);
  assert.equal(r.critical, 0.6 - 0.01);
  assert.deepEqual(
    [resolveThresholds({ ...DEFAULT_SETTINGS, warning: 0.7 }, model).warning, resolveThresholds({ ...DEFAULT_SETTINGS, critical: 0.9 }, model).critical],
    [0.7, 0.9]
  );
  // Scores given without a model: the fixed origin thresholds.
  assert.deepEqual([resolveThresholds(DEFAULT_SETTINGS, null).warning, resolveThresholds(DEFAULT_SETTINGS, null).critical], [0.65, 0.85]);
});

test('settings convert to the core replay units', () => {
  assert.deepEqual(replaySettings(resolveThresholds({ ...DEFAULT_SETTINGS, forMinutes: 3, smoothMinutes: 5 }, null)), {
    warning: 0.65,
    critical: 0.85,
    forMs: 180_000,
    smoothMs: 300_000,
    evalIntervalMs: 60_000,
  });
  assert.equal(formatDuration(90 * M), '90m');
  assert.equal(formatDuration(3 * 24 * 60 * M), '3.0d');
});

test('stats from the WASM replay: a 20-minute excursion pages once, and for: 30m never', async () => {
  const wasm = await testWasm();
  // One score per minute: 0.4, then 20 minutes at 0.95 from minute 100 (spec: avg over 5m
  // exceeds 0.85 from minute 100; held 3m -> a page), then 0.4 again.
  const n = 300;
  const times = Float64Array.from({ length: n }, (_, i) => i * M);
  const scores = Float64Array.from({ length: n }, (_, i) => (i >= 100 && i < 120 ? 0.95 : 0.4));
  const replay = replayScores(wasm, times, scores, replaySettings(resolveThresholds(DEFAULT_SETTINGS, null)));
  const stats = computeStats(scores, 0.5, replay);
  assert.equal(stats.flagged, 20);
  assert.equal(stats.pages, 1);
  assert.equal(stats.warnings, 1);
  // avg_over_time over (t-5m, t] holds the 5 samples t-4m..t: above 0.85 only when all 5 are
  // 0.95 (4 of 5 give 0.84), i.e. at minutes 104..119. Pending from 104, firing once held
  // for 3m (107), until the first evaluation where it no longer holds (120).
  assert.equal(replay.critical.pending.start[0], 104 * M);
  assert.equal(replay.critical.firing.start[0], 107 * M);
  assert.equal(replay.critical.firing.end[0], 120 * M);
  const never = replayScores(wasm, times, scores, replaySettings(resolveThresholds({ ...DEFAULT_SETTINGS, forMinutes: 30 }, null)));
  assert.equal(never.pages, 0);
  assert.equal(never.critical.pending.start.length, 1);
});

test('saved panel options with missing or bad fields fall back to the defaults', async () => {
  const { panelSettings } = await import('../src/components/IsoscopePanel');
  assert.deepEqual(panelSettings({}), DEFAULT_SETTINGS);
  assert.deepEqual(
    panelSettings({ warning: 0.7, forMinutes: -1, smoothMinutes: 0, contamination: 0.9, evalIntervalSeconds: NaN }),
    { ...DEFAULT_SETTINGS, warning: 0.7 }
  );
  assert.equal(panelSettings({ contamination: 0.01 }).contamination, 0.01);
});

test('the warm-up rows are cut off after scoring: the shown rows start at shownFrom', () => {
  const times = Float64Array.from([0, 60, 120, 180, 240]);
  assert.equal(firstAtOrAfter(times, -5), 0);
  assert.equal(firstAtOrAfter(times, 120), 2);
  assert.equal(firstAtOrAfter(times, 121), 3);
  assert.equal(firstAtOrAfter(times, 999), 5);
  const data = { times, series: { x: Float64Array.from([1, 2, 3, 4, 5]) }, sources: { x: 'x' } };
  const scores = Float64Array.from([NaN, NaN, 0.5, 0.6, 0.7]);
  const shown = shownRows(data, scores, 2, Float64Array.from([9, 9, 0.55, 0.55, 0.65]));
  assert.deepEqual(Array.from(shown.data.times), [120, 180, 240]);
  assert.deepEqual(Array.from(shown.data.series.x), [3, 4, 5]);
  assert.deepEqual(Array.from(shown.scores), [0.5, 0.6, 0.7]);
  assert.deepEqual(Array.from(shown.thresholds!), [0.55, 0.55, 0.65]);
  assert.equal(shownRows(data, scores, 0).scores, scores); // nothing to cut: the same arrays
  assert.equal(firstScoredTime(times, scores), 120);
  assert.equal(firstScoredTime(times, Float64Array.from([NaN, NaN, NaN, NaN, NaN])), null);
});

test('fit to budget: the chosen settings, replayed, stay within the budget and page the incident', async () => {
  const wasm = await testWasm();
  // Two weeks at one score a minute: 0.4 with a small daily wobble, two short blips to 0.8
  // (noise a page would be false on) and one 30-minute incident at 0.9 on day 9.
  const n = 14 * 1440;
  const times = Float64Array.from({ length: n }, (_, i) => i * M);
  const incident = { name: 'outage', start: 9 * 1440 * M, end: (9 * 1440 + 30) * M };
  const scores = Float64Array.from({ length: n }, (_, i) => {
    if (i >= 9 * 1440 && i < 9 * 1440 + 30) return 0.9;
    if (i === 3 * 1440 || i === 6 * 1440 + 7) return 0.8;
    return 0.4 + 0.02 * Math.sin((i * 2 * Math.PI) / 1440);
  });
  const r = fitToBudget(wasm, times, scores, DEFAULT_SETTINGS, 1, [incident]);
  assert.ok(!('code' in r), 'code' in r ? r.message : '');
  if ('code' in r) return;
  const s = r.settings;
  assert.ok(s.warning !== null && s.critical !== null && s.warning <= s.critical);
  // Replayed with the core's Replay (not the search): at most 2 pages in 2 weeks, one of them
  // during the incident.
  const replay = replayScores(wasm, times, scores, replaySettings(resolveThresholds(s, null)));
  assert.ok(replay.pages <= 2, `${replay.pages} pages`);
  const starts = Array.from(replay.critical.firing.start);
  assert.ok(starts.some((t) => t >= incident.start && t <= incident.end + (s.forMinutes + s.smoothMinutes) * M));
  assert.match(r.summary, /1 of 1 incidents caught/);
  // A budget nothing can meet is still an answer (the search's frontier), never a throw; an
  // empty history is the core's error, returned.
  const empty = fitToBudget(wasm, new Float64Array(0), new Float64Array(0), DEFAULT_SETTINGS, 1, []);
  assert.ok('code' in empty);
});

test("fit to budget searches isoscope tune's grids, without values under 3 steps", () => {
  assert.deepEqual(tuneGrids(60_000), { forMs: [3, 5, 10, 15].map((m) => m * M), smoothMs: [5, 10, 15, 30].map((m) => m * M) });
  // At 5-minute data, for: 3m..10m hold fewer than 3 samples (15m does), as do smoothing 5m and 10m.
  assert.deepEqual(tuneGrids(5 * M), { forMs: [15 * M], smoothMs: [15 * M, 30 * M] });
  assert.deepEqual(tuneGrids(0), tuneGrids(1));
  assert.equal(medianStep(Float64Array.from([0, 60, 120, 300, 360])), 60);
  assert.equal(medianStep(new Float64Array(0)), 0);
});
