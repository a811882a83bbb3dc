// The what-if's pure logic: settings, the stats strip from a replay, and drawing helpers.
import type { IncidentInput, IsoscopeModule, ReplayOut, TuneOut, WasmError } from '../../isoscope';

export interface WhatIfSettings {
  /** Share of points to flag; null keeps the model's own threshold. */
  contamination: number | null;
  /** A score; null follows the model, as isoscope's defaults: its contamination threshold. */
  warning: number | null;
  /** A score; null follows the model: the threshold at half the contamination share. */
  critical: number | null;
  forMinutes: number;
  smoothMinutes: number;
  evalIntervalSeconds: number;
}

export const DEFAULT_SETTINGS: WhatIfSettings = {
  contamination: null,
  warning: null,
  critical: null,
  forMinutes: 3,
  smoothMinutes: 5,
  evalIntervalSeconds: 60,
};

export const MINUTE_MS = 60_000;

/**
 * The plain rule isoscope replay reports beside the forest (core/include/isoscope/baseline.h:
 * kBaselineWarningZ, kBaselineCriticalZ): the largest |z| of the inputs against their last 24
 * hours, replayed with the same for:, smoothing and interval as the forest's thresholds.
 */
export const BASELINE_Z = { warning: 3, critical: 4 };

/** The baseline rule's replay settings: the what-if's rules with the z thresholds. */
export function baselineSettings(s: ResolvedSettings) {
  return { ...replaySettings(s), warning: BASELINE_Z.warning, critical: BASELINE_Z.critical };
}
const WEEK_MS = 7 * 24 * 60 * MINUTE_MS;

/** Settings with the thresholds resolved to scores. */
export type ResolvedSettings = Omit<WhatIfSettings, 'warning' | 'critical'> & { warning: number; critical: number };

/** What a model offers for thresholds that follow it: its share of flagged training rows (the
 * contamination slider's, when moved) and its quantile table. */
export interface ThresholdSource {
  share: number;
  thresholdFor(contamination: number): number;
}

/** Scores a replay can only take as given (no model): the origin team's fixed thresholds. */
export const FIXED_FALLBACK = { warning: 0.65, critical: 0.85 };

/** `isoscope replay`'s `contamination` and `contamination/2` for thresholds left to the model. */
export function resolveThresholds(s: WhatIfSettings, model: ThresholdSource | null): ResolvedSettings {
  const follow = (v: number | null, divisor: number, fallback: number) =>
    v !== null ? v : model ? model.thresholdFor(model.share / divisor) : fallback;
  return {
    ...s,
    warning: follow(s.warning, 1, FIXED_FALLBACK.warning),
    critical: follow(s.critical, 2, FIXED_FALLBACK.critical),
  };
}

export function replaySettings(s: ResolvedSettings) {
  return {
    warning: s.warning,
    critical: s.critical,
    forMs: Math.round(s.forMinutes * MINUTE_MS),
    smoothMs: Math.round(s.smoothMinutes * MINUTE_MS),
    evalIntervalMs: Math.round(s.evalIntervalSeconds * 1000),
  };
}

export interface Stats {
  points: number;
  scored: number;
  /** Points whose score is above the contamination threshold (is_anomaly). */
  flagged: number;
  /** Warning firing episodes. */
  warnings: number;
  /** Critical firing starts: the pages that would have gone out. */
  pages: number;
  /** Pages per week of scored time (NaN when nothing was scored), as isoscope replay's. */
  pagesPerWeek: number;
  /** Time during which warning or critical was firing (union of the intervals). */
  timeInAlertMs: number;
  spanMs: number;
  /** The time the rules had a score to judge (warm-up and gaps left out). */
  scoredMs: number;
}

/**
 * Scored points and those above the threshold: one number, or one per point (the
 * anomaly_threshold series of precomputed scores, which changes with each retrain).
 */
export function countFlagged(scores: Float64Array, threshold: number | ArrayLike<number>): { scored: number; flagged: number } {
  let scored = 0;
  let flagged = 0;
  const perPoint = typeof threshold !== 'number';
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (s === s) {
      scored++;
      if (s > (perPoint ? threshold[i] : threshold)) flagged++;
    }
  }
  return { scored, flagged };
}

/** Total length of the union of [start, end) intervals from both lists (each sorted). */
export function unionLength(a: { start: ArrayLike<number>; end: ArrayLike<number> }[]): number {
  const spans: [number, number][] = [];
  for (const list of a) for (let i = 0; i < list.start.length; i++) spans.push([list.start[i], list.end[i]]);
  spans.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [s, e] of spans) {
    if (s > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) {
      curEnd = e;
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

export function computeStats(scores: Float64Array, threshold: number | ArrayLike<number>, replay: ReplayOut): Stats {
  const { scored, flagged } = countFlagged(scores, threshold);
  return {
    points: scores.length,
    scored,
    flagged,
    warnings: replay.warning.firing.start.length,
    pages: replay.pages,
    pagesPerWeek: replay.pagesPerWeek,
    timeInAlertMs: unionLength([replay.warning.firing, replay.critical.firing]),
    spanMs: replay.endMs - replay.startMs,
    scoredMs: replay.scoredMs,
  };
}

export function formatDuration(ms: number): string {
  if (ms < MINUTE_MS) return `${Math.round(ms / 1000)}s`;
  const minutes = Math.round(ms / MINUTE_MS);
  if (minutes < 120) return `${minutes}m`;
  const hours = ms / (60 * MINUTE_MS);
  return hours < 48 ? `${hours.toFixed(1)}h` : `${(hours / 24).toFixed(1)}d`;
}

export function weeks(ms: number): number {
  return ms / WEEK_MS;
}

/**
 * Min/max per pixel column, so a 129,600-point series draws as at most 2 * width points
 * without losing a spike. Returns [x, y] pairs in data units; NaN values break the line.
 */
export function downsample(
  times: Float64Array,
  values: Float64Array,
  t0: number,
  t1: number,
  columns: number
): Array<Array<[number, number]>> {
  const segments: Array<Array<[number, number]>> = [];
  let segment: Array<[number, number]> = [];
  const span = t1 - t0 || 1;
  let col = -1;
  let lo = 0;
  let hi = 0;
  let loT = 0;
  let hiT = 0;
  const flush = () => {
    if (col < 0) return;
    if (loT <= hiT) {
      segment.push([loT, lo]);
      if (hiT !== loT) segment.push([hiT, hi]);
    } else {
      segment.push([hiT, hi]);
      segment.push([loT, lo]);
    }
  };
  for (let i = 0; i < times.length; i++) {
    const v = values[i];
    if (v !== v) {
      flush();
      col = -1;
      if (segment.length > 0) segments.push(segment);
      segment = [];
      continue;
    }
    const c = Math.floor(((times[i] - t0) / span) * columns);
    if (c !== col) {
      flush();
      col = c;
      lo = hi = v;
      loT = hiT = times[i];
    } else {
      if (v < lo) {
        lo = v;
        loT = times[i];
      }
      if (v > hi) {
        hi = v;
        hiT = times[i];
      }
    }
  }
  flush();
  if (segment.length > 0) segments.push(segment);
  return segments;
}

export function extent(values: Float64Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** A known incident window [start, end) in ms, marked on the chart. */
export interface IncidentMark {
  name: string;
  start: number;
  end: number;
}

/** Index of the first time at or after `t` (times ascending); times.length if none. */
export function firstAtOrAfter(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The shown part of scored data: rows from `first` on. The rows before it are the warm-up the
 * model's features read (scored with the rest, so that the first shown row has its history),
 * never drawn and never replayed.
 */
export function shownRows(
  data: { times: Float64Array; series: Record<string, Float64Array>; sources: Record<string, string> },
  scores: Float64Array,
  first: number,
  thresholds?: Float64Array
) {
  if (first <= 0) return { data, scores, thresholds };
  const series: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(data.series)) series[name] = values.subarray(first);
  return {
    data: { times: data.times.subarray(first), series, sources: data.sources },
    scores: scores.subarray(first),
    thresholds: thresholds?.subarray(first),
  };
}

/** The first time with a score, or null if none has one. */
export function firstScoredTime(times: Float64Array, scores: Float64Array): number | null {
  for (let i = 0; i < scores.length; i++) if (scores[i] === scores[i]) return times[i];
  return null;
}

/** isoscope tune's default grids of for: and smoothing (its --for and --smooth). */
export const TUNE_FOR_MS = [3, 5, 10, 15].map((m) => m * MINUTE_MS);
export const TUNE_SMOOTH_MS = [5, 10, 15, 30].map((m) => m * MINUTE_MS);

/**
 * The grids without the values that hold fewer than 3 samples at the data's step, as isoscope
 * tune drops them (a single outlier would page), so that the panel searches what the CLI
 * searches. stepMs: the model's step, or the scores' median step; 0 keeps every value.
 */
export function tuneGrids(stepMs: number): { forMs: number[]; smoothMs: number[] } {
  const enough = (v: number) => v >= 3 * stepMs;
  return { forMs: TUNE_FOR_MS.filter(enough), smoothMs: TUNE_SMOOTH_MS.filter(enough) };
}

/** The median of the positive steps between consecutive times (0 without any). */
export function medianStep(times: Float64Array): number {
  const steps: number[] = [];
  for (let i = 1; i < times.length; i++) if (times[i] > times[i - 1]) steps.push(times[i] - times[i - 1]);
  if (steps.length === 0) return 0;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

/**
 * "Fit to budget": the core's TuneAlerts (isoscope tune's search, the same in WASM, checked by
 * wasm.tune_parity) over the shown scores, for at most `budgetPerWeek` pages a week of scored
 * time, catching the most of the known incidents. Returns the settings it chose (thresholds,
 * for: and smoothing; the rest as they were) and a line saying what they do, or the core's
 * error (e.g. nothing scored). stepMs filters the grids as isoscope tune does (tuneGrids).
 */
export function fitToBudget(
  wasm: Pick<IsoscopeModule, 'tuneAlerts'>,
  times: Float64Array,
  scores: Float64Array,
  settings: WhatIfSettings,
  budgetPerWeek: number,
  incidents: IncidentMark[],
  stepMs = 0
): { settings: WhatIfSettings; summary: string; out: TuneOut } | WasmError {
  const marks: IncidentInput[] = incidents.map((i) => ({ name: i.name, startMs: i.start, endMs: i.end }));
  const grids = tuneGrids(stepMs);
  if (grids.forMs.length === 0 || grids.smoothMs.length === 0) {
    return { code: 'invalid_argument', message: `every for: and smoothing holds fewer than 3 samples at the step of ${formatDuration(stepMs)}` };
  }
  const out = wasm.tuneAlerts(
    times,
    scores,
    { budgetPerWeek, evalIntervalMs: Math.round(settings.evalIntervalSeconds * 1000), ...grids },
    marks.length > 0 ? marks : null
  );
  if (!('ok' in out) || out.ok !== true) return out as WasmError;
  const c = out.chosen;
  const next: WhatIfSettings = {
    ...settings,
    warning: c.warning,
    critical: c.critical,
    forMinutes: c.forMs / MINUTE_MS,
    smoothMinutes: c.smoothMs / MINUTE_MS,
  };
  const caught = marks.length > 0 ? `, ${c.caught} of ${marks.length} incidents caught` : '';
  const summary = `${c.pages} pages (${c.pagesPerWeek.toFixed(2)}/week)${caught}`;
  return { settings: next, summary, out };
}
