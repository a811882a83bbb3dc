#!/bin/bash
# Training exclusions against a real Prometheus (Debian's, backfilled with promtool): a
# detector's exclude: (an absolute and a weekly window), exclude_when: (a maintenance_mode
# series) and exclude_alerts: (recorded ALERTS of its critical alert) leave the rows out, the
# report counts them per reason, and exclusions that leave too little refuse with `latest` kept.
# Expected counts: by hand for the windows and maintenance_mode (every series is on a 60 s grid);
# for ALERTS, from Prometheus's own query_range answer (a backfill has no staleness markers, so
# the lookback stretches each firing: Prometheus, not this test, says how far).
#   train_exclude_e2e.sh ISOSCOPE PYTHON3
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
prom_fixture_start 3 60 || exit 1
W=$PROM_FIXTURE_DIR/exclude
mkdir -p "$W"
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; sed 's/^/  | /' "$W/out" "$W/err" | head -30; }
run() { "$@" >"$W/out" 2>"$W/err"; }

# Extra history: maintenance_mode 1 on 2025-12-30 12:00-12:29 and 0 at every other minute of
# the 3 days; the detector's critical alert firing on 2025-12-31 10:00-10:19 (ALERTS exists
# only while firing, as Prometheus records it).
END=$PROM_END
awk -v end="$END" 'BEGIN {
  start = end - 3 * 86400
  m0 = 1767096000; m1 = m0 + 1800   # 2025-12-30T12:00:00Z .. 12:30
  a0 = 1767175200; a1 = a0 + 1200   # 2025-12-31T10:00:00Z .. 10:20
  print "# TYPE maintenance_mode gauge"
  for (t = start; t <= end; t += 60) printf "maintenance_mode %d %d\n", (t >= m0 && t < m1), t
  print "# TYPE ALERTS gauge"
  for (t = a0; t < a1; t += 60)
    printf "ALERTS{alertname=\"AnomalyScoreCritical\",alertstate=\"firing\",detector=\"checkout\",job=\"checkout\",severity=\"critical\"} 1 %d\n", t
  print "# EOF"
}' >"$W/extra.om"
prom_fixture_server_stop
promtool tsdb create-blocks-from openmetrics -q --max-block-duration=486h "$W/extra.om" \
  "$W/blocks" >"$W/promtool.log" 2>&1 || { cat "$W/promtool.log"; exit 1; }
cp -r "$W/blocks/"* "$PROM_FIXTURE_DIR/data/"
prom_fixture_server_start "$PROM_PORT" || exit 1

config() {  # config FILE EXCLUDE_LIST
  cat >"$1" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 10s
models_dir: $W/models
detectors:
  - name: checkout
    queries:
      latency_p95: latency_p95
      error_rate: error_rate
      cpu_throttle: cpu_throttle
    group_by: [job]
    derived: []
    step: 60s
    lookback: 2d
    model: {n_estimators: 20, contamination: 0.02, random_state: 42}
    exclude: $2
    exclude_when: 'maintenance_mode > 0'
    exclude_alerts: true
    exclude_alerts_margin: 10m
YAML
}
config "$W/good.yml" '["2025-12-30T06:00:00Z/2025-12-30T07:00:00Z", "Wed 00:00-02:00"]'
run "$ISOSCOPE" check-config --config "$W/good.yml" && ok || bad "check-config accepts the exclusions"

run "$ISOSCOPE" train --config "$W/good.yml" --detector checkout --end "$END" && ok || bad "train"
# 2 days at 60 s, both ends included, two jobs: 2881 x 2 rows.
# 06:00-07:00 on Tue 30 Dec: 60 minutes x 2 jobs; Wed 31 Dec 00:00-02:00: 120 x 2;
# maintenance 12:00-12:29: 30 x 2.
grep -q "dropped         120 rows: excluded: exclude 2025-12-30T06:00:00Z/2025-12-30T07:00:00Z" \
  "$W/out" && ok || bad "absolute window: 120 rows"
grep -q "dropped         240 rows: excluded: exclude Wed 00:00-02:00" "$W/out" && ok ||
  bad "weekly window: 240 rows"
grep -q "dropped         60 rows: excluded: exclude_when maintenance_mode > 0" "$W/out" && ok ||
  bad "exclude_when: 60 rows"
# ALERTS: the minutes at which Prometheus answers the firing series, each widened by the
# 10m margin before and the step plus 10m after, for the alert's own job (checkout) only.
curl -fsG "$PROM_URL/api/v1/query_range" \
  --data-urlencode 'query=ALERTS{alertname="AnomalyScoreCritical",detector="checkout",alertstate="firing"}' \
  --data-urlencode "start=$((END - 2 * 86400))" --data-urlencode "end=$END" --data-urlencode step=60 \
  >"$W/alerts.json" || bad "query_range ALERTS"
expected=$("$PY" - "$W/alerts.json" "$END" <<'EOF'
import json, sys
end = int(sys.argv[2])
times = {int(float(t)) for s in json.load(open(sys.argv[1]))["data"]["result"] for t, v in s["values"] if float(v) > 0}
grid = range(end - 2 * 86400, end + 1, 60)
print(sum(1 for g in grid if any(t - 600 <= g < t + 60 + 600 for t in times)))
EOF
)
[ "${expected:-0}" -ge 40 ] && ok || bad "Prometheus answers the recorded alert (expected $expected rows)"
grep -q "dropped         $expected rows: excluded: exclude_alerts AnomalyScoreCritical firing, margin 10m" \
  "$W/out" && ok || bad "exclude_alerts: $expected rows"
rows_used=$((2881 * 2 - 120 - 240 - 60 - expected))
grep -q "rows              $rows_used used, $((2881 * 2 - rows_used)) dropped" "$W/out" && ok ||
  bad "rows used: $rows_used"
first=$(readlink "$W/models/checkout/latest")
[ -n "$first" ] && ok || bad "installed as latest"

# Too little left: more than half of the window excluded; training refuses, latest stays.
config "$W/most.yml" '["2025-12-29T00:00:00Z/2025-12-31T06:00:00Z"]'
run "$ISOSCOPE" train --config "$W/most.yml" --detector checkout --end "$END"
[ $? = 1 ] && ok || bad "too little left: exit 1"
grep -q "too little training data after exclusions" "$W/err" && ok || bad "says why"
[ "$(readlink "$W/models/checkout/latest")" = "$first" ] && ok || bad "latest unchanged"

# A bad item is a config problem, with the line.
config "$W/bad.yml" '["2025-12-31T00:00:00Z/2025-12-30T00:00:00Z", "Funday 00:00-01:00"]'
run "$ISOSCOPE" check-config --config "$W/bad.yml"
[ $? = 2 ] && grep -q "exclude\[0\]" "$W/out" "$W/err" && grep -q "exclude\[1\]" "$W/out" "$W/err" &&
  ok || bad "bad exclude items are reported"

echo "train_exclude_e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
