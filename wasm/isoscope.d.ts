// Types of the WebAssembly core (build/wasm/isoscope_core.mjs, built by wasm/build.sh).
// Hand-written: Emscripten 3.1.6 cannot emit them. Keep in step with wasm/src/bindings.cc.
//
// Lifetime: nothing needs freeing. Every function returns plain objects and typed-array
// copies. Functions that need a model take the bundle bytes; the module keeps the last
// decoded bundle in a one-slot cache keyed by those bytes, so passing the same Uint8Array
// again costs a byte compare, not a decode (and a different bundle replaces it).
//
// Errors never throw or abort: they come back as WasmError ({code, message}); `code` is the
// core's ErrorCodeName ("truncated", "corrupt", "foreign", "unsupported_version",
// "canary_mismatch", "invalid_argument", "bad_input", "internal"; the daemon's HTTP API
// also uses "not_found" and "unavailable").

export interface WasmError {
  ok?: undefined;
  code: string;
  message: string;
}

export interface ModelInfo {
  ok: true;
  engineVersion: string;
  modelVersion: string;
  /** FeatureSpec::ColumnNames(): the inputs, then the derived features, in vector order. */
  featureNames: string[];
  /** The input series the model needs, by name (a query result must provide each). */
  inputs: string[];
  needsTime: boolean;
  /** The inputs' sampling step (0 when no feature is temporal). */
  stepMs: number;
  /** History needed before the first row that is to be scored (FeatureSpec::warmup_ms). */
  warmupMs: number;
  /** is_anomaly threshold on the anomaly score (the model's trained contamination). */
  threshold: number;
  /** The trained contamination, or null for sklearn's "auto". */
  contamination: number | null;
  contaminationText: string;
  trainedFlaggedFraction: number;
  /** Threshold per contamination on a grid (Model::ThresholdFor interpolates it). */
  quantiles: { contamination: Float64Array; threshold: Float64Array };
  nEstimators: number;
  source: string;
  createdMs: number;
}

/** Input series by name; each as long as the times array. */
export type SeriesByName = Record<string, Float64Array | number[]>;

interface RowIssues {
  /** Per row: RowIssue code (0 = ok); issueNames() labels them. */
  issues: Uint8Array;
  /** Per row: the input column at fault, -1 if none. */
  issueColumns: Int32Array;
  usable: number;
}

export interface FeatureRowsOut extends RowIssues {
  ok: true;
  rows: number;
  width: number;
  /** Row-major, `width` columns; rows with an issue hold unspecified values. */
  values: Float64Array;
}

export interface ScoresOut extends RowIssues {
  ok: true;
  /** Anomaly score per row (sklearn -score_samples); NaN where the row has no score. */
  scores: Float64Array;
  /** 1 where score > threshold (the model's own contamination). */
  isAnomaly: Uint8Array;
  threshold: number;
  /**
   * Calibrated surprise per row (core SurpriseSeries over the rows in order: the bits of
   * `isoscope score`'s surprise column); NaN where the row has no score; null for a bundle
   * without calibration (format < 1.3).
   */
  surprise: Float64Array | null;
  /**
   * The plain rule isoscope replay reports beside the forest: per row, the largest |z| of the
   * model's inputs against their own last 24 hours (core RollingZScoreBaseline; NaN until an
   * input has 12 earlier rows in its window); null when a row has no timestamp.
   */
  baseline: Float64Array | null;
}

/** Exact per-feature attribution of the asked rows (TreeSHAP, core/include/isoscope/attribution.h). */
export interface ExplainOut extends RowIssues {
  ok: true;
  width: number;
  /** Vector column names (contributions' columns). */
  features: string[];
  /** Input series names (topInput's indices). */
  inputs: string[];
  /** Input index of each vector column; -1 for time features. */
  columnInputs: Int32Array;
  /** s0: the score of a row about which nothing is known; s(x) = s0 * prod 2^contribution. */
  baselineScore: number;
  /** rows x width, row-major: each feature's share of log2 of the anomaly score (positive pushes
   * towards anomalous); NaN where the row has no score or was not asked for. */
  contributions: Float64Array;
  /** Per row: index into inputs of the largest summed contribution; -1 if none. */
  topInput: Int32Array;
}

export interface ReplaySettings {
  warning: number;
  critical: number;
  /** `for:` of both severities, ms (warningForMs / criticalForMs override it per severity). */
  forMs: number;
  warningForMs?: number;
  criticalForMs?: number;
  /** avg_over_time window, ms. */
  smoothMs: number;
  evalIntervalMs: number;
}

export interface IncidentInput {
  name: string;
  startMs: number;
  endMs: number;
}

export interface Intervals {
  start: Float64Array;
  end: Float64Array;
  /** 1 where the interval was still open at the end of the replay. */
  open: Uint8Array;
}

export interface SeverityReplay {
  pending: Intervals;
  firing: Intervals;
  firingMs: number;
  firingsPerWeek: number;
}

export interface IncidentOutcome {
  name: string;
  startMs: number;
  endMs: number;
  caught: boolean;
  warningDelayMs: number | null;
  pageDelayMs: number | null;
}

export interface ReplayOut {
  ok: true;
  startMs: number;
  endMs: number;
  evaluations: number;
  /** The time the rules had a score to judge; the rates are per week of it (NaN: none). */
  scoredMs: number;
  warning: SeverityReplay;
  critical: SeverityReplay;
  pages: number;
  pagesPerWeek: number;
  falsePages: number;
  falsePagesPerWeek: number;
  incidents: IncidentOutcome[];
}

/** What "fit to budget" searches; absent keys take isoscope tune's defaults. */
export interface TuneSettings {
  /** Pages (critical firing starts) allowed per week of scored time. */
  budgetPerWeek: number;
  /** Warning firings allowed per week (default 5). */
  warningBudgetPerWeek?: number;
  /** An incident counts as caught only when paged within this (default -1: no limit). */
  maxDelayMs?: number;
  evalIntervalMs?: number;
  /** for: values to try (default 3m, 5m, 10m, 15m; the CLI drops values under 3 steps). */
  forMs?: number[];
  /** Smoothing windows to try (default 5m, 10m, 15m, 30m; likewise). */
  smoothMs?: number[];
}

/** One combination of settings and how it did on the history. */
export interface TuneCandidate {
  warning: number;
  critical: number;
  forMs: number;
  smoothMs: number;
  pages: number;
  pagesPerWeek: number;
  warnings: number;
  warningsPerWeek: number;
  /** Incidents paged within maxDelayMs. */
  caught: number;
  totalDelayMs: number;
  falsePages: number;
}

export interface TuneOut {
  ok: true;
  chosen: TuneCandidate;
  /** Ascending in pages; holds the chosen one. */
  frontier: TuneCandidate[];
  evaluated: number;
  scoredMs: number;
}

export interface IsoscopeModule {
  /** Decodes the bundle, compiles the scorer and re-scores its canaries. */
  loadBundle(bundle: Uint8Array): ModelInfo | WasmError;
  thresholdFor(bundle: Uint8Array, contamination: number): number | WasmError;
  /** times: ms since the epoch (NaN = no timestamp). */
  buildFeatureRows(
    bundle: Uint8Array,
    times: Float64Array | number[],
    series: SeriesByName
  ): FeatureRowsOut | WasmError;
  scoreRows(bundle: Uint8Array, times: Float64Array | number[], series: SeriesByName): ScoresOut | WasmError;
  /** Explains the rows at indices `rows` (null: every row) of the series, as scoreRows builds them. */
  explainRows(
    bundle: Uint8Array,
    times: Float64Array | number[],
    series: SeriesByName,
    rows: Float64Array | number[] | null
  ): ExplainOut | WasmError;
  /** The core's Replay over scores (NaN = no score); pass null when there are no incidents. */
  replay(
    times: Float64Array | number[],
    scores: Float64Array | number[],
    settings: ReplaySettings,
    incidents: IncidentInput[] | null
  ): ReplayOut | WasmError;
  /** The core's TuneAlerts (isoscope tune's search) over scores (NaN = no score). */
  tuneAlerts(
    times: Float64Array | number[],
    scores: Float64Array | number[],
    settings: TuneSettings,
    incidents: IncidentInput[] | null
  ): TuneOut | WasmError;
  /** RowIssue names by code: ["ok", "missing", ...]. */
  issueNames(): string[];
  engineVersion(): string;
}

export interface ModuleOptions {
  /** The .wasm bytes (Node, tests): skips fetching. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** Where the .wasm is (browser): called with "isoscope_core.wasm". */
  locateFile?: (path: string, prefix: string) => string;
  onAbort?: (what: unknown) => void;
}

export default function createIsoscopeModule(options?: ModuleOptions): Promise<IsoscopeModule>;
