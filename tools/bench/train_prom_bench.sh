#!/bin/bash
# make bench: `isoscope train --config` against a local, real Prometheus (Debian's, backfilled by
# tests/e2e/prom_fixture.sh with 91 days at 60 s): 90 days x 3 series (one job), pull (twice:
# the streamed training's two passes) + fit.
#   train_prom_bench.sh ISOSCOPE    prints one JSON line on stdout; progress on stderr
set -u
ISOSCOPE=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../tests/e2e/prom_fixture.sh
source "$ROOT/tests/e2e/prom_fixture.sh"
t0=$(date +%s.%N)
prom_fixture_start 91 60 >&2 || exit 1
t1=$(date +%s.%N)
W=$PROM_FIXTURE_DIR/bench
mkdir -p "$W"
cat >"$W/isoscope.yml" <<YAML
prometheus: {url: $PROM_URL, timeout: 30s}
models_dir: $W/models
detectors:
  - name: bench
    queries:
      latency_p95: latency_p95{job="checkout"}
      error_rate: error_rate{job="checkout"}
      cpu_throttle: cpu_throttle{job="checkout"}
    step: 60s
    lookback: 90d
    model: {n_estimators: 200, contamination: 0.02, random_state: 42}
YAML
s=$(date +%s.%N)
if ! "$ISOSCOPE" train --config "$W/isoscope.yml" --detector bench --end "$PROM_END" \
  >"$W/out" 2>"$W/err"; then
  cat "$W/out" "$W/err" >&2
  exit 1
fi
e=$(date +%s.%N)
# "pass 2: joined 129601 rows over 1 groups from ... in 1.2 s (91 chunks, ...)": train --config
# streams the window twice; the time is since the first pull began (both pulls and joins).
pass2=$(grep -o 'pass 2: joined [0-9]* rows over [0-9]* groups .* in [0-9.]* s ([0-9]* chunks' "$W/err")
pull=$(echo "$pass2" | grep -o 'in [0-9.]* s' | grep -o '[0-9.]*')
rows=$(echo "$pass2" | grep -o 'joined [0-9]*' | grep -o '[0-9]*')
chunks=$(echo "$pass2" | grep -o '([0-9]* chunks' | grep -o '[0-9]*')
# One query_range request per query and chunk (a 1d chunk is far below 10,000 steps), per pass.
requests=$(( ${chunks:-0} * 3 * 2 ))
awk -v s="$s" -v e="$e" -v t0="$t0" -v t1="$t1" -v pull="${pull:-0}" -v rows="${rows:-0}" \
  -v reqs="$requests" 'BEGIN {
  printf "{\"rows\": %d, \"series\": 3, \"train_wall_s\": %.3f, \"pull_s\": %.3f, \"fit_and_install_s\": %.3f, \"fixture_setup_s\": %.1f, \"requests\": %d}\n",
    rows, e - s, pull, e - s - pull, t1 - t0, reqs }'
