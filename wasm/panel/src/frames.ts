// Maps a panel's query results (Prometheus data frames: one time field plus one number field
// per series) to the bundle's input names, aligned on one time grid.
import type { DataFrame, Field } from '@grafana/data';

export interface MappedSeries {
  /** ms since the epoch, ascending. */
  times: Float64Array;
  /** One array per bundle input, aligned with `times`; NaN where that series has no sample. */
  series: Record<string, Float64Array>;
  /** Which frame/field each input came from, for the legend. */
  sources: Record<string, string>;
}

export interface MappingResult {
  mapped: MappedSeries | null;
  /** Inputs no frame provides. */
  missing: string[];
  /** Names the frames do offer (to say what is there instead). */
  available: string[];
  /** Inputs matched by more than one series: the first is used. */
  ambiguous: string[];
}

interface Candidate {
  names: string[];
  label: string;
  times: ArrayLike<number>;
  values: ArrayLike<number | null | undefined>;
}

function fieldValues<T>(field: Field): ArrayLike<T> {
  return field.values as unknown as ArrayLike<T>;
}

/**
 * The names a series can be matched by, most specific first: the legend/display name, the
 * field name, the metric name label, the frame name and the query's refId. Setting the
 * query's legend (or refId) to the input name is the reliable way.
 */
function candidates(frames: DataFrame[]): Candidate[] {
  const out: Candidate[] = [];
  for (const frame of frames) {
    const time = frame.fields.find((f) => f.type === 'time');
    if (!time) continue;
    for (const field of frame.fields) {
      if (field.type !== 'number') continue;
      const names = [
        field.config?.displayNameFromDS,
        field.config?.displayName,
        field.state?.displayName ?? undefined,
        field.name,
        field.labels?.__name__,
        frame.name,
        frame.refId,
      ].filter((n): n is string => typeof n === 'string' && n.length > 0);
      out.push({
        names: [...new Set(names)],
        label: names[0] ?? field.name,
        times: fieldValues<number>(time),
        values: fieldValues<number | null | undefined>(field),
      });
    }
  }
  return out;
}

export function mapFrames(frames: DataFrame[], inputs: string[]): MappingResult {
  const all = candidates(frames);
  const missing: string[] = [];
  const ambiguous: string[] = [];
  const chosen: Record<string, Candidate> = {};
  for (const input of inputs) {
    // A name match on the most specific name wins over a match on a less specific one.
    let best: Candidate | undefined;
    let bestRank = Infinity;
    let matches = 0;
    for (const c of all) {
      const rank = c.names.indexOf(input);
      if (rank < 0) continue;
      matches++;
      if (rank < bestRank) {
        best = c;
        bestRank = rank;
      }
    }
    if (!best) missing.push(input);
    else chosen[input] = best;
    if (matches > 1) ambiguous.push(input);
  }
  const available = [...new Set(all.map((c) => c.label))];
  if (missing.length > 0 || inputs.length === 0) {
    return { mapped: null, missing, available, ambiguous };
  }

  // The time grid: every timestamp of any chosen series (Prometheus range queries of one
  // panel share their step, so these normally coincide). A series without a sample at a grid
  // time gets NaN there, which the core reports as a missing value for that row.
  const grid = new Set<number>();
  for (const input of inputs) {
    const t = chosen[input].times;
    for (let i = 0; i < t.length; i++) grid.add(t[i]);
  }
  const times = Float64Array.from([...grid].sort((a, b) => a - b));
  const index = new Map<number, number>();
  times.forEach((t, i) => index.set(t, i));
  const series: Record<string, Float64Array> = {};
  const sources: Record<string, string> = {};
  for (const input of inputs) {
    const c = chosen[input];
    const column = new Float64Array(times.length).fill(NaN);
    for (let i = 0; i < c.times.length; i++) {
      const v = c.values[i];
      column[index.get(c.times[i])!] = v === null || v === undefined ? NaN : Number(v);
    }
    series[input] = column;
    sources[input] = c.label;
  }
  return { mapped: { times, series, sources }, missing, available, ambiguous };
}

/** "the model needs error_rate, cpu_throttle; the query returns latency_p95, foo". */
export function describeMissing(r: MappingResult): string {
  const offered = r.available.length > 0 ? r.available.join(', ') : 'no numeric series';
  return (
    `The model needs ${r.missing.length === 1 ? 'the series' : 'these series'} ` +
    `${r.missing.join(', ')}, which the query does not return (it returns: ${offered}). ` +
    `Name each query's legend (or refId) after the model input.`
  );
}
