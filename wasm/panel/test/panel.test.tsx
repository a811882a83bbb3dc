// The Grafana panel under happy-dom with the real WebAssembly core: each state, then the
// what-if view, and a control change that re-runs only the replay.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import React, { act } from 'react';
import { createRoot } from 'react-dom/client';
import { FieldType, LoadingState, toDataFrame, dateTime, type PanelData, type DataFrame } from '@grafana/data';

import { IsoscopePanel } from '../src/components/IsoscopePanel';
import { DEFAULT_OPTIONS, type PanelOptions } from '../src/types';
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
function fakeFetch(bytes: Uint8Array | null, status = 200, headers: Record<string, string> = {}) {
  globalThis.fetch = (async (url: string) => {
    fetched.push(String(url));
    if (!bytes) return new Response(JSON.stringify({ error: "no detector 'x'" }), { status });
    return new Response(bytes as unknown as BodyInit, { status, headers });
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

test('fit to budget: the button sets what the search chose, and that pages within the budget', async () => {
  fakeFetch(goldenBundle());
  // The 15-minute excursion pages at warning 0.6 / critical 0.7 (the test above). Ten hours are
  // 0.06 of a week: a budget of 1 page a week allows no page at all.
  const p = await render({ detector: 'checkout', contamination: 0.05, warning: 0.6, critical: 0.7 }, frames(INPUTS));
  const num = (id: string) => Number(p.q(id)!.textContent);
  assert.equal(num('stat-pages'), 1);
  await act(async () => (p.q('fit-budget') as HTMLButtonElement).click());
  assert.match(p.q('fit-result')!.textContent ?? '', /^fit: 0 pages/);
  const o = p.options();
  assert.ok(typeof o.critical === 'number' && typeof o.warning === 'number', 'the thresholds are set');
  await p.redraw({});
  assert.equal(num('stat-pages'), 0, 'the replay of the chosen settings pages no more than the budget');
  await p.unmount();
});

test('two series for one input: the first is used and the panel says so', async () => {
  fakeFetch(goldenBundle());
  const p = await render({ detector: 'checkout', warning: 0.6, critical: 0.7 }, [...frames(INPUTS), ...frames(['x2'])]);
  assert.ok(p.q('isoscope-whatif'), p.host.innerHTML);
  assert.match(p.q('ambiguous-series')!.textContent!, /Several series match x2: the first is used/);
  await p.unmount();
});

test('model: per: group: the group is asked for, and a pooled fallback is said', async () => {
  fetched = [];
  fakeFetch(goldenBundle(), 200, { 'X-Isoscope-Model-Source': 'pooled', 'X-Isoscope-Pooled-Reason': 'no group model' });
  const p = await render({ daemonUrl: 'http://isoscope:8080', detector: 'checkout', group: '{job="api"}' }, frames(INPUTS));
  assert.deepEqual(fetched, ['http://isoscope:8080/api/v1/detectors/checkout/bundle?group=%7Bjob%3D%22api%22%7D']);
  assert.ok(p.q('isoscope-whatif'), p.host.innerHTML);
  assert.match(p.q('pooled-fallback')!.textContent!, /Group \{job="api"\} has no model of its own: the detector's pooled model \(no group model\)/);
  await p.unmount();
  fakeFetch(goldenBundle(), 200, { 'X-Isoscope-Model-Source': 'group' });
  const own = await render({ daemonUrl: 'http://isoscope:8080', detector: 'checkout', group: '{job="api"}' }, frames(INPUTS));
  assert.ok(own.q('isoscope-whatif'));
  assert.equal(own.q('pooled-fallback'), null);
  await own.unmount();
});

// A frame of precomputed values (Prometheus-style: the metric name in __name__).
function metricFrame(name: string, refId: string, value: (i: number) => number): DataFrame {
  return toDataFrame({
    refId,
    fields: [
      { name: 'Time', type: FieldType.time, values: Array.from({ length: N }, (_, i) => T0 + i * M) },
      { name: 'Value', type: FieldType.number, labels: { __name__: name, detector: 'demo' }, values: Array.from({ length: N }, (_, i) => value(i)) },
    ],
  });
}

test('no bundle, but the query has anomaly_score: its scores are replayed as given', async () => {
  // Scores 0.4, and 0.9 at minutes 300..314; anomaly_threshold 0.6 throughout. Smoothed over
  // (t-5m, t]: 300 0.5, 301 0.6, 302 0.7, 303 0.8, 304..314 0.9, 315 0.8, 316 0.7, 317 0.6,
  // 318 0.5. Warning 0.55 for 3m: holds 301..317, fires 304..318 (one warning). Critical 0.75:
  // holds 303..315, fires 306..316 (one page at 306m). Alert time: [304m, 318m) = 14m.
  // Flagged: the 15 points above their 0.6 threshold.
  const scoresBefore = calls.scoreRows;
  const p = await render({ warning: 0.55, critical: 0.75, forMinutes: 3, smoothMinutes: 5 }, [
    metricFrame('anomaly_score', 'A', (i) => (i >= 300 && i < 315 ? 0.9 : 0.4)),
    metricFrame('anomaly_threshold', 'B', () => 0.6),
  ]);
  assert.ok(p.q('isoscope-whatif'), p.host.innerHTML);
  const num = (id: string) => Number(p.q(id)!.textContent);
  assert.equal(num('stat-pages'), 1);
  assert.equal(num('stat-warnings'), 1);
  assert.equal(num('stat-flagged'), 15);
  assert.equal(Number(p.q('stat-time-in-alert')!.getAttribute('data-value')), 14 * M);
  const markers = p.host.querySelectorAll('.page-marker');
  assert.equal(markers.length, 1);
  assert.equal(Number(markers[0].getAttribute('data-time')), T0 + 306 * M);
  assert.equal(p.q('stat-threshold')!.textContent, '0.6000');
  assert.equal(p.q('control-contamination'), null, 'no model to re-choose a contamination from');
  assert.equal(p.host.querySelectorAll('.feature-series').length, 0);
  await p.redraw({ critical: 0.95 });
  assert.equal(num('stat-pages'), 0);
  assert.equal(calls.scoreRows, scoresBefore, 'scores given are never scored');
  await p.unmount();

  // Without anomaly_threshold: no is_anomaly line or count, the replay as before.
  const q = await render({ warning: 0.55, critical: 0.75 }, [metricFrame('anomaly_score', 'A', (i) => (i >= 300 && i < 315 ? 0.9 : 0.4))]);
  assert.equal(Number(q.q('stat-pages')!.textContent), 1);
  assert.equal(q.q('stat-threshold')!.textContent, 'n/a');
  assert.equal(q.q('line-contamination'), null);
  await q.unmount();
});

test('a bundle configured: anomaly_score in the query does not replace scoring the inputs', async () => {
  fakeFetch(goldenBundle());
  const before = calls.scoreRows;
  const p = await render({ detector: 'checkout', warning: 0.6, critical: 0.7 }, [
    ...frames(INPUTS),
    metricFrame('anomaly_score', 'Z', () => 0.99),
  ]);
  assert.ok(p.q('isoscope-whatif'), p.host.innerHTML);
  assert.ok(calls.scoreRows > before, 'the bundle scored the inputs');
  assert.equal(Number(p.q('stat-pages')!.textContent), 1, 'the 6-sigma excursion, not the 0.99 series');
  await p.unmount();
});

test('beside the forest, the pages of the plain z-score rule (the largest |z| of the inputs against their last 24 h)', async () => {
  fakeFetch(goldenBundle());
  const p = await render({ detector: 'checkout', warning: 0.6, critical: 0.7, forMinutes: 3, smoothMinutes: 5 }, frames(INPUTS));
  // The rule's definition, by brute force here: per row and input, |x - mean| / std
  // (population) of the earlier rows in (t - 24 h, t), at least 12 of them; the largest over
  // the inputs; then replayed with isoscope replay's baseline thresholds (3, 4) and the view's rules.
  const times = Float64Array.from({ length: N }, (_, i) => T0 + i * M);
  const inputs = frames(INPUTS).map((f) => Float64Array.from(f.fields[1].values as number[]));
  const z = new Float64Array(N).fill(NaN);
  for (let i = 0; i < N; i++) {
    for (const x of inputs) {
      const w: number[] = [];
      for (let j = 0; j < i; j++) if (times[j] > times[i] - 86_400_000) w.push(x[j]);
      if (w.length < 12) continue;
      const mean = w.reduce((a, b) => a + b, 0) / w.length;
      const variance = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
      if (variance <= 0) continue;
      const zi = Math.abs(x[i] - mean) / Math.sqrt(variance);
      z[i] = Number.isNaN(z[i]) ? zi : Math.max(z[i], zi);
    }
  }
  const wasm = await testWasm();
  const series = Object.fromEntries(INPUTS.map((name, k) => [name, inputs[k]]));
  const out = wasm.scoreRows(goldenBundle(), times, series);
  assert.ok(!('code' in out) && out.baseline);
  let compared = 0;
  for (let i = 0; i < N; i++) {
    assert.equal(Number.isNaN(out.baseline[i]), Number.isNaN(z[i]), `row ${i}`);
    if (Number.isNaN(z[i])) continue;
    assert.ok(Math.abs(out.baseline[i] - z[i]) <= 1e-9 * z[i], `row ${i}: ${out.baseline[i]} against ${z[i]}`);
    compared++;
  }
  assert.equal(compared, N - 12, 'every row from the 13th on has a z');
  const want = wasm.replay(times, z, { warning: 3, critical: 4, forMs: 3 * M, smoothMs: 5 * M, evalIntervalMs: M }, null);
  assert.ok(!('code' in want) && want.pages >= 1, 'the 6-sigma excursion pages under the z rule too');
  assert.equal(Number(p.q('stat-baseline-pages')!.textContent), want.pages);
  await p.unmount();
});
