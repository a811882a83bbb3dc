// The Grafana panel: query frames + the daemon's (or an uploaded) bundle -> WhatIf.
import React, { useEffect, useMemo, useState } from 'react';
import type { DataFrame, PanelProps } from '@grafana/data';
import { useTheme2 } from '@grafana/ui';

import { fetchBundleWithSource, bundleUrl, type BundleSource } from '../bundleSource';
import { describeMissing, mapFrames, type MappedSeries } from '../frames';
import { BundleError, IsoscopeModel } from '../model';
import { loadIsoscope, WasmBlockedError, type IsoscopeModule } from '../wasm';
import type { PanelOptions } from '../types';
import { DEFAULT_SETTINGS, type WhatIfSettings } from '../whatif';
import { CSP_HELP, StateMessage } from './States';
import { paletteFromTheme } from './themePalette';
import { WhatIf } from './WhatIf';


type WasmState = { kind: 'loading' } | { kind: 'ready'; wasm: IsoscopeModule } | { kind: 'blocked' | 'error'; message: string };
type BundleState =
  | { kind: 'none' }
  | { kind: 'loading'; from: string }
  | { kind: 'ready'; model: IsoscopeModel; from: string; source?: BundleSource }
  | { kind: 'error'; code: string; message: string; from: string };

export function useWasm(): WasmState {
  const [state, setState] = useState<WasmState>({ kind: 'loading' });
  useEffect(() => {
    let live = true;
    loadIsoscope().then(
      (wasm) => live && setState({ kind: 'ready', wasm }),
      (e) => live && setState({ kind: e instanceof WasmBlockedError ? 'blocked' : 'error', message: String(e?.message ?? e) })
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}

function loadModel(wasm: IsoscopeModule, bytes: Uint8Array, from: string): BundleState {
  try {
    return { kind: 'ready', model: IsoscopeModel.load(wasm, bytes), from };
  } catch (e) {
    const code = e instanceof BundleError ? e.code : 'error';
    return { kind: 'error', code, message: String((e as Error).message), from };
  }
}

export function IsoscopePanel(props: PanelProps<PanelOptions>) {
  const { options, data, width, height, onOptionsChange } = props;
  const wasmState = useWasm();
  // Colours from the dashboard's theme (light or dark), as Grafana's own panels take them.
  const theme = useTheme2();
  const palette = useMemo(() => paletteFromTheme(theme), [theme]);
  const [upload, setUpload] = useState<{ name: string; bytes: Uint8Array } | null>(null);
  const [bundle, setBundle] = useState<BundleState>({ kind: 'none' });

  const url = options.detector ? bundleUrl(options.daemonUrl ?? '', options.detector, options.group ?? '') : '';
  useEffect(() => {
    if (wasmState.kind !== 'ready') return;
    const wasm = wasmState.wasm;
    if (upload) {
      setBundle(loadModel(wasm, upload.bytes, upload.name));
      return;
    }
    if (!url) {
      setBundle({ kind: 'none' });
      return;
    }
    let live = true;
    setBundle({ kind: 'loading', from: url });
    fetchBundleWithSource(url).then(
      (got) => {
        if (!live) return;
        const state = loadModel(wasm, got.bytes, url);
        setBundle(state.kind === 'ready' ? { ...state, source: got } : state);
      },
      (e) => live && setBundle({ kind: 'error', code: 'fetch', message: String(e.message ?? e), from: url })
    );
    return () => {
      live = false;
    };
  }, [wasmState, url, upload]);

  const model = bundle.kind === 'ready' ? bundle.model : null;
  const mapping = useMemo(() => (model ? mapFrames(data.series, model.info.inputs) : null), [model, data.series]);
  // Without a bundle, a query for anomaly_score (a daemon's, or a backtest backfilled from
  // isoscope backtest --openmetrics) is replayed as given; anomaly_threshold, when queried
  // too, gives each point's is_anomaly threshold.
  const given = useMemo(() => (bundle.kind === 'none' ? scoresFromQuery(data.series) : null), [bundle.kind, data.series]);

  const picker = (
    <label style={{ fontSize: 11 }}>
      {' '}or upload a bundle:{' '}
      <input
        type="file"
        data-testid="bundle-file"
        accept=".bundle,application/octet-stream"
        onChange={async (e) => {
          const f = e.currentTarget.files?.[0];
          if (f) setUpload({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
        }}
      />
    </label>
  );

  if (wasmState.kind === 'blocked') return <StateMessage kind="wasm-blocked" detail={`${CSP_HELP}\n(${wasmState.message})`} />;
  if (wasmState.kind === 'error') return <StateMessage kind="wasm-error" detail={wasmState.message} />;
  if (wasmState.kind === 'loading') return <StateMessage kind="loading" detail="loading the WebAssembly core" />;
  if (bundle.kind === 'none' && given) {
    return (
      <ErrorBoundary resetKey={JSON.stringify(panelSettings(options))}>
        <WhatIf
          wasm={(wasmState as { wasm: IsoscopeModule }).wasm}
          model={null}
          data={given.data}
          scores={given.scores}
          thresholds={given.thresholds}
          settings={panelSettings(options)}
          onSettingsChange={(s) => onOptionsChange({ ...options, ...s })}
          width={width}
          height={height}
          detector={options.detector || 'anomaly_score'}
          palette={palette}
        />
      </ErrorBoundary>
    );
  }
  if (bundle.kind === 'none') {
    return (
      <StateMessage
        kind="no-bundle"
        detail="Set the daemon URL and detector in the panel options to use the model isoscope serve runs, or query anomaly_score (for example a backtest backfilled from isoscope backtest --openmetrics) to replay those scores as they are."
      >
        {picker}
      </StateMessage>
    );
  }
  if (bundle.kind === 'loading') return <StateMessage kind="loading" detail={`fetching ${bundle.from}`} />;
  if (bundle.kind === 'error') {
    return (
      <StateMessage kind="bad-bundle" detail={`${bundle.from}: ${bundle.code}: ${bundle.message}`}>
        {picker}
      </StateMessage>
    );
  }
  const rows = data.series.reduce((n, f) => n + f.length, 0);
  if (data.series.length === 0 || rows === 0) {
    return <StateMessage kind="no-data" detail="The query returned no data in this time range." />;
  }
  if (!mapping || !mapping.mapped) {
    return <StateMessage kind="missing-series" detail={mapping ? describeMissing(mapping) : ''} />;
  }
  const settings = panelSettings(options);
  const ambiguous = mapping.ambiguous.length > 0 && (
    <div data-testid="ambiguous-series" style={{ fontSize: 11, color: palette.warning }}>
      Several series match {mapping.ambiguous.join(', ')}: the first is used. Aggregate the query (sum by (...)) or
      give each series its own legend.
    </div>
  );
  // model: per: group: the daemon sent the pooled model for the group asked for; say so.
  const pooled = options.group && bundle.source?.source === 'pooled' && (
    <div data-testid="pooled-fallback" style={{ fontSize: 11, color: palette.warning }}>
      Group {options.group} has no model of its own: the detector's pooled model
      {bundle.source.reason ? ` (${bundle.source.reason})` : ''}.
    </div>
  );
  return (
    <ErrorBoundary resetKey={JSON.stringify(settings)}>
      {ambiguous}
      {pooled}
      <WhatIf
      wasm={(wasmState as { wasm: IsoscopeModule }).wasm}
      model={bundle.model}
      data={mapping.mapped}
      settings={settings}
      onSettingsChange={(s) => onOptionsChange({ ...options, ...s })}
      width={width}
      height={height - (ambiguous ? 16 : 0) - (pooled ? 16 : 0)}
      detector={options.detector || bundle.model.info.modelVersion}
      palette={palette}
      />
    </ErrorBoundary>
  );
}

/**
 * The query's anomaly_score series (and anomaly_threshold, if present, on the same time grid),
 * or null when it has none. Matched by name as bundle inputs are (legend, field name, __name__).
 */
export function scoresFromQuery(frames: DataFrame[]): { data: MappedSeries; scores: Float64Array; thresholds?: Float64Array } | null {
  const both = mapFrames(frames, ['anomaly_score', 'anomaly_threshold']);
  if (both.mapped) {
    const { series } = both.mapped;
    return { data: both.mapped, scores: series.anomaly_score, thresholds: series.anomaly_threshold };
  }
  const only = mapFrames(frames, ['anomaly_score']);
  return only.mapped ? { data: only.mapped, scores: only.mapped.series.anomaly_score } : null;
}

/** Saved options may predate a setting or hold junk: fall back to the defaults per field. */
export function panelSettings(options: Partial<PanelOptions>): WhatIfSettings {
  const num = (v: unknown, fallback: number, ok: (x: number) => boolean) =>
    typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : fallback;
  const d = DEFAULT_SETTINGS;
  const c = options.contamination;
  return {
    contamination: typeof c === 'number' && c >= 0.0005 && c <= 0.5 ? c : null,
    // Unset (or junk): follow the model, as isoscope's own defaults do.
    warning: typeof options.warning === 'number' && Number.isFinite(options.warning) ? options.warning : null,
    critical: typeof options.critical === 'number' && Number.isFinite(options.critical) ? options.critical : null,
    forMinutes: num(options.forMinutes, d.forMinutes, (x) => x >= 0),
    smoothMinutes: num(options.smoothMinutes, d.smoothMinutes, (x) => x > 0),
    evalIntervalSeconds: num(options.evalIntervalSeconds, d.evalIntervalSeconds, (x) => x > 0),
  };
}

/** A failure while drawing (a core error on odd data) shows as a message, not a blank panel. */
// (A `key` would reset it too, but would remount the view and so re-score on every change.)
class ErrorBoundary extends React.Component<{ children: React.ReactNode; resetKey: string }, { error: string | null }> {
  state = { error: null as string | null };
  static getDerivedStateFromError(e: unknown) {
    return { error: String((e as Error)?.message ?? e) };
  }
  componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error !== null) this.setState({ error: null });
  }
  render() {
    return this.state.error ? <StateMessage kind="error" detail={this.state.error} /> : this.props.children;
  }
}
