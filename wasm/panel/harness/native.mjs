// What the what-if page shows, computed by the native CLI for the e2e tests: `isoscope score`
// over the rows of a history answer (warm-up and shown range), then `isoscope replay` over the
// scores of the shown rows only, as the page replays them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * history: the daemon's /history answer; bundle: the model; work: a scratch folder;
 * replayArgs: extra replay flags (thresholds, for:, smoothing). Returns the count of shown rows,
 * of scored shown rows, and replay's JSON.
 */
export function nativeShownReplay(isoscope, bundle, history, work, replayArgs = []) {
  const names = Object.keys(history.series);
  const lines = [['timestamp', ...names].join(',')];
  history.times.forEach((t, i) => {
    lines.push([new Date(t).toISOString(), ...names.map((n) => history.series[n][i] ?? '')].join(','));
  });
  const full = join(work, 'page-history.csv');
  writeFileSync(full, `${lines.join('\n')}\n`);
  const out = execFileSync(isoscope, ['score', '--bundle', bundle, '--csv', full, '--quiet'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const scored = out.trimEnd().split('\n');
  const from = history.shown_from ?? -Infinity;
  const shown = scored.slice(1).filter((l) => Date.parse(l.split(',')[1]) >= from);
  const sliced = join(work, 'page-scores.csv');
  writeFileSync(sliced, `${[scored[0], ...shown].join('\n')}\n`);
  const replay = JSON.parse(
    execFileSync(isoscope, ['replay', '--bundle', bundle, '--csv', sliced, '--json', ...replayArgs], { encoding: 'utf8' })
  );
  return { shown: shown.length, scored: shown.filter((l) => l.split(',')[2] !== '').length, replay };
}
