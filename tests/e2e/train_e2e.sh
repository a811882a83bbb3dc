#!/bin/bash
# isoscope train --config against a real Prometheus (Debian's, backfilled with 91 days):
# rows and groups as generated, versions installed and pruned, rollback, and every failure
# (bad query, no data, too little data, Prometheus down) leaving `latest` untouched.
#   train_e2e.sh ISOSCOPE
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
prom_fixture_start 91 60 || exit 1
W=$PROM_FIXTURE_DIR/train
mkdir -p "$W"
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; sed 's/^/  | /' "$W/out" "$W/err" | head -20; }
run() { "$@" >"$W/out" 2>"$W/err"; }
latest() { readlink "$W/models/checkout/latest"; }

config() {  # config FILE LATENCY_QUERY [LOOKBACK]
  cat >"$1" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 10s
models_dir: $W/models
detectors:
  - name: checkout
    queries:
      latency_p95: $2
      error_rate: error_rate
      cpu_throttle: cpu_throttle
    group_by: [job]
    step: 60s
    lookback: ${3:-90d}
    keep_versions: 2
    model:
      n_estimators: 50
      contamination: 0.02
      random_state: 42
YAML
}
config "$W/good.yml" latency_p95

if run "$ISOSCOPE" check-config --config "$W/good.yml" && grep -q OK "$W/out"; then ok; else bad "check-config"; fi

# 90 days at 60 s, both ends included, for two jobs.
if run "$ISOSCOPE" train --config "$W/good.yml" --detector checkout --end "$PROM_END"; then ok; else bad "train"; fi
rows=$(( (90 * 1440 + 1) * 2 ))
grep -q "rows              $rows used, 0 dropped" "$W/out" && ok || bad "expected $rows rows used"
grep -q "groups            2" "$W/out" && ok || bad "two groups"
first=$(latest)
[ -n "$first" ] && [ -f "$W/models/checkout/$first" ] && ok || bad "latest points at the bundle"
[ -f "$W/models/checkout/${first%.bundle}.report.json" ] && ok || bad "training report beside it"
run "$ISOSCOPE" inspect --bundle "$W/models/checkout/latest" && grep -q "canary check      passed" "$W/out" && ok || bad "latest loads"

# Two more versions with other windows: keep_versions 2 prunes the oldest.
run "$ISOSCOPE" train --config "$W/good.yml" --detector checkout --end $((PROM_END - 3600)) && ok || bad "second train"
second=$(latest)
run "$ISOSCOPE" train --config "$W/good.yml" --detector checkout --end $((PROM_END - 7200)) && ok || bad "third train"
third=$(latest)
grep -q "pruned            ${first%.bundle}" "$W/out" && ok || bad "oldest version pruned"
[ "$(find "$W/models/checkout" -name '*.bundle' | wc -l)" = 2 ] && ok || bad "two bundles kept"

# Rollback to the previous version, and a named one that does not exist.
run "$ISOSCOPE" rollback --config "$W/good.yml" --detector checkout && ok || bad "rollback"
[ "$(latest)" = "$second" ] && ok || bad "rollback moved latest to the previous version"
run "$ISOSCOPE" rollback --config "$W/good.yml" --detector checkout --to 20200101-00000000
[ $? = 2 ] && grep -q "no version '20200101-00000000'" "$W/err" && ok || bad "unknown version"
[ "$(latest)" = "$second" ] && ok || bad "failed rollback left latest alone"
run "$ISOSCOPE" rollback --config "$W/good.yml" --detector checkout --to "${third%.bundle}" && ok || bad "rollback --to"
[ "$(latest)" = "$third" ] && ok || bad "named rollback"

# Failures: exit 1, a message that says what happened, and latest untouched.
expect_fail() {  # expect_fail NAME PATTERN ARGS...
  local name=$1 pattern=$2
  shift 2
  run "$ISOSCOPE" "$@"
  local rc=$?
  if [ "$rc" = 1 ] && grep -qE -- "$pattern" "$W/err" && [ "$(latest)" = "$third" ]; then
    ok
  else
    bad "$name (exit $rc, stderr must match /$pattern/, latest $(latest))"
  fi
}
config "$W/syntax.yml" "'rate(latency_p95)'"
expect_fail "bad PromQL" "400 bad_data" train --config "$W/syntax.yml" --detector checkout --end "$PROM_END"
config "$W/nodata.yml" no_such_metric
expect_fail "no data" "returned no series" train --config "$W/nodata.yml" --detector checkout --end "$PROM_END"
config "$W/multi.yml" "'{__name__=~\"latency_p95|error_rate\"}'"
expect_fail "several series per group" "sum by \\(job\\)" train --config "$W/multi.yml" --detector checkout --end "$PROM_END"
expect_fail "too little data" "too little data" train --config "$W/good.yml" --detector checkout \
  --end $((PROM_END - 91 * 86400 + 3 * 3600))

# derived: auto from the config, end to end: 90 days at 60 s give the seasonal baselines; the
# daemon fills each new group's windows with range queries and fetches the past weeks' values
# from the same Prometheus every cycle, and scores both jobs.
cat >"$W/auto.yml" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 10s
models_dir: $W/models_auto
detectors:
  - name: checkout
    queries:
      latency_p95: latency_p95
      error_rate: error_rate
      cpu_throttle: cpu_throttle
    group_by: [job]
    derived: auto
    model:
      n_estimators: 50
      contamination: 0.02
YAML
run "$ISOSCOPE" check-config --config "$W/auto.yml" &&
  grep -q "seasonal_median_diff(cpu_throttle,1w,3,30m)" "$W/out" && ok || bad "check-config shows the auto set"
run "$ISOSCOPE" train --config "$W/auto.yml" --detector checkout --end "$PROM_END" && ok || bad "train with derived: auto"
run "$ISOSCOPE" inspect --bundle "$W/models_auto/checkout/latest" &&
  grep -q "seasonal_median_diff(latency_p95,1w,3,30m)" "$W/out" && ok || bad "the bundle holds the seasonal features"
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"  # serve_start, metric, wait_for, stop_pid (and its ok/bad)
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && stop_pid "$SERVE_PID"; prom_fixture_cleanup' EXIT
serve_start "$W/auto.yml" && ok || bad "serve with the auto model starts"
both_scored() {
  [ "$(metric 'anomaly_model_state{detector="checkout",state="scored"}')" = 1 ] &&
    [ "$(metrics | grep -c '^anomaly_score{')" = 2 ]
}
wait_for 30 both_scored && ok || bad "the daemon scores both jobs with the seasonal model (filled from Prometheus)"
for job in checkout payments; do
  s=$(metric "anomaly_score{detector=\"checkout\",job=\"$job\"}")
  awk -v s="${s:-x}" 'BEGIN { exit !(s > 0 && s <= 1) }' && ok || bad "score of $job in (0, 1] (got '$s')"
done
stop_pid "$SERVE_PID"
SERVE_PID=""

prom_fixture_server_stop
expect_fail "Prometheus down" "connection refused" train --config "$W/good.yml" --detector checkout --end "$PROM_END"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
