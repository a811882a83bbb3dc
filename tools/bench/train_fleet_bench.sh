#!/bin/bash
# make bench: pooled `isoscope train --config` for a fleet, against a local, real Prometheus
# (Debian's) backfilled with promtool: GROUPS groups x DAYS days at 60 s x 3 inputs. Prints one
# JSON line: rows, groups, days, chunk, wall seconds, peak RSS (MiB, /usr/bin/time), backfill
# seconds (not counted). The issue's size is 10,000 groups x 90 days (1.3 billion rows); the
# backfill of that needs ~50 GB of OpenMetrics text and hours, so make bench runs a smaller
# fleet and reports per-row figures to extrapolate from (memory does not grow with rows).
# A second JSON line is the same run with `model: per: group` (the pooled model AND one model
# per group, at the per-group defaults): its wall time, peak RSS, group bundles and their bytes,
# and how many batches pass 2 took under --group-memory (MiB; default the CLI's, 1024).
#   train_fleet_bench.sh ISOSCOPE [GROUPS] [DAYS] [CHUNK] [GROUP_MEMORY_MIB]
set -u
ISOSCOPE=$1
GROUPS_N=${2:-1000}
DAYS=${3:-3}
CHUNK=${4:-auto}
GROUP_MEMORY=${5:-1024}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../tests/e2e/prom_fixture.sh
source "$ROOT/tests/e2e/prom_fixture.sh"
# The fixture's generator, for GROUPS_N jobs (job="g0".."gN-1"), each at its own level.
prom_fixture_generate() {
  awk -v end="$1" -v days="$2" -v step="$3" -v groups="$GROUPS_N" '
  BEGIN {
    n = int(days * 86400 / step)
    split("latency_p95 error_rate cpu_throttle", m, " ")
    for (k = 1; k <= 3; k++) {
      print "# TYPE " m[k] " gauge"
      for (j = 0; j < groups; j++) {
        level = k * (1 + j % 17)
        for (i = 0; i <= n; i++) {
          t = end - (n - i) * step
          printf "%s{job=\"g%d\"} %.4f %.0f\n", m[k], j, level * (1 + 0.3 * sin(t * 7.27220521664304e-05)) + (i * 7919 + j) % 13 * 0.01, t
        }
      }
    }
    print "# EOF"
  }'
}
t0=$(date +%s.%N)
prom_fixture_start "$DAYS" 60 >&2 || exit 1
t1=$(date +%s.%N)
W=$PROM_FIXTURE_DIR/bench
mkdir -p "$W"
cat >"$W/isoscope.yml" <<YAML
prometheus: {url: $PROM_URL, timeout: 120s}
models_dir: $W/models
detectors:
  - name: fleet
    queries:
      latency_p95: latency_p95
      error_rate: error_rate
      cpu_throttle: cpu_throttle
    group_by: [job]
    step: 60s
    lookback: ${DAYS}d
    model: {n_estimators: 200, contamination: 0.02, random_state: 42}
  - name: fleet_pg
    queries:
      latency_p95: latency_p95
      error_rate: error_rate
      cpu_throttle: cpu_throttle
    group_by: [job]
    step: 60s
    lookback: ${DAYS}d
    model: {n_estimators: 200, contamination: 0.02, random_state: 42, per: group}
YAML
s=$(date +%s.%N)
if ! /usr/bin/time -v "$ISOSCOPE" train --config "$W/isoscope.yml" --detector fleet --end "$PROM_END" \
  --chunk "$CHUNK" >"$W/out" 2>"$W/err"; then
  cat "$W/out" "$W/err" >&2
  exit 1
fi
e=$(date +%s.%N)
grep '^pass ' "$W/err" >&2
rss_kb=$(grep 'Maximum resident set size' "$W/err" | grep -o '[0-9]*$')
rows=$(grep -o 'pass 2: joined [0-9]*' "$W/err" | grep -o '[0-9]*$')
awk -v s="$s" -v e="$e" -v t0="$t0" -v t1="$t1" -v rows="${rows:-0}" -v rss="${rss_kb:-0}" \
  -v g="$GROUPS_N" -v d="$DAYS" -v c="$CHUNK" 'BEGIN {
  printf "{\"rows\": %d, \"groups\": %d, \"days\": %d, \"chunk\": \"%s\", \"train_wall_s\": %.2f, \"peak_rss_mib\": %.1f, \"us_per_row\": %.3f, \"backfill_s\": %.1f}\n",
    rows, g, d, c, e - s, rss / 1024, (e - s) * 1e6 / (rows ? rows : 1), t1 - t0 }'

# The same fleet with model: per: group.
s=$(date +%s.%N)
if ! /usr/bin/time -v "$ISOSCOPE" train --config "$W/isoscope.yml" --detector fleet_pg --end "$PROM_END" \
  --chunk "$CHUNK" --group-memory "$GROUP_MEMORY" >"$W/pg.out" 2>"$W/pg.err"; then
  cat "$W/pg.out" "$W/pg.err" >&2
  exit 1
fi
e=$(date +%s.%N)
grep '^pass \|^group models\|batches' "$W/pg.err" "$W/pg.out" >&2
batches=$(grep -o 'pass 2 runs in [0-9]* batches' "$W/pg.err" | grep -o '[0-9][0-9]*')
rss_kb=$(grep 'Maximum resident set size' "$W/pg.err" | grep -o '[0-9]*$')
bundles=$(find "$W/models/fleet_pg/groups" -name '*.bundle' | wc -l)
bytes=$(find "$W/models/fleet_pg/groups" -name '*.bundle' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
awk -v s="$s" -v e="$e" -v rows="${rows:-0}" -v rss="${rss_kb:-0}" -v g="$GROUPS_N" -v d="$DAYS" \
  -v c="$CHUNK" -v b="$bundles" -v bytes="$bytes" -v mem="$GROUP_MEMORY" -v nb="${batches:-1}" 'BEGIN {
  printf "{\"per\": \"group\", \"rows\": %d, \"groups\": %d, \"days\": %d, \"chunk\": \"%s\", \"train_wall_s\": %.2f, \"peak_rss_mib\": %.1f, \"group_bundles\": %d, \"bytes_per_group_bundle\": %d, \"group_memory_mib\": %s, \"pass2_batches\": %d}\n",
    rows, g, d, c, e - s, rss / 1024, b, b ? bytes / b : 0, mem, nb }'
