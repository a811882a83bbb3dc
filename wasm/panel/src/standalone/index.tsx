// The standalone what-if page that `isoscope serve` serves at /: the same WhatIf component as
// the Grafana panel, with the data from the daemon's own API (the detector list, its bundle
// and GET /api/v1/detectors/{name}/history) instead of a Grafana query. URLs are relative, so
// the page also works behind a path prefix. ?detector=NAME&hours=H&group=G choose what is shown.
import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

import { CSP_HELP, StateMessage } from '../components/States';
import { WhatIf } from '../components/WhatIf';
import { bundlePath, fetchBundle } from '../bundleSource';
import type { MappedSeries } from '../frames';
import { BundleError, IsoscopeModel } from '../model';
import { loadIsoscope, WasmBlockedError, type IsoscopeModule } from '../wasm';
import { DEFAULT_SETTINGS, type IncidentMark, type WhatIfSettings } from '../whatif';

interface DetectorInfo {
  name: string;
  model_version: string | null;
  state: string;
}

interface History {
  detector: string;
  start: string;
  end: string;
  group: string | null;
  groups: string[];
  times: number[];
  series: Record<string, Array<number | null>>;
  /** The answer starts this much before `shown_from`: the model's warm-up, scored, not shown. */
  warmup_ms?: number;
  shown_from?: number;
  incidents?: IncidentMark[];
}

type Loaded =
  | { kind: 'loading'; what: string }
  | { kind: 'error'; state: 'wasm-blocked' | 'wasm-error' | 'bad-bundle' | 'no-data' | 'no-bundle' | 'error'; message: string }
  | { kind: 'ready'; wasm: IsoscopeModule; model: IsoscopeModel; data: MappedSeries; history: History };

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${(body as { error?: string }).error ?? ''}`);
  return body as T;
}

/** History JSON -> aligned typed arrays (null = no sample = NaN). */
export function historySeries(h: History): MappedSeries {
  const series: Record<string, Float64Array> = {};
  const sources: Record<string, string> = {};
  for (const [name, values] of Object.entries(h.series)) {
    series[name] = Float64Array.from(values, (v) => (v === null ? NaN : v));
    sources[name] = name;
  }
  return { times: Float64Array.from(h.times), series, sources };
}

/** The group shown, as the daemon labels it; a detector without group_by has the one group {}. */
function groupText(h: History): string {
  if (h.group === null) return 'no data';
  if (h.group === '{}' && h.groups.length <= 1) return 'one group (no group_by)';
  return `group ${h.group}${h.groups.length > 1 ? ` (1 of ${h.groups.length})` : ''}`;
}

function App() {
  const params = new URLSearchParams(location.search);
  const [detectors, setDetectors] = useState<DetectorInfo[]>([]);
  const [detector, setDetector] = useState(params.get('detector') ?? '');
  const [hours, setHours] = useState(Number(params.get('hours') ?? 72));
  const [group, setGroup] = useState(params.get('group') ?? '');
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'loading', what: 'the WebAssembly core' });
  const [settings, setSettings] = useState<WhatIfSettings>(DEFAULT_SETTINGS);
  const [width, setWidth] = useState(window.innerWidth);

  useEffect(() => {
    const onResize = () => setWidth(window.innerWidth);
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);

  useEffect(() => {
    getJson<DetectorInfo[]>('api/v1/detectors').then(
      (list) => {
        setDetectors(list);
        if (!detector && list.length > 0) setDetector((list.find((d) => d.model_version) ?? list[0]).name);
        if (list.length === 0) setLoaded({ kind: 'error', state: 'no-bundle', message: 'the daemon has no detectors' });
      },
      (e) => setLoaded({ kind: 'error', state: 'error', message: String(e.message ?? e) })
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    if (!detector) return;
    let live = true;
    (async () => {
      let wasm: IsoscopeModule;
      try {
        wasm = await loadIsoscope();
      } catch (e) {
        const blocked = e instanceof WasmBlockedError;
        return live && setLoaded({ kind: 'error', state: blocked ? 'wasm-blocked' : 'wasm-error', message: String((e as Error).message) });
      }
      setLoaded({ kind: 'loading', what: `the model and ${hours} h of history of ${detector}` });
      const name = encodeURIComponent(detector);
      let bytes: Uint8Array;
      let history: History;
      try {
        [bytes, history] = await Promise.all([
          // The group's own bundle under model: per: group (the daemon sends the pooled one otherwise).
          fetchBundle(bundlePath(detector, group)),
          getJson<History>(
            `api/v1/detectors/${name}/history?hours=${hours}` + (group ? `&group=${encodeURIComponent(group)}` : '')
          ),
        ]);
      } catch (e) {
        return live && setLoaded({ kind: 'error', state: 'error', message: String((e as Error).message) });
      }
      let model: IsoscopeModel;
      try {
        model = IsoscopeModel.load(wasm, bytes);
      } catch (e) {
        const code = e instanceof BundleError ? `${e.code}: ` : '';
        return live && setLoaded({ kind: 'error', state: 'bad-bundle', message: code + String((e as Error).message) });
      }
      if (history.times.length === 0) {
        return live && setLoaded({ kind: 'error', state: 'no-data', message: `no samples between ${history.start} and ${history.end}` });
      }
      if (live) setLoaded({ kind: 'ready', wasm, model, data: historySeries(history), history });
    })();
    return () => {
      live = false;
    };
  }, [detector, hours, group]);

  const header = (
    <div style={{ display: 'flex', gap: 12, alignItems: 'center', padding: '8px 0' }}>
      <b>isoscope what-if</b>
      <label>
        detector{' '}
        <select
          data-testid="detector"
          value={detector}
          onChange={(e) => {
            setGroup('');
            setDetector(e.currentTarget.value);
          }}
        >
          {detectors.map((d) => (
            <option key={d.name} value={d.name}>
              {d.name} ({d.model_version ?? d.state})
            </option>
          ))}
        </select>
      </label>
      <label>
        history{' '}
        <select data-testid="hours" value={hours} onChange={(e) => setHours(Number(e.currentTarget.value))}>
          {[6, 24, 72, 168, 336].map((h) => (
            <option key={h} value={h}>
              {h < 48 ? `${h} h` : `${h / 24} days`}
            </option>
          ))}
        </select>
      </label>
      {loaded.kind === 'ready' && loaded.history.groups.length > 1 && (
        <label>
          group{' '}
          <select data-testid="group" value={loaded.history.group ?? ''} onChange={(e) => setGroup(e.currentTarget.value)}>
            {loaded.history.groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
      )}
      {loaded.kind === 'ready' && (
        <span data-testid="header-model" style={{ color: '#8e8e8e' }}>
          model {loaded.model.info.modelVersion}
          , {groupText(loaded.history)}, {loaded.history.start} to{' '}
          {loaded.history.end}
        </span>
      )}
    </div>
  );

  let body: React.ReactNode;
  if (loaded.kind === 'loading') body = <StateMessage kind="loading" detail={`loading ${loaded.what}`} />;
  else if (loaded.kind === 'error') {
    const detail = loaded.state === 'wasm-blocked' ? `${CSP_HELP}\n(${loaded.message})` : loaded.message;
    body = <StateMessage kind={loaded.state} detail={detail} />;
  } else {
    body = (
      <WhatIf
        wasm={loaded.wasm}
        model={loaded.model}
        data={loaded.data}
        settings={settings}
        onSettingsChange={setSettings}
        width={Math.max(600, width - 32)}
        height={Math.max(420, Math.min(640, window.innerHeight - 80))}
        detector={detector}
        shownFrom={loaded.history.shown_from}
        incidents={loaded.history.incidents}
      />
    );
  }
  return (
    <div style={{ padding: '0 16px' }}>
      {header}
      {body}
    </div>
  );
}

const root = document.getElementById('root');
if (root) createRoot(root).render(<App />);
