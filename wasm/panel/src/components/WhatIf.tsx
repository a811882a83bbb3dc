// The what-if view shared by the Grafana panel and the daemon's standalone page: feature
// series, the anomaly score with warning/critical/contamination lines, shaded pending and
// firing intervals, page markers, controls and the stats strip. Scores are computed once per
// model and data; every control change re-runs only the core's Replay (in WASM) on them.
import React, { useMemo, useState } from 'react';

import { explainPoint, pageCauses } from '../explain';
import type { MappedSeries } from '../frames';
import { IsoscopeModel, replayScores, type ReplayOut } from '../model';
import type { IsoscopeModule } from '../wasm';
import {
  computeStats,
  downsample,
  extent,
  firstAtOrAfter,
  fitToBudget,
  medianStep,
  firstScoredTime,
  formatDuration,
  BASELINE_Z,
  baselineSettings,
  type IncidentMark,
  replaySettings,
  resolveThresholds,
  shownRows,
  type ResolvedSettings,
  type Stats,
  type WhatIfSettings,
} from '../whatif';
import { rulesYaml } from '../rules';
import { HoverCard, PageList } from './Explain';

export interface Palette {
  text: string;
  weak: string;
  background: string;
  grid: string;
  series: string[];
  score: string;
  warning: string;
  critical: string;
  contamination: string;
}

export const DARK: Palette = {
  text: '#d8d9da',
  weak: '#8e8e8e',
  background: 'transparent',
  grid: '#2c3235',
  series: ['#73bf69', '#5794f2', '#b877d9', '#ff9830', '#8ab8ff', '#96d98d'],
  score: '#fade2a',
  warning: '#ff9830',
  critical: '#f2495c',
  contamination: '#8ab8ff',
};

export interface WhatIfProps {
  wasm: IsoscopeModule;
  /** The bundle that scores `data`'s inputs; null with `scores` given. */
  model: IsoscopeModel | null;
  data: MappedSeries;
  /**
   * Scores computed elsewhere (the query's anomaly_score, e.g. a backtest backfilled with
   * isoscope backtest --openmetrics), aligned with data.times: replayed as given, never scored.
   */
  scores?: Float64Array;
  /** With `scores`: the is_anomaly threshold per point (anomaly_threshold), if the query has it. */
  thresholds?: Float64Array;
  settings: WhatIfSettings;
  onSettingsChange: (s: WhatIfSettings) => void;
  width: number;
  height: number;
  detector: string;
  palette?: Palette;
  /**
   * Rows before this time (ms) are warm-up: scored, so that the first shown row has the
   * history its features read, but neither drawn nor replayed. Undefined: every row is shown.
   */
  shownFrom?: number;
  /** Known incidents, marked on the chart where they overlap the shown rows. */
  incidents?: IncidentMark[];
}

const CONTROLS_H = 64;
const STATS_H = 26;
const PAGES_H = 34;

export function WhatIf(props: WhatIfProps) {
  const { wasm, model, settings, width, height } = props;
  const p = props.palette ?? DARK;

  const given = props.scores;
  // Scoring: once per model and data, never on a control change; scores given are used as is.
  // The warm-up rows are scored too (their history makes the first shown row's features),
  // then cut off: what is shown and replayed starts at shownFrom.
  // The calibrated surprise comes with the scores (the same bits as isoscope score's column),
  // over every row from the first, then cut like the scores.
  const view = useMemo(() => {
    const out = given ? null : model!.score(props.data.times, props.data.series);
    const all = given ?? out!.scores;
    const first = props.shownFrom === undefined ? 0 : firstAtOrAfter(props.data.times, props.shownFrom);
    const surprise = out?.surprise ? out.surprise.subarray(first) : null;
    // The z-score baseline over every row (the warm-up gives its 24-hour window history),
    // then cut like the scores.
    const baseline = out?.baseline ? out.baseline.subarray(first) : null;
    return { ...shownRows(props.data, all, first, props.thresholds), surprise, baseline, first };
  }, [model, props.data, given, props.shownFrom, props.thresholds]);
  const data = view.data;
  const scored = { scores: view.scores };

  // The is_anomaly line: the model's (or re-chosen for a contamination); for scores given,
  // the latest of their per-point thresholds (NaN: no line) while the count uses each point's.
  const threshold = useMemo(() => {
    if (!model) return lastFinite(view.thresholds);
    return settings.contamination === null ? model.info.threshold : model.thresholdFor(settings.contamination);
  }, [model, settings.contamination, view.thresholds]);

  // Thresholds left to the model resolve as isoscope's defaults do: contamination and
  // contamination/2 of its training rows (the slider's share when moved).
  const resolved = useMemo(() => {
    if (!model) return resolveThresholds(settings, null);
    const share = settings.contamination ?? model.info.contamination ?? model.info.trainedFlaggedFraction;
    return resolveThresholds(settings, { share, thresholdFor: (c) => model.thresholdFor(c) });
  }, [model, settings]);

  const { replay, stats, baseline, recomputeMs } = useMemo(() => {
    const t0 = performance.now();
    const replay = replayScores(wasm, data.times, scored.scores, replaySettings(resolved));
    const stats = computeStats(scored.scores, !model && view.thresholds ? view.thresholds : threshold, replay);
    // Does the forest earn its place? The plain z-score rule on the same rows and rules.
    const baseline = view.baseline ? replayScores(wasm, data.times, view.baseline, baselineSettings(resolved)) : null;
    return { replay, stats, baseline, recomputeMs: performance.now() - t0 };
  }, [wasm, data.times, view, threshold, resolved, model]);

  // Each page's top input: explained when the pages change, for their smoothing windows only.
  const pages = useMemo(
    () => (model ? pageCauses(model, props.data, replay.critical.firing.start, resolved.smoothMinutes * 60_000) : null),
    [model, props.data, replay, resolved.smoothMinutes]
  );
  // The point under the cursor (index into the shown rows), explained when hovered.
  const [hover, setHover] = useState<number | null>(null);
  const hovered = useMemo(() => {
    if (hover === null || hover >= data.times.length) return null;
    return {
      time: data.times[hover],
      score: scored.scores[hover],
      surprise: view.surprise ? view.surprise[hover] : NaN,
      explanation: model ? explainPoint(model, props.data, view.first + hover) : null,
    };
  }, [hover, data.times, scored.scores, view, model, props.data]);

  const listH = pages && replay.critical.firing.start.length > 0 ? PAGES_H : 0;
  const chartH = Math.max(80, height - CONTROLS_H - STATS_H - listH);
  const left = 36;
  const plotW = Math.max(10, width - left - 8);
  const hoverX = hovered ? left + ((hovered.time - data.times[0]) / (data.times[data.times.length - 1] - data.times[0] || 1)) * plotW : 0;
  return (
    <div
      data-testid="isoscope-whatif"
      data-recompute-ms={recomputeMs.toFixed(3)}
      style={{ position: 'relative', width, height, color: p.text, background: p.background, fontSize: 12, fontFamily: 'sans-serif' }}
    >
      <StatsStrip stats={stats} threshold={threshold} palette={p} latest={latestPoint(scored.scores, view.surprise)} baseline={baseline} />
      <WarmupNote model={model} times={data.times} scores={scored.scores} palette={p} />
      <Chart
        width={width}
        height={chartH}
        data={data}
        scores={scored.scores}
        threshold={threshold}
        settings={resolved}
        replay={replay}
        palette={p}
        inputs={model ? model.info.inputs : []}
        incidents={props.incidents ?? []}
        hover={hover}
        onHover={setHover}
      />
      {pages && <PageList causes={pages.causes} total={replay.critical.firing.start.length} ms={pages.ms} palette={p} />}
      {hovered && <HoverCard point={hovered} left={hoverX > width - 330 ? Math.max(0, hoverX - 330) : hoverX + 12} top={STATS_H + 4} palette={p} />}
      <Controls {...props} threshold={threshold} resolved={resolved} times={data.times} shownScores={scored.scores} />
    </div>
  );
}

/**
 * Where a model's features need more history than the data holds before the first row, say
 * from when scores start and why, instead of an unexplained empty stretch.
 */
function WarmupNote({ model, times, scores, palette }: { model: IsoscopeModel | null; times: Float64Array; scores: Float64Array; palette: Palette }) {
  if (!model || model.info.warmupMs <= 0 || times.length === 0) return null;
  const first = firstScoredTime(times, scores);
  const step = model.info.stepMs || 60_000;
  if (first !== null && first <= times[0] + step) return null;
  const from = first === null ? 'no point is scored' : `scores start at ${new Date(first).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return (
    <div data-testid="warmup-note" data-first-scored={first ?? ''} style={{ fontSize: 11, color: palette.warning }}>
      {from}: this model&apos;s features read {formatDuration(model.info.warmupMs)} of history before a point. Widen the
      time range (or the query&apos;s relative time) by that much to score every shown point.
    </div>
  );
}

/** The last scored point's score and surprise (NaN: none), shown beside the stats. */
function latestPoint(scores: Float64Array, surprise: Float64Array | null): { score: number; surprise: number } {
  for (let i = scores.length - 1; i >= 0; i--) {
    if (Number.isFinite(scores[i])) return { score: scores[i], surprise: surprise ? surprise[i] : NaN };
  }
  return { score: NaN, surprise: NaN };
}

function lastFinite(values: Float64Array | undefined): number {
  if (values) for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i])) return values[i];
  return NaN;
}

function StatsStrip({
  stats,
  threshold,
  palette,
  latest,
  baseline,
}: {
  stats: Stats;
  threshold: number;
  palette: Palette;
  latest: { score: number; surprise: number };
  baseline: ReplayOut | null;
}) {
  const item = (id: string, label: string, value: string, color?: string, raw?: number) => (
    <span style={{ marginRight: 14 }}>
      <span style={{ color: palette.weak }}>{label} </span>
      <b data-testid={`stat-${id}`} data-value={raw} style={{ color }}>
        {value}
      </b>
    </span>
  );
  return (
    <div data-testid="stats-strip" style={{ height: STATS_H, lineHeight: `${STATS_H}px`, whiteSpace: 'nowrap', overflow: 'hidden' }}>
      {item('flagged', 'points flagged', `${stats.flagged}`, palette.contamination)}
      {item('warnings', 'warnings', `${stats.warnings}`, palette.warning)}
      {item('pages', 'pages', `${stats.pages}`, palette.critical)}
      {item('pages-per-week', 'pages/week', Number.isFinite(stats.pagesPerWeek) ? stats.pagesPerWeek.toFixed(2) : '-', undefined, stats.pagesPerWeek)}
      {baseline && (
        <span title={`isoscope replay's baseline: |z| of the inputs against their last 24 h, warning > ${BASELINE_Z.warning}, critical > ${BASELINE_Z.critical}, same for: and smoothing`}>
          {item('baseline-pages', 'z-score rule pages', `${baseline.pages}`, palette.weak, baseline.pages)}
        </span>
      )}
      {item('time-in-alert', 'time in alert', formatDuration(stats.timeInAlertMs), undefined, stats.timeInAlertMs)}
      {item('latest-score', 'latest score', Number.isFinite(latest.score) ? latest.score.toFixed(3) : '-', palette.score, latest.score)}
      {Number.isFinite(latest.surprise) &&
        item('latest-surprise', 'surprise', latest.surprise.toFixed(2), palette.score, latest.surprise)}
      <span style={{ color: palette.weak }}>
        of {stats.scored} scored points ({formatDuration(stats.scoredMs)} scored of {formatDuration(stats.spanMs)}); is_anomaly
        above{' '}
        <span data-testid="stat-threshold">{Number.isFinite(threshold) ? threshold.toFixed(4) : 'n/a'}</span>
      </span>
    </div>
  );
}

interface ChartProps {
  width: number;
  height: number;
  data: MappedSeries;
  scores: Float64Array;
  threshold: number;
  settings: ResolvedSettings;
  replay: ReturnType<typeof replayScores>;
  palette: Palette;
  inputs: string[];
  incidents: IncidentMark[];
  /** Index of the hovered row, or null; onHover reports the row nearest the cursor. */
  hover: number | null;
  onHover: (i: number | null) => void;
}

function path(segments: Array<Array<[number, number]>>, x: (t: number) => number, y: (v: number) => number) {
  let d = '';
  for (const seg of segments) {
    seg.forEach(([t, v], i) => {
      d += `${i === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    });
  }
  return d;
}

function Chart({ width, height, data, scores, threshold, settings, replay, palette: p, inputs, incidents, hover, onHover }: ChartProps) {
  const left = 36;
  const right = 8;
  const plotW = Math.max(10, width - left - right);
  const seriesH = Math.round(height * 0.42);
  const scoreTop = seriesH + 6;
  const scoreH = height - scoreTop - 14;
  const t0 = data.times[0];
  const t1 = data.times[data.times.length - 1];
  const x = (t: number) => left + ((t - t0) / (t1 - t0 || 1)) * plotW;
  // The score axis spans the scores and the three lines (scores crowd near 0.4-0.7).
  const [sLo, sHi] = useMemo(() => {
    const [lo, hi] = extent(scores);
    const marks = [threshold, settings.warning, settings.critical].filter(Number.isFinite);
    return [Math.max(0, Math.min(lo, ...marks) - 0.03), Math.min(1, Math.max(hi, ...marks) + 0.03)];
  }, [scores, threshold, settings.warning, settings.critical]);
  const ys = (v: number) => scoreTop + (1 - (v - sLo) / (sHi - sLo || 1)) * scoreH;

  // Each input in a lane of its own, scaled to its own range: on one shared band the widest
  // swing (a sawtooth) flattens every other input.
  const laneH = seriesH / Math.max(1, inputs.length);
  const lanes = useMemo(
    () =>
      inputs.map((name, i) => {
        const values = data.series[name];
        const [lo, hi] = extent(values);
        const top = i * laneH;
        const y = (v: number) => top + 12 + (1 - (v - lo) / (hi - lo)) * Math.max(1, laneH - 15);
        return { top, lo, hi, d: path(downsample(data.times, values, t0, t1, plotW), x, y) };
      }),
    // x depends only on t0, t1, plotW, left
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [data, inputs, laneH, plotW, t0, t1]
  );
  const shownIncidents = incidents.filter((w) => w.end > t0 && w.start <= t1);
  const scorePath = useMemo(
    () => path(downsample(data.times, scores, t0, t1, plotW), x, ys),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [data.times, scores, scoreTop, scoreH, plotW, t0, t1, sLo, sHi]
  );

  const bands = (
    list: { start: Float64Array; end: Float64Array },
    kind: 'pending' | 'firing',
    severity: 'warning' | 'critical'
  ) =>
    Array.from(list.start, (s, i) => {
      const xa = x(Math.max(s, t0));
      const xb = x(Math.min(list.end[i], t1));
      const top = severity === 'critical' ? scoreTop : scoreTop + scoreH / 2;
      return (
        <rect
          key={`${severity}-${kind}-${i}`}
          className={`band ${severity}-${kind}`}
          data-kind={kind}
          data-severity={severity}
          x={xa}
          y={top}
          width={Math.max(1, xb - xa)}
          height={scoreH / 2}
          fill={severity === 'critical' ? p.critical : p.warning}
          opacity={kind === 'firing' ? 0.35 : 0.14}
        />
      );
    });

  // Labels at different x so that close lines stay readable.
  const labelX = { contamination: 0.15, warning: 0.55, critical: 0.95 } as Record<string, number>;
  const hline = (id: string, v: number, color: string, dash?: string) =>
    v >= 0 && v <= 1 ? (
      <g key={id} data-testid={`line-${id}`} data-value={v}>
        <line x1={left} x2={left + plotW} y1={ys(v)} y2={ys(v)} stroke={color} strokeDasharray={dash} strokeWidth={1} />
        <text x={left + plotW * labelX[id]} y={ys(v) - 2} fill={color} fontSize={10} textAnchor="end">
          {id} {v.toFixed(3)}
        </text>
      </g>
    ) : null;

  const firing = replay.critical.firing.start;
  return (
    <svg width={width} height={height} data-testid="chart" role="img" aria-label="anomaly score what-if">
      {shownIncidents.map((w) => {
        const xa = x(Math.max(w.start, t0));
        const xb = x(Math.min(w.end, t1));
        return (
          <g key={`incident-${w.name}-${w.start}`} className="incident-marker" data-name={w.name} data-start={w.start}>
            <rect x={xa} y={0} width={Math.max(2, xb - xa)} height={height - 14} fill={p.contamination} opacity={0.12} />
            <text x={xa + 2} y={scoreTop + scoreH - 2} fill={p.contamination} fontSize={10}>
              {w.name}
            </text>
            <title>
              incident {w.name}: {new Date(w.start).toISOString()} to {new Date(w.end).toISOString()}
            </title>
          </g>
        );
      })}
      {inputs.map((name, i) => (
        <g key={name} className="input-lane" data-input={name}>
          {i > 0 && <line x1={left} x2={left + plotW} y1={lanes[i].top} y2={lanes[i].top} stroke={p.grid} />}
          <path className="feature-series" data-input={name} d={lanes[i].d} fill="none" stroke={p.series[i % p.series.length]} strokeWidth={1} />
          <text x={left + 4} y={lanes[i].top + 10} fill={p.series[i % p.series.length]} fontSize={10}>
            {name} ({formatValue(lanes[i].lo)} to {formatValue(lanes[i].hi)})
          </text>
        </g>
      ))}
      <line x1={left} x2={left + plotW} y1={scoreTop - 3} y2={scoreTop - 3} stroke={p.grid} />
      {bands(replay.warning.pending, 'pending', 'warning')}
      {bands(replay.warning.firing, 'firing', 'warning')}
      {bands(replay.critical.pending, 'pending', 'critical')}
      {bands(replay.critical.firing, 'firing', 'critical')}
      <path className="score-line" d={scorePath} fill="none" stroke={p.score} strokeWidth={1} />
      {hline('contamination', threshold, p.contamination, '2 3')}
      {hline('warning', settings.warning, p.warning, '6 3')}
      {hline('critical', settings.critical, p.critical, '6 3')}
      {Array.from(firing, (t, i) => (
        <path
          key={`page-${i}`}
          className="page-marker"
          data-time={t}
          d={`M${x(t) - 5},${scoreTop - 2} L${x(t) + 5},${scoreTop - 2} L${x(t)},${scoreTop + 7} Z`}
          fill={p.critical}
        >
          <title>page at {new Date(t).toISOString()}</title>
        </path>
      ))}
      <text x={2} y={scoreTop + 8} fill={p.weak} fontSize={10}>
        {sHi.toFixed(2)}
      </text>
      <text x={2} y={scoreTop + scoreH} fill={p.weak} fontSize={10}>
        {sLo.toFixed(2)}
      </text>
      {hover !== null && hover < data.times.length && (
        <line data-testid="hover-line" x1={x(data.times[hover])} x2={x(data.times[hover])} y1={0} y2={height - 14} stroke={p.weak} strokeDasharray="2 2" />
      )}
      <rect
        data-testid="hover-area"
        data-t0={t0}
        data-t1={t1}
        x={left}
        y={0}
        width={plotW}
        height={height - 14}
        fill="transparent"
        onMouseMove={(e) => {
          const box = (e.currentTarget as SVGRectElement).getBoundingClientRect();
          const t = t0 + ((e.clientX - box.left) / (box.width || 1)) * (t1 - t0);
          onHover(nearestRow(data.times, t));
        }}
        onMouseLeave={() => onHover(null)}
      />
      <text x={left} y={height - 2} fill={p.weak} fontSize={10}>
        {new Date(t0).toISOString().slice(0, 16).replace('T', ' ')}
      </text>
      <text x={left + plotW} y={height - 2} fill={p.weak} fontSize={10} textAnchor="end">
        {new Date(t1).toISOString().slice(0, 16).replace('T', ' ')} UTC
      </text>
    </svg>
  );
}

function nearestRow(times: Float64Array, t: number): number | null {
  if (times.length === 0) return null;
  const i = firstAtOrAfter(times, t);
  if (i >= times.length) return times.length - 1;
  return i > 0 && t - times[i - 1] < times[i] - t ? i - 1 : i;
}

function formatValue(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

function Controls(
  props: WhatIfProps & { threshold: number; resolved: ResolvedSettings; times: Float64Array; shownScores: Float64Array }
) {
  const { settings, onSettingsChange, model, detector, resolved } = props;
  const [copied, setCopied] = useState<string | null>(null);
  // Fit to budget: the same search as isoscope tune, over the shown scores and incidents.
  const [budget, setBudget] = useState(1);
  const [fitNote, setFitNote] = useState<string | null>(null);
  const fit = () => {
    // The step isoscope tune uses: the model's, or the scores' median step.
    const step = model ? model.info.stepMs : medianStep(props.times);
    const r = fitToBudget(props.wasm, props.times, props.shownScores, settings, budget, props.incidents ?? [], step);
    if ('code' in r) {
      setFitNote(`cannot fit: ${r.message}`);
      return;
    }
    onSettingsChange(r.settings);
    setFitNote(`fit: ${r.summary}`);
  };
  const set = (patch: Partial<WhatIfSettings>) => onSettingsChange({ ...settings, ...patch });
  const contamination = model
    ? settings.contamination ?? model.info.contamination ?? model.info.trainedFlaggedFraction
    : NaN;
  const slider = (
    id: string,
    label: string,
    value: number,
    min: number,
    max: number,
    step: number,
    onChange: (v: number) => void,
    text: string
  ) => (
    <label style={{ display: 'inline-flex', alignItems: 'center', marginRight: 12 }}>
      <span style={{ marginRight: 4 }}>{label}</span>
      <input
        type="range"
        data-testid={`control-${id}`}
        aria-label={label}
        min={min}
        max={max}
        step={step}
        value={value}
        onChange={(e) => onChange(Number(e.currentTarget.value))}
        style={{ width: 90 }}
      />
      <span data-testid={`value-${id}`} style={{ minWidth: 38, marginLeft: 4 }}>
        {text}
      </span>
    </label>
  );
  const copy = async () => {
    const yaml = rulesYaml(resolved, { detector, modelVersion: model?.info.modelVersion });
    try {
      await navigator.clipboard.writeText(yaml);
      setCopied('rules copied');
    } catch {
      setCopied('clipboard unavailable: rules shown below');
    }
    (window as unknown as { __isoscopeRules?: string }).__isoscopeRules = yaml;
    setYaml(yaml);
  };
  const [yaml, setYaml] = useState<string | null>(null);
  return (
    <div data-testid="controls" style={{ minHeight: CONTROLS_H, display: 'flex', flexWrap: 'wrap', alignItems: 'center' }}>
      {/* Scores given come with their models' thresholds: no quantile table to re-choose from. */}
      {model && slider('contamination', 'contamination', contamination, 0.0005, 0.2, 0.0005,
        (v) => set({ contamination: v }), settings.contamination === null ? `model (${contamination.toFixed(4)})` : contamination.toFixed(4))}
      {/* Left to the model (null), a threshold shows "model (0.519)", as contamination does. */}
      {slider('warning', 'warning', resolved.warning, 0.3, 1, 0.005, (v) => set({ warning: v }),
        settings.warning === null && model ? `model (${resolved.warning.toFixed(3)})` : resolved.warning.toFixed(3))}
      {slider('critical', 'critical', resolved.critical, 0.3, 1, 0.005, (v) => set({ critical: v }),
        settings.critical === null && model ? `model (${resolved.critical.toFixed(3)})` : resolved.critical.toFixed(3))}
      {slider('for', 'for:', settings.forMinutes, 0, 30, 1, (v) => set({ forMinutes: v }), `${settings.forMinutes}m`)}
      {slider('smooth', 'smoothing', settings.smoothMinutes, 1, 30, 1, (v) => set({ smoothMinutes: v }), `${settings.smoothMinutes}m`)}
      <label style={{ display: 'inline-flex', alignItems: 'center', marginRight: 4 }}>
        <span style={{ marginRight: 4 }}>budget</span>
        <input
          type="number"
          data-testid="control-budget"
          aria-label="pages per week"
          min={0.1}
          step={0.1}
          value={budget}
          onChange={(e) => setBudget(Number(e.currentTarget.value))}
          style={{ width: 48 }}
        />
        <span style={{ marginLeft: 4 }}>pages/week</span>
      </label>
      <button
        type="button"
        data-testid="fit-budget"
        onClick={fit}
        disabled={!(budget > 0)}
        title="Search warning, critical, for: and smoothing for this many pages a week (isoscope tune)"
        style={{ marginRight: 12 }}
      >
        Fit to budget
      </button>
      {fitNote && (
        <span data-testid="fit-result" style={{ marginRight: 12 }}>
          {fitNote}
        </span>
      )}
      <button type="button" data-testid="copy-rules" onClick={copy} title="Prometheus rule YAML for these values">
        Copy as rules
      </button>
      {copied && <span style={{ marginLeft: 6 }}>{copied}</span>}
      {yaml && (
        <pre data-testid="rules-yaml" style={{ width: '100%', maxHeight: 120, overflow: 'auto', fontSize: 10, margin: 0 }}>
          {yaml}
        </pre>
      )}
    </div>
  );
}
