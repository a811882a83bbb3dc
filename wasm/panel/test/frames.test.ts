import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FieldType, toDataFrame } from '@grafana/data';

import { describeMissing, mapFrames } from '../src/frames';

function frame(refId: string, legend: string | undefined, times: number[], values: Array<number | null>) {
  return toDataFrame({
    refId,
    fields: [
      { name: 'Time', type: FieldType.time, values: times },
      { name: 'Value', type: FieldType.number, values, config: legend ? { displayNameFromDS: legend } : {} },
    ],
  });
}

test('inputs are matched by legend, then refId, and aligned on the union of times', () => {
  const frames = [
    frame('A', 'latency_p95', [0, 60_000, 120_000], [1, 2, 3]),
    frame('error_rate', undefined, [60_000, 120_000, 180_000], [0.1, null, 0.3]),
  ];
  const r = mapFrames(frames, ['latency_p95', 'error_rate']);
  assert.deepEqual(r.missing, []);
  assert.ok(r.mapped);
  assert.deepEqual([...r.mapped.times], [0, 60_000, 120_000, 180_000]);
  assert.deepEqual([...r.mapped.series.latency_p95], [1, 2, 3, NaN]);
  assert.deepEqual([...r.mapped.series.error_rate], [NaN, 0.1, NaN, 0.3]);
  assert.equal(r.mapped.sources.latency_p95, 'latency_p95');
});

test('a missing input is named, with what the query offers instead', () => {
  const frames = [frame('A', 'latency_p95', [0], [1]), frame('B', 'cpu', [0], [2])];
  const r = mapFrames(frames, ['latency_p95', 'error_rate', 'cpu_throttle']);
  assert.equal(r.mapped, null);
  assert.deepEqual(r.missing, ['error_rate', 'cpu_throttle']);
  const text = describeMissing(r);
  assert.match(text, /needs these series error_rate, cpu_throttle/);
  assert.match(text, /it returns: latency_p95, cpu/);
});

test('the most specific name wins and duplicates are reported', () => {
  const frames = [frame('x', undefined, [0], [1]), frame('B', 'x', [0], [2])];
  const r = mapFrames(frames, ['x']);
  assert.deepEqual(r.ambiguous, ['x']);
  assert.deepEqual([...r.mapped!.series.x], [2]); // the legend match beats the refId match
});

test('frames without a time field or numbers offer nothing', () => {
  const f = toDataFrame({ fields: [{ name: 'v', type: FieldType.number, values: [1] }] });
  const r = mapFrames([f], ['v']);
  assert.deepEqual(r.missing, ['v']);
  assert.match(describeMissing(r), /no numeric series/);
});
