// A loaded bundle: its bytes plus the module. Nothing to free: the module returns copies
// and caches the decoded model by the bytes (see wasm/isoscope.d.ts).
import type {
  ExplainOut,
  IsoscopeModule,
  ModelInfo,
  ReplayOut,
  ReplaySettings,
  ScoresOut,
  WasmError,
} from '../../isoscope';

export type { ExplainOut, ModelInfo, ReplayOut, ReplaySettings, ScoresOut, WasmError };

export function isError(x: unknown): x is WasmError {
  return typeof x === 'object' && x !== null && 'code' in x && 'message' in x;
}

export class BundleError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
  }
}

export class IsoscopeModel {
  private constructor(
    private readonly wasm: IsoscopeModule,
    readonly bytes: Uint8Array,
    readonly info: ModelInfo
  ) {}

  /** Decodes and canary-checks the bundle; a bad one throws BundleError({code, message}). */
  static load(wasm: IsoscopeModule, bytes: Uint8Array): IsoscopeModel {
    const info = wasm.loadBundle(bytes);
    if (isError(info)) throw new BundleError(info.code, info.message);
    return new IsoscopeModel(wasm, bytes, info);
  }

  score(times: Float64Array, series: Record<string, Float64Array>): ScoresOut {
    const r = this.wasm.scoreRows(this.bytes, times, series);
    if (isError(r)) throw new BundleError(r.code, r.message);
    return r;
  }

  /** Exact attribution of the rows at indices `rows` of these series (core Explainer). */
  explain(times: Float64Array, series: Record<string, Float64Array>, rows: number[]): ExplainOut {
    const r = this.wasm.explainRows(this.bytes, times, series, rows);
    if (isError(r)) throw new BundleError(r.code, r.message);
    return r;
  }

  /** The is_anomaly threshold for another contamination (Model::ThresholdFor). */
  thresholdFor(contamination: number): number {
    const r = this.wasm.thresholdFor(this.bytes, contamination);
    if (isError(r)) throw new BundleError(r.code, r.message);
    return r;
  }

  issueNames(): string[] {
    return this.wasm.issueNames();
  }
}

/** The core's Replay on cached scores: no model, no re-scoring. */
export function replayScores(
  wasm: IsoscopeModule,
  times: Float64Array,
  scores: Float64Array,
  settings: ReplaySettings
): ReplayOut {
  const r = wasm.replay(times, scores, settings, null);
  if (isError(r)) throw new BundleError(r.code, r.message);
  return r;
}
