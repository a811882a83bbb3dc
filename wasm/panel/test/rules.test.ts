import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { promDuration, rulesYaml } from '../src/rules';
import { DEFAULT_SETTINGS, resolveThresholds } from '../src/whatif';

const settings = resolveThresholds(
  { ...DEFAULT_SETTINGS, warning: 0.7, critical: 0.9, forMinutes: 4, smoothMinutes: 10, contamination: 0.01 },
  null
);

test('durations in Prometheus form', () => {
  assert.equal(promDuration(5), '5m');
  assert.equal(promDuration(0.5), '30s');
  assert.equal(promDuration(0), '0m');
});

test('rules: the recording rule and one alert per severity with >, for: and severity', () => {
  const y = rulesYaml(settings, { detector: 'checkout', modelVersion: '20260101-abcd' });
  assert.match(y, /- record: job:anomaly_score:avg10m\n {8}expr: avg_over_time\(anomaly_score\[10m\]\)/);
  assert.match(y, /expr: "job:anomaly_score:avg10m\{detector=\\"checkout\\"\} > 0\.7"\n {8}for: 4m\n {8}labels:\n {10}severity: warning/);
  assert.match(y, /expr: "job:anomaly_score:avg10m\{detector=\\"checkout\\"\} > 0\.9"\n {8}for: 4m\n {8}labels:\n {10}severity: critical/);
  assert.match(y, /contamination 0\.01/);
});

test('promtool check rules accepts the generated file (Debian prometheus)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isoscope-rules-'));
  try {
    const defaults = resolveThresholds(DEFAULT_SETTINGS, null);
    for (const s of [settings, defaults, { ...defaults, smoothMinutes: 0.5, forMinutes: 0 }]) {
      const file = join(dir, 'rules.yml');
      writeFileSync(file, rulesYaml(s, { detector: 'a"b' }));
      const out = execFileSync('promtool', ['check', 'rules', file]).toString();
      assert.match(out, /SUCCESS: 3 rules found/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
