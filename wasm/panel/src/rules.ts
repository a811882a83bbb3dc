// The chosen what-if values as Prometheus rules: a recording rule for the smoothed score and
// one alerting rule per severity (`>` threshold, `for:`, severity label), the same shape as
// docs/design.md's job:anomaly_score:avg5m and the warning/critical alerts.
import type { ResolvedSettings } from './whatif';

/** Prometheus duration text for minutes: 5 -> "5m", 0.5 -> "30s", 90 -> "90m". */
export function promDuration(minutes: number): string {
  const seconds = Math.round(minutes * 60);
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function number(v: number): string {
  // Shortest text that reads back as the same number, never exponent-free surprises.
  return String(Number(v.toPrecision(12)));
}

export interface RuleOptions {
  detector: string;
  modelVersion?: string;
}

/** The YAML for a Prometheus rule file (promtool check rules accepts it). */
export function rulesYaml(s: ResolvedSettings, o: RuleOptions): string {
  const window = promDuration(s.smoothMinutes);
  const record = `job:anomaly_score:avg${window}`;
  const selector = `{detector="${o.detector.replace(/["\\]/g, '\\$&')}"}`;
  const alert = (severity: 'warning' | 'critical', threshold: number) =>
    [
      `      - alert: AnomalyScore${severity === 'warning' ? 'Warning' : 'Critical'}`,
      `        expr: ${JSON.stringify(`${record}${selector} > ${number(threshold)}`)}`,
      `        for: ${promDuration(s.forMinutes)}`,
      `        labels:`,
      `          severity: ${severity}`,
      `        annotations:`,
      `          summary: ${JSON.stringify(`isoscope detector ${o.detector}: smoothed anomaly score above ${number(threshold)}`)}`,
      `          description: ${JSON.stringify(
        `avg_over_time(anomaly_score[${window}]) = {{ $value }} for ${promDuration(s.forMinutes)}` +
          (o.modelVersion ? ` (what-if on model ${o.modelVersion})` : '')
      )}`,
    ].join('\n');
  return [
    `# isoscope what-if: warning > ${number(s.warning)}, critical > ${number(s.critical)}, ` +
      `for ${promDuration(s.forMinutes)}, smoothing ${window}` +
      (s.contamination !== null ? `, contamination ${number(s.contamination)}` : ''),
    `groups:`,
    `  - name: ${JSON.stringify(`isoscope-${o.detector}`)}`,
    `    rules:`,
    `      - record: ${record}`,
    `        expr: avg_over_time(anomaly_score[${window}])`,
    alert('warning', s.warning),
    alert('critical', s.critical),
    '',
  ].join('\n');
}
