// What the page e2e tests share: their environment, a TAP-style check counter, headless Debian
// Chromium, and what the what-if page shows computed by the native CLI (`isoscope score` over
// the rows of a history answer, warm-up and shown range, then `isoscope replay` over the scores
// of the shown rows only, as the page replays them).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

/** An environment variable naming a path; throws when it is not set. */
export function env(k) {
  if (!process.env[k]) throw new Error(`set ${k}`);
  return resolve(process.env[k]);
}

/** TAP lines: check(ok, what, detail) prints one; done() prints the totals and exits. */
export function checker() {
  let checks = 0;
  let failures = 0;
  return {
    check(ok, what, detail = '') {
      checks++;
      if (!ok) failures++;
      console.log(`${ok ? 'ok' : 'not ok'} ${checks} - ${what}${!ok && detail ? `\n  # ${detail}` : ''}`);
    },
    done() {
      console.log(`# pass ${checks - failures}\n# fail ${failures}`);
      process.exit(failures === 0 && checks > 0 ? 0 : 1);
    },
  };
}

/** Headless Debian Chromium as this machine allows it (no sandbox as root, no background
 * network); close() also removes its profile. */
export async function launchChromium(viewport) {
  const profile = mkdtempSync(join(tmpdir(), 'isoscope-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

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
