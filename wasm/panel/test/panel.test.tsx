// The Grafana panel under happy-dom with the real WebAssembly core: each state, then the
// what-if view, and a control change that re-runs only the replay.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import React, { act } from 'react';
import { createRoot } from 'react-dom/client';
import { FieldType, LoadingState, toDataFrame, dateTime, type PanelData, type DataFrame } from '@grafana/data';

import { IsoscopePanel, DEFAULT_OPTIONS, type PanelOptions } from '../src/components/IsoscopePanel';
import { provideIsoscope } from '../src/wasm';
import { goldenBundle, testWasm } from './wasm';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const M = 60_000;
const N = 600;
const T0 = Date.UTC(2026, 0, 5);
const INPUTS = ['x0', 'x1', 'x2', 'x3', 'x4'];

// Deterministic standard normal draws (LCG + Box-Muller), like the model's training data.
function gaussian(seed: number): () => number {
  let x = seed >>> 0;
  const u = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x + 1) / 4294967297;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function frames(names: string[], spikeAt = 300): DataFrame[] {
  return names.map((name, k) => {
    const g = gaussian(k + 1);
    return toDataFrame({
      refId: String.fromCharCode(65 + k),
      fields: [
        { name: 'Time', type: FieldType.time, values: Array.from({ length: N }, (_, i) => T0 + i * M) },
        {
          name: 'Value',
          type: FieldType.number,
          config: { displayNameFromDS: name },
          // Standard-normal-ish data, with a 15-minute excursion to 6 sigma.
          values: Array.from({ length: N }, (_, i) => (i >= spikeAt && i < spikeAt + 15 ? 6 : g())),
        },
      ],
    });
  });
}

function panelData(series: DataFrame[]): PanelData {
  const range = { from: dateTime(T0), to: dateTime(T0 + N * M), raw: { from: 'now-10h', to: 'now' } };
  return { state: LoadingState.Done, series, timeRange: range };
}

let fetched: string[] = [];
function fakeFetch(bytes: Uint8Array | null, status = 200) {
  globalThis.fetch = (async (url: string) => {
    fetched.push(String(url));
    if (!bytes) return new Response(JSON.stringify({ error: "no detector 'x'" }), { status });
    return new Response(bytes as unknown as BodyInit, { status });
  }) as typeof fetch;
}

async function render(options: Partial<PanelOptions>, series: DataFrame[]) {
  const host = document.createElement('div');
  document.body.appendChild(host);
  const root = createRoot(host);
  let opts: PanelOptions = { ...DEFAULT_OPTIONS, ...options };
  const draw = async () => {
    await act(async () => {
      root.render(
        <IsoscopePanel
          {...({} as any)}
          id={1}
          data={panelData(series)}
          timeRange={panelData(series).timeRange}
          timeZone="utc"
          options={opts}
          width={900}
          height={420}
          transparent={false}
          fieldConfig={{ defaults: {}, overrides: [] }}
          renderCounter={0}
          title="t"
          eventBus={{} as any}
          onOptionsChange={(o: PanelOptions) => {
            opts = o;
          }}
          onFieldConfigChange={() => {}}
          replaceVariables={(s: string) => s}
          onChangeTimeRange={() => {}}
        />
      );
    });
    // Let the fetch and the WASM promise settle.
    for (let i = 0; i < 5; i++) await act(async () => new Promise((r) => setTimeout(r, 5)));
  };
  await draw();
  return {
    host,
    q: (id: string) => host.querySelector(`[data-testid="${id}"]`),
    options: () => opts,
    redraw: async (patch: Partial<PanelOptions>) => {
      opts = { ...opts, ...patch };
      await draw();
    },
    unmount: () => act(() => root.unmount()),
  };
}

// The real module, with scoreRows and replay calls counted: a control change must replay
// the cached scores, never score again.
const calls = { scoreRows: 0, replay: 0 };
before(async () => {
  const wasm = await testWasm();
  const counted = Object.create(wasm);
  counted.scoreRows = (...a: Parameters<typeof wasm.scoreRows>) => (calls.scoreRows++, wasm.scoreRows(...a));
  counted.replay = (...a: Parameters<typeof wasm.replay>) => (calls.replay++, wasm.replay(...a));
  provideIsoscope(counted);
});

test('no bundle configured: says how to set one, offers an upload', async () => {
  const p = await render({}, frames(INPUTS));
  assert.ok(p.q('state-no-bundle'), p.host.innerHTML);
  assert.ok(p.q('bundle-file'));
  await p.unmount();
});

test('a truncated bundle from the daemon: bad-bundle state with the core message', async () => {
  fetched = [];
  fakeFetch(goldenBundle().subarray(0, 500));
  const p = await render({ daemonUrl: 'http://isoscope:8080/', detector: 'checkout' }, frames(INPUTS));
  assert.deepEqual(fetched, ['http://isoscope:8080/api/v1/detectors/checkout/bundle']);
  const s = p.q('state-bad-bundle');
  assert.ok(s, p.host.innerHTML);
  assert.match(s!.textContent!, /truncated: bundle is truncated: 500 bytes/);
  await p.unmount();
});

test('a daemon error answer is shown with its message', async () => {
  fakeFetch(null, 404);
  const p = await render({ detector: 'x' }, frames(INPUTS));
  assert.match(p.q('state-bad-bundle')!.textContent!, /answered 404: no detector 'x'/);
  await p.unmount();
});

test('no data, and a missing input named', async () => {
  fakeFetch(goldenBundle());
  const empty = await render({ detector: 'checkout' }, []);
  assert.ok(empty.q('state-no-data'), empty.host.innerHTML);
  await empty.unmount();
  const missing = await render({ detector: 'checkout' }, frames(['x0', 'x1', 'x3', 'x4']));
  const s = missing.q('state-missing-series');
  assert.ok(s, missing.host.innerHTML);
  assert.match(s!.textContent!, /needs the series x2, which the query does not return \(it returns: x0, x1, x3, x4\)/);
  await missing.unmount();
});

test('the what-if view: overlay, counts, and a control change re-running the replay', async () => {
  fakeFetch(goldenBundle());
  // basic_gauss (5 standard normal columns) scores a 6-sigma point 0.7226 at most (its trees
  // are shallow), so the thresholds here sit below that.
  const p = await render({ detector: 'checkout', contamination: 0.05, warning: 0.6, critical: 0.7 }, frames(INPUTS));
  assert.ok(p.q('isoscope-whatif'), p.host.innerHTML);
  const num = (id: string) => Number(p.q(id)!.textContent);
  // The 15-minute 6-sigma excursion (score 0.7226) gives one page and one warning.
  assert.equal(num('stat-pages'), 1);
  assert.equal(num('stat-warnings'), 1);
  assert.ok(num('stat-flagged') >= 15);
  assert.equal(p.host.querySelectorAll('.page-marker').length, 1);
  assert.equal(p.host.querySelectorAll('.feature-series').length, 5);
  assert.ok(p.host.querySelectorAll('rect.critical-firing').length === 1);
  const flaggedBefore = num('stat-flagged');
  const scoredBefore = calls.scoreRows;
  const replaysBefore = calls.replay;
  await p.redraw({ contamination: 0.2 });
  assert.ok(num('stat-flagged') > flaggedBefore, 'a larger contamination flags more points');
  await p.redraw({ critical: 0.99 });
  assert.equal(num('stat-pages'), 0);
  assert.equal(p.host.querySelectorAll('.page-marker').length, 0);
  assert.equal(calls.scoreRows, scoredBefore, 'control changes do not re-score');
  assert.ok(calls.replay >= replaysBefore + 2, 'each change replays');
  await p.unmount();
});
