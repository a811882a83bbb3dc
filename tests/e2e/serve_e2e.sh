#!/bin/bash
# isoscope serve against a real Prometheus (Debian's, backfilled): readiness, /metrics passing
# promtool, scores equal to `isoscope score` on the same vectors, the detectors API and bundle
# bytes, hot reload after a new train, a corrupt latest refused while the old model serves,
# Prometheus stopped (stale, query errors) and back (recovered), SIGTERM shutdown.
#   serve_e2e.sh ISOSCOPE
set -u
ISOSCOPE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
prom_fixture_start 15 60 || exit 1
W=$PROM_FIXTURE_DIR/serve
mkdir -p "$W"
passed=0
failed=0
SERVE_PID=""

# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
stop_serve() {  # only the daemon this script started, by its PID
  if [ -n "$SERVE_PID" ]; then
    stop_pid "$SERVE_PID"
    SERVE_PID=""
  fi
}
cleanup() { stop_serve; prom_fixture_cleanup; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
latest() { readlink "$W/models/checkout/latest"; }

cat >"$W/isoscope.yml" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 5s
models_dir: $W/models
web:
  listen_address: 127.0.0.1:1
  cors_origin: https://grafana.example.com
detectors:
  - name: checkout
    queries:
      latency_p95: latency_p95
      error_rate: error_rate
      cpu_throttle: cpu_throttle
    group_by: [job]
    lookback: 14d
    interval: 1s
    model:
      n_estimators: 50
      contamination: 0.02
YAML

"$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end "$PROM_END" >"$W/train1.out" 2>&1 &&
  ok || { bad "first train"; cat "$W/train1.out"; exit 1; }
v1=$(latest)
v1=${v1%.bundle}

serve_start "$W/isoscope.yml" && ok || { bad "startup line 'listening on 127.0.0.1:PORT'"; exit 1; }
ready() { curl -fs "$URL/readyz" >/dev/null; }
wait_for 10 ready && ok || bad "/readyz 200"
[ "$(curl -s "$URL/healthz")" = ok ] && ok || bad "/healthz"
scored() { [ -n "$(metric 'anomaly_score{detector="checkout",job="checkout"}')" ] &&
  [ -n "$(metric 'anomaly_score{detector="checkout",job="payments"}')" ]; }
wait_for 10 scored && ok || bad "anomaly_score for both jobs"

metrics >"$W/metrics.txt"
promtool check metrics <"$W/metrics.txt" >"$W/promtool.out" 2>&1 && ok ||
  { bad "promtool check metrics"; cat "$W/promtool.out"; }
for f in anomaly_score anomaly_is_anomaly anomaly_threshold anomaly_model_score_p95 anomaly_rate_5m \
  model_version_timestamp anomaly_model_canary_ok anomaly_model_state isoscope_build_info \
  isoscope_query_errors_total isoscope_scoring_errors_total isoscope_reload_errors_total \
  isoscope_reloads_total isoscope_query_duration_seconds isoscope_scoring_duration_seconds; do
  grep -q "^# TYPE $f " "$W/metrics.txt" && grep -q "^# HELP $f " "$W/metrics.txt" && ok || bad "HELP/TYPE $f"
done
[ "$(metric 'anomaly_model_state{detector="checkout",state="scored"}')" = 1 ] && ok || bad "state scored"
[ "$(metric "model_version_timestamp{detector=\"checkout\",model_version=\"$v1\"}")" != "" ] && ok ||
  bad "model_version_timestamp of $v1"

# The daemon's scores equal `isoscope score` on the same vectors (the last samples, at PROM_END).
{
  echo "timestamp,latency_p95,error_rate,cpu_throttle"
  for j in 0 1; do
    echo "$PROM_END,$(prom_fixture_value 1 $j "$PROM_END"),$(prom_fixture_value 2 $j "$PROM_END"),$(prom_fixture_value 3 $j "$PROM_END")"
  done
} >"$W/live.csv"
"$ISOSCOPE" score --bundle "$W/models/checkout/latest" --csv "$W/live.csv" --out "$W/scores.csv" -q &&
  ok || bad "isoscope score"
same_scores() {
  local j job want got
  for j in 0 1; do
    job=$([ $j = 0 ] && echo checkout || echo payments)
    want=$(awk -F, -v r=$((j + 2)) 'NR == r { print $3 }' "$W/scores.csv")
    got=$(metric "anomaly_score{detector=\"checkout\",job=\"$job\"}")
    awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 1e-12) }' ||
      { echo "  $job: isoscope score $want, daemon $got"; return 1; }
  done
}
same_scores && ok || bad "anomaly_score equals isoscope score"

# The detectors API and the active bundle's bytes, with the CORS header.
curl -fs "$URL/api/v1/detectors" >"$W/detectors.json" && grep -q "\"model_version\":\"$v1\"" "$W/detectors.json" &&
  grep -q '"report":{' "$W/detectors.json" && ok || bad "/api/v1/detectors"
curl -fs -D "$W/headers" "$URL/api/v1/detectors/checkout/bundle" -o "$W/served.bundle" && ok || bad "GET bundle"
cmp -s "$W/served.bundle" "$W/models/checkout/$v1.bundle" && ok || bad "bundle bytes equal the file"
grep -qi '^Content-Type: application/octet-stream' "$W/headers" && ok || bad "bundle Content-Type"
grep -qi '^Access-Control-Allow-Origin: https://grafana.example.com' "$W/headers" && ok || bad "CORS header"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/detectors/nope/bundle")" = 404 ] && ok || bad "404 unknown detector"

# The what-if page's history: the detector's queries as Prometheus range queries through the
# daemon, one group's rows on the 60 s grid ending at the daemon's now (PROM_END), with the
# values the fixture backfilled.
curl -fs "$URL/api/v1/detectors/checkout/history?hours=1&group=%7Bjob%3D%22payments%22%7D" \
  >"$W/history.json" && ok || bad "GET history"
history_values() {  # prints "t latency_p95 error_rate cpu_throttle" for the first, 31st, last row
  /usr/bin/python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
assert h["group"] == "{job=\"payments\"}" and len(h["times"]) == 61, (h["group"], len(h["times"]))
for i in (0, 30, 60):
    print(h["times"][i] // 1000, *(h["series"][k][i] for k in ("latency_p95", "error_rate", "cpu_throttle")))
' "$1"
}
history_matches() {
  local t a b c rows=0
  while read -r t a b c; do
    rows=$((rows + 1))
    [ $rows = 3 ] && [ "$t" != "$PROM_END" ] && { echo "  last history time $t, want $PROM_END"; return 1; }
    awk -v a="$a" -v b="$b" -v c="$c" -v x="$(prom_fixture_value 1 1 "$t")" -v y="$(prom_fixture_value 2 1 "$t")" \
      -v z="$(prom_fixture_value 3 1 "$t")" 'BEGIN { exit !((a - x) ^ 2 + (b - y) ^ 2 + (c - z) ^ 2 < 1e-18) }' ||
      { echo "  at $t: history $a $b $c, backfilled $(prom_fixture_value 1 1 "$t") ..."; return 1; }
  done < <(history_values "$W/history.json")
  [ $rows = 3 ]
}
history_matches && ok || bad "history holds the backfilled values of job payments"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/detectors/checkout/history?hours=999")" = 400 ] &&
  ok || bad "history: 400 for hours out of range"

# Why a group scores what it scores: the explain API's breakdown of job payments' last row
# equals `isoscope score --explain` on the same vector (live.csv's second row), to 1e-12.
"$ISOSCOPE" score --bundle "$W/models/checkout/latest" --csv "$W/live.csv" --explain --out "$W/explain.csv" -q &&
  ok || bad "isoscope score --explain"
curl -fs "$URL/api/v1/detectors/checkout/explain?group=%7Bjob%3D%22payments%22%7D" >"$W/explain.json" &&
  ok || bad "GET explain"
/usr/bin/python3 - "$W/explain.json" "$W/explain.csv" "$PROM_END" <<'PY' && ok || bad "explain API equals score --explain"
import csv, json, sys
e = json.load(open(sys.argv[1]))
row = list(csv.DictReader(open(sys.argv[2])))[1]  # job payments
assert e["group"] == '{job="payments"}', e["group"]
assert 0 <= e["time"] - int(sys.argv[3]) * 1000 <= 600000, e["time"]
assert abs(e["anomaly_score"] - float(row["anomaly_score"])) <= 1e-12, (e["anomaly_score"], row["anomaly_score"])
for f in e["features"]:
    want = float(row["contribution:" + f["name"]])
    assert abs(f["contribution"] - want) <= 1e-12, (f, want)
assert e["top_input"] == row["top_input"], (e["top_input"], row["top_input"])
print("  explain: %s, top input %s, %d features" % (e["group"], e["top_input"], len(e["features"])))
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/detectors/checkout/explain?group=x")" = 404 ] &&
  ok || bad "explain: 404 for a group not scored"

# Hot reload: a second train moves latest; the daemon follows without restart.
"$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end $((PROM_END - 3600)) >"$W/train2.out" 2>&1 &&
  ok || bad "second train"
v2=$(latest)
v2=${v2%.bundle}
[ "$v1" != "$v2" ] && ok || bad "second train gives a new version"
reloaded() { [ -n "$(metric "model_version_timestamp{detector=\"checkout\",model_version=\"$v2\"}")" ]; }
wait_for 10 reloaded && ok || bad "hot reload to $v2"
[ "$(metrics | grep -c '^model_version_timestamp{')" = 1 ] && ok || bad "one model_version_timestamp series"
[ "$(metric 'isoscope_reloads_total{detector="checkout"}')" = 2 ] && ok || bad "reloads_total 2"
grep -q "msg=\"model loaded\" detector=checkout version=$v2" "$W/serve.log" && ok || bad "reload logged"
sleep 1.5
same_scores_v2() {
  "$ISOSCOPE" score --bundle "$W/models/checkout/$v2.bundle" --csv "$W/live.csv" --out "$W/scores.csv" -q &&
    same_scores
}
wait_for 5 same_scores_v2 && ok || bad "scores from the reloaded model"

# A corrupt bundle as latest is refused; the old model keeps serving.
cp "$W/models/checkout/$v2.bundle" "$W/models/checkout/20991231-deadbeef.bundle"
printf '\x00\x01\x02\x03' | dd of="$W/models/checkout/20991231-deadbeef.bundle" bs=1 seek=200 conv=notrunc 2>/dev/null
ln -sfn 20991231-deadbeef.bundle "$W/models/checkout/latest"
refused() { [ "$(metric 'isoscope_reload_errors_total{detector="checkout"}')" = 1 ]; }
wait_for 10 refused && ok || bad "corrupt bundle counted as a reload error"
grep -q 'msg="model refused, keeping the previous one" detector=checkout version=20991231-deadbeef' "$W/serve.log" &&
  ok || bad "refusal logged with the reason"
[ -n "$(metric "model_version_timestamp{detector=\"checkout\",model_version=\"$v2\"}")" ] && ok || bad "still serving $v2"
scored && ok || bad "still scoring after the refusal"
cmp -s <(curl -fs "$URL/api/v1/detectors/checkout/bundle") "$W/models/checkout/$v2.bundle" && ok ||
  bad "served bundle is still $v2"
ln -sfn "$v2.bundle" "$W/models/checkout/latest"
rm -f "$W/models/checkout/20991231-deadbeef.bundle"

# Prometheus goes away: groups stale, query errors rise; it comes back: scores recover.
prom_fixture_server_stop
stale() { [ "$(metric 'anomaly_model_state{detector="checkout",state="stale"}')" = 1 ] &&
  [ -z "$(metric 'anomaly_score{detector="checkout",job="checkout"}')" ]; }
wait_for 15 stale && ok || bad "stale while Prometheus is down"
errors=$(metric 'isoscope_query_errors_total{detector="checkout"}')
[ "${errors:-0}" != 0 ] && ok || bad "query errors counted ($errors)"
grep -q 'msg="query failed, groups stale"' "$W/serve.log" && ok || bad "query failure logged"
prom_fixture_server_start "$PROM_PORT" || bad "Prometheus restart"
recovered() { scored && [ "$(metric 'anomaly_model_state{detector="checkout",state="scored"}')" = 1 ]; }
wait_for 15 recovered && ok || bad "recovered when Prometheus is back"
promtool check metrics < <(metrics) >/dev/null 2>&1 && ok || bad "promtool check metrics after recovery"

# SIGTERM: a clean exit within 5 s.
kill -TERM "$SERVE_PID"
t0=$SECONDS
wait "$SERVE_PID"
rc=$?
SERVE_PID=""
[ $rc = 0 ] && [ $((SECONDS - t0)) -le 5 ] && ok || bad "SIGTERM exit (rc $rc after $((SECONDS - t0)) s)"
grep -q 'msg=stopped' "$W/serve.log" && ok || bad "stop logged"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
