// Attribution in the view: the point under the cursor and the rows behind each page, explained
// by the WebAssembly core (explainRows) only when they are looked at. A row's features read a
// bounded look-back (the model's warm-up), so only that slice of the series is rebuilt, not
// the whole query range: one row costs about a millisecond, whatever the range.
import type { MappedSeries } from './frames';
import type { ExplainOut, IsoscopeModel } from './model';
import { firstAtOrAfter } from './whatif';

export interface PointExplanation {
  /** Vector column names and the input each is read from (-1: a time feature). */
  features: string[];
  inputs: string[];
  columnInputs: Int32Array;
  /** Per column: its share of log2 of the score (positive pushes towards anomalous). */
  contributions: Float64Array;
  /** Per input: the sum over its columns. */
  perInput: Float64Array;
  topInput: string | null;
  baselineScore: number;
  /** Time the core took (rebuilding the slice's features and explaining), ms. */
  ms: number;
}

/** First index whose time is > t (times ascending). */
export function firstAfter(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Where the slice that rebuilds row `first`'s features starts: twice the warm-up and ten steps
// before it, a margin for features that carry the last value over a gap.
function sliceStart(model: IsoscopeModel, times: Float64Array, first: number): number {
  const { warmupMs, stepMs } = model.info;
  if (warmupMs <= 0) return first;
  return firstAtOrAfter(times, times[first] - 2 * warmupMs - 10 * (stepMs || 60_000));
}

/** Explains rows [first, last) of the data (indices into data.times); null if none. */
export function explainRange(model: IsoscopeModel, data: MappedSeries, first: number, last: number): { out: ExplainOut; offset: number; ms: number } | null {
  if (first >= last) return null;
  const t0 = performance.now();
  const s = sliceStart(model, data.times, first);
  const series: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(data.series)) series[name] = values.subarray(s, last);
  const rows: number[] = [];
  for (let i = first; i < last; i++) rows.push(i - s);
  const out = model.explain(data.times.subarray(s, last), series, rows);
  return { out, offset: s, ms: performance.now() - t0 };
}

/** Sums row `r`'s contributions per input; false when the row has none (no score). */
function addPerInput(out: ExplainOut, r: number, sums: Float64Array): boolean {
  const w = out.width;
  if (!Number.isFinite(out.contributions[r * w])) return false;
  for (let j = 0; j < w; j++) {
    const k = out.columnInputs[j];
    if (k >= 0) sums[k] += out.contributions[r * w + j];
  }
  return true;
}

/** The largest sum's input (the first of equal ones, as isoscope demo picks it). */
function argmax(sums: Float64Array, inputs: string[]): string | null {
  if (sums.length === 0) return null;
  let best = 0;
  for (let k = 1; k < sums.length; k++) if (sums[k] > sums[best]) best = k;
  return inputs[best];
}

/** The point at data index `i`; null when it has no score. */
export function explainPoint(model: IsoscopeModel, data: MappedSeries, i: number): PointExplanation | null {
  const r = explainRange(model, data, i, i + 1);
  if (!r) return null;
  const { out, offset, ms } = r;
  const row = i - offset;
  const sums = new Float64Array(out.inputs.length);
  if (!addPerInput(out, row, sums)) return null;
  return {
    features: out.features,
    inputs: out.inputs,
    columnInputs: out.columnInputs,
    contributions: out.contributions.slice(row * out.width, (row + 1) * out.width),
    perInput: sums,
    topInput: out.topInput[row] >= 0 ? out.inputs[out.topInput[row]] : null,
    baselineScore: out.baselineScore,
    ms,
  };
}

export interface PageCause {
  time: number;
  /** The input with the largest contribution summed over the rows the smoothing averaged. */
  topInput: string | null;
  rows: number;
}

/** The most pages the list explains (each costs its smoothing window's rows). */
export const MAX_LISTED_PAGES = 100;

/**
 * Per page (a critical alert starting to fire at `time`), the top input over the rows in
 * (time - smoothMs, time]: the rows whose mean crossed the threshold, as isoscope demo names it.
 */
export function pageCauses(model: IsoscopeModel, data: MappedSeries, pages: ArrayLike<number>, smoothMs: number): { causes: PageCause[]; rows: number; ms: number } {
  const causes: PageCause[] = [];
  let rows = 0;
  let ms = 0;
  for (let p = 0; p < pages.length && p < MAX_LISTED_PAGES; p++) {
    const t = pages[p];
    const first = firstAfter(data.times, t - smoothMs);
    const last = firstAfter(data.times, t);
    const r = explainRange(model, data, first, last);
    const sums = new Float64Array(model.info.inputs.length);
    let any = false;
    if (r) {
      ms += r.ms;
      for (let i = first; i < last; i++) any = addPerInput(r.out, i - r.offset, sums) || any;
      rows += last - first;
    }
    causes.push({ time: t, topInput: any ? argmax(sums, model.info.inputs) : null, rows: last - first });
  }
  return { causes, rows, ms };
}
